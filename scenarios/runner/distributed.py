"""A run whose load comes from other machines: the scenario's ``distributed:`` section and
the ``--expect-workers`` / ``--master-bind`` / ``--allow-remote LIST`` flags, resolved into
the master's settings before anything is written. Pure but for name resolution."""

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.errors import UsageError
from scenarios.runner.request import RunRequest
from scenarios.runner.safety import ANY_ADDRESS, allowed_networks
from scenarios.spec import Scenario

if TYPE_CHECKING:
    from scenarios.distributed import DistributedSettings

__all__ = ["distributed_settings"]

_DEFAULT_PORT = 5557


def distributed_settings(scenario: Scenario, request: RunRequest) -> DistributedSettings | None:
    """The master's settings, or None for a run on this machine alone.

    Raises :class:`UsageError` for an embedded target (it listens on this machine's
    loopback, which no other machine can reach) and for a malformed ``--master-bind``.
    """
    spec = scenario.distributed
    n = request.expect_workers if request.expect_workers is not None else (
        spec.expect_workers if spec is not None else None
    )
    if not n:
        return None
    if scenario.target == "embedded":
        raise UsageError(
            "a distributed run needs a target the worker hosts can reach: start it with "
            "'slogate target --host 0.0.0.0' (or use your service) and give --target URL; "
            "the embedded target listens on this machine's 127.0.0.1 only"
        )
    host = spec.bind if spec is not None else "*"
    port = spec.port if spec is not None else _DEFAULT_PORT
    if request.master_bind:
        from scenarios.distributed.protocol import parse_master_address

        try:
            host, port = parse_master_address(request.master_bind, default_port=port)
        except ValueError as exc:
            raise UsageError(f"--master-bind: {exc}") from exc
    allowed = ANY_ADDRESS if request.allow_remote else allowed_networks(request.allowed_remote)
    from scenarios.distributed import DistributedSettings

    return DistributedSettings(
        expect_workers=n,
        bind_host=host,
        bind_port=port,
        join_timeout_s=spec.join_timeout if spec is not None else 120.0,
        allowed_networks=allowed,
        stop_timeout_s=max(1.0, scenario.limits.stop_timeout - 2.0),  # inside the runner's wait
    )
