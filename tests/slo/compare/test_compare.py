"""compare_runs: false-positive rate (A/A), detection of real changes, objectives, outcome."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

from slo._types import Status
from slo.compare import (
    Change,
    CompareSettings,
    Outcome,
    RunData,
    compare_runs,
    comparison_from_dict,
    comparison_to_dict,
)
from tests.slo.compare.helpers import KEY, synthetic_run, verdict_with

TRIALS = 200
ALPHA = 0.05
# Largest count of false alarms in 200 trials still consistent (at 99.9 %) with a rate of 5 %.
MAX_FALSE = int(stats.binom.ppf(0.999, TRIALS, ALPHA))
MIN_FALSE = int(stats.binom.ppf(0.001, TRIALS, ALPHA))
FAST: dict[str, Any] = {"bootstrap_resamples": 500, "min_seconds": 5}


def _aa_runs(seed: int, error_rate: float = 0.02) -> tuple[RunData, RunData]:
    """Two runs drawn from the same distribution (request counts Poisson, as in real runs)."""
    rng = np.random.default_rng(seed)
    return tuple(  # type: ignore[return-value]
        synthetic_run(rng, 400, error_rate=error_rate, poisson=True) for _ in range(2))


def test_aa_false_positive_rate_of_whole_comparisons_is_bounded() -> None:
    """Zero tolerances make every metric a pure significance test: with the Bonferroni
    correction, at most 5 % of A/A comparisons may report anything but "same"."""
    settings = CompareSettings(latency_tolerance=0, p95_tolerance=0, p99_tolerance=0,
                               error_rate_tolerance_pp=0, throughput_tolerance=0, **FAST)
    false = 0
    for trial in range(TRIALS):
        base, cand = _aa_runs(trial)
        result = compare_runs(base, cand, dataclasses.replace(settings, seed=trial))
        assert result.tests == 5
        false += result.outcome is not Outcome.SAME
    assert false <= MAX_FALSE


@pytest.mark.parametrize("metric", ["latency", "p95", "error_rate", "throughput"])
def test_aa_single_test_is_calibrated_not_just_conservative(metric: str) -> None:
    """One uncorrected metric errs at about its nominal 5 %: a test that never fires would
    pass the bound above but detect nothing. (P99 of 400 values rests on 4 order
    statistics; its bootstrap interval is too coarse to be calibrated at this size.)"""
    off: dict[str, Any] = {"latency_tolerance": None, "p95_tolerance": None, "p99_tolerance": None,
                           "error_rate_tolerance_pp": None, "throughput_tolerance": None}
    key = "error_rate_tolerance_pp" if metric == "error_rate" else f"{metric}_tolerance"
    settings = CompareSettings(**{**off, key: 0, **FAST})
    false = 0
    for trial in range(TRIALS):
        base, cand = _aa_runs(10_000 + trial, error_rate=0.05)
        result = compare_runs(base, cand, dataclasses.replace(settings, seed=trial))
        (tested,) = [m for m in result.metrics if m.gated]
        assert tested.metric == metric
        false += tested.change is not Change.SAME
    assert MIN_FALSE <= false <= MAX_FALSE


def test_aa_with_default_tolerances_reports_same() -> None:
    false = sum(
        compare_runs(*_aa_runs(20_000 + t), CompareSettings(**FAST)).outcome is not Outcome.SAME
        for t in range(50)
    )
    assert false == 0


def test_thirty_percent_slower_is_a_regression_and_faster_an_improvement() -> None:
    rng = np.random.default_rng(1)
    base, slow = synthetic_run(rng, 2000, via_table=True), synthetic_run(rng, 2000, scale=1.3, via_table=True)
    worse = compare_runs(base, slow)
    assert worse.outcome is Outcome.REGRESSION
    changes = {m.metric: m for m in worse.metrics}
    for metric in ("latency", "p95"):
        m = changes[metric]
        assert m.change is Change.WORSE
        assert m.change_pct_ci is not None and m.change_pct_ci.low > 10.0
        assert m.change_pct_ci.low < 30.0 < m.change_pct_ci.high or metric == "latency"
    assert changes["error_rate"].change is Change.SAME
    assert changes["throughput"].change is Change.SAME
    better = compare_runs(slow, base)
    assert better.outcome is Outcome.IMPROVEMENT
    assert {m.metric for m in better.improvements} >= {"latency", "p95"}
    assert not better.regressions


def test_small_change_within_tolerance_is_same() -> None:
    """+3 % on 20,000 samples is statistically clear, but inside a 10 % tolerance."""
    rng = np.random.default_rng(2)
    base, cand = synthetic_run(rng, 20_000), synthetic_run(rng, 20_000, scale=1.03)
    result = compare_runs(base, cand)
    latency = next(m for m in result.metrics if m.metric == "latency")
    assert latency.p_value is not None and latency.p_value < 1e-6
    assert latency.change is Change.SAME
    assert result.outcome is Outcome.SAME


def test_more_errors_is_worse_in_percentage_points() -> None:
    rng = np.random.default_rng(3)
    base, cand = synthetic_run(rng, 3000), synthetic_run(rng, 3000, error_rate=0.05)
    result = compare_runs(base, cand)
    errors = next(m for m in result.metrics if m.metric == "error_rate")
    assert errors.change is Change.WORSE and errors.unit == "%"
    assert errors.baseline == 0.0 and errors.change_pct is None  # no relative change from 0
    assert errors.delta_ci is not None and errors.delta_ci.low > 0.1


def test_fewer_operations_per_second_is_worse_throughput() -> None:
    rng = np.random.default_rng(4)
    base, cand = synthetic_run(rng, 3000, seconds=30), synthetic_run(rng, 2000, seconds=30)
    throughput = next(m for m in compare_runs(base, cand).metrics if m.metric == "throughput")
    assert throughput.change is Change.WORSE
    assert throughput.change_pct == pytest.approx(-33.3, abs=0.5)


def test_too_few_samples_is_no_data_and_not_counted() -> None:
    rng = np.random.default_rng(5)
    base, cand = synthetic_run(rng, 20), synthetic_run(rng, 20, scale=3.0)
    result = compare_runs(base, cand)
    assert {m.metric: m.change for m in result.metrics}["latency"] is Change.NO_DATA
    assert result.tests == 1  # only throughput (30 s windows) could be tested
    assert result.outcome is not Outcome.REGRESSION


def test_bonferroni_widens_intervals_with_more_tests() -> None:
    rng = np.random.default_rng(6)
    base, cand = synthetic_run(rng, 1000), synthetic_run(rng, 1000)
    corrected = compare_runs(base, cand)
    plain = compare_runs(base, cand, CompareSettings(correction="none"))
    assert corrected.per_test_confidence == pytest.approx(1 - 0.05 / 5)
    assert plain.per_test_confidence == 0.95
    a = next(m for m in corrected.metrics if m.metric == "latency").delta_ci
    b = next(m for m in plain.metrics if m.metric == "latency").delta_ci
    assert a is not None and b is not None and a.high - a.low > b.high - b.low


def test_ungated_metric_is_reported_but_never_fails() -> None:
    rng = np.random.default_rng(7)
    base, cand = synthetic_run(rng, 800), synthetic_run(rng, 800, scale=1.5)
    settings = CompareSettings(latency_tolerance=None, p95_tolerance=None, p99_tolerance=None)
    result = compare_runs(base, cand, settings)
    latency = next(m for m in result.metrics if m.metric == "latency")
    assert latency.change is Change.WORSE and not latency.gated
    assert result.outcome is Outcome.SAME


def test_operations_only_in_one_run_are_listed() -> None:
    rng = np.random.default_rng(8)
    base = synthetic_run(rng, 100, name="GET /old")
    cand = synthetic_run(rng, 100, name="GET /new")
    result = compare_runs(base, cand)
    assert [k.name for k in result.only_in_baseline] == ["GET /old"]
    assert [k.name for k in result.only_in_candidate] == ["GET /new"]
    assert result.outcome is Outcome.NO_DATA


@pytest.mark.parametrize(
    ("base", "cand", "change"),
    [
        pytest.param(Status.PASS, Status.FAIL, Change.WORSE, id="newly_failing"),
        pytest.param(Status.WARN, Status.FAIL, Change.WORSE, id="warn_to_fail"),
        pytest.param(Status.FAIL, Status.PASS, Change.BETTER, id="fixed"),
        pytest.param(Status.FAIL, Status.FAIL, Change.SAME, id="still_failing"),
        pytest.param(Status.INSUFFICIENT_DATA, Status.FAIL, Change.SAME, id="no_baseline_evidence"),
    ],
)
def test_objective_status_transitions(base: Status, cand: Status, change: Change) -> None:
    rng = np.random.default_rng(9)
    b = dataclasses.replace(synthetic_run(rng, 300), verdict=verdict_with(base, 80.0))
    c = dataclasses.replace(synthetic_run(rng, 300), verdict=verdict_with(cand, 120.0))
    result = compare_runs(b, c)
    (objective,) = result.objectives
    assert objective.change is change
    assert objective.change_pct == pytest.approx(50.0)
    assert (result.outcome is Outcome.REGRESSION) == (change is Change.WORSE)


def test_comparison_json_round_trips_and_is_strict_json() -> None:
    rng = np.random.default_rng(10)
    result = compare_runs(synthetic_run(rng, 500), synthetic_run(rng, 500, scale=1.2), created_at=5.0)
    data = comparison_to_dict(result)
    text = json.dumps(data, allow_nan=False)  # no NaN/Infinity may reach the file
    assert data["schema_version"] == 1
    assert comparison_from_dict(json.loads(text)) == result


def test_unknown_schema_version_is_refused_by_name() -> None:
    from foundation.errors import ConfigError

    with pytest.raises(ConfigError, match="schema_version 99 is not supported"):
        comparison_from_dict({"schema_version": 99})


def test_comparison_is_reproducible() -> None:
    rng = np.random.default_rng(11)
    base, cand = synthetic_run(rng, 700), synthetic_run(rng, 700, scale=1.1)
    assert compare_runs(base, cand) == compare_runs(base, cand)
    assert KEY in base.operations
