"""Judge one capacity step: pass, fail (which objective broke), or inconclusive.

A step is a complete run record judged by ``evaluate_run`` against the SLO; this module
adds what a capacity search needs on top of the verdict: whether the *load generator*
delivered the level at all. :func:`step_facts` reads the run record (the shell);
:func:`classify_step` is pure.

Inconclusive (the search stops; the generator's limit is not the target's capacity):

- **generator CPU pegged**: the median over the hold of the generator's CPU (harness and
  every load process, 100 % = one core) is at least ``CPU_PEGGED`` % of one core per load
  process;
- **open model fell behind its schedule while its client pool had room**: the achieved
  send rate is below ``MIN_DELIVERED`` of the offered rate, or the send lag
  (``ts - intended_ts``, p95) grew by more than ``LAG_GROWTH_MS`` from the first to the last
  third of the hold, *and* Little's law says fewer than half of the client's open-model
  users were busy (``sent/s x mean response time < 0.5 x pool``). When the pool was full,
  late sends are the target's back-pressure (its responses were slow), the corrected
  latency carries the wait, and the step stands as judged;
- **too few events** for an objective (``insufficient_data``): nothing can be said. An
  ``optional: true`` objective without data is left out (the step drives other traffic).

A failed step (any objective failed, optional or not) names the objective that broke; when
several broke at once, the one furthest past its threshold (value / threshold) is named.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from foundation.layout import RunLayout
from scenarios.record import read_samples, read_timeseries
from slo._types import Status
from slo.judge import DEFAULT_MIN_EVENTS
from slo.sli_kinds import min_events
from slo.spec.model import LatencyObjective, Objective
from slo.verdict import ObjectiveResult, Verdict

__all__ = [
    "CPU_PEGGED",
    "LAG_GROWTH_MS",
    "MIN_DELIVERED",
    "OPEN_HEADROOM_S",
    "StepFacts",
    "StepJudgement",
    "classify_step",
    "events_needed",
    "step_facts",
]

CPU_PEGGED: Final = 90.0
MIN_DELIVERED: Final = 0.95
LAG_GROWTH_MS: Final = 100.0
OPEN_HEADROOM_S: Final = 2.0
"""Seconds of response time the open-model client pool is sized for (``HttpPlan.open_headroom_s``):
the pool holds about ``rate x OPEN_HEADROOM_S`` users."""

MAX_POOL: Final = 2000
"""Open-model users per load process at most (``HttpPlan.max_pool_size``)."""

_LOAD_KINDS: Final = ("http", "ws_message")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class StepFacts:
    """What the generator delivered and what the target answered, over the judged hold.

    Latencies are in ms: response time corrected for coordinated omission for an open
    model (``corrected``), as measured otherwise. ``None`` where there were no samples.
    """

    window_s: float
    operations: int
    sent_per_s: float
    throughput_per_s: float
    """Successful operations *completed* within the hold, per second (what the target delivered)."""
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_response_s: float | None
    lag_growth_ms: float | None
    generator_cpu_percent: float | None
    load_processes: int
    corrected: bool


@dataclass(frozen=True, slots=True)
class StepJudgement:
    """The step's outcome (``pass`` / ``fail`` / ``inconclusive``) and in one phrase why."""

    outcome: str
    objective: str | None
    reason: str


def classify_step(verdict: Verdict, facts: StepFacts, offered_rate: float | None) -> StepJudgement:
    """Judge the step; ``offered_rate`` is the open model's arrivals/s (None otherwise)."""
    if facts.operations == 0:
        return StepJudgement("inconclusive", None, "no operations were recorded during the hold")
    limit = _generator_limit(facts, offered_rate)
    if limit is not None:
        return StepJudgement("inconclusive", None, limit)
    failed = [o for o in verdict.objectives if o.status is Status.FAIL]  # optional ones too
    if failed:
        worst = max(failed, key=_overshoot)
        value = "-" if worst.value is None else f"{worst.value:.4g} {worst.unit}".strip()
        return StepJudgement("fail", worst.name, f"{worst.name} = {value} ({worst.threshold_text})")
    short = [o for o in verdict.objectives
             if o.status is Status.INSUFFICIENT_DATA and not o.optional]
    if short:
        o = short[0]
        return StepJudgement(
            "inconclusive", None,
            f"too few events to judge {o.name} ({o.events:,}); raise --hold",
        )
    return StepJudgement("pass", None, "every objective held")


def events_needed(objectives: Iterable[Objective]) -> int:
    """Events a step must hold for its percentiles to be stable.

    A nearest-rank percentile ``p`` of ``n`` events is decided by the ``n (1 - p)`` events
    above it; with fewer than about ten of them one stray request moves it. So a step
    needs ``ceil(10 / (1 - p))`` events for its highest percentile (p95 -> 200,
    p99 -> 1,000), and never fewer than any objective's own ``min_events``.
    """
    need = 0
    for o in objectives:
        need = max(need, min_events(o))
        if isinstance(o, LatencyObjective) and o.percentile is not None:
            need = max(need, math.ceil(round(10.0 / (1.0 - o.percentile / 100.0), 9)))
    return need or DEFAULT_MIN_EVENTS


