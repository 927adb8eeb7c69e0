"""Top risks: the findings a reader must know before trusting the numbers or the decision.

Derived, never invented: each risk points at an objective, a claim, a cross-check finding or
a timeseries fact, with its number. Sorted most severe first, then in a fixed order, so a
re-rendered report diffs clean.

Thresholds, and why:

- *marginal*: a passing objective within 10 % of its threshold, or one that spent >= 80 % of
  its error budget in the run; a warn level crossed is marginal by definition.
- *generator saturated*: the generator's CPU at >= 90 % of what its processes can use (one
  core each, at most the machine's cores) for >= 10 % of the judged seconds. Its latencies
  then include its own queueing, not only the target's (PERFORMANCE-NOTES.md).
- *host saturated*: generator plus target at >= 90 % of all cores for >= 20 % of the time.
- *possible leak* without a memory objective: RSS slope > 1 MB/min over >= 5 min.
- *cross-check*: a count mismatch or a client faster than the server is high (impossible
  on an honest target); a client slower than the measured overhead allows is medium.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Literal

from slo._types import Status
from slo.claims.evidence import Evidence
from slo.claims.judge import ClaimResult, ClaimStatus
from slo.verdict import ObjectiveResult

__all__ = ["Risk", "find_risks", "is_marginal", "objective_anchor"]

Severity = Literal["high", "medium", "low"]
_ORDER: Final[dict[str, int]] = {"high": 0, "medium": 1, "low": 2}
GENERATOR_SHARE: Final = 0.10
HOST_SHARE: Final = 0.20
LEAK_MB_MIN: Final = 1.0


@dataclass(frozen=True, slots=True)
class Risk:
    """One finding: ``anchor`` is the id of its evidence in the SRE detail (or None)."""

    severity: Severity
    kind: str
    title: str
    detail: str
    anchor: str | None = None


def objective_anchor(name: str) -> str:
    """HTML id of an objective's row in the SRE detail."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name.lower())
    return f"objective-{safe}"


def is_marginal(o: ObjectiveResult) -> bool:
    """A pass close to failing (see module docstring)."""
    if o.status is Status.WARN:
        return True
    if o.status is not Status.PASS:
        return False
    if o.budget is not None and o.budget.consumed is not None and o.budget.consumed >= 0.8:
        return True
    if o.value is None or not o.threshold:
        return False
    if o.comparison in ("<", "<="):
        return o.value >= 0.9 * o.threshold
    if o.sli == "availability":  # headroom is measured against the budget, not the value
        return False
    return o.value <= 1.1 * o.threshold


def find_risks(ev: Evidence, claims: tuple[ClaimResult, ...]) -> tuple[Risk, ...]:
    """Every risk, most severe first."""
    # A saturated generator undermines every latency, so it comes before what it may explain.
    risks = [*_run_risks(ev), *_resource_risks(ev), *_claim_risks(claims),
             *_objective_risks(ev), *_cross_check_risks(ev)]
    return tuple(sorted(risks, key=lambda r: _ORDER[r.severity]))


def _run_risks(ev: Evidence) -> list[Risk]:
    out: list[Risk] = []
    if ev.run.status != "complete":
        out.append(Risk("high", "run_incomplete", f"Run {ev.run.status}",
                        ev.run.reason or "the run did not complete; its samples are partial"))
    if ev.verdict is not None and ev.verdict.approximate:
        out.append(Risk("medium", "approximate", "Approximate data",
                        ev.verdict.approximate_reason or "imported from a source that rounds"))
    if ev.run.schedule_slips:
        out.append(Risk("medium", "schedule_slips", "Generator fell behind its schedule",
                        f"{ev.run.schedule_slips:,} sends could not be made on time; corrected "
                        "latencies include that delay", "latency-distribution"))
    return out


def _objective_risks(ev: Evidence) -> list[Risk]:
    out: list[Risk] = []
    for o in ev.objectives:
        if o.sli == "memory_slope" and o.status in (Status.FAIL, Status.WARN):
            continue  # reported once, as a suspected leak (see _resource_risks)
        anchor = objective_anchor(o.name)
        value = "-" if o.value is None else f"{o.value:,.4g} {o.unit}".strip()
        if o.status is Status.FAIL:
            where = f" (worst {o.per}={o.worst_group})" if o.per and o.worst_group else ""
            out.append(Risk("high", "objective_failed", f"Objective {o.name} failed",
                            f"{o.statistic or o.sli} {value}{where}, needs {o.threshold_text}",
                            anchor))
        elif o.status is Status.INSUFFICIENT_DATA and not o.optional:
            out.append(Risk("medium", "insufficient_data", f"No verdict for {o.name}",
                            o.reason or "not enough events to judge", anchor))
        elif is_marginal(o):
            why = "warn level crossed" if o.status is Status.WARN else "close to its threshold"
            if o.budget is not None and o.budget.consumed is not None and o.budget.consumed >= 0.8:
                why = f"{o.budget.consumed * 100:.0f} % of the run's error budget spent"
            out.append(Risk("medium", "objective_marginal", f"Objective {o.name} is marginal",
                            f"{value} against {o.threshold_text}: {why}", anchor))
    return out


