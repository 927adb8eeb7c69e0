"""SLO files: the issue's example, every catalog file, k6 thresholds, OpenSLO, error locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.durations import parse_duration
from foundation.errors import ConfigError
from slo.spec import AvailabilityObjective, ErrorRateObjective, LatencyObjective, load_slo, parse_slo
from slo.spec.k6 import parse_expression, parse_metric_key

CATALOG = Path(__file__).resolve().parents[2] / "slo" / "catalog"

ISSUE_EXAMPLE = """\
objectives:
  - name: availability
    sli: availability
    target: 99.9
    window: 30d
  - name: p95-latency
    sli: latency
    percentile: 95
    threshold_ms: 500
    select: {kind: http}
"""


def test_issue_example_parses_exactly() -> None:
    spec = parse_slo(ISSUE_EXAMPLE, source="slo.yaml")
    availability, latency = spec.objectives
    assert isinstance(availability, AvailabilityObjective)
    assert availability.target == 99.9
    assert availability.window == 30 * 86400
    assert availability.allowed_bad_ratio == pytest.approx(0.001)
    assert availability.select.kind is None
    assert isinstance(latency, LatencyObjective)
    assert (latency.percentile, latency.threshold_ms, latency.select.kind) == (95, 500, "http")
    assert latency.comparison == "<=" and not latency.corrected


@pytest.mark.parametrize("path", sorted(CATALOG.glob("*.yaml")), ids=lambda p: p.name)
def test_every_catalog_file_loads(path: Path) -> None:
    spec = load_slo(path)
    assert spec.objectives, path
    assert len({o.name for o in spec.objectives}) == len(spec.objectives)


def test_default_catalog_covers_the_smoke_claims() -> None:
    slis = {o.sli for o in load_slo(CATALOG / "default.yaml").objectives}
    assert {"availability", "latency", "ws_drop_rate", "ttft"} <= slis
    per = [o for o in load_slo(CATALOG / "default.yaml").objectives if o.per == "tier"]
    assert per, "the default SLO must judge latency per tier"


def test_ttft_defaults_to_first_token_samples() -> None:
    spec = parse_slo("objectives:\n- {name: t, sli: ttft, percentile: 95, threshold_ms: 800}\n")
    assert spec.objectives[0].select.kind == "ws_first_token"


def test_file_level_window_and_warmup_apply_to_objectives_without_their_own() -> None:
    text = """\
window: 7d
warmup: 30s
objectives:
  - {name: a, sli: availability, target: 99}
  - {name: b, sli: availability, target: 99, window: 1d, warmup: 5s}
