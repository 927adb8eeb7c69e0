"""The error responses of the routes' OpenAPI documentation, and the links between operations.

Every status the service can answer is declared on the operation that can answer it, with the
``ErrorOut`` body and the headers it carries, so a contract checker (schemathesis, a client
generator) sees the real API. Which codes apply where:

- every route: 413 (the body-size middleware reads every request) and 500 (the injected
  ``error_rate`` fault; a real crash gives the same body) -- added per router in ``main.py``;
- every authenticated route: 401, 403, 429 (``AUTH``) and 503 (the token is checked against
  the database, which may be down; ``SERVER``);
- routes with a body or query parameters: 422; routes on ``{id}``: 404.

409 is never answered: ids are random and nothing else is unique, so no request conflicts.
405 belongs to no operation (it answers a method the path does not have) and is documented
in ``docs/target-service.md``, as is OPTIONS (204 with ``Allow``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from target_service.schemas import ErrorOut

__all__ = ["ALWAYS", "AUTH", "SERVER", "declare_bearer_auth", "errors", "links"]

_RETRY_AFTER = {
    "Retry-After": {
        "description": "whole seconds to wait before retrying (rounded up)",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}

_DESCRIPTIONS: dict[int, tuple[str, dict[str, Any]]] = {
    401: (
        "missing, malformed, unknown or revoked token",
        {"WWW-Authenticate": {"required": True, "schema": {"type": "string", "enum": ["Bearer"]}}},
    ),
    403: ("the token's role may not do this", {}),
    404: ("no such object for this tenant (another tenant's objects do not exist for you)", {}),
    413: ("request body larger than the service's max_body_bytes", {}),
    422: ("invalid request: detail names the field, errors lists all of them", {}),
    429: (
        "the tenant's request bucket is empty (rate_limited) or the run queue is full (queue_full)",
        _RETRY_AFTER,
    ),
    500: ("injected error-rate fault (the body a real crash gives)", {}),
    503: ("the database is unavailable (real outage or injected fault)", _RETRY_AFTER),
}

AUTH = (401, 403, 429, 503)
"""Any route behind a bearer token: it is checked (database), then charged to the tenant."""
SERVER = (503,)
"""Routes that touch the database without a token to check."""
ALWAYS = (413, 500)
"""Every route, added per router in ``main.py``."""


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error status codes, all with the ErrorOut body."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description, headers = _DESCRIPTIONS[code]
        responses[code] = {"model": ErrorOut, "description": description}
        if headers:
            responses[code]["headers"] = headers
    return responses


def links(status: int, targets: dict[str, tuple[str, dict[str, str]]]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI links from this operation's ``status`` response to the operations that read,
    change or delete what it created: ``{link name: (operationId, {parameter: expression})}``.

    Stateful fuzzers follow them, so generated requests reach objects that exist.
    """
    return {
        status: {
            "links": {
                name: {"operationId": operation, "parameters": parameters}
                for name, (operation, parameters) in targets.items()
            }
        }
    }


def declare_bearer_auth(app: FastAPI) -> None:
    """Publish the bearer scheme, required by every operation that can answer 401.

    The token is read by a plain dependency (``dependencies.get_principal``, shared with the
    WebSocket), so FastAPI cannot infer the scheme; it is added to the generated document
    once, here, instead of running a second header parser on every request.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        components = document.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "the platform admin token, or a tenant token (sgt_...)",
        }
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if "401" in operation.get("responses", {}):
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
