"""Faults on a schedule during a run, and the health evidence of recovery.

- ``base``: the :class:`FaultAction` protocol (``apply`` / ``undo``) and :class:`FaultError`;
- one module per action: ``target`` (the reference target's fault API), ``kill`` (a signal
  to a supervised worker), ``database`` (the owned PostgreSQL stopped and started),
  ``exec`` (a shell command with a timeout);
- ``build``: scenario entry -> action; ``timeline``: the thread that applies and undoes
  them from load start and records what happened (run.json ``faults``);
- ``prober``: ``health`` samples every 0.25 s; ``recovery``: one ``recovery: <name>``
  sample per fault (pure).

User documentation: ``docs/scenarios.md#faults``.
"""

from scenarios.faults.base import FaultAction, FaultError
from scenarios.faults.build import make_action
from scenarios.faults.prober import INTERVAL_S, HealthProber, Probe
from scenarios.faults.recovery import Recovery, recoveries
from scenarios.faults.timeline import FaultRecord, FaultTimeline

__all__ = [
    "INTERVAL_S",
    "FaultAction",
    "FaultError",
    "FaultRecord",
    "FaultTimeline",
    "HealthProber",
    "Probe",
    "Recovery",
    "make_action",
    "recoveries",
]
