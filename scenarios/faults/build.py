"""Scenario ``faults:`` entries -> fault actions for one run's target."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.faults.base import FaultAction, FaultError
from scenarios.faults.database import DatabaseOutage
from scenarios.faults.exec import ExecFault
from scenarios.faults.kill import KillFault
from scenarios.faults.target import TargetFault
from scenarios.spec import FaultModel

if TYPE_CHECKING:
    from scenarios.runner.target import TargetSession

__all__ = ["make_action"]


def make_action(fault: FaultModel, target: TargetSession) -> FaultAction:
    """The action for one entry; :class:`FaultError` if this target cannot take it.

    The scenario validator already refuses most mismatches with a file/line error; this is
    the check against the target actually started (e.g. a URL given with ``--target``).
    """
    if fault.target is not None:
        if target.admin_token is None:
            raise FaultError("a target fault needs the reference target's admin token")
        body = fault.target.model_dump(mode="json", exclude_unset=True)
        return TargetFault(target.url, target.admin_token, body)
    if fault.kill is not None:
        if target.supervised is None:
            raise FaultError("kill needs a target slogate started (target: embedded)")
        return KillFault(target.supervised.worker_pids, fault.kill.process, fault.kill.signal)
    if fault.database is not None:
        if target.database is None:
            raise FaultError("database: outage needs embedded: {database: owned-postgres}")
        return DatabaseOutage(target.database)
    assert fault.exec_ is not None
    return ExecFault(
        fault.exec_.run, fault.exec_.undo, fault.exec_.timeout, {"SLOGATE_TARGET_URL": target.url}
    )
