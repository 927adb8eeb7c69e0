"""The verdict: frozen results of judging one run, and ``verdict.json`` (versioned).

``verdict.json`` (schema_version 2)::

    {
      "schema_version": 2,
      "status": "pass" | "warn" | "fail" | "insufficient_data",
      "run_id": "...", "slo": "slo/catalog/default.yaml", "slo_name": "default",
      "run_status": "complete", "approximate": false, "approximate_reason": "",
      "evaluated_from": 1764136800.0, "evaluated_to": 1764136845.0,
      "objectives": [ {name, sli, status, value, threshold, threshold_text, unit, comparison,
                       statistic, events, reason, optional, per, worst_group, groups[...],
                       burn_rate, budget_consumed, window_s, budget{...}, alerts[...]} ],
      "cross_check": {...},          # empty until a Prometheus / scrape cross-check ran
      "faults": [ {index, name, action, component, fault_status, start, end, recovered,
                   recovery_s, sli_recovered, sli_recovery_s, health_recovered,
                   health_recovery_s, observed_s, window_s, note,
                   budgets[{objective, bad, allowed_bad, consumed}],
                   phases[{phase, start, end, status, objectives[{name, status, value,
                                                                  events, reason}]}]} ],
      "abort": null | {objective, reason, at, burn_rate, threshold, window_s}
    }

Loaders reject a ``schema_version`` they do not know by name; migrations from older
versions are named functions in :data:`_MIGRATIONS` (1 -> 2: :func:`_v1_to_v2`, which adds
an empty ``faults`` list and no ``abort``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from foundation.documents import Migration, read_json, upgrade_versioned, write_text_atomic
from foundation.errors import ConfigError
from slo._types import Status
from slo.budget import RunBudget
from slo.burn import AlertResult
from slo.fault_results import AbortResult, FaultBudget, FaultResult, PhaseObjective, PhaseResult

__all__ = [
    "VERDICT_SCHEMA_VERSION",
    "GroupResult",
    "ObjectiveResult",
    "Verdict",
    "read_verdict",
    "verdict_from_dict",
    "verdict_to_dict",
    "write_verdict",
]

VERDICT_SCHEMA_VERSION: Final = 2


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One group (e.g. ``tier=team``) of an objective evaluated ``per`` a column."""

    key: str
    status: Status
    value: float | None
    events: int
    bad: int | None = None
    burn_rate: float | None = None
    budget_consumed: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ObjectiveResult:
    """The judgement of one objective.

    ``value`` is in ``unit`` (ms, %, MB/min); for ``per`` objectives it is the value of the
    worst group (named by ``worst_group``) and ``events`` counts all groups.
    ``budget_consumed`` is the share (0..1, clipped) of the compliance window's error budget
    spent by this run: ``burn_rate x judged duration / window``.

    Example::

        ObjectiveResult(name="p95", sli="latency", status=Status.PASS, value=312.0,
                        threshold=500.0, threshold_text="<= 500 ms", unit="ms", events=4210)
    """

    name: str
    sli: str
    status: Status
    value: float | None
    threshold: float | None
    threshold_text: str
    unit: str
    events: int
    comparison: str = "<="
    statistic: str = ""
    warn_threshold: float | None = None
    reason: str = ""
    optional: bool = False
    approximate: bool = False
    per: str | None = None
    worst_group: str | None = None
    groups: tuple[GroupResult, ...] = ()
    burn_rate: float | None = None
    budget_consumed: float | None = None
    window_s: float | None = None
    budget: RunBudget | None = None
    alerts: tuple[AlertResult, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of a run against an SLO file. Build it with :func:`slo.evaluate.evaluate`."""

    status: Status
    objectives: tuple[ObjectiveResult, ...]
    run_id: str = ""
    slo: str = ""
    slo_name: str = ""
    run_status: str = "complete"
    approximate: bool = False
    approximate_reason: str = ""
    evaluated_from: float | None = None
    evaluated_to: float | None = None
    cross_check: dict[str, Any] = field(default_factory=dict)
    schema_version: int = VERDICT_SCHEMA_VERSION
    faults: tuple[FaultResult, ...] = ()
    abort: AbortResult | None = None

    def objective(self, name: str) -> ObjectiveResult:
        """The result named ``name``; ``KeyError`` naming the known ones otherwise."""
        for result in self.objectives:
            if result.name == name:
                return result
        known = ", ".join(r.name for r in self.objectives)
        raise KeyError(f"no objective {name!r} in this verdict (it has: {known})")


def verdict_to_dict(verdict: Verdict) -> dict[str, Any]:
    """Plain JSON-ready dict; statuses as strings, NaN never appears (``None`` instead)."""
    data = asdict(verdict)
    return {"schema_version": data.pop("schema_version"), **_clean(data)}


def write_verdict(verdict: Verdict, path: str | Path) -> Path:
    """Write ``verdict.json`` atomically (a reader never sees half a file)."""
    return write_text_atomic(Path(path), json.dumps(verdict_to_dict(verdict), indent=2) + "\n")


def read_verdict(path: str | Path) -> Verdict:
    """Load a ``verdict.json``; unknown schema versions are refused by name."""
    path = Path(path)
    return verdict_from_dict(read_json(path, "verdict"), source=str(path))


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no faults and no early stop."""
    return {**data, "schema_version": 2, "faults": [], "abort": None}


_MIGRATIONS: Final[dict[int, Migration]] = {1: _v1_to_v2}
"""``{old_version: function}`` upgrading a verdict dict by one version."""


def verdict_from_dict(data: dict[str, Any], *, source: str = "verdict.json") -> Verdict:
    """Inverse of :func:`verdict_to_dict`."""
    data = upgrade_versioned(data, current=VERDICT_SCHEMA_VERSION, migrations=_MIGRATIONS,
                             what="verdict", source=source,
                             rerun="re-run 'slogate evaluate' on the run")
    try:
        objectives = tuple(_objective(o) for o in data["objectives"])
        rest = {k: v for k, v in data.items()
                if k not in ("objectives", "status", "faults", "abort")}
        faults = tuple(_fault(f) for f in data.get("faults") or ())
        abort = data.get("abort")
        return Verdict(status=Status(data["status"]), objectives=objectives, faults=faults,
                       abort=AbortResult(**abort) if abort else None, **rest)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"malformed verdict: {exc}", path=source) from exc


def _objective(data: dict[str, Any]) -> ObjectiveResult:
    data = dict(data)
    data["status"] = Status(data["status"])
    data["groups"] = tuple(
        GroupResult(**{**g, "status": Status(g["status"])}) for g in data.get("groups", ())
    )
    data["alerts"] = tuple(AlertResult(**a) for a in data.get("alerts", ()))
    if data.get("budget") is not None:
        data["budget"] = RunBudget(**data["budget"])
    return ObjectiveResult(**data)


def _fault(data: dict[str, Any]) -> FaultResult:
    data = dict(data)
    data["budgets"] = tuple(FaultBudget(**b) for b in data.get("budgets", ()))
    data["phases"] = tuple(
        PhaseResult(**{**p, "status": Status(p["status"]), "objectives": tuple(
            PhaseObjective(**{**o, "status": Status(o["status"])})
            for o in p.get("objectives", ()))})
        for p in data.get("phases", ())
    )
    return FaultResult(**data)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, Status):
        return value.value
    if isinstance(value, float) and value != value:
        return None
    return value
