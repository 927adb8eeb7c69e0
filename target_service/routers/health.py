"""Liveness, readiness and metrics: unauthenticated, never rate limited."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from target_service.dependencies import State
from target_service.errors import DatabaseUnavailable
from target_service.metrics import CONTENT_TYPE_LATEST, render_metrics

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(description="per dependency: 'ok' or why it is not")


@router.get("/healthz", operation_id="healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers. Deliberately touches nothing else."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "a dependency is down"}},
)
async def readyz(state: State) -> JSONResponse:
    """Readiness: the database (and Redis, when configured) answer now."""
    checks: dict[str, str] = {}
    try:
        await state.db.ping()
        checks["database"] = "ok"
    except DatabaseUnavailable as exc:
        checks["database"] = str(exc)
    if state.redis is not None:
        try:
            await state.redis.ping()  # type: ignore[misc]  # redis-py's stub unions sync|async
            checks["redis"] = "ok"
        except Exception as exc:  # any failure means "not ready"; say which
            checks["redis"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def metrics(state: State) -> Response:
    state.metrics.queue_depth.set(state.executor.queue_depth)
    return Response(render_metrics(state.metrics), media_type=CONTENT_TYPE_LATEST)