"""
    a, b = parse_slo(text).objectives
    assert isinstance(a, AvailabilityObjective) and isinstance(b, AvailabilityObjective)
    assert (a.window, a.warmup_s) == (7 * 86400, 30)
    assert (b.window, b.warmup_s) == (86400, 5)


# --- error table: every bad file names the line and the field ---------------------------

BAD_FILES = [
    pytest.param(
        "objectives:\n  - name: a\n    sli: latency\n    percentile: 95\n    threshold_ms: fast\n",
        5, "objectives[0].threshold_ms", "valid number", id="threshold_not_a_number",
    ),
    pytest.param(
        "objectives:\n  - name: a\n    sli: latncy\n", 3, "objectives[0].sli", "unknown SLI",
        id="unknown_sli",
    ),
    pytest.param(
        "objectives:\n  - name: a\n    target: 99\n", 2, "objectives[0].sli", "field required",
        id="missing_sli",
    ),
    pytest.param(
        "objectives:\n  - name: a\n    sli: availability\n    target: 99.9\n    windw: 30d\n",
        5, "objectives[0].windw", "unknown field", id="misspelt_field",
    ),
    pytest.param(
        "objectives:\n  - name: a\n    sli: availability\n    target: 0.999\n",
        4, "objectives[0].target", "percentage", id="target_as_fraction",
    ),
    pytest.param(
        "objectives:\n  - name: a\n    sli: availability\n    target: 99.9\n    window: soon\n",
        5, "objectives[0].window", "not a duration", id="bad_duration",
    ),
    pytest.param(
        "objectives:\n  - name: a\n    sli: latency\n    threshold_ms: 500\n", 2,
        "objectives[0].percentile", "exactly one of 'percentile'", id="no_statistic",
    ),
    pytest.param(
        "objectives:\n  - {name: a, sli: latency, percentile: 95, threshold_ms: 500,\n"
        "     warn_ms: 800}\n",
        3, "objectives[0].warn_ms", "must be below threshold_ms", id="warn_looser_than_fail",
    ),
    pytest.param(
        "objectives:\n  - {name: a, sli: latency, percentile: 95, threshold_ms: 5}\n"
        "  - {name: a, sli: latency, percentile: 99, threshold_ms: 9}\n",
        3, "objectives[1].name", "used twice", id="duplicate_names",
    ),
    pytest.param(
        "objectives:\n  - {name: a, sli: cpu, max_percent: 60, per: tier}\n",
        2, "objectives[0].per", "not measured from samples", id="per_on_timeseries",
    ),
    pytest.param(
        "objectives:\n  - {name: a, sli: ws_drop_rate, threshold_percent: 1,\n"
        "     select: {kind: http}}\n",
        3, "objectives[0].select", "drop select.kind", id="drop_rate_kind",
    ),
    pytest.param(
        "thresholds:\n  http_req_duration:\n    - p(95)<500\n    - p95 < 500\n",
        4, "thresholds.http_req_duration[1]", "not a threshold expression",
        id="k6_bad_expression",
    ),
    pytest.param(
        "thresholds:\n  http_req_duration: ['rate<0.01']\n",
        2, "thresholds.http_req_duration[0]", "rate applies to rate metrics",
        id="k6_rate_on_trend",
    ),
    pytest.param(
        "thresholds:\n  iterations: ['count>10']\n",
        2, "thresholds.iterations", "metric not supported", id="k6_unknown_metric",
    ),
    pytest.param(
        "thresholds:\n  http_req_duration: ['p(95)==500']\n",
        2, "thresholds.http_req_duration[0]", "operator '==' is not supported",
        id="k6_equality",
    ),
    pytest.param("name: x\n", 1, "(top level)", "needs 'objectives'", id="empty_file"),
    pytest.param("objectives: [\n", 2, None, "not valid YAML", id="yaml_syntax"),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD_FILES)
def test_bad_slo_file_names_line_and_field(
    text: str, line: int, field: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_slo(text, source="bad.yaml")
    err = info.value
    assert err.path == "bad.yaml"
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert message in str(err)
    assert str(err).startswith(f"bad.yaml:{line}: ")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read SLO file"):
        load_slo(tmp_path / "nope.yaml")


# --- k6 thresholds ------------------------------------------------------------------------

K6_EXPRESSIONS = [
    pytest.param("p(95)<500", ("p", 95.0, "<", 500.0), id="p95"),
    pytest.param("p(99.9) <= 1500", ("p", 99.9, "<=", 1500.0), id="p99.9_spaces"),
    pytest.param("avg<200", ("avg", None, "<", 200.0), id="avg"),
    pytest.param("med<100", ("med", None, "<", 100.0), id="median"),
    pytest.param("max<=3e3", ("max", None, "<=", 3000.0), id="exponent"),
    pytest.param("rate<0.01", ("rate", None, "<", 0.01), id="rate"),
    pytest.param({"threshold": "rate>0.99", "abortOnFail": True}, ("rate", None, ">", 0.99),
                 id="object_form"),
]


@pytest.mark.parametrize(("text", "expected"), K6_EXPRESSIONS)
def test_k6_expression(text: object, expected: tuple[object, ...]) -> None:
    e = parse_expression(text)
    assert (e.stat, e.percentile, e.op, e.value) == expected


def test_k6_metric_key_with_tags() -> None:
    key = parse_metric_key("http_req_duration{name:GET /v1/runs, tier:team}")
    assert key.metric == "http_req_duration"
    assert key.tags == (("name", "GET /v1/runs"), ("tier", "team"))


def test_k6_thresholds_become_objectives() -> None:
    text = """\
thresholds:
  http_req_duration: ["p(95)<500", "med<100"]
  "http_req_duration{tier:team,expected_response:true}": ["avg<200"]
  http_req_failed: ["rate<0.01"]
  checks: ["rate>=0.99"]
  ws_first_token: ["p(99)<2000"]
