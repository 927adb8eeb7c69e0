"""What the run drives: the embedded reference target (started and stopped here) or a URL,
and the tenants the run may use.

The embedded target lives in a temporary data directory outside the run record: its
database is the target's business, not evidence, and must not count against the run's
disk budget.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scenarios.runner.plans import Tenant
from scenarios.spec import Scenario
from slogate.errors import TargetError, UsageError

__all__ = ["TargetSession", "given_tenants", "open_target"]


def _no_pids() -> list[int]:
    return []


@dataclass(frozen=True, slots=True)
class TargetSession:
    """A target ready for load. ``pids`` is empty for a target slogate did not start."""

    url: str
    embedded: bool
    admin_token: str | None = None
    pids: Callable[[], list[int]] = field(default=_no_pids)

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :]


@contextmanager
def open_target(scenario: Scenario, environ: Mapping[str, str]) -> Iterator[TargetSession]:
    """Yield the target; an embedded one is stopped on exit, whatever happened."""
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

    with tempfile.TemporaryDirectory(prefix="slogate-target-") as data_dir:
        try:
            target = start_embedded_target(
                EmbeddedTargetOptions(workers=scenario.embedded.workers, data_dir=Path(data_dir))
            )
        except (StartupError, OSError) as exc:
            raise TargetError(f"the embedded target did not start: {exc}") from exc
        try:
            yield TargetSession(
                url=target.url, embedded=True, admin_token=target.admin_token, pids=target.pids
            )
        finally:
            target.stop()


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
