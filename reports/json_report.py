"""``report.json``: the whole report as data, versioned (``schema_version``).

For dashboards and scripts that want the numbers behind the pages. Layout (version 1)::

    {"schema_version": 1, "identity": {...}, "notes": [...],
     "readiness": {"decision": "NO-GO", "go": false, "sentence": "...", "score": 41.2,
                   "earned": 11, "total": 27, "rule": "...",
                   "claims": [{"id", "key", "title", "weight", "critical", "status",
                               "measured", "threshold", "evidence", "tests", "value",
                               "marginal", "anchor", "verify_with"}]},
     "faults": [{"name", "action", "start_s", "end_s", "summary", "recovered", "health",
                 "sli", "budget", "phases", "note"}],   # formatted; numbers are in verdict
     "stopped_early": "" | "Stopped early by abort_on: ...",
     "risks": [{"severity", "kind", "title", "detail", "anchor"}],
     "capacity": [{"tier", "tenants", "quota_per_tenant", "sessions_planned", "sessions_held",
                   "http_rps", "status", "objectives"}],
     "verdict": {... verdict.json ...} | null,
     "samples": {"total", "failed", "span_s", "routes": [...], "tiers": [...],
                 "distributions": [...], "failures": [...]},
     "generator": {"cpu_p90", "saturated_share", "ceiling", "host_saturated_share"}}

Consumers should refuse a ``schema_version`` they do not know (STYLE.md rule 10).
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import asdict
from typing import Any, Final

from reports.faults import fault_rows, stopped_early
from reports.model import ReportData
from slo.claims import SCORE_RULE
from slo.verdict import verdict_to_dict

__all__ = ["REPORT_SCHEMA_VERSION", "render_json", "report_dict"]

REPORT_SCHEMA_VERSION: Final = 1


def report_dict(data: ReportData) -> dict[str, Any]:
    """The JSON document as a dict (NaN -> null, enums -> their value)."""
    r = data.readiness
    agg = data.aggregates
    ts = data.evidence.timeseries
    doc: dict[str, Any] = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "identity": asdict(data.identity),
        "notes": list(data.notes),
        "worker_hosts": [asdict(h) for h in data.worker_hosts],
        "readiness": {
            "decision": r.decision, "go": r.go, "sentence": r.sentence, "score": r.score,
            "earned": r.earned, "total": r.total, "rule": SCORE_RULE,
            "claims": [{
                "id": c.claim.id, "key": c.claim.key, "title": c.claim.title,
                "weight": c.claim.weight, "critical": c.claim.critical, "status": c.status,
                "measured": c.measured, "threshold": c.threshold, "evidence": c.evidence,
                "tests": list(c.tests), "value": c.value, "marginal": c.marginal,
                "anchor": c.claim.anchor, "proof": c.claim.proof, "verify_with": c.verify_with,
            } for c in r.claims],
        },
        "faults": [asdict(f) for f in fault_rows(data)],
        "stopped_early": stopped_early(data),
        "risks": [asdict(x) for x in data.risks],
        "capacity": [asdict(c) for c in data.capacity],
        "verdict": None if data.verdict is None else verdict_to_dict(data.verdict),
        "samples": {
            "total": agg.total, "failed": agg.failed, "span_s": agg.span_s,
            "routes": [{**asdict(x), "error_pct": x.error_pct} for x in agg.routes],
            "tiers": [{**asdict(x), "error_pct": x.error_pct} for x in agg.tiers],
            "distributions": [asdict(x) for x in agg.distributions],
            "failures": [asdict(x) for x in agg.failures],
        },
        "generator": None if ts is None else {
            "cpu_p90": ts.generator_cpu_p90, "saturated_share": ts.generator_saturated_share,
            "ceiling": ts.generator_ceiling, "host_saturated_share": ts.host_saturated_share,
        },
    }
    if data.alerts is not None:  # only runs whose Prometheus evaluated the SLO rules
        doc["alerts"] = data.alerts.model_dump()
    cleaned: dict[str, Any] = _clean(doc)
    return cleaned


def render_json(data: ReportData) -> str:
    return json.dumps(report_dict(data), indent=2, ensure_ascii=False) + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
