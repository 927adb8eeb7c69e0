"""Judge each readiness claim on the evidence: passed, failed, or not verified.

The rule every function follows: a claim is ``passed`` only when the record holds evidence
that the claim's own condition (DESIGN.md) held; ``failed`` when the evidence contradicts
it; ``not_verified`` when the run did not test it (no scenario feature, no objective, too
short, insufficient data). Missing evidence is never a pass.

Where DESIGN.md gives a number (P95 < 100 ms, > 99.5 %, 45-60 % CPU, < 1 min ...), the
claim is judged against that number with the measured value from the verdict, so a looser
SLO file cannot make a claim pass. Where it gives none (no leak, sessions stable), the
objective's own status decides.

Example::

    results = judge_claims(evidence)
    [(r.claim.id, r.status.value) for r in results][:2]   # [(1, 'passed'), (2, 'not_verified')]
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Final

from slo._types import Status
from slo.claims.catalog import CLAIMS, CLAIMS_BY_ID, HEALTH_P99_MS, SESSION_QUOTAS, ClaimDef
from slo.claims.evidence import Evidence
from slo.claims.hints import VERIFY_WITH
from slo.claims.resilience import (
    Outcome,
    judge_provider,
    judge_recovery,
    quiet_tail_s,
    spike_overlap,
)
from slo.verdict import ObjectiveResult

__all__ = ["ClaimResult", "ClaimStatus", "judge_claim", "judge_claims"]

SESSIONS_NEEDED: Final = 1000
LEAK_MIN_S: Final = 300.0
CPU_MIN_S: Final = 60.0
CPU_RANGE: Final = (45.0, 60.0)
SPIKE_DELIVERED: Final = 0.9  # share of the planned factor the generator must really send
MIN_HEALTH_CHECKS: Final = 5
_WS_MESSAGE_KINDS: Final = ("ws_message", "ws_first_token")


class ClaimStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_VERIFIED = "not_verified"


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """One claim's judgement, with what was measured, against what, and by which test.

    ``tests`` names the objectives or sample groups that checked it; ``marginal`` marks a
    pass that is close to its limit (a warn level crossed, or within 10 % of the threshold).
    """

    claim: ClaimDef
    status: ClaimStatus
    measured: str
    threshold: str
    evidence: str
    tests: tuple[str, ...] = ()
    value: float | None = None
    marginal: bool = False
    verify_with: str = ""
    """For a claim not verified: the scenario or SLO field that would verify it."""


_NOT_JUDGED = "the run has no verdict (it was not judged)"


def _result(claim_id: int, status: ClaimStatus, measured: str, threshold: str, evidence: str,
            tests: Iterable[str] = (), value: float | None = None,
            marginal: bool = False) -> ClaimResult:
    return ClaimResult(CLAIMS_BY_ID[claim_id], status, measured, threshold, evidence,
                       tuple(tests), value, marginal)


def _nv(claim_id: int, threshold: str, why: str, tests: Iterable[str] = ()) -> ClaimResult:
    return _result(claim_id, ClaimStatus.NOT_VERIFIED, "-", threshold, why, tests)


def _covers_kind(ev: Evidence, o: ObjectiveResult, kind: str) -> bool:
    """Whether objective ``o`` judges samples of ``kind`` (and only kinds like it)."""
    scope = ev.scope(o.name)
    if scope.known:
        if scope.kinds is None:
            return o.sli == "ttft" and kind == "ws_first_token"
        return any(fnmatch.fnmatchcase(kind, p) for p in scope.kinds)
    # no SLO file: guess from the SLI and the name (documented in docs/reports.md)
    if o.sli == "ttft":
        return kind == "ws_first_token"
    is_ws = "ws" in o.name.lower() or "websocket" in o.name.lower()
    return is_ws == kind.startswith("ws_")


def _find(ev: Evidence, sli: str | tuple[str, ...], kind: str | tuple[str, ...] | None = None,
          test: Callable[[ObjectiveResult], bool] | None = None) -> list[ObjectiveResult]:
    """Objectives of these SLIs judging any of these kinds, in verdict order, each once."""
    slis = (sli,) if isinstance(sli, str) else sli
    kinds = (kind,) if isinstance(kind, str) else kind
    return [o for o in ev.objectives if o.sli in slis
            and (kinds is None or any(_covers_kind(ev, o, k) for k in kinds))
            and (test is None or test(o))]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "ms":
        return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"
    return f"{value:,.2f} {unit}".strip()


def _statuses(results: list[ObjectiveResult], tier: str | None = None) -> list[Status]:
    out = []
    for o in results:
        groups = {g.key: g.status for g in o.groups} if o.per == "tier" else {}
        if tier is not None and groups:
            if tier in groups:
                out.append(groups[tier])
        else:
            out.append(o.status)
    return out


def _ws_sessions(ev: Evidence) -> ClaimResult:
    need = f">= {SESSIONS_NEEDED:,} sessions held; drops and message latency within SLO"
    drops = _find(ev, "ws_drop_rate")
    messages = _find(ev, ("latency", "ttft"), _WS_MESSAGE_KINDS)
    tests = [o.name for o in (*drops, *messages)]
    planned = ev.scenario.planned_sessions
    held = ev.timeseries.sessions_held if ev.timeseries is not None else None
    if planned < SESSIONS_NEEDED and (held is None or held < SESSIONS_NEEDED):
        return _nv(1, need, f"the scenario planned {planned:,} WebSocket sessions; the claim "
                   f"needs >= {SESSIONS_NEEDED:,}")
    if held is None:
        return _nv(1, need, "no timeseries with ws_sessions: sessions held are unknown")
    if ev.verdict is None:
        return _nv(1, need, _NOT_JUDGED)
    if not drops or not messages:
        missing = "a ws_drop_rate objective" if not drops else "a WebSocket message latency objective"
        return _nv(1, need, f"the SLO file has no {missing}", tests)
    hold = ev.timeseries.hold_s if ev.timeseries is not None else 0.0
    parts = [f"{held:,} held"] + [f"{o.name} {_fmt(o.value, o.unit)}" for o in drops + messages]
    measured = "; ".join(parts)
    if held < SESSIONS_NEEDED:
        return _result(1, ClaimStatus.FAILED, measured, need,
                       f"only {held:,} of {planned:,} planned sessions were held for {hold:g} s",
                       tests, held)
    return _by_status(1, _statuses(drops + messages), measured, need, tests, held,
                      f"{held:,} sessions held for >= {hold:g} s")


def _by_status(claim_id: int, statuses: list[Status], measured: str, threshold: str,
               tests: list[str], value: float | None, passed_note: str) -> ClaimResult:
    """Decide from objective statuses (aligned with ``tests``): fail > insufficient data >
    warn (a marginal pass) > pass."""
    def named(status: Status) -> str:
        return ", ".join(t for t, s in zip(tests, statuses, strict=False) if s is status)

    if Status.FAIL in statuses:
        return _result(claim_id, ClaimStatus.FAILED, measured, threshold,
                       f"failed: {named(Status.FAIL)}", tests, value)
    if Status.INSUFFICIENT_DATA in statuses:
        return _result(claim_id, ClaimStatus.NOT_VERIFIED, measured, threshold,
                       f"insufficient data: {named(Status.INSUFFICIENT_DATA)}", tests, value)
    return _result(claim_id, ClaimStatus.PASSED, measured, threshold, passed_note, tests, value,
                   marginal=Status.WARN in statuses)


def _db_p95(ev: Evidence) -> ClaimResult:
    need = "P95 < 100 ms"

    def is_db(o: ObjectiveResult) -> bool:
        metric = ev.scope(o.name).metric
        return "db" in (metric if metric is not None else o.name).lower()

    found = _find(ev, "server_latency", test=is_db)
    if ev.verdict is None:
        return _nv(2, need, _NOT_JUDGED)
    if not found:
        return _nv(2, need, "no server_latency objective on the database query histogram")
    valued = [o for o in found if o.value is not None]
    if not valued:
        return _nv(2, need, found[0].reason or "the server histogram had no observations",
                   [o.name for o in found])
    worst = max(valued, key=lambda o: o.value or 0.0)
    value = worst.value or 0.0
    status = ClaimStatus.PASSED if value < 100.0 else ClaimStatus.FAILED
    return _result(2, status, f"P95 {_fmt(value, 'ms')} (server histogram)", need,
                   f"{worst.name}: bucket-interpolated from server.json", [worst.name], value,
                   marginal=status is ClaimStatus.PASSED and value >= 90.0)


def _no_leak(ev: Evidence) -> ClaimResult:
    found = _find(ev, "memory_slope")
    need = found[0].threshold_text if found else "memory slope within SLO"
    need += f" over >= {LEAK_MIN_S / 60:g} min"
    if ev.verdict is None:
        return _nv(3, need, _NOT_JUDGED)
    if not found:
        return _nv(3, need, "no memory_slope objective in the SLO file")
    judged = quiet_tail_s(ev)
    if judged is None or judged < LEAK_MIN_S:
        span = "an unknown time" if judged is None else f"{judged:.0f} s"
        after = " and the last fault" if ev.faults else ""
        return _nv(3, need, f"only {span} of load after warm-up{after}; telling a leak from warm-up "
                   f"needs >= {LEAK_MIN_S / 60:g} min (run the soak scenario)",
                   [o.name for o in found])
    o = found[0]
    return _by_status(3, _statuses(found), f"slope {_fmt(o.value, o.unit)}", need,
                      [x.name for x in found], o.value, f"{o.name}: RSS slope after warm-up")


def _cpu(ev: Evidence) -> ClaimResult:
    """A ``cpu`` objective's mean when the SLO file has one; else the same mean (target CPU
    after warm-up) from ``timeseries.parquet``, which every run records -- the claim's number
    is DESIGN.md's, so it needs no objective to be judged."""
    lo, hi = CPU_RANGE
    need = f"mean target CPU {lo:g}-{hi:g} %"
    if ev.verdict is None:
        return _nv(4, need, _NOT_JUDGED)
    valued = [o for o in _find(ev, "cpu") if o.value is not None]
    tests: list[str] = [o.name for o in valued]
    value = valued[0].value if valued else None
    source = f"{valued[0].name}" if valued else "timeseries target_cpu_percent"
    if value is None and ev.timeseries is not None:
        value = ev.timeseries.target_cpu_mean
        tests = ["timeseries.parquet target_cpu_percent"] if value is not None else []
    if value is None:
        return _nv(4, need, "target CPU not measured (no cpu objective with a value, and no "
                   "target_cpu_percent in timeseries.parquet)", tests)
    measured = f"mean {value:.1f} %"
    judged = ev.run.judged_s
    if judged is None or judged < CPU_MIN_S:
        span = "an unknown time" if judged is None else f"{judged:.0f} s"
        return _result(4, ClaimStatus.NOT_VERIFIED, measured, need,
                       f"{source}: only {span} of load after warm-up; sustained load needs "
                       f">= {CPU_MIN_S:g} s (run the soak scenario)", tests, value)
    if value < lo:
        return _result(4, ClaimStatus.NOT_VERIFIED, measured, need,
                       f"{source}: the load did not bring the target to the claim's "
                       "operating point", tests, value)
    status = ClaimStatus.PASSED if value <= hi else ClaimStatus.FAILED
    why = "within the range" if status is ClaimStatus.PASSED else "too little headroom"
    return _result(4, status, measured, need, f"{source}: {why}", tests, value)


