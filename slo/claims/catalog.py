"""The 13 readiness claims of DESIGN.md: what each asserts, its weight, and whether GO needs it.

A claim is only ever *passed* on evidence the run record holds (see :mod:`slo.claims.judge`
for what counts as evidence for each). The weights and the critical set are policy, written
down once here so that the report can print them next to the score.

Critical claims (GO requires every one of them to pass) are the five a beta customer would
be hurt by on day one: their sessions drop (1), their tier's promised capacity is not there
(5), the service is slow or unavailable (6), another tenant sees their data (7), or data they
were told was saved is gone (13). The other eight are operational qualities whose failure
costs money or sleep but not trust; they move the score, not the decision.

Example::

    claim = CLAIMS_BY_ID[6]
    claim.title, claim.weight, claim.critical   # ('Beta criteria: ...', 3, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "CLAIMS",
    "CLAIMS_BY_ID",
    "CRITICAL_IDS",
    "HEALTH_P99_MS",
    "SESSION_QUOTAS",
    "TOTAL_WEIGHT",
    "ClaimDef",
]


@dataclass(frozen=True, slots=True)
class ClaimDef:
    """One readiness claim: ``proof`` says, in one line, which evidence can prove it."""

    id: int
    key: str
    title: str
    weight: int
    critical: bool
    proof: str

    @property
    def anchor(self) -> str:
        """HTML id of the claim's evidence in the SRE detail (``claim-7``)."""
        return f"claim-{self.id}"


SESSION_QUOTAS: Final[dict[str, int]] = {"starter": 10, "team": 50, "enterprise": 500}
"""Concurrent WebSocket sessions per tenant that claim 5 asserts for each tier (DESIGN.md)."""

HEALTH_P99_MS: Final = 1000.0
"""Claim 12: a health check slower than this (p99) is not "answering" a load balancer."""

CLAIMS: Final[tuple[ClaimDef, ...]] = (
    ClaimDef(1, "ws-sessions", "1000+ concurrent WebSocket sessions held stable", 3, True,
             ">= 1000 sessions held (timeseries) and a drop-rate and a WebSocket message "
             "latency objective passed"),
    ClaimDef(2, "db-p95", "Database query P95 < 100 ms under load", 1, False,
             "a server_latency objective on the database query histogram (server.json)"),
    ClaimDef(3, "no-leak", "Memory grows linearly, no leak under sustained load", 2, False,
             "a memory_slope objective passed over >= 5 min after warm-up"),
    ClaimDef(4, "cpu-headroom", "CPU 45-60 % under sustained load", 1, False,
             "a cpu objective's mean target CPU after warm-up, over >= 1 min"),
    ClaimDef(5, "tier-capacity",
             "Capacity per tier: Starter 10, Team 50, Enterprise 500 sessions within SLO",
             3, True,
             "every tier's tenants held their quota of sessions (timeseries) and the "
             "WebSocket objectives passed for that tier"),
    ClaimDef(6, "beta", "Beta criteria: availability > 99.5 %, P95 < 500 ms", 3, True,
             "an HTTP availability objective and an HTTP P95 latency objective"),
    ClaimDef(7, "isolation", "Tenant isolation: cross-tenant reads and writes refused", 3, True,
             "isolation probes (samples named 'isolation: ...') for reads and writes, all "
             "answered 401/403/404"),
    ClaimDef(8, "provider-429", "Provider 429s absorbed by queueing and backoff, no lost work",
             2, False,
             "a provider 429 storm happened (a `target` fault, or the target's rate-limited "
             "counter) and every acknowledged run was read back, ended, and none failed on "
             "429s"),
    ClaimDef(9, "recovery", "API process recovers < 1 min; database failover in 2-5 min", 2,
             False, "per-fault recovery (health probe and SLIs back, verdict.json) or 'recovery: ...' "
             "samples, for an API process and for the database"),
    ClaimDef(10, "spike", "A 3x traffic spike is absorbed (or shed with 429)", 2, False,
             "a spike stage of factor >= 3 delivered, and no 5xx or transport errors in it"),
    ClaimDef(11, "provisioning", "Tenant provisioning < 2 min", 1, False,
             "run.json provisioning timings (or 'provision: ...' samples)"),
    ClaimDef(12, "health", "Health checks keep answering under load", 1, False,
             "health-check samples during the load window, all answered, p99 < 1 s"),
    ClaimDef(13, "no-data-loss", "Nothing acknowledged is lost", 3, True,
             "read-back samples ('durability: ...') for acknowledged writes, all found"),
)

CLAIMS_BY_ID: Final[dict[int, ClaimDef]] = {c.id: c for c in CLAIMS}
CRITICAL_IDS: Final[frozenset[int]] = frozenset(c.id for c in CLAIMS if c.critical)
TOTAL_WEIGHT: Final[int] = sum(c.weight for c in CLAIMS)
