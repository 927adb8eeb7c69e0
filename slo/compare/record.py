"""``comparison.json``: a :class:`~slo.compare.model.Comparison` saved, versioned, and read back.

``comparison.json`` (schema_version 1)::

    {
      "schema_version": 1,
      "outcome": "regression" | "improvement" | "same" | "no_data",
      "baseline": {path, run_id, release, status, started_at, window_s, samples, verdict_status},
      "candidate": {...},
      "settings": {confidence, latency_tolerance, p95_tolerance, ..., seed},
      "tests": 12, "per_test_confidence": 0.99583,
      "metrics": [ {operation: {kind, name, tier}, metric, unit, change, baseline, candidate,
                    delta, delta_ci: {low, high}, change_pct, change_pct_ci, tolerance,
                    tolerance_text, confidence, p_value, n_baseline, n_candidate, gated,
                    method, reason} ],
      "objectives": [ {name, sli, unit, baseline_status, candidate_status, change, ...} ],
      "mismatches": [ {field, baseline, candidate, kind} ], "allowed_different": false,
      "only_in_baseline": [...], "only_in_candidate": [...], "created_at": ..., "notes": [...]
    }

Percentages are percent (``12.5`` = +12.5 %); error-rate deltas are percentage points.
Unknown versions are refused by name (STYLE.md rule 10); migrations are named functions in
:data:`_MIGRATIONS` (none yet).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from foundation.documents import Migration, read_json, upgrade_versioned, write_text_atomic
from foundation.errors import ConfigError
from slo.compare.model import (
    Change,
    CompareSettings,
    Comparison,
    Interval,
    MetricComparison,
    Mismatch,
    ObjectiveComparison,
    OperationKey,
    Outcome,
    RunSummary,
)

__all__ = [
    "COMPARISON_SCHEMA_VERSION",
    "comparison_from_dict",
    "comparison_to_dict",
    "read_comparison",
    "write_comparison",
]

COMPARISON_SCHEMA_VERSION: Final = 1

_MIGRATIONS: Final[dict[int, Migration]] = {}


def comparison_to_dict(comparison: Comparison) -> dict[str, Any]:
    """JSON-ready dict; enums as strings, no NaN or infinity (``None`` instead)."""
    data = _clean(asdict(comparison))
    return {"schema_version": COMPARISON_SCHEMA_VERSION, **data}


def write_comparison(comparison: Comparison, path: str | Path) -> Path:
    """Write ``comparison.json`` atomically."""
    return write_text_atomic(Path(path), json.dumps(comparison_to_dict(comparison), indent=2) + "\n")


def read_comparison(path: str | Path) -> Comparison:
    """Load a ``comparison.json``; unknown schema versions are refused by name."""
    path = Path(path)
    return comparison_from_dict(read_json(path, "comparison"), source=str(path))


def comparison_from_dict(data: dict[str, Any], *, source: str = "comparison.json") -> Comparison:
    """Inverse of :func:`comparison_to_dict`."""
    data = upgrade_versioned(data, current=COMPARISON_SCHEMA_VERSION, migrations=_MIGRATIONS,
                             what="comparison", source=source, rerun="re-run 'slogate compare'")
    try:
        return Comparison(
            baseline=RunSummary(**data["baseline"]),
            candidate=RunSummary(**data["candidate"]),
            settings=CompareSettings(**data["settings"]),
            outcome=Outcome(data["outcome"]),
            metrics=tuple(_metric(m) for m in data["metrics"]),
            objectives=tuple(
                ObjectiveComparison(**{**o, "change": Change(o["change"])})
                for o in data.get("objectives", ())
            ),
            mismatches=tuple(Mismatch(**m) for m in data.get("mismatches", ())),
            allowed_different=bool(data.get("allowed_different", False)),
            only_in_baseline=tuple(OperationKey(**k) for k in data.get("only_in_baseline", ())),
            only_in_candidate=tuple(OperationKey(**k) for k in data.get("only_in_candidate", ())),
            tests=int(data.get("tests", 0)),
            per_test_confidence=float(data.get("per_test_confidence", 0.95)),
            created_at=float(data.get("created_at", 0.0)),
            notes=tuple(data.get("notes", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"malformed comparison: {exc}", path=source) from exc


def _interval(value: dict[str, float] | None) -> Interval | None:
    return None if value is None else Interval(float(value["low"]), float(value["high"]))


def _metric(data: dict[str, Any]) -> MetricComparison:
    return MetricComparison(**{
        **data,
        "operation": OperationKey(**data["operation"]),
        "change": Change(data["change"]),
        "delta_ci": _interval(data.get("delta_ci")),
        "change_pct_ci": _interval(data.get("change_pct_ci")),
    })


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, Change | Outcome):
        return value.value
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value