def _tier_capacity(ev: Evidence) -> ClaimResult:
    if ev.capacity:  # capacity searches given: they are the evidence (claims/capacity_search.py)
        from slo.claims.capacity_search import judge_from_capacity

        return judge_from_capacity(ev.capacity)
    need = ", ".join(f"{t} {q}" for t, q in SESSION_QUOTAS.items()) + " sessions per tenant"
    if ev.verdict is None:
        return _nv(5, need, _NOT_JUDGED)
    ws = [*_find(ev, "ws_drop_rate"), *_find(ev, ("latency", "ttft"), _WS_MESSAGE_KINDS)]
    tests = [o.name for o in ws]
    if not ws:
        return _nv(5, need, "the SLO file has no WebSocket objective to hold the sessions to")
    held = ev.timeseries.sessions_held_per_tier if ev.timeseries is not None else {}
    plans = {p.tier: p for p in ev.scenario.tiers}
    parts, failed, untested = [], [], []
    for tier, quota in SESSION_QUOTAS.items():
        plan = plans.get(tier)
        if plan is None or plan.sessions_per_tenant < quota:
            got = 0 if plan is None else plan.sessions_per_tenant
            untested.append(f"{tier} (planned {got} per tenant)")
            continue
        n = held.get(tier)
        parts.append(f"{tier} {'?' if n is None else f'{n:,}'}/{plan.sessions:,}")
        scoped = [o for o in ws if _tier_in_scope(ev, o, tier)]
        statuses = _statuses(scoped, tier)
        if n is None:
            untested.append(f"{tier} (no per-tier session counts)")
        elif n < plan.sessions or Status.FAIL in statuses:
            failed.append(tier)
        elif Status.INSUFFICIENT_DATA in statuses:
            untested.append(f"{tier} (insufficient data)")
    measured = "; ".join(parts) + " held" if parts else "-"
    if failed:
        return _result(5, ClaimStatus.FAILED, measured, need,
                       f"not held within SLO: {', '.join(failed)}", tests)
    if untested:
        return _result(5, ClaimStatus.NOT_VERIFIED, measured, need,
                       f"not tested at quota: {', '.join(untested)}", tests)
    return _result(5, ClaimStatus.PASSED, measured, need,
                   "every tier's tenants held their quota with the WebSocket objectives met",
                   tests)


