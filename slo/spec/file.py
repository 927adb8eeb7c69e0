"""The native SLO file: ``objectives`` and/or k6-style ``thresholds`` (validated with pydantic).

Example::

    spec = parse_yaml_model(text, SloFile, source="slo.yaml")
    objectives = spec.all_objectives()   # thresholds converted to objectives, in file order
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from foundation.durations import Duration
from foundation.yamlfile import FieldValueError
from slo.spec.k6 import (
    K6Expression,
    K6MetricKey,
    K6Threshold,
    parse_metric_key,
    thresholds_to_objectives,
)
from slo.spec.model import CrossCheckConfig, Objective, WindowedObjective

__all__ = ["SloFile"]


class SloFile(BaseModel):
    """A native SLO file.

    ``window`` and ``warmup`` at the top level are defaults for objectives that name none.
    ``thresholds`` maps a k6 metric (optionally tagged, ``http_req_duration{tier:team}``)
    to expressions such as ``p(95)<500`` (see :mod:`slo.spec.k6`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    version: Literal[1] = 1
    name: str = ""
    description: str = ""
    window: Duration | None = Field(default=None, gt=0)
    warmup_s: Duration | None = Field(default=None, alias="warmup")
    objectives: list[Objective] = Field(default_factory=list)
    thresholds: dict[str, list[K6Threshold]] = Field(default_factory=dict)
    cross_check: CrossCheckConfig = CrossCheckConfig()

    @model_validator(mode="after")
    def _consistent(self) -> SloFile:
        if not self.objectives and not self.thresholds:
            raise PydanticCustomError(
                "empty", "an SLO file needs 'objectives' or 'thresholds' (none given)"
            )
        seen: set[str] = set()
        for i, objective in enumerate(self.all_objectives()):
            if objective.name in seen:
                where: tuple[str | int, ...] = (
                    ("objectives", i, "name") if i < len(self.objectives) else ("thresholds",)
                )
                raise FieldValueError(
                    where, f"objective name '{objective.name}' is used twice; names must be unique"
                )
            seen.add(objective.name)
        return self

    @field_validator("thresholds")
    @classmethod
    def _convertible(cls, value: dict[str, list[K6Expression]]) -> dict[str, list[K6Expression]]:
        """Every key and threshold must map onto an objective; report each where it stands."""
        details: list[InitErrorDetails] = []
        for text, expressions in value.items():
            try:
                key = parse_metric_key(text)
            except PydanticCustomError as exc:
                details.append({"type": exc, "loc": (text,), "input": text})
                continue
            for i, expr in enumerate(expressions):
                try:
                    thresholds_to_objectives({key: [expr]})
                except ValueError as exc:
                    error = PydanticCustomError("k6_threshold", "{error}", {"error": str(exc)})
                    details.append({"type": error, "loc": (text, i), "input": expr.text})
        if details:
            raise ValidationError.from_exception_data("thresholds", details)
        return value

    def _k6_keys(self) -> dict[K6MetricKey, list[K6Expression]]:
        return {parse_metric_key(k): v for k, v in self.thresholds.items()}

    def all_objectives(self) -> list[Objective]:
        """Objectives then converted thresholds, with file-level defaults applied."""
        out: list[Objective] = []
        for objective in [*self.objectives, *thresholds_to_objectives(self._k6_keys())]:
            update: dict[str, Any] = {}
            if self.warmup_s is not None and objective.warmup_s is None:
                update["warmup_s"] = self.warmup_s
            if (
                self.window is not None
                and isinstance(objective, WindowedObjective)
                and "window" not in objective.model_fields_set
            ):
                update["window"] = self.window
            out.append(objective.model_copy(update=update) if update else objective)
        return out
