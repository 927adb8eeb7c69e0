"""The faults a run injected, as run.json records them (``faults`` list), in judging terms.

The runner (``scenarios/runner``) writes one object per scenario fault with the instants the
fault actually took effect and was undone (epoch seconds; see docs/scenarios.md and the
faults/recovery contract). This module turns those dicts into frozen :class:`FaultWindow`
values -- pure, no file -- so recovery, budgets and phases (:mod:`slo.recovery`) and the
claims never dig through raw dicts.

Components, for claim 9: a ``kill`` is an API process; a ``database`` outage is the database;
an ``exec`` fault is the database when its name or command mentions db/database/postgres/
failover, else an API process; a ``target`` fault (the reference target's fault API:
latency, errors, provider 429 storm ...) is none of them.

Example::

    faults = faults_of(info)
    [(f.name, f.start, f.end) for f in faults]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from foundation.layout import FaultRecord, RunInfo, WorkerRestart

__all__ = ["DB_WORDS", "FaultWindow", "component_of", "faults_from_run", "faults_of"]

DB_WORDS: Final = ("db", "database", "failover", "postgres")


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """One fault as it happened.

    ``start`` is when it took effect (epoch s), ``end`` when it was undone (a kill: the kill
    instant); ``None`` when it never started / was never undone. ``planned_at`` is seconds
    from the load start (run.json ``load_started_at``).
    """

    index: int
    name: str
    action: str
    status: str
    start: float | None
    end: float | None
    planned_at: float = 0.0
    planned_for: float | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""
    restart: WorkerRestart | None = None  # a kill: its replacement worker's start-up phases

    @property
    def happened(self) -> bool:
        """The fault took effect (it may still have failed to be undone)."""
        return self.start is not None

    @property
    def component(self) -> str:
        """``api``, ``database`` or ``""`` (see module docstring)."""
        return component_of(self.action, self.name, self.spec)

    @property
    def provider_storm(self) -> bool:
        """A target fault that made the simulated provider answer 429 (claim 8)."""
        provider = self.spec.get("target") if isinstance(self.spec.get("target"), dict) else None
        value = (provider or {}).get("provider", self.spec.get("provider"))
        return self.action == "target" and value == "rate_limit_storm"


def component_of(action: str, name: str, spec: Mapping[str, Any]) -> str:
    """Which component a fault takes down, for claim 9 (module docstring)."""
    if action == "kill":
        return "api"
    if action == "database":
        return "database"
    if action == "exec":
        text = f"{name} {spec.get('exec', '')}".lower()
        return "database" if any(w in text for w in DB_WORDS) else "api"
    return ""


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def faults_from_run(raw: Any) -> tuple[FaultWindow, ...]:
    """run.json's ``faults`` list -> windows in timeline order; anything else -> ``()``.

    Entries that are not mappings are skipped (a foreign importer may write partial data);
    a missing ``ended_at`` stays ``None`` ("never undone").
    """
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return ()
    out: list[FaultWindow] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            continue
        index = entry.get("index")
        spec = entry.get("spec")
        out.append(FaultWindow(
            index=int(index) if isinstance(index, int) else i,
            name=str(entry.get("name") or f"fault #{i + 1}"),
            action=str(entry.get("action") or ""),
            status=str(entry.get("status") or ""),
            start=_num(entry.get("started_at")),
            end=_num(entry.get("ended_at")),
            planned_at=_num(entry.get("planned_at")) or 0.0,
            planned_for=_num(entry.get("planned_for")),
            spec=dict(spec) if isinstance(spec, Mapping) else {},
            error=str(entry.get("error") or ""),
            restart=_restart(entry.get("restart")),
        ))
    return tuple(sorted(out, key=lambda f: (f.planned_at, f.index)))


def _restart(raw: Any) -> WorkerRestart | None:
    """A kill's ``restart`` entry, or None when absent or not in the contract's shape."""
    if not isinstance(raw, Mapping):
        return None
    try:
        return WorkerRestart.model_validate(raw)
    except ValidationError:
        return None


def faults_of(info: RunInfo) -> tuple[FaultWindow, ...]:
    """The fault windows of a ``RunInfo`` (its typed ``faults``), in timeline order."""
    out = [_window(i, f) for i, f in enumerate(info.faults or ())]
    return tuple(sorted(out, key=lambda f: (f.planned_at, f.index)))


def _window(i: int, f: FaultRecord) -> FaultWindow:
    # read by attribute with defaults: a RunInfo subclass may declare a narrower entry type
    index = getattr(f, "index", None)
    return FaultWindow(
        index=index if isinstance(index, int) else i,
        name=getattr(f, "name", "") or f"fault #{i + 1}",
        action=getattr(f, "action", ""),
        status=getattr(f, "status", ""),
        start=getattr(f, "started_at", None),
        end=getattr(f, "ended_at", None),
        planned_at=getattr(f, "planned_at", None) or 0.0,
        planned_for=getattr(f, "planned_for", None),
        spec=dict(getattr(f, "spec", None) or {}),
        error=getattr(f, "error", ""),
        restart=getattr(f, "restart", None),
    )
