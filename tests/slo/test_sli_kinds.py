"""The SLI registry: every objective type has exactly one kind, and each kind tells the other
layers what the old ``isinstance`` ladders used to decide (evaluate, judge, measure, claims,
comparison, recovery).

A new objective model in the ``Objective`` union fails ``test_every_objective_type_has_a_kind``
until its kind is registered, and ``test_every_sli_has_an_example`` until it has a row in
:data:`EXAMPLES` below -- which then runs it through every method of the protocol.
"""

from __future__ import annotations

import math
import typing
from typing import Any

import numpy as np
import pytest

from slo._types import Status
from slo.compare.operations import OBJECTIVE_KIND, objective_operations
from slo.measure import columns_needed
from slo.measurements import Measurements, RunFacts, Timeseries
from slo.samples import SampleColumns
from slo.server import HistogramDelta, ServerRecord
from slo.sli_kinds import KINDS, kind_of, min_events, threshold_text, traits_of
from slo.spec import parse_slo
from slo.spec.model import LatencyObjective, Objective
from tests.slo.conftest import T0, samples_table

EXAMPLES: dict[str, str] = {
    "latency": "{name: o, sli: latency, percentile: 95, threshold_ms: 500, corrected: true}",
    "ttft": "{name: o, sli: ttft, percentile: 90, threshold_ms: 900}",
    "availability": "{name: o, sli: availability, target: 99.9, warn_target: 99.95}",
    "error_rate": "{name: o, sli: error_rate, threshold_percent: 1}",
    "ws_drop_rate": "{name: o, sli: ws_drop_rate, threshold_percent: 2}",
    "server_latency": "{name: o, sli: server_latency, threshold_ms: 100}",
    "memory_slope": "{name: o, sli: memory_slope, threshold_mb_per_min: 1}",
    "cpu": "{name: o, sli: cpu, min_percent: 45, max_percent: 60}",
}
"""One objective per SLI, run through every method of its kind."""


def _objective(yaml: str) -> Objective:
    return parse_slo("objectives:\n  - " + yaml + "\n").objectives[0]


def _union_members() -> set[type[Any]]:
    union = typing.get_args(Objective)[0]  # Annotated[Union[...], PlainValidator]
    return set(typing.get_args(union))


def test_every_objective_type_has_a_kind() -> None:
    members = _union_members()
    assert LatencyObjective in members  # the union was read, not an empty tuple
    missing = sorted(m.__name__ for m in members - set(KINDS))
    assert not missing, f"register {missing} in KINDS of slo/sli_kinds/registry.py"
    assert set(KINDS) <= members


def test_every_sli_has_an_example() -> None:
    parsed = {sli: _objective(yaml) for sli, yaml in EXAMPLES.items()}
    assert all(o.sli == sli for sli, o in parsed.items())
    assert {type(o) for o in parsed.values()} == _union_members()


def test_unregistered_subclass_fails_by_name_not_as_its_parent() -> None:
    class Custom(LatencyObjective):
        pass

    o = Custom(name="c", percentile=95, threshold_ms=1)
    with pytest.raises(TypeError, match=r"Custom.*slo/sli_kinds/registry.py"):
        kind_of(o)


def _measurements() -> Measurements:
    n = 1000
    kinds = ["http"] * 800 + ["ws_first_token"] * 150 + ["ws_connect"] * 40 + ["ws_close"] * 10
    ts = T0 + np.linspace(0, 60, n, endpoint=False)
    latency = np.full(n, 100.0)
    table = samples_table(n, ts=ts, kind=kinds, latency_ms=latency, intended_ts=ts - 0.5)
    t = T0 + np.arange(60, dtype=np.float64)
    series = Timeseries(t, {"target_rss_bytes": 1e8 + 2e6 * (t - T0) / 60.0,
                            "target_cpu_percent": np.full(60, 50.0)})
    server = ServerRecord(source="fake", start=T0, end=T0 + 60, histograms=[
        HistogramDelta(name="slogate_db_query_duration_seconds", labels={},
                       buckets=[(0.01, 50), (0.05, 90), (0.1, 100), (math.inf, 100)],
                       count=100, sum=2.0)])
    return Measurements(RunFacts("r", started_at=T0, ended_at=T0 + 60),
                        SampleColumns.from_arrow(table), series, server)


