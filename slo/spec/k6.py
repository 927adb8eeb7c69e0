"""k6-style thresholds (``p(95)<500``, ``rate<0.01``, ``avg<200``) as slogate objectives.

People who know k6 write ``thresholds`` the way k6's options do::

    thresholds:
      http_req_duration: ["p(95)<500", "avg<200"]
      http_req_failed: ["rate<0.01"]
      "http_req_duration{expected_response:true}": ["p(99)<1500"]
      "ws_message{tier:team}": ["p(95)<800"]

Metric names map onto sample kinds (:data:`TREND_KINDS`, :data:`RATE_METRICS`); tags in braces
become ``select`` fields. ``abortOnFail`` in the object form is accepted and ignored: slogate
judges after the run, it does not abort it. Source of the syntax: k6 documentation,
"Thresholds" (threshold expressions ``aggregation_method operator value``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from slo._types import Comparison
from slo.spec.model import (
    AvailabilityObjective,
    ErrorRateObjective,
    LatencyObjective,
    Objective,
    Select,
)

__all__ = [
    "RATE_METRICS",
    "TREND_KINDS",
    "K6Expression",
    "K6MetricKey",
    "K6Threshold",
    "parse_expression",
    "parse_metric_key",
    "thresholds_to_objectives",
]

TREND_KINDS: Final[dict[str, str]] = {
    "http_req_duration": "http",
    "ws_connecting": "ws_connect",
    "http": "http",
    "ws_connect": "ws_connect",
    "ws_message": "ws_message",
    "ws_first_token": "ws_first_token",
}
"""k6 trend metrics (and slogate sample kinds used as metric names) -> sample ``kind``."""

RATE_METRICS: Final[dict[str, str | None]] = {"http_req_failed": "http", "checks": None}
"""k6 rate metrics -> sample ``kind`` they count (``None``: every sample)."""

_TAGS: Final = ("kind", "name", "tier", "tenant", "expected_response")
_EXPR = re.compile(
    r"^\s*(?P<stat>p\(\s*(?P<p>\d+(?:\.\d+)?)\s*\)|avg|min|max|med|rate|count)"
    r"\s*(?P<op>===|==|!=|<=|>=|<|>)\s*(?P<value>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$"
)
_KEY = re.compile(r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\{(?P<tags>[^}]*)\})?\s*$")


@dataclass(frozen=True, slots=True)
class K6Expression:
    """One parsed threshold expression, e.g. ``p(95)<500`` -> stat ``p``, percentile 95."""

    text: str
    stat: Literal["p", "avg", "min", "max", "med", "rate", "count"]
    percentile: float | None
    op: Comparison
    value: float


@dataclass(frozen=True, slots=True)
class K6MetricKey:
    """A thresholds key: metric name plus ``{tag:value,...}`` filters."""

    text: str
    metric: str
    tags: tuple[tuple[str, str], ...]


def parse_expression(value: Any) -> K6Expression:
    """Parse ``p(95)<500`` / ``rate<0.01`` / ``{threshold: ..., abortOnFail: true}``."""
    if isinstance(value, K6Expression):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {"threshold", "abortOnFail", "delayAbortEval"}
        if unknown or "threshold" not in value:
            raise PydanticCustomError(
                "k6_object",
                "the object form takes 'threshold' (and abortOnFail, delayAbortEval); got {keys}",
                {"keys": sorted(value)},
            )
        value = value["threshold"]
    if not isinstance(value, str):
        raise PydanticCustomError("k6_expr", "a threshold must be a string like 'p(95)<500'")
    m = _EXPR.match(value)
    if m is None:
        raise PydanticCustomError(
            "k6_expr",
            "not a threshold expression; write e.g. 'p(95)<500', 'avg<200', "
            "'rate<0.01'",
        )
    op = m.group("op")
    if op not in ("<", "<=", ">", ">="):
        raise PydanticCustomError(
            "k6_op", "operator '{op}' is not supported for SLOs; use <, <=, > or >=", {"op": op}
        )
    stat = "p" if m.group("p") else m.group("stat")
    percentile = float(m.group("p")) if m.group("p") else None
    if percentile is not None and not 0 < percentile < 100:
        raise PydanticCustomError(
            "k6_p", "percentile must be between 0 and 100 exclusive, got {p}", {"p": percentile}
        )
    return K6Expression(value, stat, percentile, op, float(m.group("value")))  # type: ignore[arg-type]


def parse_metric_key(text: Any) -> K6MetricKey:
    """Parse ``http_req_duration{name:GET /v1/runs,tier:team}``."""
    if isinstance(text, K6MetricKey):
        return text
    m = _KEY.match(str(text))
    if m is None:
        raise PydanticCustomError(
            "k6_key", "not a metric key; write e.g. 'http_req_duration{tier:team}'",
        )
    metric = m.group("metric")
    if metric not in TREND_KINDS and metric not in RATE_METRICS:
        raise PydanticCustomError(
            "k6_metric", "metric not supported; use one of {known}",
            {"known": ", ".join([*TREND_KINDS, *RATE_METRICS])},
        )
    tags: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in (m.group("tags") or "").split(","))):
        key, sep, val = part.partition(":")
        if not sep or key.strip() not in _TAGS:
            raise PydanticCustomError(
                "k6_tag", "tag '{part}' is not supported; use {tags} as 'tag:value'",
                {"part": part, "tags": ", ".join(_TAGS)},
            )
        tags.append((key.strip(), val.strip()))
    return K6MetricKey(str(text), metric, tuple(tags))


K6Threshold = Annotated[K6Expression, BeforeValidator(parse_expression)]


def thresholds_to_objectives(
    thresholds: dict[K6MetricKey, list[K6Expression]], window: float | None = None
) -> list[Objective]:
    """Turn parsed thresholds into objectives; raise ``ValueError`` naming what cannot map."""
    out: list[Objective] = []
    for key, expressions in thresholds.items():
        for expr in expressions:
            out.append(_one(key, expr, window))
    return out


def _one(key: K6MetricKey, expr: K6Expression, window: float | None) -> Objective:
    tags = dict(key.tags)
    ok_only = tags.pop("expected_response", "false").lower() == "true"
    name = f"{key.text} {expr.text}".strip()
    extra: dict[str, Any] = {} if window is None else {"window": window}
    if key.metric in TREND_KINDS:
        select = Select(**tags).with_default_kind(TREND_KINDS[key.metric])
        if expr.stat in ("rate", "count"):
            raise ValueError(f"{name}: {expr.stat} applies to rate metrics, not to a duration")
        if expr.value <= 0:
            raise ValueError(f"{name}: a latency threshold must be positive")
        statistic: dict[str, Any] = (
            {"percentile": expr.percentile} if expr.stat == "p"
            else {"percentile": 50.0} if expr.stat == "med"
            else {"aggregate": expr.stat}
        )
        return LatencyObjective(
            name=name, select=select, threshold_ms=expr.value, comparison=expr.op,
            ok_only=ok_only, **statistic,
        )
    kind = RATE_METRICS[key.metric]
    select = Select(**tags) if kind is None else Select(**tags).with_default_kind(kind)
    if expr.stat != "rate":
        raise ValueError(f"{name}: {key.metric} is a rate metric; write e.g. 'rate<0.01'")
    if not 0 < expr.value < 1:
        raise ValueError(f"{name}: a rate is a fraction between 0 and 1, got {expr.value:g}")
    if key.metric == "http_req_failed":
        if expr.op not in ("<", "<="):
            raise ValueError(f"{name}: http_req_failed takes rate< or rate<=")
        return ErrorRateObjective(
            name=name, select=select, threshold_percent=expr.value * 100, comparison=expr.op,
            **extra,
        )
    if expr.op not in (">", ">="):
        raise ValueError(f"{name}: checks takes rate> or rate>= (the share that passed)")
    return AvailabilityObjective(
        name=name, select=select, target=expr.value * 100, comparison=expr.op, **extra
    )
