"""End-to-end capacity searches against servers of known capacity (real HTTP on 127.0.0.1).

Kept short (holds of a few seconds, levels under 200 req/s, but one 3 s step at 40,000 req/s
for the saturated generator): the machine is shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.spec import load_scenario
from slogate.capacity import CapacityProgress, CapacityRequest, run_capacity
from slogate.cli import main
from tests.capacity.conftest import CAPACITY, write_scenario

MAX_TIME_S = 600.0
# each search is bounded by its own max_time (a step's hold is wall time: a loaded machine
# adds start-up time, not fewer steps); the suite-wide 120 s would cut it short of that bound
pytestmark = pytest.mark.timeout(MAX_TIME_S + 60)


def _search(tmp_path: Path, url: str, path: str, **kw: object):
    scenario = write_scenario(tmp_path, url, path)
    args = dict(scenario=load_scenario(scenario), out_dir=tmp_path / "cap", start=20.0,
                ceiling=200.0, min_hold_s=4.0, events=100, max_time_s=MAX_TIME_S)
    args.update(kw)
    return run_capacity(CapacityRequest(**args))  # type: ignore[arg-type]


def test_known_capacity_found_within_ten_percent(tmp_path: Path, known_server: str) -> None:
    result, reports = _search(tmp_path, known_server, "/work", precision=0.06)
    assert result.conclusion == "found", result.sentence
    assert result.level is not None and abs(result.level - CAPACITY) <= 0.10 * CAPACITY, result.sentence
    assert result.objective == "p95"  # latency breaks first, not availability
    assert result.failed_at is not None and result.failed_at > result.level
    assert result.steps[-1].confirm and result.steps[-1].outcome == "pass"
    # every step is a complete, judged run record
    for step in result.steps:
        run_dir = tmp_path / "cap" / step.run_dir
        assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
        assert (run_dir / "verdict.json").is_file()
    saved = json.loads((tmp_path / "cap" / "capacity.json").read_text())
    assert saved["schema_version"] == 1 and saved["level"] == result.level
    assert set(reports) == {"html", "md", "json", "junit"}
    assert "breaks first" in (tmp_path / "cap" / "capacity.md").read_text()


def test_failing_at_any_load_is_capacity_zero(tmp_path: Path, known_server: str) -> None:
    result, _ = _search(tmp_path, known_server, "/fail", start=50.0, floor=25.0)
    assert result.conclusion == "zero"
    assert result.level is None and result.objective == "availability"
    assert [s.level for s in result.steps] == [50.0, 25.0]
    assert result.sentence.startswith("Capacity 0: no level holds within SLO")


def test_never_breaking_before_the_ceiling_says_at_least_the_ceiling(
    tmp_path: Path, known_server: str
) -> None:
    result, _ = _search(tmp_path, known_server, "/fast", start=20.0, ceiling=60.0)
    assert result.conclusion == "at_least_ceiling"
    assert result.level == 60.0 and result.failed_at is None
    assert [(s.level, s.phase) for s in result.steps] == [(20.0, "grow"), (60.0, "grow"),
                                                          (60.0, "confirm")]
    assert "at least the ceiling of 60 req/s" in result.sentence


def test_saturated_generator_is_inconclusive_not_a_number(
    tmp_path: Path, known_server: str
) -> None:
    code = main([
        "capacity", str(write_scenario(tmp_path, known_server, "/fast")),
        "--start", "40000", "--ceiling", "80000", "--hold", "3s", "--events", "100",
        "--out", str(tmp_path / "cap"), "--format", "json,junit",
    ])
    result = json.loads((tmp_path / "cap" / "capacity.json").read_text())
    assert code == 3
    assert result["conclusion"] == "inconclusive" and result["level"] is None
    assert len(result["steps"]) == 1 and result["steps"][0]["outcome"] == "inconclusive"
    assert "generator" in result["steps"][0]["reason"]
    assert result["sentence"].startswith("Inconclusive, no capacity number")
    assert "<skipped" in (tmp_path / "cap" / "capacity.junit.xml").read_text()


def test_ctrl_c_keeps_the_steps_and_an_inconclusive_result(
    tmp_path: Path, known_server: str
) -> None:
    fired: list[bool] = []

    def interrupt(p: CapacityProgress) -> None:
        if p.run is not None and p.run.phase == "running" and p.run.elapsed_s > 1 and not fired:
            fired.append(True)
            raise KeyboardInterrupt  # what Ctrl-C raises in the runner's loop

    with pytest.raises(KeyboardInterrupt):
        _search(tmp_path, known_server, "/fast", progress=interrupt)
    saved = json.loads((tmp_path / "cap" / "capacity.json").read_text())
    assert saved["conclusion"] == "inconclusive" and "interrupted" in saved["reason"]
    assert len(saved["steps"]) == 1 and saved["steps"][0]["outcome"] == "inconclusive"
    run = json.loads((tmp_path / "cap" / saved["steps"][0]["run_dir"] / "run.json").read_text())
    assert run["status"] == "aborted"
