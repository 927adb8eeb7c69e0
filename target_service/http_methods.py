"""RFC 9110 method handling: ``Allow`` on 405, and OPTIONS answered from the routing table.

Starlette keeps one route per (path, method) and, on a method it has no route for, answers
405 with the ``Allow`` of the *first* route whose path matched -- ``POST`` for
``/v1/agents`` though ``GET`` is served there too. RFC 9110 §15.5.6 wants the resource's
methods, so the 405 handler collects every route matching the path. OPTIONS (§9.3.7) is
answered 204 with the same ``Allow``, without authentication (it reveals only what the
OpenAPI document already publishes); on an unknown path it is a 404 like any other method.
HEAD is not served (no route declares it), so ``Allow`` does not list it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match

__all__ = ["allowed_methods", "method_not_allowed"]


def _leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes that serve requests, through FastAPI's wrappers of included routers.

    Recent FastAPI keeps an included router as one entry (its ``original_router`` holds the
    routes); the routers here carry their prefix themselves and are included without one,
    so the leaves' own paths are the served paths.
    """
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaf_routes(inner.routes)
        else:
            yield route


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path, plus OPTIONS, sorted."""
    scope = {**request.scope, "type": "http"}
    methods = {"OPTIONS"}
    for route in _leaf_routes(request.app.router.routes):
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def method_not_allowed(request: Request) -> Response:
    """204 + ``Allow`` for OPTIONS, else 405 + ``Allow`` with the usual error body."""
    allow = {"Allow": ", ".join(allowed_methods(request))}
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=allow)
    detail = f"{request.method} is not allowed on {request.url.path}; allowed: {allow['Allow']}"
    return JSONResponse({"error": "method_not_allowed", "detail": detail}, status_code=405, headers=allow)
