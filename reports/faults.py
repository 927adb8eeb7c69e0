"""Faults as the reports show them: table rows and chart bands, formatted, never judged.

Everything judged here comes from ``verdict.json`` (recovery, budgets, phases: computed in
:mod:`slo.recovery`) and run.json's fault timeline (actual start/end); this module only puts
them into rows every format shares, so HTML, Markdown and JUnit say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reports import fmt
from reports.model import ReportData
from slo.fault_results import FaultResult

__all__ = ["FaultRow", "PhaseRow", "fault_bands", "fault_rows", "phase_rows", "stopped_early"]

_PHASE_ICON: Final = fmt.STATUS_ICON


@dataclass(frozen=True, slots=True)
class FaultRow:
    """One fault, formatted. ``start_s``/``end_s`` are seconds since the load start."""

    name: str
    action: str
    start_s: float | None
    end_s: float | None
    summary: str
    recovered: bool
    health: str
    sli: str
    budget: str
    phases: str
    note: str


def _secs(value: float | None, recovered: bool | None) -> str:
    if recovered is None:
        return "-"
    if not recovered or value is None:
        return "not recovered"
    return f"{value:.1f} s"


def _budget(r: FaultResult) -> str:
    parts = [f"{b.objective} {fmt.percent(None if b.consumed is None else 100 * b.consumed, 1)}"
             f" ({b.bad:,} bad)" for b in r.budgets]
    return "; ".join(parts) or "-"


def _phases(r: FaultResult) -> str:
    return " · ".join(f"{p.phase} {_PHASE_ICON[p.status.value]} {fmt.status_label(p.status)}"
                      for p in r.phases) or "-"


def fault_rows(d: ReportData) -> list[FaultRow]:
    """One row per fault of the verdict (falling back to run.json when not judged)."""
    t0 = d.load_start

    def rel(t: float | None) -> float | None:
        return None if t is None else t - t0

    restarts = {f.index: f.restart.summary() for f in d.evidence.faults if f.restart is not None}

    def note(index: int, text: str) -> str:  # a kill's replacement start-up, after any note
        return "; ".join(t for t in (text, restarts.get(index, "")) if t)

    results = d.verdict.faults if d.verdict is not None else ()
    if results:
        return [FaultRow(
            r.name, r.action, rel(r.start), rel(r.end), r.summary, r.recovered,
            _secs(r.health_recovery_s, r.health_recovered),
            _secs(r.sli_recovery_s, r.sli_recovered if r.end is not None else None)
            + (f" ({r.window_s:.3g} s window)" if r.sli_recovered else ""),
            _budget(r), _phases(r), note(r.index, r.note),
        ) for r in results]
    return [FaultRow(f.name, f.action, rel(f.start), rel(f.end), "not judged", False, "-", "-",
                     "-", "-", note(f.index, f.error)) for f in d.evidence.faults]


@dataclass(frozen=True, slots=True)
class PhaseRow:
    """One objective around one fault: ``(status, value text, events)`` per phase."""

    fault: str
    objective: str
    cells: tuple[tuple[str, str, int], ...]


def phase_rows(d: ReportData) -> list[PhaseRow]:
    """The steady-state table: every sample objective before / during / after each fault."""
    if d.verdict is None:
        return []
    units = {o.name: o.unit for o in d.verdict.objectives}
    rows = []
    for r in d.verdict.faults:
        names = list(dict.fromkeys(o.name for p in r.phases for o in p.objectives))
        for name in names:
            cells = []
            for p in r.phases:
                o = next((x for x in p.objectives if x.name == name), None)
                if o is None:
                    cells.append(("insufficient_data", "-", 0))
                    continue
                unit = units.get(name, "")
                text = fmt.ms(o.value) if unit == "ms" else (
                    fmt.percent(o.value, 2) if unit == "%" else fmt.count(o.value))
                cells.append((o.status.value, text, o.events))
            rows.append(PhaseRow(r.name, name, tuple(cells)))
    return rows


def fault_bands(d: ReportData) -> list[tuple[float, float | None, str]]:
    """``(start, end, label)`` in seconds since the load start, for every fault that took
    effect (``end`` None: never undone, the band runs to the chart's end)."""
    t0 = d.load_start
    return [(f.start - t0, None if f.end is None else f.end - t0, f.name)
            for f in d.evidence.faults if f.start is not None]


def stopped_early(d: ReportData) -> str:
    """The sentence a report shows when ``abort_on`` stopped the run, else ``""``."""
    a = d.verdict.abort if d.verdict is not None else None
    if a is None:
        return ""
    return f"Stopped early by abort_on: {a.reason}"