def _tier_in_scope(ev: Evidence, o: ObjectiveResult, tier: str) -> bool:
    tiers = ev.scope(o.name).tiers
    return tiers is None or any(fnmatch.fnmatchcase(tier, p) for p in tiers)


def _beta(ev: Evidence) -> ClaimResult:
    need = "availability > 99.5 %, P95 < 500 ms"
    if ev.verdict is None:
        return _nv(6, need, _NOT_JUDGED)
    avail = [o for o in _find(ev, "availability", "http") if o.value is not None]
    p95 = [o for o in _find(ev, "latency", "http", lambda o: o.statistic.startswith("p95"))
           if o.value is not None]
    corrected = [o for o in p95 if "corrected" in o.statistic]
    p95 = corrected or p95
    tests = [o.name for o in (*avail, *p95)]
    if not avail or not p95:
        insufficient = [o.name for o in _find(ev, ("availability", "latency"), "http")
                        if o.status is Status.INSUFFICIENT_DATA]
        why = (f"insufficient data for {', '.join(insufficient)}" if insufficient else
               "no HTTP " + ("availability" if not avail else "P95 latency") + " objective")
        return _nv(6, need, why, tests or insufficient)
    a = min(avail, key=lambda o: o.value or 0.0)
    p = max(p95, key=lambda o: o.value or 0.0)
    a_val, p_val = a.value or 0.0, p.value or 0.0
    which = " (corrected)" if corrected else ""
    measured = f"availability {a_val:.2f} %, P95 {_fmt(p_val, 'ms')}{which}"
    ok = a_val > 99.5 and p_val < 500.0
    bad = [x for x, fail in (("availability", a_val <= 99.5), ("P95", p_val >= 500.0)) if fail]
    return _result(6, ClaimStatus.PASSED if ok else ClaimStatus.FAILED, measured, need,
                   f"{a.name} and {p.name}" + ("" if ok else f": {' and '.join(bad)} missed"),
                   tests, p_val, marginal=ok and (a_val < 99.6 or p_val >= 450.0))


