"""What the run drives: the embedded reference target (started and stopped here) or a URL,
and the tenants the run may use.

The embedded target lives in a temporary data directory outside the run record: its
database is the target's business, not evidence, and must not count against the run's
disk budget.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from foundation.errors import TargetError, UsageError
from scenarios.runner.plans import Tenant
from scenarios.runner.redis_db import claimed_redis
from scenarios.spec import Scenario

if TYPE_CHECKING:
    from target_service.owned_postgres import OwnedPostgres
    from target_service.startup_phases import WorkerStartup

__all__ = ["SupervisedTarget", "TargetSession", "given_tenants", "open_target"]


def _no_pids() -> list[int]:
    return []


def _no_startups() -> list[WorkerStartup]:
    return []


@dataclass(frozen=True, slots=True)
class SupervisedTarget:
    """What a kill fault and the recovery probe need of a supervised target."""

    worker_pids: Callable[[], list[int | None]]
    whole: Callable[[], bool]
    startups: Callable[[], list[WorkerStartup]] = _no_startups  # phases, for kill records


@dataclass(frozen=True, slots=True)
class TargetSession:
    """A target ready for load. ``pids`` is empty for a target slogate did not start."""

    url: str
    embedded: bool
    admin_token: str | None = None
    pids: Callable[[], list[int]] = field(default=_no_pids)
    supervised: SupervisedTarget | None = None  # embedded: worker pids, "whole again?"
    database: OwnedPostgres | None = None  # embedded with database: owned-postgres

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :]


@contextmanager
def open_target(
    scenario: Scenario, environ: Mapping[str, str], run_id: str = "slogate-run", claim_ttl_s: float = 3600.0
) -> Iterator[TargetSession]:
    """Yield the target; an embedded one is stopped on exit, whatever happened.

    An embedded target's ``redis`` without a database number gets a database of the run's
    own (``redis_db.claimed_redis``: claimed as ``run_id`` for ``claim_ttl_s``, flushed at
    start and end).
    """
    if scenario.target != "embedded":
        admin = None
        if scenario.tenants is not None:
            admin = environ.get(scenario.tenants.admin_token_env)
            if not admin:
                raise UsageError(
                    f"provisioning tenants on {scenario.target} needs its admin token in "
                    f"${scenario.tenants.admin_token_env} (see tenants.admin_token_env)"
                )
        yield TargetSession(url=scenario.target, embedded=False, admin_token=admin)
        return
    from target_service.embedded import EmbeddedTargetOptions, start_embedded_target
    from target_service.serve import StartupError

    with tempfile.TemporaryDirectory(prefix="slogate-target-") as data_dir, _owned_database(
        scenario
    ) as database, _run_redis(scenario, run_id, claim_ttl_s) as redis_url:
        try:
            target = start_embedded_target(
                EmbeddedTargetOptions(
                    workers=scenario.embedded.workers,
                    data_dir=Path(data_dir),
                    database_url=database.url if database is not None else None,
                    redis_url=redis_url,
                )
            )
        except (StartupError, OSError) as exc:
            raise TargetError(f"the embedded target did not start: {exc}") from exc
        try:
            yield TargetSession(
                url=target.url,
                embedded=True,
                admin_token=target.admin_token,
                pids=target.pids,
                supervised=SupervisedTarget(target.worker_pids, target.whole, target.startups),
                database=database,
            )
        finally:
            target.stop()


@contextmanager
def _run_redis(scenario: Scenario, run_id: str, ttl_s: float) -> Iterator[str | None]:
    """The Redis URL the embedded target gets (a claimed database of the run's own, or as given)."""
    if scenario.embedded.redis is None:
        yield None
        return
    with claimed_redis(scenario.embedded.redis, run_id, ttl_s) as url:
        yield url


@contextmanager
def _owned_database(scenario: Scenario) -> Iterator[OwnedPostgres | None]:
    """The run's own PostgreSQL when the embedded target asks for it; stopped on exit.

    Its directory is a temporary directory of its own: the server runs as the ``postgres``
    OS user when slogate is root, and must be able to reach it.
    """
    if scenario.embedded.database != "owned-postgres":
        yield None
        return
    from target_service.owned_postgres import OwnedPostgres, OwnedPostgresError

    root = Path(tempfile.mkdtemp(prefix="slogate-pg-"))
    try:
        database = OwnedPostgres.create(root)
    except OwnedPostgresError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise TargetError(f"the owned PostgreSQL did not start: {exc}") from exc
    try:
        yield database
    finally:
        database.close()


def given_tenants(scenario: Scenario, environ: Mapping[str, str]) -> list[Tenant]:
    """The ``credentials:`` of a foreign target, tokens read from the environment if asked."""
    out: list[Tenant] = []
    for c in scenario.credentials:
        token = c.token if c.token is not None else _env(environ, c.token_env, c.tenant)
        admin = c.admin_token
        if c.admin_token_env is not None:
            admin = _env(environ, c.admin_token_env, c.tenant)
        out.append(Tenant(c.tenant, c.tier, token, c.role, admin))
    return out


def _env(environ: Mapping[str, str], name: str | None, tenant: str) -> str:
    assert name is not None
    value = environ.get(name)
    if not value:
        raise UsageError(f"tenant {tenant!r} reads its token from ${name}, which is not set")
    return value