"""
    objs = {o.name: o for o in parse_slo(text).objectives}
    p95 = objs["http_req_duration p(95)<500"]
    assert isinstance(p95, LatencyObjective)
    assert (p95.percentile, p95.threshold_ms, p95.comparison, p95.select.kind) == (
        95, 500, "<", "http"
    )
    assert objs["http_req_duration med<100"].percentile == 50  # type: ignore[union-attr]
    avg = objs["http_req_duration{tier:team,expected_response:true} avg<200"]
    assert isinstance(avg, LatencyObjective)
    assert (avg.aggregate, avg.select.tier, avg.ok_only) == ("avg", "team", True)
    failed = objs["http_req_failed rate<0.01"]
    assert isinstance(failed, ErrorRateObjective)
    assert failed.threshold_percent == pytest.approx(1.0)
    assert failed.allowed_bad_ratio == pytest.approx(0.01)
    checks = objs["checks rate>=0.99"]
    assert isinstance(checks, AvailabilityObjective)
    assert checks.target == pytest.approx(99.0) and checks.select.kind is None
    assert objs["ws_first_token p(99)<2000"].select.kind == "ws_first_token"


# --- OpenSLO --------------------------------------------------------------------------------

OPENSLO_THRESHOLD = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: runs-latency}
spec:
  service: api
  indicator:
    metadata: {name: runs-latency}
    spec:
      thresholdMetric:
        metricSource:
          type: slogate
          spec: {select: {kind: http, name: "POST /v1/runs"}, corrected: true}
  timeWindow: [{duration: 1w, isRolling: true}]
  budgetingMethod: Occurrences
  objectives:
    - {displayName: fast, op: lte, value: 300, target: 0.95}
    - {displayName: tail, op: lt, value: 1000, targetPercent: 99.9}
"""


def test_openslo_ratio_catalog_example() -> None:
    spec = load_slo(CATALOG / "openslo-availability.yaml")
    assert spec.format == "openslo"
    (o,) = spec.objectives
    assert isinstance(o, AvailabilityObjective)
    assert (o.name, o.window, o.select.kind) == ("api-availability/beta", 28 * 86400, "http")
    assert o.target == pytest.approx(99.5)


def test_openslo_threshold_metric_becomes_percentiles() -> None:
    fast, tail = parse_slo(OPENSLO_THRESHOLD).objectives
    assert isinstance(fast, LatencyObjective) and isinstance(tail, LatencyObjective)
    assert (fast.name, fast.threshold_ms, fast.comparison) == ("runs-latency/fast", 300, "<=")
    assert fast.percentile == pytest.approx(95)
    assert fast.corrected and fast.select.name == "POST /v1/runs"
    assert tail.percentile == pytest.approx(99.9) and tail.comparison == "<"


OPENSLO_REFUSALS = [
    pytest.param("budgetingMethod: Occurrences", "budgetingMethod: Timeslices",
                 "spec.budgetingMethod", "Occurrences", id="timeslices"),
    pytest.param("type: slogate", "type: Prometheus",
                 "spec.indicator.spec.thresholdMetric.metricSource.type", "type: slogate",
                 id="prometheus_source"),
    pytest.param("op: lte", "op: gte", "spec", "op lte or lt", id="gte_threshold"),
    pytest.param("  objectives:", "  alertPolicies: [fast-burn]\n  objectives:",
                 "spec.alertPolicies", "not supported", id="alert_policies"),
    pytest.param("  indicator:\n", "  indicatorRef: runs-latency\n  indicator:\n",
                 "spec.indicatorRef", "inline", id="indicator_ref"),
    pytest.param("apiVersion: openslo/v1", "apiVersion: openslo/v2alpha",
                 "apiVersion", "openslo/v1", id="other_version"),
]


@pytest.mark.parametrize(("old", "new", "field", "message"), OPENSLO_REFUSALS)
def test_openslo_unsupported_parts_are_refused_by_name(
    old: str, new: str, field: str, message: str
) -> None:
    text = OPENSLO_THRESHOLD.replace(old, new, 1)
    assert text != OPENSLO_THRESHOLD
    with pytest.raises(ConfigError) as info:
        parse_slo(text, source="o.yaml")
    assert info.value.field == field, str(info.value)
    assert message in str(info.value)
    assert info.value.line is not None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 2_592_000), ("1h30m", 5400), ("250ms", 0.25), ("90", 90), (45, 45), ("1w", 604800)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)