# sli: (source, compared_as, per_phase, sample_kinds, per-event window test, value, status)
EXPECTED: dict[str, tuple[Any, ...]] = {
    # corrected: 100 ms + 500 ms of send lag
    "latency": ("samples", "latency", True, None, True, 600.0, Status.FAIL),
    "ttft": ("samples", "latency", True, ("ws_first_token",), True, 100.0, Status.PASS),
    "availability": ("samples", "error_rate", True, None, True, 100.0, Status.PASS),
    "error_rate": ("samples", "error_rate", True, None, True, 0.0, Status.PASS),
    # 10 closes per 40 opens; fewer than 100 sessions
    "ws_drop_rate": ("samples", None, False, ("ws_connect", "ws_close"), True, 25.0,
                     Status.INSUFFICIENT_DATA),
    # p95 of the buckets: 0.05 + (95 - 90) / (100 - 90) x 0.05 s
    "server_latency": ("server", None, False, None, False, 75.0, Status.PASS),
    "memory_slope": ("timeseries", None, False, None, False, 2.0, Status.FAIL),
    "cpu": ("timeseries", None, False, None, False, 50.0, Status.PASS),
}


@pytest.mark.parametrize("sli", sorted(EXAMPLES))
def test_each_kind_answers_for_its_objective(sli: str) -> None:
    o = _objective(EXAMPLES[sli])
    source, compared_as, per_phase, kinds, windowed, value, status = EXPECTED[sli]
    traits = traits_of(o)
    assert (traits.source, traits.compared_as, traits.per_phase, traits.sample_kinds) == (
        source, compared_as, per_phase, kinds)
    m = _measurements()
    result = kind_of(o).evaluate(o, m)
    assert result.sli == sli
    assert result.value == pytest.approx(value)
    assert result.status is status
    assert (kind_of(o).window_test(o, m.samples) is not None) is windowed
    compared = objective_operations(m.samples, T0, [o])
    assert [(k.kind, k.name) for k in compared] == ([] if compared_as is None
                                                    else [(OBJECTIVE_KIND, "o")])
    metrics = {"latency": ("latency", "p95", "p99"), "error_rate": ("error_rate",)}
    assert [c.metrics for c in compared.values()] == (
        [] if compared_as is None else [metrics[compared_as]])


@pytest.mark.parametrize(("yaml", "needed"), [
    pytest.param("{name: o, sli: latency, percentile: 95, threshold_ms: 1}", 100, id="p95"),
    pytest.param("{name: o, sli: latency, percentile: 99.9, threshold_ms: 1}", 1000,
                 id="p99.9_needs_1000"),
    pytest.param("{name: o, sli: latency, aggregate: max, threshold_ms: 1}", 100, id="max"),
    pytest.param("{name: o, sli: latency, percentile: 99.9, threshold_ms: 1, min_events: 7}", 7,
                 id="file_overrides"),
    pytest.param("{name: o, sli: ws_drop_rate, threshold_percent: 1}", 100, id="sessions"),
    pytest.param("{name: o, sli: cpu, max_percent: 60}", 10, id="cpu_rows"),
    pytest.param("{name: o, sli: memory_slope, threshold_mb_per_min: 1}", 10, id="memory_rows"),
])
def test_min_events(yaml: str, needed: int) -> None:
    assert min_events(_objective(yaml)) == needed


@pytest.mark.parametrize(("sli", "text"), [
    ("latency", "<= 500 ms"),
    ("availability", ">= 99.9 % (warn 99.95)"),
    ("error_rate", "<= 1 %"),
    ("ws_drop_rate", "<= 2 %"),
    ("memory_slope", "<= 1 MB/min"),
    ("cpu", "45..60 %"),
])
def test_threshold_text(sli: str, text: str) -> None:
    assert threshold_text(_objective(EXAMPLES[sli])).text == text


def test_columns_come_from_the_kind() -> None:
    corrected = _objective(EXAMPLES["latency"])
    raw = _objective("{name: o, sli: latency, percentile: 95, threshold_ms: 500, per: tier}")
    assert columns_needed([raw]) == ["ts", "ok", "latency_ms", "kind", "tier"]
    assert columns_needed([corrected]) == ["ts", "ok", "latency_ms", "kind", "intended_ts"]