def _isolation(ev: Evidence) -> ClaimResult:
    need = "every cross-tenant read and write refused (401/403/404)"
    f = ev.samples.isolation
    if f.total == 0:
        return _nv(7, need, "no isolation probes in this run (samples named 'isolation: ...')")
    measured = (f"{f.refused:,}/{f.total:,} refused, {f.leaked:,} leaked "
                f"({f.reads:,} reads, {f.writes:,} writes)")
    tests = ["isolation probes"]
    if f.leaked:
        return _result(7, ClaimStatus.FAILED, measured, need,
                       f"{f.leaked:,} leaks of {f.total:,} attempts: cross-tenant requests succeeded",
                       tests, f.leaked)
    if not f.reads or not f.writes:
        return _result(7, ClaimStatus.NOT_VERIFIED, measured, need,
                       "only " + ("reads" if f.reads else "writes") + " were probed", tests)
    if f.inconclusive:
        return _result(7, ClaimStatus.NOT_VERIFIED, measured, need,
                       f"{f.inconclusive:,} probes got no clean refusal (5xx, 429 or transport "
                       "errors)", tests)
    return _result(7, ClaimStatus.PASSED, measured, need,
                   f"0 leaks of {f.total:,} attempts: every probe was refused", tests, 0)


def _provider(ev: Evidence) -> ClaimResult:
    return _outcome(8, judge_provider(ev))


def _recovery(ev: Evidence) -> ClaimResult:
    return _outcome(9, judge_recovery(ev))


def _outcome(claim_id: int, o: Outcome) -> ClaimResult:
    """A decision of :mod:`slo.claims.resilience` as a claim result."""
    return _result(claim_id, ClaimStatus(o.status), o.measured, o.threshold, o.why, o.tests,
                   o.value)


