"""For a claim that was not verified: the scenario (or SLO) field that would verify it.

A readiness report against a foreign target mostly says "not verified"; that is only useful
if it also says what to add. The report prints these next to every unverified claim.
Field names are those of docs/scenarios.md and docs/slo.md.
"""

from __future__ import annotations

from typing import Final

__all__ = ["VERIFY_WITH"]

VERIFY_WITH: Final[dict[int, str]] = {
    1: "add `websocket: {sessions_per_tenant: ...}` for >= 1,000 sessions, and `ws_drop_rate` "
       "plus a `ttft` objective in the SLO file",
    2: "add a `server_latency` objective on `slogate_db_query_duration_seconds` (or your "
       "database histogram) and let slogate read the target's /metrics",
    3: "add a `memory_slope` objective and a soak tail of >= 5 min after warm-up (and after "
       "the last fault)",
    4: "add a `cpu` objective (`min_percent: 45, max_percent: 60`) and >= 1 min of sustained load",
    5: "add `tenants:` for every tier with `websocket: {sessions_per_tenant: {starter: 10, "
       "team: 50, enterprise: 500}}`",
    6: "add an HTTP `availability` objective and an HTTP `latency` objective with "
       "`percentile: 95`",
    7: "add isolation probes (samples named `isolation: GET ...` and `isolation: POST ...`)",
    8: "add a `faults:` entry with `target: {provider: rate_limit_storm}` and `for:`, on "
       "tenants slogate provisions (so acknowledged runs are read back)",
    9: "add `faults:` entries with `kill: {process: any}` (API process) and `database: outage` "
       "with `for:` (or `exec:` with `undo:` for a foreign target)",
    10: "add a `stages:` entry with `kind: spike` and `factor: 3`, away from any fault",
    11: "add `tenants:` so slogate provisions them through the admin API",
    12: "add a health check to `http:` (e.g. `GET /healthz`) or let the fault prober run",
    13: "add `tenants:` on the reference target so acknowledged writes are read back",
}
"""Claim id -> what to add to the scenario (or SLO file) to verify it."""
