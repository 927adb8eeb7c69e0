"""Recovery, per-fault error budget and per-phase steady state: pure functions over samples.

**SLI recovery** (docs/slo.md, "Recovery"). Each sample objective is reduced to a per-event
"bad" flag and the share of bad events its threshold tolerates (by its kind's
``window_test``, :mod:`slo.sli_kinds`):

===============================  ==============================  ==============================
objective                        bad event                       window within the objective iff
===============================  ==============================  ==============================
availability ``target: A``       ``ok`` false                    bad <= (1 - A/100) x n
error_rate ``threshold_percent``  ``ok`` false                    bad <= T/100 x n
ws_drop_rate                     a ``ws_close`` (events: opens    bad <= T/100 x n
                                 and closes, so a refused
                                 reconnect counts)
latency / ttft ``percentile: p``  latency > threshold (``<``: >=)  n - bad >= ceil(p/100 x n)
                                 (corrected latency when the
                                 objective says ``corrected``)
latency ``aggregate: max``        latency > threshold              bad = 0
===============================  ==============================  ==============================

(the percentile row is exact for the nearest-rank percentile :mod:`slo.sli` uses: the p-th
percentile is <= T exactly when at least ceil(p n) values are <= T). Sessions count because a
killed API process is not back for its clients until they can open sessions again (a quota
lease of the dead process may refuse them for a while). Other SLIs (server histograms,
resources, avg/min latency) have no per-event meaning and take no part.

A fault has *recovered* at the first instant ``s >= end`` such that the window ``(s, s + W]``
(by send time ``ts``) holds at least one event, fits inside the run, and every objective is
within its threshold over it; the recovery time is ``s - end``. Candidate instants are the
fault's end and every later send time, so the answer is exact to the sample, not to a bin.
Example: a fault over 10..13 s with errors sent until 14.2 s and W = 1 s recovers at 14.2 s,
1.2 s after its end. ``W`` defaults to :data:`RECOVERY_WINDOW_S` (10 s: long enough that one
lucky second is not "recovered", short next to the 1-minute and 2-5-minute claims). Windows
stop where the next fault starts: its damage is not this fault's, so a fault followed sooner
than ``2 W`` is judged with windows of half the gap before the next one (at least
:data:`MIN_WINDOW_S`, else it is not judged apart: "not recovered").

**Budget per fault**: bad events of each budgeted objective (ratio objectives and latency
percentiles) sent from the fault's start until it recovered (or the run ended), as a share of
the run's allowance ``allowed_bad_ratio x events`` (SRE Workbook ch. 2, via
:func:`slo.budget.run_budget`).

**Phases**: for fault ``i``, *before* runs from the previous fault's phase end (or the judged
start) to its start, *during* from its start to its end (a kill, which has no duration: to
its recovery, else the run's end), *after* from there to the next fault's start (or the
run's end). Every sample objective is judged over each phase alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final

import numpy as np
import numpy.typing as npt

from slo._types import Status, worst
from slo.budget import run_budget
from slo.fault_results import FaultBudget, FaultResult, PhaseObjective, PhaseResult
from slo.faults import FaultWindow
from slo.measurements import Measurements, RunFacts
from slo.samples import SampleColumns
from slo.sli_kinds import WindowTest, kind_of, traits_of
from slo.sli_kinds.base import EPS
from slo.spec.model import Objective, RatioObjective
from slo.verdict import ObjectiveResult

__all__ = [
    "RECOVERY_WINDOW_S",
    "WindowTest",
    "fault_spans",
    "health_recovery",
    "judge_faults",
    "sli_recovery",
    "window_tests",
    "without_spans",
]

RECOVERY_WINDOW_S: Final = 10.0
MIN_WINDOW_S: Final = 2.0
"""A fault followed by the next one sooner than this is not judged apart (not recovered)."""
_CHUNK: Final = 65_536

Evaluator = Callable[[Objective, Measurements], ObjectiveResult]


def window_tests(objectives: Sequence[Objective], m: Measurements) -> list[WindowTest]:
    """Every objective whose kind gives its events a per-event meaning (module docstring
    table; :meth:`slo.sli_kinds.SliKind.window_test`)."""
    tests = (kind_of(o).window_test(o, m.samples) for o in objectives)
    return [t for t in tests if t is not None]


def sli_recovery(
    tests: Sequence[WindowTest], end: float, run_end: float, window_s: float = RECOVERY_WINDOW_S
) -> float | None:
    """Seconds from ``end`` until every test is within over ``(s, s + W]``; ``None`` if never.

    Candidates are ``end`` and every later send time with a full window left in the run
    (the rule of the module docstring), scanned block by block so a quick recovery costs
    little even on a long run.
    """
    if not tests or window_s <= 0:
        return None
    cums = [np.concatenate(([0], np.cumsum(t.bad, dtype=np.int64))) for t in tests]
    last = run_end - window_s + EPS  # the last start whose window still fits in the run
    block_lo = end
    while block_lo <= last:
        # Candidates one time block at a time: each test's ts is sorted, so a block is two
        # binary searches, and a quick recovery never touches the rest of the run.
        block_hi = min(last, block_lo + max(60.0, 6 * window_s))
        parts = [t.ts[np.searchsorted(t.ts, block_lo, "right"):
                      np.searchsorted(t.ts, block_hi, "right")] for t in tests]
        first = [np.array([end])] if block_lo == end else []
        cand = np.unique(np.concatenate([*first, *parts]))
        found = _first_within(tests, cums, cand, window_s)
        if found is not None:
            return found - end
        if block_hi >= last:
            break
        block_lo = block_hi
    return None


def _first_within(tests: Sequence[WindowTest], cums: Sequence[npt.NDArray[np.int64]],
                  cand: npt.NDArray[np.float64], window_s: float) -> float | None:
    """The first candidate start whose window meets every test and holds an event."""
    for lo in range(0, cand.shape[0], _CHUNK):
        s = cand[lo:lo + _CHUNK]
        ok = np.ones(s.shape[0], dtype=np.bool_)
        events = np.zeros(s.shape[0], dtype=np.int64)
        for test, cum in zip(tests, cums, strict=True):
            a = np.searchsorted(test.ts, s, "right")
            b = np.searchsorted(test.ts, s + window_s, "right")
            n = (b - a).astype(np.int64)
            bad = cum[b] - cum[a]
            ok &= (n == 0) | (bad <= test.allowed(n))
            events += n
        hit = np.flatnonzero(ok & (events > 0))
        if hit.size:
            return float(s[hit[0]])
    return None


def health_recovery(cols: SampleColumns, fault_name: str) -> tuple[bool, float] | None:
    """``(recovered, seconds)`` from the ``recovery: <fault_name>`` sample, if the run has one."""
    if cols.name is None or cols.latency_ms is None or cols.n == 0:
        return None
    wanted = f"recovery: {fault_name}".strip().lower()
    codes = [i for i, c in enumerate(cols.name.categories) if c.strip().lower() == wanted]
    if not codes:
        return None
    idx = np.flatnonzero(np.isin(cols.name.codes, codes))
    return bool(np.all(cols.ok[idx])), float(np.max(cols.latency_ms[idx])) / 1000.0


def judge_faults(
    objectives: Sequence[Objective],
    m: Measurements,
    faults: Sequence[FaultWindow],
    evaluator: Evaluator,
    window_s: float = RECOVERY_WINDOW_S,
) -> tuple[FaultResult, ...]:
    """Recovery, budget and phases for every fault (module docstring)."""
    if not faults:
        return ()
    tests = window_tests(objectives, m)
    run_end = m.end_ts
    judged_from = m.facts.started_at + m.facts.warmup_s
    results = [_one(f, tests, m, run_end, _horizon(f, faults, run_end), judged_from, window_s)
               for f in faults]
    phased: list[FaultResult] = []
    previous_end = judged_from
    for i, r in enumerate(results):
        following = next((x.start for x in results[i + 1:] if x.start is not None), run_end)
        phases = _phases(r, objectives, m, evaluator, previous_end, following, run_end)
        if phases:
            previous_end = phases[1].end
        phased.append(replace(r, phases=phases))
    return tuple(phased)


def _horizon(f: FaultWindow, faults: Sequence[FaultWindow], run_end: float) -> float:
    """Where ``f``'s recovery windows must stop: the next fault that starts after ``f`` ended
    (its damage is not ``f``'s), else the run's end."""
    if f.end is None:
        return run_end
    later = [x.start for x in faults if x.start is not None and x.start > f.end]
    return min([run_end, *later])


def _one(f: FaultWindow, tests: Sequence[WindowTest], m: Measurements, run_end: float,
         horizon: float, judged_from: float, window_s: float) -> FaultResult:
    health = health_recovery(m.samples, f.name)
    h_ok, h_s = (None, None) if health is None else health
    crowded = False  # the next fault follows too soon to judge this one apart
    if f.end is not None and horizon < run_end and horizon - f.end < 2 * window_s:
        # the next fault comes sooner: windows of half the gap, so recovery can still be
        # found in its first half
        window_s = min(window_s, (horizon - f.end) / 2)
        crowded = window_s < MIN_WINDOW_S
    sli_s = None if f.end is None or crowded else sli_recovery(tests, f.end, horizon, window_s)
    sli_ok = sli_s is not None
    measured = [x for x in (sli_s, h_s) if x is not None]
    recovered = f.end is not None and sli_ok and h_ok is not False
    recovery_s = max(measured) if recovered and measured else None
    observed = None if f.end is None else max(0.0, run_end - f.end)
    note = _note(f, tests, sli_ok, h_ok)
    until = run_end if f.end is None or not recovered else f.end + (recovery_s or 0.0)
    budgets = () if f.start is None else _budgets(tests, f.start, until, judged_from)
    return FaultResult(
        index=f.index, name=f.name, action=f.action, component=f.component,
        fault_status=f.status, start=f.start, end=f.end, recovered=recovered,
        recovery_s=recovery_s, sli_recovered=sli_ok, sli_recovery_s=sli_s,
        health_recovered=h_ok, health_recovery_s=h_s, observed_s=observed,
        window_s=window_s, note=note, budgets=budgets,
    )


def _note(f: FaultWindow, tests: Sequence[WindowTest], sli_ok: bool, h_ok: bool | None) -> str:
    if f.start is None:
        return f"the fault never took effect ({f.status or 'no start recorded'})" + (
            f": {f.error}" if f.error else "")
    if f.end is None:
        return "the fault was never undone (the run ended first, or its undo failed)"
    if not tests:
        return "no sample objective can be judged per window (availability, error rate, latency)"
    why = []
    if not sli_ok:
        why.append("the objectives were not met over a full window before the run ended "
                   "or the next fault began")
    if h_ok is False:
        why.append("the health probe never answered again")
    return "; ".join(why)


def _budgets(tests: Sequence[WindowTest], start: float, until: float,
             judged_from: float) -> tuple[FaultBudget, ...]:
    out = []
    for t in tests:
        if t.allowed_bad_ratio is None or not 0 < t.allowed_bad_ratio < 1:
            continue
        judged = t.ts >= judged_from
        total = int(np.count_nonzero(judged))
        span = judged & (t.ts >= start) & (t.ts <= until)
        bad = int(np.count_nonzero(span & t.bad))
        if total == 0:
            out.append(FaultBudget(t.name, 0, 0.0, None))
            continue
        b = run_budget(bad, total, t.allowed_bad_ratio)
        out.append(FaultBudget(t.name, bad, b.allowed_bad, b.consumed))
    return tuple(out)


def _phases(r: FaultResult, objectives: Sequence[Objective], m: Measurements,
            evaluator: Evaluator, previous_end: float, following: float,
            run_end: float) -> tuple[PhaseResult, ...]:
    if r.start is None:
        return ()
    during_end = r.end if r.end is not None else run_end
    if during_end <= r.start:  # a kill: "during" lasts until it recovered
        during_end = r.end + r.recovery_s if r.end is not None and r.recovery_s else run_end
    during_end = min(during_end, run_end)
    spans = (("before", min(previous_end, r.start), r.start), ("during", r.start, during_end),
             ("after", during_end, max(during_end, following)))
    return tuple(_phase(name, a, b, objectives, m, evaluator) for name, a, b in spans)


def _phase(name: str, start: float, end: float, objectives: Sequence[Objective],
           m: Measurements, evaluator: Evaluator) -> PhaseResult:
    cols = m.samples
    mask = (cols.ts >= start) & (cols.ts < end)
    facts = RunFacts(m.facts.run_id, start, end, 0.0, m.facts.status, m.facts.approximate,
                     m.facts.approximate_reason)
    sliced = Measurements(facts, cols.take(mask))
    phased = [o for o in objectives if traits_of(o).per_phase]
    results = []
    for o in phased:
        o2 = o.model_copy(update={"warmup_s": 0.0, **(
            {"alerts": False} if isinstance(o, RatioObjective) else {})})
        res = evaluator(o2, sliced)
        results.append(PhaseObjective(o.name, res.status, _finite(res.value), res.events,
                                      res.reason))
    counted = [p.status for p, o in zip(results, phased, strict=True)
               if not (o.optional and p.status is Status.INSUFFICIENT_DATA)]
    return PhaseResult(name, start, end, worst(counted) if counted else Status.PASS,
                       tuple(results))


def fault_spans(results: Sequence[FaultResult], run_end: float) -> list[tuple[float, float]]:
    """Sample spans ``exclude_faults`` leaves out: start to recovery for a recovered fault;
    start to end (the run's end if never undone) for one that did not recover -- so what
    happens after an unrecovered fault is still judged."""
    spans = []
    for r in results:
        if r.start is None:
            continue
        end = run_end if r.end is None else r.end
        if r.recovered and r.recovery_s is not None:
            end += r.recovery_s
        spans.append((r.start, max(r.start, min(end, run_end))))
    return spans


def without_spans(m: Measurements, spans: Sequence[tuple[float, float]]) -> Measurements:
    """``m`` without the samples sent inside any of ``spans`` (start inclusive, end exclusive;
    a kill's zero-length span still drops sends at the kill instant)."""
    keep = np.ones(m.samples.n, dtype=np.bool_)
    for a, b in spans:
        keep &= ~((m.samples.ts >= a) & (m.samples.ts < max(b, a + EPS)))
    return replace(m, samples=m.samples.take(keep))


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value
