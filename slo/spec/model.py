"""SLO objectives as validated, frozen pydantic models (the trust boundary of an SLO file).

One model per kind of SLI, chosen by the ``sli`` field. The dispatch is done by hand
(:func:`_dispatch`) rather than with a pydantic discriminated union, because a union puts
the tag into the error location (``objectives[1].latency.threshold_ms``), which is not a
path a person can find in the file; dispatching by hand keeps it ``objectives[1].threshold_ms``
so :mod:`foundation.yamlfile` can point at the line.

Example::

    spec = parse_yaml_model(text, SloFile, source="slo.yaml")
    for objective in spec.objectives:
        print(objective.name, objective.sli)
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from foundation.durations import Duration
from foundation.yamlfile import FieldValueError
from slo._types import Comparison, GroupBy

__all__ = [
    "DEFAULT_WINDOW_S",
    "REFERENCE_LATENCY_BUCKETS_S",
    "AbortOn",
    "AvailabilityObjective",
    "CpuObjective",
    "CrossCheckConfig",
    "ErrorRateObjective",
    "LatencyObjective",
    "MemorySlopeObjective",
    "Objective",
    "RatioObjective",
    "Select",
    "ServerLatencyObjective",
    "TtftObjective",
    "WindowedObjective",
    "WsDropRateObjective",
]

DEFAULT_WINDOW_S: Final = 30 * 86400.0
"""Compliance window when an objective names none: 30 days, the SRE Workbook's example."""

Patterns = str | list[str] | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Select(_Frozen):
    """Which samples an objective judges. Each field is a value, a glob, or a list of them.

    ``{kind: http, name: "GET /v1/*"}`` keeps HTTP samples whose name matches the glob.
    An absent field selects everything.
    """

    kind: Patterns = None
    name: Patterns = None
    tier: Patterns = None
    tenant: Patterns = None

    def patterns(self, column: str) -> tuple[str, ...] | None:
        """The patterns for ``column`` as a tuple, or ``None`` when the field is absent."""
        value = getattr(self, column)
        if value is None:
            return None
        return (value,) if isinstance(value, str) else tuple(value)

    def with_default_kind(self, kind: str) -> Select:
        """This selection, restricted to ``kind`` unless it already names a kind."""
        return self if self.kind is not None else self.model_copy(update={"kind": kind})