def _generator_limit(facts: StepFacts, offered_rate: float | None) -> str | None:
    cpu = facts.generator_cpu_percent
    budget = CPU_PEGGED * max(1, facts.load_processes)
    if cpu is not None and cpu >= budget:
        return (f"the load generator's CPU was pegged (median {cpu:.0f} % with "
                f"{facts.load_processes} load process(es)): its limit, not the target's")
    if offered_rate is None or offered_rate <= 0:
        return None
    pool = min(offered_rate * OPEN_HEADROOM_S + 2, MAX_POOL * max(1, facts.load_processes))
    busy = facts.sent_per_s * (facts.mean_response_s or 0.0)
    if busy >= 0.5 * pool:
        return None  # the pool was full of slow requests: the target held the client back
    if facts.sent_per_s < MIN_DELIVERED * offered_rate:
        return (f"the generator sent {facts.sent_per_s:.1f}/s of the {offered_rate:g}/s offered "
                f"(< {MIN_DELIVERED:.0%}) while its client pool had room: its limit, not the target's")
    if facts.lag_growth_ms is not None and facts.lag_growth_ms > LAG_GROWTH_MS:
        return (f"sends fell {facts.lag_growth_ms:.0f} ms further behind schedule during the "
                "hold while the client pool had room: the generator's limit, not the target's")
    return None


def _overshoot(o: ObjectiveResult) -> float:
    if o.value is None or o.threshold is None or o.threshold == 0:
        return 0.0
    ratio = o.value / o.threshold
    return ratio if o.comparison.startswith("<") else (1.0 / ratio if ratio else math.inf)


def step_facts(run_dir: Path, verdict: Verdict, hold_s: float, *, corrected: bool) -> StepFacts:
    """Read the run record's samples and timeseries over the judged hold (the shell)."""
    start = verdict.evaluated_from or 0.0
    end = start + hold_s
    table = read_samples(run_dir, columns=["ts", "intended_ts", "latency_ms", "kind", "ok"])
    kinds = np.asarray(table.column("kind").to_pylist()) if table.num_rows else np.array([])
    ts_all = _floats(table, "ts")
    load = np.isin(kinds, _LOAD_KINDS)
    if not load.any():
        load = np.ones_like(ts_all, dtype=bool)
    keep = load & (ts_all >= start) & (ts_all < end)
    done_at = ts_all + _floats(table, "latency_ms") / 1000.0
    ok_all = np.asarray(table.column("ok").to_numpy(zero_copy_only=False), dtype=bool) \
        if table.num_rows else np.array([], dtype=bool)
    completed_ok = int((load & ok_all & (done_at >= start) & (done_at < end)).sum())
    ts = ts_all[keep]
    intended = _floats(table, "intended_ts")[keep]
    latency = _floats(table, "latency_ms")[keep]
    ok = ok_all[keep]
    lag_ms = np.maximum(ts - intended, 0.0) * 1000.0
    judged = latency + lag_ms if corrected else latency
    n = int(ts.shape[0])
    p50, p95, p99 = (None, None, None) if n == 0 else (
        float(v) for v in np.percentile(judged, [50, 95, 99], method="inverted_cdf"))
    info = RunLayout(run_dir).read_info()
    return StepFacts(
        window_s=hold_s,
        operations=n,
        sent_per_s=n / hold_s,
        throughput_per_s=completed_ok / hold_s,
        error_rate=None if n == 0 else float((~ok).mean()),
        p50_ms=p50, p95_ms=p95, p99_ms=p99,
        mean_response_s=None if n == 0 else float(latency.mean()) / 1000.0,
        lag_growth_ms=_lag_growth(ts, lag_ms, start, end),
        generator_cpu_percent=_generator_cpu(run_dir, start, end),
        load_processes=max(1, info.workers),
        corrected=corrected,
    )


def _floats(table: pa.Table, name: str) -> FloatArray:
    if table.num_rows == 0:
        return np.array([], dtype=np.float64)
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _lag_growth(ts: FloatArray, lag_ms: FloatArray, start: float, end: float) -> float | None:
    """p95 send lag of the hold's last third minus its first third (``None``: too few)."""
    third = (end - start) / 3.0
    first = lag_ms[ts < start + third]
    last = lag_ms[ts >= end - third]
    if first.shape[0] < 10 or last.shape[0] < 10:
        return None
    p_first, p_last = (float(np.percentile(a, 95, method="inverted_cdf")) for a in (first, last))
    return p_last - p_first


def _generator_cpu(run_dir: Path, start: float, end: float) -> float | None:
    table = read_timeseries(run_dir)
    if table is None or "generator_cpu_percent" not in table.column_names:
        return None
    t = _floats(table, "ts")
    cpu = np.asarray(table.column("generator_cpu_percent").to_numpy(zero_copy_only=False),
                     dtype=np.float64)
    sel = (t >= start) & (t <= end) & np.isfinite(cpu)
    return float(np.median(cpu[sel])) if sel.any() else None
