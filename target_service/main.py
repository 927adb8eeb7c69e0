"""Assemble the service: routers, middleware, error handlers, lifespan. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from target_service.config import Settings, get_settings
from target_service.dependencies import apply_faults
from target_service.errors import ServiceError
from target_service.faults import RelativeLatencyMiddleware
from target_service.http_methods import method_not_allowed
from target_service.middleware import BodyLimitMiddleware, MetricsMiddleware
from target_service.routers import agents, audit, faults, health, runs, sessions, tenants
from target_service.routers._responses import ALWAYS, declare_bearer_auth, errors
from target_service.startup_phases import mark_phase
from target_service.state import AppState, build_state

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment, read now)."""
    settings = settings or get_settings()
    services = state or build_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        mark_phase(settings.startup_phases_dir, "lifespan_started")
        try:
            yield
        finally:
            await services.stop()

    app = FastAPI(
        title="slogate reference target",
        summary="A multi-tenant AI-orchestration service built to be load-tested.",
        version="1.0.0",
        lifespan=lifespan,
        dependencies=[Depends(apply_faults)],
    )
    app.state.services = services
    for router in (
        health.router,
        tenants.router,
        runs.router,
        agents.router,
        audit.router,
        sessions.router,
    ):
        app.include_router(router, responses=errors(*ALWAYS))
    app.include_router(faults.router, responses=errors(413))  # exempt from the injected 500
    declare_bearer_auth(app)
    app.add_middleware(RelativeLatencyMiddleware, faults=services.faults)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=services.metrics)
    _install_error_handlers(app)
    mark_phase(settings.startup_phases_dir, "app_created")
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers())

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        body: dict[str, Any] = {
            "error": "invalid_request",
            "detail": f"{where}: {first.get('msg', 'invalid')}",
            "errors": [
                {
                    "loc": [str(p) for p in e.get("loc", ())],
                    "msg": str(e.get("msg", "")),
                    "type": str(e.get("type", "")),
                }
                for e in errors
            ],
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return method_not_allowed(request)
        if exc.status_code == 400:
            # FastAPI's "There was an error parsing the body" (e.g. bytes that are not UTF-8):
            # the same 422 any other undecodable JSON body gets, as documented.
            message = f"{exc.detail}; send a UTF-8 JSON document"
            return JSONResponse(
                {
                    "error": "invalid_request",
                    "detail": f"body: {message}",
                    "errors": [{"loc": ["body"], "msg": message, "type": "json_invalid"}],
                },
                status_code=422,
            )
        code = {404: "not_found"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": code, "detail": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
