"""Run history: recording, baselines by label or latest passing, bounds on disk, trends."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import ConfigError, RunIncompleteError, UsageError
from slo._types import Status
from slo.history import (
    LATEST_PASSING,
    SliPoint,
    build_trend,
    key_slis,
    open_history,
    record_run,
    resolve_baseline,
)
from slo.verdict import write_verdict
from tests.slo.compare.helpers import synthetic_run, verdict_with
from tests.slo.conftest import T0, samples_table


@pytest.fixture
def judged_run(make_run: Callable[..., Path]) -> Callable[..., Path]:
    """A complete run record with a verdict of the given status (None: no verdict.json)."""

    def make(release: str, status: Status | None = Status.PASS, n: int = 600) -> Path:
        rng = np.random.default_rng(zlib.crc32(release.encode()))
        ts = T0 + np.sort(rng.uniform(0, 20, n))
        table = samples_table(n, ts=ts, latency_ms=rng.lognormal(3.5, 0.4, n))
        run = make_run([table], release=release, run_id=f"run-{release}")
        if status is not None:
            write_verdict(verdict_with(status, 42.0), run / "verdict.json")
        return run

    return make


def test_record_copies_data_files_and_indexes_the_run(
    judged_run: Callable[..., Path], tmp_path: Path
) -> None:
    run = judged_run("v1")
    (run / "report.html").write_text("<html>")  # rendered reports are not kept
    entry = record_run(tmp_path / "h", run, now=100.0)
    copied = tmp_path / "h" / entry.directory
    assert sorted(p.name for p in copied.iterdir()) == ["run.json", "samples", "verdict.json"]
    assert entry.label == "v1" and entry.passed is True and entry.bytes > 0
    assert entry.slis["objective p95"] == SliPoint(42.0, "ms")
    assert entry.slis["error rate"] == SliPoint(0.0, "%")
    history = open_history(tmp_path / "h")
    assert history.entries == (entry,)
    assert json.loads((tmp_path / "h" / "history.json").read_text())["schema_version"] == 1


def test_latest_passing_skips_failures_and_the_candidate_itself(
    judged_run: Callable[..., Path], tmp_path: Path
) -> None:
    h = tmp_path / "h"
    for release, status in (("v1", Status.PASS), ("v2", Status.PASS), ("v3", Status.FAIL),
                            ("v4", None)):
        record_run(h, judged_run(release, status), now=1.0)
    history = open_history(h)
    assert [(e.label, e.passed) for e in history.entries] == [
        ("v1", True), ("v2", True), ("v3", False), ("v4", None)]
    assert resolve_baseline(history, LATEST_PASSING).label == "v2"
    assert resolve_baseline(history, LATEST_PASSING, exclude_label="v2").label == "v1"
    assert resolve_baseline(history, "v3").label == "v3"
    with pytest.raises(UsageError, match="'v9' is not in the history"):
        resolve_baseline(history, "v9")


def test_no_passing_run_is_an_unusable_baseline(judged_run: Callable[..., Path], tmp_path: Path) -> None:
    record_run(tmp_path / "h", judged_run("v1", Status.FAIL), now=1.0)
    with pytest.raises(RunIncompleteError, match="no passing run"):
        resolve_baseline(open_history(tmp_path / "h"), LATEST_PASSING)


def test_a_regression_in_comparison_json_makes_the_entry_failing(
    judged_run: Callable[..., Path], tmp_path: Path
) -> None:
    from slo.compare import compare_runs, write_comparison

    rng = np.random.default_rng(0)
    regression = compare_runs(synthetic_run(rng, 500), synthetic_run(rng, 500, scale=1.5))
    run = judged_run("v2")
    write_comparison(regression, run / "comparison.json")
    entry = record_run(tmp_path / "h", run, now=1.0)
    assert entry.passed is False and entry.comparison_outcome == "regression"


def test_keep_bound_drops_oldest_but_never_the_latest_passing(
    judged_run: Callable[..., Path], tmp_path: Path
) -> None:
    h = tmp_path / "h"
    record_run(h, judged_run("v1"), now=1.0, keep=2)
    for release in ("v2", "v3", "v4"):
        record_run(h, judged_run(release, Status.FAIL), now=1.0, keep=2)
    history = open_history(h)
    assert history.labels() == ["v1", "v4"]
    assert sorted(p.name for p in (h / "runs").iterdir()) == ["v1", "v4"]


def test_budget_bound_and_oversized_runs(judged_run: Callable[..., Path], tmp_path: Path) -> None:
    h = tmp_path / "h"
    first = record_run(h, judged_run("v1", Status.FAIL), now=1.0)
    budget = int(first.bytes * 1.5)  # room for one run, not two
    record_run(h, judged_run("v2", Status.FAIL), now=1.0, budget_bytes=budget)
    assert open_history(h).labels() == ["v2"]
    with pytest.raises(UsageError, match="more than the history budget"):
        record_run(h, judged_run("v3"), now=1.0, budget_bytes=100)
    assert open_history(h).labels() == ["v2"]


def test_recording_a_label_again_replaces_it(judged_run: Callable[..., Path], tmp_path: Path) -> None:
    h = tmp_path / "h"
    record_run(h, judged_run("v1", Status.FAIL), now=1.0)
    record_run(h, judged_run("v1", Status.PASS, n=700), now=2.0)
    (entry,) = open_history(h).entries
    assert entry.passed is True and entry.recorded_at == 2.0


def test_unsafe_labels_become_safe_directory_names(judged_run: Callable[..., Path], tmp_path: Path) -> None:
    entry = record_run(tmp_path / "h", judged_run("v1"), now=1.0, label="../../etc/passwd x")
    assert entry.directory == "runs/etc_passwd_x"
    assert (tmp_path / "h" / entry.directory / "run.json").exists()


def test_unknown_history_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "history.json").write_text('{"schema_version": 7, "entries": []}')
    with pytest.raises(ConfigError, match="history schema_version 7"):
        open_history(tmp_path)


def test_trend_lines_align_releases_and_the_candidate(
    judged_run: Callable[..., Path], tmp_path: Path
) -> None:
    h = tmp_path / "h"
    for release in ("v1", "v2", "v3"):
        record_run(h, judged_run(release), now=1.0)
    history = open_history(h)
    candidate = synthetic_run(np.random.default_rng(1), 400)
    trend = build_trend(history.last(2), "v4", key_slis(candidate), candidate_passed=True)
    assert trend.labels == ("v2", "v3", "v4")
    assert trend.passed == (True, True, True)
    lines = {line.name: line for line in trend.lines}
    assert lines["p95 http"].values[-1] == pytest.approx(
        float(np.sort(candidate.operations[next(iter(candidate.operations))].latency_sorted)[379]))
    assert lines["objective p95"].values == (42.0, 42.0, None)  # the candidate had no verdict
    assert [line.name for line in trend.lines][:3] == ["p95 http", "error rate", "throughput"]
