"""Real PostgreSQL and Redis for the production-like path tests, and where a connection landed.

- ``pg_url`` (session fixture): a fresh database ``slogate_test_<random>`` on 127.0.0.1:5432,
  created as the superuser ``postgres`` and dropped (``WITH (FORCE)``) at the end of the session;
  the test is skipped, naming the command that starts the server, if PostgreSQL is down.
  ``fresh_pg_database()`` makes another one for a test that needs an empty database.
- ``pg_fetch(url, sql)``: run SQL as the URL's (super)user, bypassing the service entirely,
  to check what the service wrote or deleted.
- ``redis_url`` (session fixture): a Redis database number of its own on 127.0.0.1:6379,
  claimed with ``SET NX`` so that concurrent test sessions never share one (nor a database a
  ``slogate run`` claimed, ``scenarios/runner/redis_db.py``), and emptied of the
  service's ``slogate:*`` keys before and after. Pub/sub channels are not per database, but the
  service's channels carry unique run ids.
- ``worker_serving(pids, port, local_port)``: which server process holds the TCP connection
  from ``local_port`` (via psutil), to prove that requests and sessions reached both workers.

Import the fixtures into a test module (``from ._pg_redis_fixtures import pg_url``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg
import psutil
import pytest
import redis

from scenarios.runner.redis_db import CLAIM_KEY as RUN_CLAIM_KEY

__all__ = [
    "PG_HOST",
    "PG_START",
    "REDIS_START",
    "fresh_pg_database",
    "pg_fetch",
    "pg_url",
    "postgres_down_reason",
    "redis_down_reason",
    "redis_url",
    "worker_serving",
]

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
_REDIS_CLAIM_KEY = "slogate-test:claim"  # outside the service's slogate:* namespace
_SERVICE_KEYS = "slogate:*"


def _dsn(database: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def postgres_down_reason() -> str | None:
    """None if PostgreSQL answers on 127.0.0.1:5432, else why not and how to start it."""

    async def probe() -> None:
        conn = await asyncpg.connect(_dsn("postgres"), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return (
            f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} ({type(exc).__name__}: {exc}); "
            f"start it with: {PG_START}"
        )
    return None


@contextlib.contextmanager
def fresh_pg_database(prefix: str = "slogate_test_") -> Iterator[str]:
    """Create an empty database; yield its SQLAlchemy asyncpg URL; drop it afterwards."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_dsn("postgres"), timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        # FORCE: a server that a failed test left running must not keep the database alive
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pg_fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Run ``sql`` as the URL's user (a superuser: row-level security does not apply)."""
    database = url.rsplit("/", 1)[1]

    async def fetch() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(_dsn(database), timeout=5)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(fetch())


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    reason = postgres_down_reason()
    if reason is not None:
        pytest.skip(reason)
    with fresh_pg_database() as url:
        yield url


def redis_down_reason() -> str | None:
    """None if Redis answers on 127.0.0.1:6379, else why not and how to start it."""
    try:
        with redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable on 127.0.0.1:6379 ({exc}); start it with: {REDIS_START}"
    return None


def _delete_service_keys(client: redis.Redis) -> None:
    keys = list(client.scan_iter(match=_SERVICE_KEYS, count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    reason = redis_down_reason()
    if reason is not None:
        pytest.skip(reason)
    owner = f"pid{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with redis.Redis(host="127.0.0.1", port=6379) as probe:
        databases = int(probe.config_get("databases").get("databases", 16))
    for number in range(1, databases):  # 0 is what a developer's own target would use
        client = redis.Redis(host="127.0.0.1", port=6379, db=number)
        if client.set(_REDIS_CLAIM_KEY, owner, nx=True, ex=1800):
            if not client.exists(RUN_CLAIM_KEY):  # a slogate run's own database: not ours
                break
            client.delete(_REDIS_CLAIM_KEY)
        client.close()
    else:
        pytest.skip(f"every Redis database 1..{databases - 1} is claimed by another test session")
    try:
        _delete_service_keys(client)
        yield f"redis://127.0.0.1:6379/{number}"
    finally:
        _delete_service_keys(client)
        if client.get(_REDIS_CLAIM_KEY) == owner.encode():
            client.delete(_REDIS_CLAIM_KEY)
        client.close()


def worker_serving(pids: Sequence[int], server_port: int, local_port: int) -> int | None:
    """The pid among ``pids`` holding the server end of the connection from ``local_port``."""
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            for conn in psutil.Process(pid).net_connections(kind="tcp"):
                if (
                    conn.laddr
                    and conn.raddr
                    and conn.laddr.port == server_port
                    and conn.raddr.port == local_port
                ):
                    return pid
    return None
