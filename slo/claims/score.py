"""The readiness score and the GO / NO-GO decision, with its reasons in one sentence.

Score = (sum of the weights of claims *passed with evidence*) / (sum of all weights) x 100.
A claim that was not verified earns nothing, exactly like a failed one: the score measures
what the run proved, not what it did not contradict (DESIGN.md, "Readiness claims").

GO needs all of: the run completed; its SLO verdict is not ``fail`` or ``insufficient_data``
(the CI gate and the readiness page must never disagree); every critical claim passed.

Example::

    r = assess(evidence)
    r.decision, f"{r.score:.0f} %", r.sentence
    # ('NO-GO', '41 %', 'NO-GO: critical claims not verified: 7 tenant isolation, ...')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from slo._types import Status
from slo.claims.catalog import CLAIMS, CRITICAL_IDS, TOTAL_WEIGHT
from slo.claims.evidence import Evidence
from slo.claims.judge import ClaimResult, ClaimStatus, judge_claims

__all__ = ["SCORE_RULE", "Readiness", "assess", "readiness"]

SCORE_RULE: Final = (
    f"Score = weights of the claims passed with evidence / all weights ({TOTAL_WEIGHT}) x 100; "
    "a claim not verified earns 0, like a failed one. GO requires a complete run, an SLO "
    "verdict that is not fail or insufficient data, and every critical claim ("
    + ", ".join(str(c.id) for c in CLAIMS if c.critical) + ") passed."
)


@dataclass(frozen=True, slots=True)
class Readiness:
    """The decision, the score and every claim's result."""

    go: bool
    sentence: str
    score: float
    earned: int
    total: int
    claims: tuple[ClaimResult, ...]

    @property
    def decision(self) -> str:
        return "GO" if self.go else "NO-GO"

    def count(self, status: ClaimStatus) -> int:
        return sum(1 for c in self.claims if c.status is status)


def assess(evidence: Evidence) -> Readiness:
    """Judge every claim and decide."""
    return readiness(evidence, judge_claims(evidence))


def readiness(evidence: Evidence, claims: tuple[ClaimResult, ...]) -> Readiness:
    """Score and decide from already judged ``claims``."""
    earned = sum(c.claim.weight for c in claims if c.status is ClaimStatus.PASSED)
    total = sum(c.claim.weight for c in claims) or TOTAL_WEIGHT
    reasons = _blockers(evidence, claims)
    score = 100.0 * earned / total
    if reasons:
        sentence = "NO-GO: " + "; ".join(reasons) + "."
    else:
        n = len(CRITICAL_IDS)
        sentence = (f"GO: all {n} critical claims passed with evidence and the SLO verdict is "
                    f"{evidence.verdict.status.value if evidence.verdict else '-'}; readiness "
                    f"score {score:.0f} % ({earned} of {total} weighted points).")
    return Readiness(not reasons, sentence, score, earned, total, claims)


def _blockers(ev: Evidence, claims: tuple[ClaimResult, ...]) -> list[str]:
    """Every reason the answer is NO-GO, most fundamental first."""
    out: list[str] = []
    if ev.run.status != "complete":
        why = f" ({ev.run.reason})" if ev.run.reason else ""
        out.append(f"the run was {ev.run.status}{why}, so its evidence is incomplete")
    v = ev.verdict
    if v is None:
        out.append("the run was not judged (no verdict.json)")
    elif v.status is Status.INSUFFICIENT_DATA:
        short = [o.name for o in v.objectives
                 if o.status is Status.INSUFFICIENT_DATA and not o.optional]
        out.append(f"the SLO verdict has insufficient data ({_names(short)})")
    elif v.status is Status.FAIL:
        failed = [o.name for o in v.objectives if o.status is Status.FAIL]
        out.append(f"the SLO gate failed ({_names(failed)})")
    if claims and all(c.status is ClaimStatus.FAILED for c in claims):
        out.append(f"every readiness claim failed ({len(claims)} of {len(claims)})")
        return out
    critical = [c for c in claims if c.claim.critical]
    failed_c = [c for c in critical if c.status is ClaimStatus.FAILED]
    unverified = [c for c in critical if c.status is ClaimStatus.NOT_VERIFIED]
    if failed_c:
        out.append("critical claims failed: " + ", ".join(_label(c) for c in failed_c))
    if unverified:
        out.append("critical claims not verified: " + ", ".join(_label(c) for c in unverified))
    return out


def _label(c: ClaimResult) -> str:
    return f"{c.claim.id} ({c.claim.key})"


def _names(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
