"""Readiness claims (DESIGN.md): judged on a run's evidence, scored, and decided GO / NO-GO.

Judging happens here, in the ``slo`` room, so that ``reports/`` only renders. Layout:

- :mod:`~slo.claims.catalog`: the 13 claims, weights, the critical set
- :mod:`~slo.claims.evidence`: frozen evidence types; :mod:`~slo.claims.facts` computes them
  (pure); :mod:`~slo.claims.gather` reads them from a run directory (shell)
- :mod:`~slo.claims.judge`: one function per claim -> passed / failed / not_verified
- :mod:`~slo.claims.score`: the weighted score and the decision sentence
- :mod:`~slo.claims.findings`: the top risks; :mod:`~slo.claims.capacity`: capacity by tier
- :mod:`~slo.claims.record`: all of the above judged once and written as ``readiness.json``
  beside ``verdict.json`` (reports only read it)

Example::

    from slo.claims import assess, gather_evidence
    r = assess(gather_evidence(run_dir))
    print(r.decision, f"{r.score:.0f} %", r.sentence)
"""

from slo.claims.capacity import TierCapacity, tier_capacity
from slo.claims.catalog import CLAIMS, CLAIMS_BY_ID, CRITICAL_IDS, TOTAL_WEIGHT, ClaimDef
from slo.claims.evidence import Evidence, ObjectiveScope
from slo.claims.findings import Risk, find_risks, is_marginal, objective_anchor
from slo.claims.gather import (
    CLAIM_COLUMNS,
    build_evidence,
    gather_evidence,
    load_scopes,
    objective_scopes,
    timeseries_from_table,
)
from slo.claims.judge import ClaimResult, ClaimStatus, judge_claim, judge_claims
from slo.claims.record import (
    READINESS_JSON,
    READINESS_SCHEMA_VERSION,
    ReadinessRecord,
    judge_readiness,
    read_readiness,
    run_capacity,
    write_readiness,
    write_run_readiness,
)
from slo.claims.score import SCORE_RULE, Readiness, assess, readiness

__all__ = [
    "CLAIMS",
    "CLAIMS_BY_ID",
    "CLAIM_COLUMNS",
    "CRITICAL_IDS",
    "READINESS_JSON",
    "READINESS_SCHEMA_VERSION",
    "SCORE_RULE",
    "TOTAL_WEIGHT",
    "ClaimDef",
    "ClaimResult",
    "ClaimStatus",
    "Evidence",
    "ObjectiveScope",
    "Readiness",
    "ReadinessRecord",
    "Risk",
    "TierCapacity",
    "assess",
    "build_evidence",
    "find_risks",
    "gather_evidence",
    "is_marginal",
    "judge_claim",
    "judge_claims",
    "judge_readiness",
    "load_scopes",
    "objective_anchor",
    "objective_scopes",
    "read_readiness",
    "readiness",
    "run_capacity",
    "tier_capacity",
    "timeseries_from_table",
    "write_readiness",
    "write_run_readiness",
]
