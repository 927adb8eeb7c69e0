"""Start the service under uvicorn with one or more worker processes.

The launcher is the one place that writes the environment: uvicorn starts workers as new
processes, and environment variables are how their ``Settings`` (and prometheus_client's
multiprocess mode, which reads ``PROMETHEUS_MULTIPROC_DIR`` at import) reach them.
The schema is created here once, before any worker starts, so workers never race on DDL.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from target_service.config import Settings
from target_service.db.engine import Database
from target_service.supervisor import Supervisor

__all__ = ["ServeOptions", "StartupError", "free_port", "serve"]


class StartupError(Exception):
    """The service cannot start with these options; the message says what to change."""


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    database_url: str | None = None
    redis_url: str | None = None
    admin_token: str | None = None
    faults: str | None = None  # FaultConfig JSON applied at start
    log_level: str = "warning"
    state_file: str | None = None  # the supervisor's worker state (see supervisor.py)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _environment(options: ServeOptions, admin_token: str) -> dict[str, str]:
    env = {"SLOGATE_ADMIN_TOKEN": admin_token, "SLOGATE_WORKERS": str(options.workers)}
    if options.database_url:
        env["SLOGATE_DATABASE_URL"] = options.database_url
    if options.redis_url:
        env["SLOGATE_REDIS_URL"] = options.redis_url
    if options.faults:
        env["SLOGATE_FAULTS"] = options.faults
    return env


def _check(options: ServeOptions, settings: Settings) -> None:
    if options.workers > 1 and not settings.redis_url:
        raise StartupError(
            f"--workers {options.workers} needs --redis-url: without Redis each worker would "
            "keep its own rate limits and session counts, so tenant quotas would not hold"
        )
    if settings.redis_url:
        from redis import Redis
        from redis.exceptions import RedisError

        try:
            Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
        except RedisError as exc:
            raise StartupError(f"Redis at {settings.redis_url} does not answer: {exc}") from exc
    try:
        asyncio.run(_create_schema(settings))
    except Exception as exc:  # any driver error: say which database and why, in one line
        raise StartupError(
            f"database {settings.database_url} is not usable: {type(exc).__name__}: {exc}"
        ) from exc


async def _create_schema(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await db.create_schema()
    finally:
        await db.dispose()


def serve(options: ServeOptions) -> None:
    """Run until interrupted. Prints the URL (and a generated admin token) once."""
    admin_token = options.admin_token or os.environ.get("SLOGATE_ADMIN_TOKEN")
    generated = admin_token is None
    admin_token = admin_token or Settings().admin_token
    os.environ.update(_environment(options, admin_token))
    settings = Settings()
    _check(options, settings)
    port = options.port or free_port(options.host)
    metrics_dir = None
    # where each worker stamps its start-up phases (startup_phases.py) for the supervisor
    phases_dir = tempfile.mkdtemp(prefix="slogate-phases-")
    os.environ["SLOGATE_STARTUP_PHASES_DIR"] = phases_dir
    if options.workers > 1:
        metrics_dir = tempfile.mkdtemp(prefix="slogate-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    host = f"[{options.host}]" if ":" in options.host else options.host
    print(
        f"slogate target listening on http://{host}:{port} "
        f"({options.workers} worker{'s' if options.workers > 1 else ''}, "
        f"database {settings.database_url.split('://', 1)[0]})",
        flush=True,
    )
    if generated:
        print(f"admin token (shown once): {admin_token}", flush=True)
    config = uvicorn.Config(
        "target_service.main:create_app",
        factory=True,
        host=options.host,
        port=port,
        workers=options.workers,
        log_level=options.log_level,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=1 << 20,
        timeout_graceful_shutdown=5,
        backlog=4096,
        # a worker that does not answer the supervisor's ping in this long is killed and
        # replaced; uvicorn's 5 s killed starting workers on a busy 2-core machine
        timeout_worker_healthcheck=30,
    )
    state_file = Path(options.state_file) if options.state_file else None
    try:
        # Every worker count runs under the supervisor, so a killed worker is restarted.
        Supervisor(
            config, [config.bind_socket()], state_file=state_file, phases_dir=Path(phases_dir)
        ).run()
    finally:
        shutil.rmtree(phases_dir, ignore_errors=True)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
