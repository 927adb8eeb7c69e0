"""The result of a capacity search and ``capacity.json`` (versioned), written by the judging side.

``capacity.json`` (schema_version 1)::

    {
      "schema_version": 1,
      "vary": "rate", "tier": null, "unit": "req/s",
      "conclusion": "found" | "at_least_ceiling" | "zero" | "inconclusive" | "exhausted"
                    | "running" (written after each step while the search goes on),
      "level": 38.0,            # sustainable level (null: none established)
      "failed_at": 42.0,        # lowest level that broke an objective (null: none did)
      "objective": "http-p95",  # the objective that broke there
      "knee": 40.0,             # knee of p99 latency against achieved throughput (null: none)
      "reason": "...", "require": null,
      "sentence": "Holds 38 req/s within SLO; http-p95 breaks first at 42 req/s.",
      "start": 10, "ceiling": 400, "scenario": "...", "slo": "...", "target": "...",
      "started_at": 1764136800.0, "wall_s": 212.4,
      "steps": [ {index, level, phase, confirm, hold_s, run_dir, outcome, objective, reason,
                  verdict_status, wall_s, facts: {window_s, operations, sent_per_s,
                  throughput_per_s, error_rate, p50_ms, p95_ms, p99_ms, mean_response_s,
                  lag_growth_ms, generator_cpu_percent, load_processes, corrected}} ]
    }

``run_dir`` of a step is relative to the capacity directory, so the directory can be moved
or attached as a whole. Unknown schema versions are refused by name (STYLE.md rule 10).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from foundation.documents import Migration, read_json, upgrade_versioned, write_text_atomic
from foundation.errors import ConfigError
from slo.capacity.step import StepFacts

__all__ = [
    "CAPACITY_JSON",
    "CAPACITY_SCHEMA_VERSION",
    "CapacityResult",
    "CapacityStep",
    "answer_sentence",
    "read_capacity",
    "unit_for",
    "write_capacity",
]

CAPACITY_SCHEMA_VERSION: Final = 1
CAPACITY_JSON: Final = "capacity.json"


@dataclass(frozen=True, slots=True)
class CapacityStep:
    """One step of the search: its level, the run record it left, and how it was judged."""

    index: int
    level: float
    phase: str
    confirm: bool
    hold_s: float
    run_dir: str
    outcome: str
    objective: str | None
    reason: str
    verdict_status: str | None
    wall_s: float
    facts: StepFacts | None


@dataclass(frozen=True, slots=True)
class CapacityResult:
    """A finished (or interrupted) search. ``sentence`` is the answer for a leadership summary."""

    vary: str
    tier: str | None
    unit: str
    conclusion: str
    level: float | None
    failed_at: float | None
    objective: str | None
    knee: float | None
    reason: str
    start: float
    ceiling: float
    scenario: str
    slo: str
    target: str
    started_at: float
    wall_s: float
    steps: tuple[CapacityStep, ...]
    sentence: str = ""
    require: float | None = None
    schema_version: int = CAPACITY_SCHEMA_VERSION

    def with_sentence(self) -> CapacityResult:
        return replace(self, sentence=answer_sentence(self))

    def passed(self) -> bool:
        """A capacity was established, and it is at least ``require`` if one was given.

        A search stopped by its time or step limit passes only against a ``require`` that
        its highest held level already meets."""
        if self.level is None or self.conclusion in ("zero", "inconclusive", "running"):
            return False
        if self.conclusion == "exhausted":
            return self.require is not None and self.level >= self.require
        return self.require is None or self.level >= self.require


def unit_for(vary: str, tier: str | None) -> str:
    """How a level of ``vary`` is spoken: ``req/s``, ``users``, ``sessions``, ``enterprise tenants``."""
    if vary == "rate":
        return "req/s"
    if vary == "tenants":
        return f"{tier} tenants" if tier else "tenants"
    if vary == "sessions" and tier:
        return f"sessions per {tier} tenant"
    return vary


def _amount(level: float, unit: str) -> str:
    number = f"{level:,.0f}" if level >= 100 or level == int(level) else f"{level:.3g}"
    if unit.endswith("tenants"):
        return f"{number} {unit[:-1] if level == 1 else unit} at quota"
    return f"{number} {unit}"


def answer_sentence(r: CapacityResult) -> str:
    """The answer in one sentence, e.g. "Holds 38 req/s within SLO; http-p95 breaks first at 42 req/s"."""
    u = r.unit
    broke = (f"; {r.objective} breaks first at {_amount(r.failed_at, u)}"
             if r.failed_at is not None and r.objective else "")
    if r.conclusion == "found" and r.level is not None:
        return f"Holds {_amount(r.level, u)} within SLO{broke}."
    if r.conclusion == "at_least_ceiling":
        return (f"Holds at least the ceiling of {_amount(r.ceiling, u)} within SLO: "
                "no objective broke up to it (raise --ceiling to search higher).")
    if r.conclusion == "zero":
        lowest = min((s.level for s in r.steps), default=r.start)
        return (f"Capacity 0: no level holds within SLO; even {_amount(lowest, u)} "
                f"broke {r.objective or 'an objective'}.")
    if r.conclusion == "inconclusive":
        held = (f" The target held {_amount(r.level, u)} before that." if r.level is not None
                else "")
        return f"Inconclusive, no capacity number: {r.reason}.{held}"
    held = _amount(r.level, u) if r.level is not None else "nothing established"
    if r.conclusion == "running":
        return f"Search running: holds at least {held} so far{broke}."
    return f"Not converged ({r.reason}): holds at least {held}{broke}."


def write_capacity(result: CapacityResult, directory: Path) -> Path:
    """Write ``DIR/capacity.json`` atomically."""
    data = asdict(result)
    return write_text_atomic(directory / CAPACITY_JSON, json.dumps(
        {"schema_version": data.pop("schema_version"), **data}, indent=2) + "\n")


_MIGRATIONS: Final[dict[int, Migration]] = {}
"""``{old_version: function}`` upgrading a capacity dict by one version (none needed yet)."""


def read_capacity(path: Path) -> CapacityResult:
    """Load ``capacity.json`` (or the one inside a capacity directory)."""
    path = path / CAPACITY_JSON if path.is_dir() else path
    if not path.is_file():
        raise ConfigError("no capacity result here (run 'slogate capacity --out DIR')",
                          path=str(path))
    data: dict[str, Any] = read_json(path, "capacity result")
    data = upgrade_versioned(data, current=CAPACITY_SCHEMA_VERSION, migrations=_MIGRATIONS,
                             what="capacity", source=str(path), rerun="re-run 'slogate capacity'")
    try:
        steps = tuple(
            CapacityStep(**{**s, "facts": None if s.get("facts") is None else StepFacts(**s["facts"])})
            for s in data.pop("steps"))
        return CapacityResult(**{**data, "steps": steps})
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"malformed capacity result: {exc}", path=str(path)) from exc