def _spike(ev: Evidence) -> ClaimResult:
    need = "3x spike: no 5xx, no timeouts (429 allowed)"
    w, f = ev.scenario.spike, ev.samples.spike
    if w is None:
        return _nv(10, need, "the scenario has no spike stage")
    if w.factor < 3.0:
        return _nv(10, need, f"the scenario's spike is {w.factor:g}x, the claim needs 3x")
    if f is None or f.requests == 0:
        return _nv(10, need, "no HTTP samples in the spike window")
    overlapping = spike_overlap(ev, w)
    if overlapping:
        return _nv(10, need, "a fault overlapped the spike (" + ", ".join(overlapping)
                   + "): its errors would not be the spike's; move one of them")
    ratio = f.peak_rps / f.baseline_rps if f.baseline_rps and f.peak_rps is not None else None
    measured = (f"{'?' if ratio is None else f'{ratio:.1f}'}x delivered; {f.server_errors:,} "
                f"5xx, {f.transport_errors:,} transport errors, {f.shed_429:,} shed (429)")
    tests = ["spike stage"]
    if f.server_errors or f.transport_errors:
        return _result(10, ClaimStatus.FAILED, measured, need,
                       f"{f.server_errors + f.transport_errors:,} requests failed in the spike",
                       tests, ratio)
    if ratio is None or ratio < SPIKE_DELIVERED * w.factor:
        return _result(10, ClaimStatus.NOT_VERIFIED, measured, need,
                       "the spike was not delivered at its planned factor (generator-bound?)",
                       tests, ratio)
    return _result(10, ClaimStatus.PASSED, measured, need, "absorbed without 5xx or timeouts",
                   tests, ratio)


def _provisioning(ev: Evidence) -> ClaimResult:
    need = "< 120 s per tenant"
    times = [t for t in (ev.run.provisioning_max_s, ev.samples.provisioning_max_s)
             if t is not None]
    n = ev.run.provisioning_tenants + ev.samples.provisioning_count
    if not times or n == 0:
        return _nv(11, need, "no tenant was provisioned in this run")
    worst = max(times)
    status = ClaimStatus.PASSED if worst < 120.0 else ClaimStatus.FAILED
    return _result(11, status, f"slowest {worst:,.2f} s of {n:,}", need,
                   "run.json provisioning timings", ["tenant provisioning"], worst)


def _health(ev: Evidence) -> ClaimResult:
    need = f"all answered during load, p99 < {HEALTH_P99_MS:,.0f} ms"
    h = ev.samples.health
    if h.total < MIN_HEALTH_CHECKS:
        return _nv(12, need, f"{h.total} health checks during the load window "
                   f"(needs >= {MIN_HEALTH_CHECKS})")
    measured = f"{h.ok:,}/{h.total:,} answered, p99 {_fmt(h.p99_ms, 'ms')}"
    tests = ["health-check samples"]
    if h.ok < h.total or (h.p99_ms or 0.0) >= HEALTH_P99_MS:
        why = f"{h.total - h.ok:,} went unanswered" if h.ok < h.total else "too slow"
        return _result(12, ClaimStatus.FAILED, measured, need, why, tests, h.p99_ms)
    return _result(12, ClaimStatus.PASSED, measured, need, "every check answered", tests,
                   h.p99_ms)


def _no_loss(ev: Evidence) -> ClaimResult:
    need = "every acknowledged write read back"
    d = ev.samples.durability
    if d.total == 0:
        return _nv(13, need, "no read-back checks in this run (samples named 'durability: ...')")
    measured = f"{d.ok:,}/{d.total:,} read back"
    status = ClaimStatus.PASSED if d.ok == d.total else ClaimStatus.FAILED
    lost = d.total - d.ok
    why = "nothing lost" if not lost else f"{lost:,} acknowledged write{'s' if lost > 1 else ''} lost"
    return _result(13, status, measured, need, why, ["durability checks"], d.total - d.ok)


_JUDGES: Final[dict[int, Callable[[Evidence], ClaimResult]]] = {
    1: _ws_sessions, 2: _db_p95, 3: _no_leak, 4: _cpu, 5: _tier_capacity, 6: _beta,
    7: _isolation, 8: _provider, 9: _recovery, 10: _spike, 11: _provisioning, 12: _health,
    13: _no_loss,
}


def judge_claim(claim_id: int, evidence: Evidence) -> ClaimResult:
    """One claim's result; a claim not verified names the field that would verify it."""
    result = _JUDGES[claim_id](evidence)
    if result.status is ClaimStatus.NOT_VERIFIED:
        return replace(result, verify_with=VERIFY_WITH.get(claim_id, ""))
    return result


def judge_claims(evidence: Evidence) -> tuple[ClaimResult, ...]:
    """Every claim of the catalogue, in catalogue order."""
    return tuple(judge_claim(c.id, evidence) for c in CLAIMS)
