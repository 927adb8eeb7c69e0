"""OpenSLO ``kind: SLO`` documents (v1), the ratio and threshold subset, as slogate objectives.

Supported (OpenSLO v1 specification, "SLO" and "SLI" kinds, openslo.com):

- ``spec.indicator.spec.ratioMetric`` with ``good`` (or ``bad``) and ``total`` whose
  ``metricSource`` is ``type: slogate``: ``total.spec.select`` picks samples, ``good`` is the
  same selection with ``ok: true`` (``bad``: ``ok: false``) -> an availability objective
  with ``target`` x 100 %.
- ``spec.indicator.spec.thresholdMetric`` with ``metricSource: {type: slogate, spec: {select,
  corrected}}`` and objectives ``op: lte|lt``, ``value`` (ms), ``target`` -> a latency
  objective at percentile ``target`` x 100. With slogate's nearest-rank percentile,
  "at least ``target`` of events have latency <= value" holds exactly when that percentile
  is <= value, so the two readings agree.
- ``timeWindow[0].duration`` -> the compliance window; ``budgetingMethod: Occurrences``.

Everything else (``indicatorRef``, ``alertPolicies``, ``Timeslices``, other metric sources)
is refused with a :class:`~foundation.errors.ConfigError` that names the field: an SLO that is
silently judged differently from what its author wrote is worse than none.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from foundation.durations import Duration
from slo.spec.model import AvailabilityObjective, LatencyObjective, Objective, Select

__all__ = ["OpenSloDocument"]

_REFUSE = "is not supported by slogate ({why})"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Metadata(_Strict):
    name: str = Field(min_length=1)
    displayName: str = ""
    labels: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, Any] = Field(default_factory=dict)


class _SourceSpec(_Strict):
    select: Select = Select()
    ok: bool | None = None
    corrected: bool = False


class _MetricSource(_Strict):
    type: str
    spec: _SourceSpec = _SourceSpec()
    metricSourceRef: str | None = None

    @field_validator("type")
    @classmethod
    def _slogate(cls, value: str) -> str:
        if value.lower() != "slogate":
            raise PydanticCustomError(
                "unsupported",
                "metric source type is not supported: slogate judges the run's own samples; "
                "write 'type: slogate' with spec.select",
            )
        return value

    @field_validator("metricSourceRef")
    @classmethod
    def _no_ref(cls, value: str | None) -> str | None:
        if value is not None:
            raise PydanticCustomError("unsupported", _REFUSE, {"why": "inline metricSource only"})
        return value


class _Metric(_Strict):
    metricSource: _MetricSource


class _Ratio(_Strict):
    counter: bool = True
    good: _Metric | None = None
    bad: _Metric | None = None
    total: _Metric

    @model_validator(mode="after")
    def _good_total(self) -> _Ratio:
        part = self.good if self.good is not None else self.bad
        if (self.good is None) == (self.bad is None) or part is None:
            raise PydanticCustomError("ratio", "a ratioMetric needs exactly one of good or bad")
        want = self.good is not None
        spec = part.metricSource.spec
        if spec.ok is not want or spec.select != self.total.metricSource.spec.select:
            raise PydanticCustomError(
                "ratio",
                "good must be the total's select with ok: true (bad: ok: false); "
                "other ratios are not supported",
            )
        return self


class _IndicatorSpec(_Strict):
    ratioMetric: _Ratio | None = None
    thresholdMetric: _Metric | None = None

    @model_validator(mode="after")
    def _one(self) -> _IndicatorSpec:
        if (self.ratioMetric is None) == (self.thresholdMetric is None):
            raise PydanticCustomError(
                "indicator", "an indicator needs exactly one of ratioMetric or thresholdMetric"
            )
        return self


class _Indicator(_Strict):
    metadata: _Metadata | None = None
    spec: _IndicatorSpec


class _TimeWindow(_Strict):
    duration: Duration = Field(gt=0)
    isRolling: bool = True
    calendar: dict[str, Any] | None = None


class _Objective(_Strict):
    displayName: str = ""
    op: Literal["lte", "lt", "gte", "gt"] | None = None
    value: float | None = None
    target: float | None = Field(default=None, gt=0, lt=1)
    targetPercent: float | None = Field(default=None, gt=0, lt=100)
    timeSliceTarget: Any = None
    timeSliceWindow: Any = None

    @field_validator("timeSliceTarget", "timeSliceWindow")
    @classmethod
    def _no_slices(cls, value: Any) -> Any:
        if value is not None:
            raise PydanticCustomError("unsupported", _REFUSE, {"why": "Occurrences only"})
        return value

    @model_validator(mode="after")
    def _target(self) -> _Objective:
        if (self.target is None) == (self.targetPercent is None):
            raise PydanticCustomError("target", "give exactly one of target or targetPercent")
        return self

    @property
    def percent(self) -> float:
        return self.targetPercent if self.targetPercent is not None else (self.target or 0) * 100


class _Spec(_Strict):
    description: str = ""
    service: str = ""
    indicator: _Indicator | None = None
    indicatorRef: Any = None
    timeWindow: list[_TimeWindow] = Field(min_length=1, max_length=1)
    budgetingMethod: str = "Occurrences"
    objectives: list[_Objective] = Field(min_length=1)
    alertPolicies: Any = None

    @field_validator("indicatorRef")
    @classmethod
    def _no_indicator_ref(cls, value: Any) -> Any:
        if value is not None:
            raise PydanticCustomError("unsupported", _REFUSE, {"why": "write the indicator inline"})
        return value

    @field_validator("alertPolicies")
    @classmethod
    def _no_alerts(cls, value: Any) -> Any:
        if value is not None:
            raise PydanticCustomError(
                "unsupported", _REFUSE, {"why": "slogate reports Workbook burn-rate alerts itself"}
            )
        return value

    @field_validator("budgetingMethod")
    @classmethod
    def _occurrences(cls, value: str) -> str:
        if value != "Occurrences":
            raise PydanticCustomError(
                "unsupported", _REFUSE, {"why": "slogate counts events: use Occurrences"}
            )
        return value

    @model_validator(mode="after")
    def _indicator(self) -> _Spec:
        if self.indicator is None:
            raise PydanticCustomError("indicator", "spec.indicator is required (inline SLI)")
        threshold = self.indicator.spec.thresholdMetric is not None
        for objective in self.objectives:
            if threshold and (objective.op not in ("lte", "lt") or objective.value is None):
                raise PydanticCustomError(
                    "threshold",
                    "a thresholdMetric objective needs op lte or lt and a value in ms "
                    "(gte/gt thresholds are not supported)",
                )
            if threshold and objective.value is not None and objective.value <= 0:
                raise PydanticCustomError("threshold", "a latency value must be positive (ms)")
        return self


class OpenSloDocument(_Strict):
    """An OpenSLO v1 ``kind: SLO`` document, restricted to what slogate can judge exactly.

    Example::

        doc = parse_yaml_model(text, OpenSloDocument, source="api.openslo.yaml")
        objectives = doc.to_objectives()
    """

    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLO"]
    metadata: _Metadata
    spec: _Spec

    def to_objectives(self) -> list[Objective]:
        """One slogate objective per OpenSLO objective."""
        indicator = self.spec.indicator
        assert indicator is not None  # checked by _Spec._indicator
        window = self.spec.timeWindow[0].duration
        out: list[Objective] = []
        for i, objective in enumerate(self.spec.objectives):
            label = objective.displayName or (str(i) if len(self.spec.objectives) > 1 else "")
            name = f"{self.metadata.name}/{label}" if label else self.metadata.name
            ratio = indicator.spec.ratioMetric
            if ratio is not None:
                out.append(
                    AvailabilityObjective(
                        name=name, description=self.spec.description,
                        select=ratio.total.metricSource.spec.select,
                        target=objective.percent, window=window,
                    )
                )
                continue
            metric = indicator.spec.thresholdMetric
            assert metric is not None and objective.value is not None
            out.append(
                LatencyObjective(
                    name=name, description=self.spec.description,
                    select=metric.metricSource.spec.select, percentile=objective.percent,
                    threshold_ms=objective.value, corrected=metric.metricSource.spec.corrected,
                    comparison="<=" if objective.op == "lte" else "<",
                )
            )
        return out