class _Base(_Frozen):
    """Fields every objective has."""

    name: str = Field(min_length=1)
    description: str = ""
    select: Select = Select()
    per: GroupBy | None = None
    warmup_s: Duration | None = Field(default=None, alias="warmup")
    min_events: int | None = Field(default=None, ge=1)
    optional: bool = False
    exclude_faults: bool = False
    """Judge the steady state only: leave out samples sent while a fault was in force and
    until it recovered (docs/slo.md, "Faults"); each fault's cost is reported per fault."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Ungrouped(_Base):
    """Objectives measured outside the samples, which have no tier/tenant columns to group by."""

    @field_validator("per")
    @classmethod
    def _no_per(cls, value: GroupBy | None) -> GroupBy | None:
        if value is not None:
            raise PydanticCustomError(
                "per", "'per' groups samples; this SLI is not measured from samples"
            )
        return value


class WindowedObjective(_Base):
    """Objectives with an error budget over a compliance window, and so burn-rate alerts
    (``slogate alerts``): ``window`` (the file's ``window`` when absent) and ``alerts``."""

    window: Duration = Field(default=DEFAULT_WINDOW_S, gt=0)
    alerts: bool = True


class LatencyObjective(WindowedObjective):
    """A latency percentile (or avg/min/max) of the selected samples, in milliseconds.

    ``corrected: true`` judges response time corrected for coordinated omission,
    ``latency_ms + (ts - intended_ts) * 1000``, instead of raw latency. ``window`` and
    ``alerts`` serve the burn-rate rules only (a percentile ``p`` allows ``1 - p/100`` of the
    requests to be slower than the threshold); the verdict judges the percentile itself.
    """

    sli: Literal["latency"] = "latency"
    percentile: float | None = Field(default=None, gt=0, lt=100)
    aggregate: Literal["avg", "min", "max"] | None = None
    threshold_ms: float = Field(gt=0)
    warn_ms: float | None = Field(default=None, gt=0)
    comparison: Comparison = "<="
    corrected: bool = False
    ok_only: bool = False

    @model_validator(mode="after")
    def _statistic(self) -> LatencyObjective:
        if (self.percentile is None) == (self.aggregate is None):
            raise FieldValueError(
                ("percentile",),
                "give exactly one of 'percentile' (e.g. 95) or 'aggregate' (avg, min, max)",
            )
        _check_warn(self.warn_ms, self.threshold_ms, self.comparison, "warn_ms", "threshold_ms")
        return self

    @property
    def quantile(self) -> float | None:
        """The percentile as a fraction (95 -> 0.95), or ``None`` for an aggregate."""
        return None if self.percentile is None else self.percentile / 100.0


class TtftObjective(LatencyObjective):
    """Time to first token: a latency objective over ``ws_first_token`` samples by default."""

    sli: Literal["ttft"] = "ttft"  # type: ignore[assignment]
    select: Select = Field(default=Select(), validate_default=True)

    @field_validator("select")
    @classmethod
    def _kind(cls, value: Select) -> Select:
        return value.with_default_kind("ws_first_token")


class AbortOn(_Frozen):
    """Stop the run early when the budget burns this fast (like k6's ``abortOnFail``).

    ``abort_on: {burn_rate: 14.4, window: 1m}``: the run stops as soon as the burn rate over
    the last ``window`` of sends reaches ``burn_rate`` with at least ``min_events`` events in
    that window (so three early errors cannot stop a run). Burn rate = bad share / allowed
    bad share (SRE Workbook ch. 5); the check runs once a second on the samples flushed so
    far (docs/slo.md, "abort_on").
    """

    burn_rate: float = Field(gt=0)
    window: Duration = Field(gt=0)
    min_events: int = Field(default=20, ge=1)


class RatioObjective(WindowedObjective):
    """Base of objectives over a share of bad events, with a compliance window for budgets."""

    comparison: Comparison = "<="
    abort_on: AbortOn | None = None

    @property
    def allowed_bad_ratio(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError


class AvailabilityObjective(RatioObjective):
    """Share of selected samples with ``ok`` true, in percent (``target: 99.9``)."""

    sli: Literal["availability"] = "availability"
    target: float = Field(gt=0, lt=100)
    warn_target: float | None = Field(default=None, gt=0, lt=100)
    comparison: Comparison = ">="

    @field_validator("target", "warn_target")
    @classmethod
    def _percent(cls, value: float | None) -> float | None:
        if value is not None and value < 1:
            raise PydanticCustomError(
                "percent",
                "a target is a percentage: write 99.9 for 99.9 %, not a fraction",
            )
        return value

    @model_validator(mode="after")
    def _levels(self) -> AvailabilityObjective:
        _check_warn(self.warn_target, self.target, self.comparison, "warn_target", "target")
        return self

    @property
    def allowed_bad_ratio(self) -> float:
        """1 - target: the error budget as a share of events."""
        return 1.0 - self.target / 100.0


class ErrorRateObjective(RatioObjective):
    """Share of selected samples with ``ok`` false, in percent (``threshold_percent: 1``)."""

    sli: Literal["error_rate"] = "error_rate"
    threshold_percent: float = Field(gt=0, lt=100)
    warn_percent: float | None = Field(default=None, gt=0, lt=100)
    comparison: Comparison = "<="

    @model_validator(mode="after")
    def _levels(self) -> ErrorRateObjective:
        _check_warn(
            self.warn_percent, self.threshold_percent, self.comparison,
            "warn_percent", "threshold_percent",
        )
        return self

    @property
    def allowed_bad_ratio(self) -> float:
        return self.threshold_percent / 100.0


class WsDropRateObjective(ErrorRateObjective):
    """Unexpected WebSocket closes per opened session, in percent.

    Bad events are ``ws_close`` samples; events are successful ``ws_connect`` samples. The
    ``select`` may narrow by tier, tenant or name (session group) but not by kind.
    """

    sli: Literal["ws_drop_rate"] = "ws_drop_rate"  # type: ignore[assignment]

    @field_validator("abort_on")
    @classmethod
    def _no_abort(cls, value: AbortOn | None) -> AbortOn | None:
        if value is not None:
            raise PydanticCustomError(
                "abort_on", "abort_on needs a per-send budget: use it on an availability or "
                "error_rate objective, not ws_drop_rate"
            )
        return value

    @field_validator("select")
    @classmethod
    def _no_kind(cls, value: Select) -> Select:
        if value.kind is not None:
            raise PydanticCustomError(
                "kind_fixed", "ws_drop_rate counts ws_close per ws_connect: drop select.kind"
            )
        return value


class ServerLatencyObjective(_Ungrouped):
    """A percentile of a server-side Prometheus histogram recorded in ``server.json``.

    The default metric is the reference target's database query histogram. The value is
    bucket-resolved (interpolated like PromQL ``histogram_quantile``), so it is approximate.
    """

    sli: Literal["server_latency"] = "server_latency"
    metric: str = "slogate_db_query_duration_seconds"
    labels: dict[str, str] = Field(default_factory=dict)
    percentile: float = Field(default=95.0, gt=0, lt=100)
    threshold_ms: float = Field(gt=0)
    warn_ms: float | None = Field(default=None, gt=0)
    comparison: Comparison = "<="

    @model_validator(mode="after")
    def _levels(self) -> ServerLatencyObjective:
        _check_warn(self.warn_ms, self.threshold_ms, self.comparison, "warn_ms", "threshold_ms")
        return self


class MemorySlopeObjective(_Ungrouped):
    """Least-squares slope of the target's memory after warm-up, in MB per minute (leak check)."""

    sli: Literal["memory_slope"] = "memory_slope"
    column: str = "target_rss_bytes"
    threshold_mb_per_min: float = Field(gt=0)
    warn_mb_per_min: float | None = Field(default=None, gt=0)
    comparison: Comparison = "<="

    @model_validator(mode="after")
    def _levels(self) -> MemorySlopeObjective:
        _check_warn(
            self.warn_mb_per_min, self.threshold_mb_per_min, self.comparison,
            "warn_mb_per_min", "threshold_mb_per_min",
        )
        return self


class CpuObjective(_Ungrouped):
    """Mean CPU % of the target after warm-up must lie within ``[min_percent, max_percent]``.

    A value below the range means the load did not exercise the target (the claim is not
    tested); above it, there is too little headroom.
    """

    sli: Literal["cpu"] = "cpu"
    column: str = "target_cpu_percent"
    min_percent: float = Field(default=0.0, ge=0)
    max_percent: float = Field(gt=0)

    @model_validator(mode="after")
    def _range(self) -> CpuObjective:
        if self.min_percent >= self.max_percent:
            raise FieldValueError(
                ("min_percent",),
                f"min_percent must be below max_percent ({self.min_percent:g} >= "
                f"{self.max_percent:g})",
            )
        return self


_MODELS: Final[dict[str, type[_Base]]] = {
    "latency": LatencyObjective,
    "ttft": TtftObjective,
    "availability": AvailabilityObjective,
    "error_rate": ErrorRateObjective,
    "ws_drop_rate": WsDropRateObjective,
    "server_latency": ServerLatencyObjective,
    "memory_slope": MemorySlopeObjective,
    "cpu": CpuObjective,
}


def _dispatch(value: Any) -> Any:
    """Validate one objective with the model its ``sli`` names (see module docstring)."""
    if isinstance(value, _Base):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("mapping", "an objective must be a mapping of fields")
    sli = value.get("sli")
    model = _MODELS.get(sli) if isinstance(sli, str) else None
    if model is None:
        kinds = ", ".join(_MODELS)
        error = PydanticCustomError(
            "unknown_sli",
            "field required: one of {kinds}" if sli is None else "unknown SLI; use one of {kinds}",
            {"kinds": kinds},
        )
        details: list[InitErrorDetails] = [{"type": error, "loc": ("sli",), "input": sli}]
        raise ValidationError.from_exception_data("Objective", details)
    return model.model_validate(value)


Objective = Annotated[
    LatencyObjective
    | TtftObjective
    | AvailabilityObjective
    | ErrorRateObjective
    | WsDropRateObjective
    | ServerLatencyObjective
    | MemorySlopeObjective
    | CpuObjective,
    PlainValidator(_dispatch),
]
"""Any objective; the ``sli`` field picks the model."""


def _geometric_buckets(start: float, stop: float, ratio: float) -> tuple[float, ...]:
    out = [start]
    while out[-1] * ratio < stop:
        out.append(round(out[-1] * ratio, 6))
    out.append(stop)
    return tuple(out)


REFERENCE_LATENCY_BUCKETS_S: Final[tuple[float, ...]] = _geometric_buckets(0.001, 30.0, 1.2)
"""The reference target's latency bucket bounds (``le``, seconds): geometric x1.2 from 1 ms
to 30 s. A contract like the metric names (docs/ARCHITECTURE.md, "Service metrics"); a test
pins it to ``target_service.metrics.LATENCY_BUCKETS_S``."""

_REFERENCE_COUNTER: Final = "slogate_http_requests_total"
_REFERENCE_HISTOGRAM: Final = "slogate_http_request_duration_seconds"


class CrossCheckConfig(_Frozen):
    """How a target's Prometheus metrics map onto the client's samples (for foreign targets).

    The defaults are the reference target's names (docs/ARCHITECTURE.md, "Service metrics").
    ``operation`` says how a sample's ``name`` is built from the counter's labels, e.g.
    ``"{method} {route}"``.
    """

    request_counter: str = _REFERENCE_COUNTER
    latency_histogram: str = _REFERENCE_HISTOGRAM
    latency_buckets: list[float] | None = Field(default=None, min_length=1)
    """The ``le`` bounds of ``latency_histogram``'s buckets, in seconds (``slogate alerts``
    needs a bucket at a latency threshold). Unset: known for the reference histogram only."""
    tenant_label: str | None = None
    """The counter's and histogram's label holding the tenant (``select.tenant`` in
    ``slogate alerts``). Unset: ``tenant`` for the reference counter, none for another."""
    operation: str = "{method} {route}"
    status_label: str = "status"
    extra_histograms: list[str] = Field(
        default_factory=lambda: [
            "slogate_db_query_duration_seconds",
            "slogate_ws_message_latency_seconds",
        ]
    )
    gauges: list[str] = Field(
        default_factory=lambda: ["slogate_ws_sessions", "slogate_run_queue_depth"]
    )
    extra_counters: list[str] = Field(
        default_factory=lambda: ["slogate_provider_calls_total", "slogate_runs_total"]
    )
    """Other counters whose deltas go into server.json (readiness claim 8 reads these)."""
    ignore_operations: list[str] = Field(default_factory=lambda: ["GET /metrics"])
    """Server operations (globs) that are not load: the scrapes of /metrics themselves."""
    min_events: int = Field(default=100, ge=1)
    """Requests an operation needs before its quantiles are compared."""
    latency_tolerance_ms: float | None = Field(default=None, ge=0)
    """How far the client's p95/p99 may lie *above* the server's bucket before it is a
    finding (time outside the handler: connection, parsing, loopback, the generator). Unset:
    measured by the run on ``calibration_operation``."""
    calibration_operation: str | None = "GET /healthz"
    """An operation that does almost nothing in its handler: its client-server gap at each
    quantile is the run's measured overhead (the tolerance when none is set)."""

    @field_validator("latency_buckets")
    @classmethod
    def _ascending(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(b <= 0 or math.isnan(b) for b in value):
            raise PydanticCustomError("bucket", "bucket bounds are positive seconds")
        return None if value is None else sorted(set(value))

    def histogram_buckets(self) -> tuple[float, ...] | None:
        """``latency_histogram``'s bucket bounds in seconds, or None when unknown (a foreign
        histogram whose file gives no ``latency_buckets``: never guessed)."""
        if self.latency_buckets is not None:
            return tuple(self.latency_buckets)
        if self.latency_histogram == _REFERENCE_HISTOGRAM:
            return REFERENCE_LATENCY_BUCKETS_S
        return None

    def tenant_label_name(self) -> str | None:
        """The label holding the tenant, or None when the target's metrics have none known."""
        if self.tenant_label is not None:
            return self.tenant_label
        return "tenant" if self.request_counter == _REFERENCE_COUNTER else None


def _check_warn(
    warn: float | None, threshold: float, comparison: Comparison, warn_name: str, name: str
) -> None:
    """A warn level must be stricter than the fail level, else it could never fire first."""
    if warn is None:
        return
    upper = comparison in ("<", "<=")  # value must stay below the threshold
    if (upper and warn >= threshold) or (not upper and warn <= threshold) or math.isnan(warn):
        side = "below" if upper else "above"
        raise FieldValueError(
            (warn_name,),
            f"{warn_name} ({warn:g}) must be {side} {name} ({threshold:g}): "
            "warn fires before fail",
        )