def _claim_risks(claims: tuple[ClaimResult, ...]) -> list[Risk]:
    """Failed claims, and critical claims nobody tested (they alone block GO)."""
    out = []
    for c in claims:
        label = f"{'Critical claim' if c.claim.critical else 'Claim'} {c.claim.id}"
        if c.status is ClaimStatus.FAILED:
            out.append(Risk("high" if c.claim.critical else "medium", "claim_failed",
                            f"{label} failed: {c.claim.title}", c.evidence, c.claim.anchor))
        elif c.status is ClaimStatus.NOT_VERIFIED and c.claim.critical:
            out.append(Risk("medium", "claim_not_verified",
                            f"{label} not verified: {c.claim.title}", c.evidence,
                            c.claim.anchor))
    return out


def _cross_check_risks(ev: Evidence) -> list[Risk]:
    if ev.verdict is None:
        return []
    findings = ev.verdict.cross_check.get("findings") or []
    out = []
    for f in findings if isinstance(findings, list) else []:
        severity, title = _cross_check_severity(f)
        out.append(Risk(severity, "cross_check", title, _finding_text(f), "cross-check"))
    return out


def _cross_check_severity(finding: Any) -> tuple[Severity, str]:
    """Counts that do not reconcile and a client faster than the server are impossible on an
    honest target (high); a client slower than the measured overhead allows is medium; one
    judged without a known tolerance is low (docs/slo.md, "Cross-check")."""
    kind = finding.get("kind") if isinstance(finding, dict) else None
    if kind == "count_mismatch":
        return "high", "Target metrics miscount requests"
    if kind == "client_faster":
        return "high", "Target metrics over-time requests"
    if kind == "client_slower":
        if finding.get("tolerance_source"):
            return "medium", "Client slower than the target's metrics allow"
        return "low", "Client slower than the target's bucket (no tolerance known)"
    return "medium", "Cross-check disagreement"


def _finding_text(finding: Any) -> str:
    if isinstance(finding, dict):
        for key in ("message", "detail", "text", "summary"):
            if isinstance(finding.get(key), str) and finding[key]:
                return str(finding[key])
        return json.dumps(finding, sort_keys=True, default=str)
    return str(finding)


def _resource_risks(ev: Evidence) -> list[Risk]:
    leak = [o for o in ev.objectives if o.sli == "memory_slope"]
    out = [
        Risk("high" if o.status is Status.FAIL else "medium", "suspected_leak",
             "Suspected memory leak",
             f"RSS slope {o.value:.2f} MB/min after warm-up ({o.threshold_text})",
             objective_anchor(o.name))
        for o in leak if o.status in (Status.FAIL, Status.WARN) and o.value is not None
    ]
    ts = ev.timeseries
    if ts is None:
        return out
    share = ts.generator_saturated_share
    if share is not None and share >= GENERATOR_SHARE:
        out.append(Risk("high", "generator_saturated", "Load generator saturated",
                        f"its CPU was >= 90 % of its {ts.generator_ceiling or 0:.0f} % ceiling for "
                        f"{share * 100:.0f} % of the judged time: latencies then include the "
                        "generator's own queueing, not only the target's", "resources"))
    host = ts.host_saturated_share
    if host is not None and host >= HOST_SHARE:
        out.append(Risk("medium", "host_saturated", "Host CPU saturated",
                        f"generator and target together used >= 90 % of all cores for "
                        f"{host * 100:.0f} % of the judged time: they compete for CPU",
                        "resources"))
    slope = ts.rss_slope_mb_min
    judged = ev.run.judged_s or 0.0
    if not leak and slope is not None and slope > LEAK_MB_MIN and judged >= 300.0:
        out.append(Risk("low", "possible_leak", "Possible memory leak",
                        f"target RSS grew {slope:.2f} MB/min after warm-up (no SLO judged it)",
                        "resources"))
    return out
