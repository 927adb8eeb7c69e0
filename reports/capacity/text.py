"""Words and rows shared by every capacity report format (so they cannot disagree)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from slo.capacity import CapacityResult, CapacityStep

__all__ = ["CONCLUSION_TITLE", "StepRow", "curve_points", "level_text", "ms", "step_rows"]

CONCLUSION_TITLE: Final[dict[str, str]] = {
    "found": "CAPACITY FOUND",
    "at_least_ceiling": "AT LEAST THE CEILING",
    "zero": "CAPACITY 0",
    "inconclusive": "INCONCLUSIVE",
    "exhausted": "NOT CONVERGED",
    "running": "SEARCH RUNNING",
}


def level_text(level: float | None, unit: str = "") -> str:
    if level is None:
        return "-"
    number = f"{level:,.0f}" if level >= 100 or level == int(level) else f"{level:.3g}"
    return f"{number} {unit}".strip()


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms" if value >= 10 else f"{value:.2g} ms"


@dataclass(frozen=True, slots=True)
class StepRow:
    """One row of the step table, every cell already text."""

    index: int
    level: str
    phase: str
    outcome: str
    hold: str
    sent: str
    throughput: str
    errors: str
    p50: str
    p95: str
    p99: str
    why: str
    run_dir: str


def _rate(v: float | None) -> str:
    return "-" if v is None else f"{v:,.1f}/s"


def step_rows(r: CapacityResult) -> list[StepRow]:
    rows = []
    for s in r.steps:
        f = s.facts
        rows.append(StepRow(
            index=s.index, level=level_text(s.level), phase=s.phase,
            outcome=s.outcome, hold=f"{s.hold_s:g} s",
            sent=_rate(f.sent_per_s if f else None),
            throughput=_rate(f.throughput_per_s if f else None),
            errors="-" if f is None or f.error_rate is None else f"{f.error_rate * 100:.2f} %",
            p50=ms(f.p50_ms if f else None), p95=ms(f.p95_ms if f else None),
            p99=ms(f.p99_ms if f else None),
            why=(s.objective or "") if s.outcome == "fail" else s.reason,
            run_dir=s.run_dir,
        ))
    return rows


def curve_points(r: CapacityResult) -> list[CapacityStep]:
    """One step per level (the latest, e.g. a confirmation hold), sorted by level; judged
    steps with facts only."""
    latest: dict[float, CapacityStep] = {}
    for s in r.steps:
        if s.facts is not None and s.facts.operations > 0:
            latest[s.level] = s
    return [latest[k] for k in sorted(latest)]
