"""``server.json``: what the target's own metrics said over the run window (versioned).

Written by the cross-check (:mod:`slo.sources`), read by :mod:`slo.measure` for server-side
objectives (database p95). Counter and histogram values are **deltas between the run's start
and end instants** (end minus start), not PromQL ``increase()``, which extrapolates to the
window edges and so need not be a whole number of requests.

Example (abridged)::

    {"schema_version": 1, "source": "prometheus", "start": 1764136800.0, "end": 1764136845.0,
     "counters": [{"name": "slogate_http_requests_total",
                   "labels": {"route": "/v1/runs", "method": "POST", "status": "201"},
                   "start": 10, "end": 4210, "delta": 4200}],
     "histograms": [{"name": "slogate_db_query_duration_seconds", "labels": {"operation": "insert"},
                     "buckets": [[0.001, 12], [0.0012, 30], ..., ["+Inf", 4200]],
                     "count": 4200, "sum": 3.2}],
     "gauges": [{"name": "slogate_ws_sessions", "labels": {"tier": "team"},
                 "min": 0, "max": 150, "last": 0}],
     "findings": [...], "quantiles": [...], "reconciliation": [...]}
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from foundation.documents import write_text_atomic
from foundation.errors import ConfigError

__all__ = [
    "SERVER_SCHEMA_VERSION",
    "CounterDelta",
    "GaugeSummary",
    "HistogramDelta",
    "ServerRecord",
    "read_server_record",
    "write_server_record",
]

SERVER_SCHEMA_VERSION: Final = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CounterDelta(_Model):
    """One counter series: its value at the start and end instants, and the difference."""

    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    start: float
    end: float
    delta: float


class HistogramDelta(_Model):
    """One histogram series over the window: cumulative bucket deltas by upper bound ``le``."""

    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    buckets: list[tuple[float, float]]
    count: float
    sum: float

    @field_validator("buckets", mode="before")
    @classmethod
    def _inf(cls, value: Any) -> Any:
        # JSON has no infinity: the +Inf bound is stored as the string "+Inf", as Prometheus does.
        if isinstance(value, list):
            return [[float(b[0]), b[1]] if isinstance(b, list | tuple) else b for b in value]
        return value

    def matches(self, name: str, labels: dict[str, str]) -> bool:
        """Same metric, and every label in ``labels`` has the given value."""
        return self.name == name and all(self.labels.get(k) == v for k, v in labels.items())


class GaugeSummary(_Model):
    """A gauge over the window (from a range query, or two scrapes: then min/max of two)."""

    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    min: float
    max: float
    last: float


class ServerRecord(_Model):
    """The content of ``server.json``."""

    schema_version: Literal[1] = SERVER_SCHEMA_VERSION
    source: Literal["prometheus", "scrape", "import", "fake"]
    url: str = ""
    start: float
    end: float
    counters: list[CounterDelta] = Field(default_factory=list)
    histograms: list[HistogramDelta] = Field(default_factory=list)
    gauges: list[GaugeSummary] = Field(default_factory=list)
    quantiles: list[dict[str, Any]] = Field(default_factory=list)
    reconciliation: list[dict[str, Any]] = Field(default_factory=list)
    findings: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def write_server_record(record: ServerRecord, path: str | Path) -> Path:
    """Write ``server.json`` atomically, with ``+Inf`` bounds spelled as Prometheus does."""
    path = Path(path)
    data = record.model_dump(mode="python")
    for h in data["histograms"]:
        h["buckets"] = [["+Inf" if math.isinf(le) else le, c] for le, c in h["buckets"]]
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def read_server_record(path: str | Path) -> ServerRecord:
    """Load ``server.json``; a malformed or unknown-version file is a :class:`ConfigError`."""
    path = Path(path)
    try:
        return ServerRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read server record: {exc.strerror}", path=str(path)) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{first['msg']} (server.json schema_version 1 expected)", path=str(path), field=where
        ) from exc
