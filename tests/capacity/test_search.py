"""The pure search on tables: convergence, step counts, floor, confirmation, stops."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from scenarios.capacity import (
    Conclusion,
    Done,
    Outcome,
    Probe,
    SearchConfig,
    StepResult,
    decide,
    knee,
)


def _run(cfg: SearchConfig, judge: Callable[[float, bool], Outcome]) -> tuple[Done, list[StepResult]]:
    history: list[StepResult] = []
    while isinstance(d := decide(cfg, history), Probe):
        out = judge(d.level, d.confirm)
        history.append(StepResult(d.level, out, "p95" if out is Outcome.FAIL else None, d.confirm))
        assert len(history) < 50
    return d, history


def _threshold(answer: float) -> Callable[[float, bool], Outcome]:
    return lambda level, _c: Outcome.PASS if level <= answer else Outcome.FAIL


@pytest.mark.parametrize("answer", list(np.geomspace(1.0, 100.0, 61)))
def test_converges_within_8_steps_over_a_100x_range(answer: float) -> None:
    cfg = SearchConfig(start=1.0, ceiling=1000.0)
    done, history = _run(cfg, _threshold(answer))
    searching = [s for s in history if not s.confirm]
    assert len(searching) <= 8
    assert done.kind is Conclusion.FOUND
    assert done.level is not None and done.failed_at is not None
    assert done.level <= answer < done.failed_at
    assert done.failed_at / done.level <= 1.12 + 1e-9
    assert history[-1].confirm and history[-1].level == done.level


def test_growth_then_bisection_levels() -> None:
    done, history = _run(SearchConfig(start=10, ceiling=1000), _threshold(40))
    assert [s.level for s in history[:3]] == [10, 50, pytest.approx(np.sqrt(500))]
    assert done.objective == "p95"


@pytest.mark.parametrize(
    ("answer", "kind", "levels"),
    [
        pytest.param(0.5, Conclusion.ZERO, [10, 1], id="fails_at_any_load"),
        pytest.param(5000, Conclusion.AT_LEAST_CEILING, [10, 50, 100, 100], id="never_breaks"),
    ],
)
def test_zero_and_ceiling(answer: float, kind: Conclusion, levels: list[float]) -> None:
    done, history = _run(SearchConfig(start=10, ceiling=100), _threshold(answer))
    assert done.kind is kind
    assert [s.level for s in history] == levels
    assert done.level == (None if kind is Conclusion.ZERO else 100)


def test_first_failure_then_floor_passes_bisects_below_the_start() -> None:
    done, history = _run(SearchConfig(start=10, ceiling=100), _threshold(4))
    assert [s.level for s in history[:2]] == [10, 1]
    assert done.kind is Conclusion.FOUND and done.level is not None and done.level <= 4 < done.failed_at  # type: ignore[operator]


def test_failed_confirmation_moves_the_answer_down() -> None:
    def judge(level: float, confirm: bool) -> Outcome:
        if confirm and level > 30:  # holds briefly, not for longer
            return Outcome.FAIL
        return Outcome.PASS if level <= 40 else Outcome.FAIL

    done, history = _run(SearchConfig(start=10, ceiling=1000), judge)
    failed_confirms = [s for s in history if s.confirm and s.outcome is Outcome.FAIL]
    assert failed_confirms
    assert done.kind is Conclusion.FOUND and done.level is not None and done.level <= 30
    assert history[-1].confirm and history[-1].outcome is Outcome.PASS


def test_inconclusive_step_stops_the_search() -> None:
    history = [StepResult(10, Outcome.PASS), StepResult(50, Outcome.INCONCLUSIVE, "cpu pegged")]
    done = decide(SearchConfig(start=10, ceiling=1000), history)
    assert isinstance(done, Done) and done.kind is Conclusion.INCONCLUSIVE
    assert done.level == 10 and "cpu pegged" in done.reason


def test_whole_number_levels_stop_at_adjacent_integers() -> None:
    done, history = _run(SearchConfig(start=1, ceiling=20, integer=True), _threshold(3))
    assert all(s.level == int(s.level) for s in history)
    assert (done.level, done.failed_at) == (3, 4)


def test_step_limit_ends_with_a_lower_bound() -> None:
    done, _ = _run(SearchConfig(start=1, ceiling=1e6, max_steps=3), _threshold(1e5))
    assert done.kind is Conclusion.EXHAUSTED and done.level == 25


@pytest.mark.parametrize(
    "kwargs", [dict(start=0, ceiling=1), dict(start=10, ceiling=5), dict(start=1, ceiling=2, growth=1)]
)
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SearchConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("load", "latency", "expected"),
    [
        pytest.param([10, 20, 30, 40, 50], [5, 5.5, 6, 40, 400], 40, id="hockey_stick"),
        pytest.param([10, 20, 40, 80], [5, 6, 9, 250], 40, id="docstring"),
        pytest.param([10, 20], [5, 500], None, id="too_few_points"),
        pytest.param([10, 20, 30], [30, 20, 10], None, id="falling"),
        pytest.param([10, 20, 30], [10, 20, 30], None, id="straight"),
        pytest.param([10, 20, 30, 40], [5, None, 6, 300], 30, id="gap_skipped"),
    ],
)
def test_knee(load: list[float], latency: list[float | None], expected: float | None) -> None:
    assert knee(load, latency) == expected


def test_knee_matches_kneedle_by_hand() -> None:
    x = np.array([1.0, 2, 3, 4, 5, 6])
    y = np.exp(x)  # convex, increasing
    xn, yn = (x - 1) / 5, (y - y[0]) / (y[-1] - y[0])
    assert knee(list(x), list(y)) == x[int(np.argmax(xn - yn))]
