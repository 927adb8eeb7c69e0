"""Claims 3, 8, 9 and 10 on a run with faults: pure decisions, returned as plain outcomes.

:mod:`slo.claims.judge` keeps one function per claim; for these four it asks this module,
which reads the run.json fault timeline (``Evidence.faults``), the verdict's fault results
(``Verdict.faults``: recovery, budgets, phases) and the sample facts:

- **9 recovery.** Each fault that took an API process (``kill``, an ``exec`` not about the
  database) or the database (``database: outage``, an ``exec`` naming db/postgres) down is
  judged on its recovery time -- the later of the health probe's answer and the SLIs back
  within their objectives (docs/slo.md, "Recovery"). API < 60 s; database <= 300 s. DESIGN.md
  says "database failover in 2-5 min": that is an *expectation* with an upper bound, so a
  database that is back sooner than 2 min passes (faster is better), and only "later than 5
  min" or "never" fails. ``recovery: ...`` samples without a fault in run.json (imported
  records, foreign harnesses) count too. A component never faulted is not verified.
- **8 provider 429s absorbed.** Needs a 429 storm that really happened: a ``target`` fault
  with ``provider: rate_limit_storm`` that took effect, or the target's own counter
  ``slogate_provider_calls_total{outcome="rate_limited"}`` > 0. Then: every acknowledged run
  was read back and ended (``durability: ...``), and none failed on the 429s (``retry: ...``
  checks from the read-back; without them, the target's failed-run counter -- which cannot
  tell a 429 failure from, say, a database outage -- is used only when no other fault ran).
- **10 spike.** Unchanged rule (no 5xx, no timeouts in a delivered 3x spike), but a fault
  that overlaps the spike makes it not verified: its errors would be the fault's, not the
  spike's.
- **3 memory.** With faults, memory is judged only from 30 s after the last one
  (:data:`slo.sli_kinds.memory_slope.SETTLE_S`), and that quiet tail must be >= 5 min.

Each function returns ``(status, measured, threshold, why, tests, value)`` with status one of
``passed``/``failed``/``not_verified``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from slo.claims.evidence import Evidence, RecoveryFacts, SpikeWindow
from slo.fault_results import FaultResult
from slo.faults import FaultWindow
from slo.sli_kinds.memory_slope import SETTLE_S

__all__ = [
    "API_LIMIT_S",
    "DB_LIMIT_S",
    "Outcome",
    "judge_provider",
    "judge_recovery",
    "quiet_tail_s",
    "spike_overlap",
]

API_LIMIT_S: Final = 60.0
DB_LIMIT_S: Final = 300.0


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    measured: str
    threshold: str
    why: str
    tests: tuple[str, ...] = ()
    value: float | None = None


@dataclass(frozen=True, slots=True)
class _Recovery:
    name: str
    component: str
    seconds: float | None
    recovered: bool


def _from_verdict(results: Sequence[FaultResult]) -> list[_Recovery]:
    out = []
    for r in results:
        if r.component not in ("api", "database") or r.start is None:
            continue
        seconds = r.recovery_s if r.recovered else r.observed_s
        out.append(_Recovery(r.name, r.component, seconds, r.recovered))
    return out


def _from_samples(found: Sequence[RecoveryFacts], known: set[str]) -> list[_Recovery]:
    return [_Recovery(f.name, f.component, f.seconds, f.ok) for f in found
            if f.name.lower().removeprefix("recovery:").strip() not in known]


def judge_recovery(ev: Evidence) -> Outcome:
    """Claim 9 (module docstring)."""
    need = f"API process < {API_LIMIT_S:g} s; database <= {DB_LIMIT_S / 60:g} min"
    results = ev.verdict.faults if ev.verdict is not None else ()
    known = {r.name.lower() for r in results}
    items = _from_verdict(results) + _from_samples(ev.samples.recovery, known)
    limit = {"api": API_LIMIT_S, "database": DB_LIMIT_S}
    measured = "; ".join(
        f"{i.name} " + (f"{i.seconds:,.1f} s" if i.recovered and i.seconds is not None
                        else "not recovered") for i in items) or "-"
    tests = tuple(i.name for i in items)
    bad = [i for i in items if not i.recovered or i.seconds is None
           or (i.seconds >= limit[i.component] if i.component == "api"
               else i.seconds > limit[i.component])]
    if bad:
        return Outcome("failed", measured, need,
                       "too slow or not recovered: " + ", ".join(i.name for i in bad), tests)
    have = {i.component for i in items}
    missing = [c for c in ("api", "database") if c not in have]
    skipped = [f"{f.name} ({f.status})" for f in ev.faults
               if f.component in missing and not f.happened]
    if missing:
        why = "no recovery measured for: " + ", ".join(missing)
        if skipped:
            why += "; faults that never took effect: " + ", ".join(skipped)
        return Outcome("not_verified", measured, need, why, tests)
    worst = max(i.seconds or 0.0 for i in items)
    return Outcome("passed", measured, need, "every component recovered in time", tests, worst)


def _storm(faults: Sequence[FaultWindow]) -> FaultWindow | None:
    return next((f for f in faults if f.provider_storm and f.happened), None)


def judge_provider(ev: Evidence) -> Outcome:
    """Claim 8 (module docstring)."""
    need = "a provider 429 storm; every run ended, none lost, none failed on 429s"
    s = ev.server
    storm = _storm(ev.faults)
    limited = s.provider_rate_limited if s is not None else None
    if storm is None and not limited:
        why = ("the provider never rate-limited the service: nothing to absorb"
               if limited == 0 else "no provider 429 storm in this run (no `target` fault "
               "with rate_limit_storm" + (", and no server.json counters)" if s is None
                                          else ", and no provider-call counter in server.json)"))
        return Outcome("not_verified", "-", need, why)
    parts = []
    if storm is not None:
        parts.append(f"storm '{storm.name}'")
    if limited:
        parts.append(f"{limited:,.0f} provider 429s")
    d, retry = ev.samples.durability, ev.samples.retry
    parts.append(f"{d.ok:,}/{d.total:,} read-back checks ok")
    tests = tuple(x for x in (storm.name if storm else "", "durability checks") if x)
    if d.total == 0:
        return Outcome("not_verified", "; ".join(parts), need,
                       "no read-back of acknowledged runs (samples named 'durability: ...'): "
                       "run against tenants slogate provisions", tests)
    if d.ok < d.total:
        return Outcome("failed", "; ".join(parts), need,
                       f"{d.total - d.ok:,} read-back checks failed: runs lost or never ended",
                       tests, float(d.total - d.ok))
    if retry.total:
        parts.append(f"{retry.ok:,}/{retry.total:,} tenants with no run failed on 429s")
        if retry.ok < retry.total:
            return Outcome("failed", "; ".join(parts), need,
                           "runs failed on provider 429s instead of being retried",
                           (*tests, "retry checks"), float(retry.total - retry.ok))
        return Outcome("passed", "; ".join(parts), need,
                       "429s absorbed by backoff: every run ended, none lost or failed on 429s",
                       (*tests, "retry checks"), 0.0)
    return _by_counter(ev, parts, need, tests)


def _by_counter(ev: Evidence, parts: list[str], need: str, tests: tuple[str, ...]) -> Outcome:
    """No retry checks: the target's failed-run counter, if no other fault muddies it."""
    s = ev.server
    if s is None or s.runs_failed is None:
        return Outcome("not_verified", "; ".join(parts), need,
                       "no retry checks and no finished-run counter: cannot tell whether "
                       "runs failed on the 429s", tests)
    parts.append(f"{s.runs_succeeded or 0:,.0f} runs succeeded, {s.runs_failed:,.0f} failed")
    others = [f.name for f in ev.faults if f.happened and not f.provider_storm]
    if s.runs_failed > 0 and others:
        return Outcome("not_verified", "; ".join(parts), need,
                       "runs failed, but other faults ran too (" + ", ".join(others) + "); "
                       "the retry read-back checks would tell", tests)
    if s.runs_failed > 0:
        return Outcome("failed", "; ".join(parts), need,
                       f"{s.runs_failed:,.0f} runs failed instead of being retried", tests,
                       s.runs_failed)
    if not s.runs_succeeded:
        return Outcome("not_verified", "; ".join(parts), need, "no run finished", tests)
    return Outcome("passed", "; ".join(parts), need,
                   "rate limits were absorbed by backoff; no finished run failed", tests, 0.0)


def spike_overlap(ev: Evidence, w: SpikeWindow) -> list[str]:
    """Faults whose span (start to end, a kill to its recovery) meets the spike window."""
    t0 = ev.run.load_start
    a, b = t0 + w.start_s, t0 + w.end_s
    recovered = {r.name: r.recovery_s for r in (ev.verdict.faults if ev.verdict else ())}
    out = []
    for f in ev.faults:
        if f.start is None:
            continue
        end = f.end if f.end is not None else float("inf")
        end += recovered.get(f.name) or 0.0
        if f.start < b and end > a:
            out.append(f.name)
    return out


def quiet_tail_s(ev: Evidence) -> float | None:
    """Seconds of load judged for memory: after warm-up, and after the last fault + settle."""
    judged = ev.run.judged_s
    ends = [f.end if f.end is not None else float("inf") for f in ev.faults if f.happened]
    quiet = max(ends, default=None)  # a fault never undone leaves no quiet tail
    if quiet is None or judged is None or ev.run.ended_at is None:
        return judged
    since = max(ev.run.load_start + ev.run.warmup_s, quiet + SETTLE_S)
    return max(0.0, ev.run.ended_at - since)
