"""``slogate compare`` through the real CLI entry point: exit codes, files, history."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from foundation.errors import UsageError
from foundation.layout import RunStatus
from slo._types import Status
from slo.verdict import write_verdict
from slogate.cli import main
from slogate.commands.compare import parse_percent
from tests.slo.compare.helpers import verdict_with
from tests.slo.conftest import T0, samples_table, write_run

SCENARIO: dict[str, Any] = {
    "name": "check", "target": "http://127.0.0.1:5000", "duration": 20.0,
    "load": {"model": "open", "rate": 50.0},
    "http": [{"name": "healthz", "method": "GET", "path": "/healthz"}],
    "resolved": {"planned_duration_s": 20.0},
}


def _run(root: Path, label: str, *, scale: float = 1.0, n: int = 1000, scenario: dict[str, Any] | None = None,
         status: RunStatus = RunStatus.COMPLETE) -> Path:
    rng = np.random.default_rng(zlib.crc32(label.encode()))
    ts = T0 + np.sort(rng.uniform(0, 20, n))
    table = samples_table(n, ts=ts, latency_ms=rng.lognormal(np.log(40), 0.4, n) * scale,
                          name=["GET /healthz"] * n)
    return write_run(root / label, [table], scenario=scenario or SCENARIO, release=label,
                     run_id=f"run-{label}", status=status)


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_no_regression_exits_0_and_writes_every_format_into_the_candidate(tmp_path: Path) -> None:
    base, cand = _run(tmp_path, "v1"), _run(tmp_path, "v2")
    assert main(["compare", str(base), str(cand)]) == 0
    names = sorted(p.name for p in cand.glob("comparison*"))
    assert names == ["comparison.html", "comparison.json", "comparison.junit.xml", "comparison.md"]
    assert _json(cand / "comparison.json")["outcome"] == "same"


def test_regression_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = _run(tmp_path, "v1"), _run(tmp_path, "v2", scale=1.3)
    out = tmp_path / "out"
    assert main(["compare", str(base), str(cand), "--out", str(out), "--format", "json,md"]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["comparison.json", "comparison.md"]
    data = _json(out / "comparison.json")
    assert data["outcome"] == "regression"
    assert {m["metric"] for m in data["metrics"] if m["change"] == "worse"} >= {"latency", "p95"}
    assert "Regression" in capsys.readouterr().out


def test_improvement_exits_0(tmp_path: Path) -> None:
    base, cand = _run(tmp_path, "v1", scale=1.3), _run(tmp_path, "v2")
    assert main(["compare", str(base), str(cand), "--format", "json"]) == 0
    assert _json(cand / "comparison.json")["outcome"] == "improvement"


def test_a_loose_tolerance_lets_the_same_change_pass(tmp_path: Path) -> None:
    base, cand = _run(tmp_path, "v1"), _run(tmp_path, "v2", scale=1.3)
    flags = ["--latency-tolerance", "50%", "--p95-tolerance", "50", "--p99-tolerance", "off"]
    assert main(["compare", str(base), str(cand), "--format", "json", *flags]) == 0


def test_different_rate_is_refused_then_allowed_and_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = {**SCENARIO, "load": {"model": "open", "rate": 100.0}}
    base, cand = _run(tmp_path, "v1"), _run(tmp_path, "v2", scenario=other)
    assert main(["compare", str(base), str(cand)]) == 2
    err = capsys.readouterr().err
    assert "load.rate: 50.0 (baseline) vs 100.0 (candidate)" in err and "--allow-different" in err
    assert err.count("\n") == 1  # one sentence
    assert not (cand / "comparison.json").exists()
    assert main(["compare", str(base), str(cand), "--allow-different", "--format", "json,md"]) == 0
    data = _json(cand / "comparison.json")
    assert data["allowed_different"] and data["mismatches"][0]["field"] == "load.rate"
    assert "compared anyway" in (cand / "comparison.md").read_text()


@pytest.mark.parametrize("which", ["baseline", "candidate"])
def test_an_aborted_run_exits_3(tmp_path: Path, which: str, capsys: pytest.CaptureFixture[str]) -> None:
    runs = {"baseline": _run(tmp_path, "v1"), "candidate": _run(tmp_path, "v2")}
    runs[which] = _run(tmp_path, "bad", status=RunStatus.ABORTED)
    assert main(["compare", str(runs["baseline"]), str(runs["candidate"])]) == 3
    assert f"{which} run run-bad ended 'aborted'" in capsys.readouterr().err


def test_missing_run_exits_3(tmp_path: Path) -> None:
    assert main(["compare", str(tmp_path / "nope"), str(_run(tmp_path, "v2"))]) == 3


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--p95-tolerance", "ten"], id="bad_tolerance"),
        pytest.param(["--confidence", "150%"], id="bad_confidence"),
        pytest.param(["--format", "pdf"], id="bad_format"),
        pytest.param(["--baseline", "latest-passing"], id="baseline_without_history"),
    ],
)
def test_bad_flags_exit_2(tmp_path: Path, argv: list[str]) -> None:
    base, cand = _run(tmp_path, "v1"), _run(tmp_path, "v2")
    assert main(["compare", str(base), str(cand), *argv]) == 2


def test_one_run_without_history_exits_2(tmp_path: Path) -> None:
    assert main(["compare", str(_run(tmp_path, "v1"))]) == 2


def test_history_flow_records_picks_latest_passing_and_shows_the_trend(tmp_path: Path) -> None:
    h = str(tmp_path / "history")
    v1 = _run(tmp_path, "v1")
    # no baseline yet: an error by default, a pass with --no-baseline ok (the first CI run)
    assert main(["compare", "--history", h, "--baseline", "latest-passing", str(v1)]) == 3
    assert main(["compare", "--history", h, "--baseline", "latest-passing", "--no-baseline", "ok",
                 "--record", str(v1), str(v1)]) == 0
    assert _json(tmp_path / "history" / "history.json")["entries"][0]["label"] == "v1"
    # v1 had no verdict: recorded, but "not judged", so not a passing baseline; give it one
    write_verdict(verdict_with(Status.PASS, 40.0), v1 / "verdict.json")
    assert main(["compare", "--history", h, "--record", str(v1)]) == 0
    v2 = _run(tmp_path, "v2", scale=1.3)
    write_verdict(verdict_with(Status.PASS, 52.0), v2 / "verdict.json")
    code = main(["compare", "--history", h, "--baseline", "latest-passing", "--record", str(v2), str(v2)])
    assert code == 1
    entries = _json(tmp_path / "history" / "history.json")["entries"]
    assert [(e["label"], e["passed"]) for e in entries] == [("v1", True), ("v2", False)]
    md = (v2 / "comparison.md").read_text()
    assert "## Trend over the last 1 recorded releases" in md and "objective p95" in md
    assert "<svg" in (v2 / "comparison.html").read_text()
    v3 = _run(tmp_path, "v3")
    assert main(["compare", "--history", h, "--baseline", "v2", str(v3), "--format", "json"]) == 0
    assert _json(v3 / "comparison.json")["baseline"]["release"] == "v2"
    assert main(["compare", "--history", h, "--baseline", "v9", str(v3)]) == 2


def test_record_with_a_comparison_must_name_the_candidate(tmp_path: Path) -> None:
    base, cand = _run(tmp_path, "v1"), _run(tmp_path, "v2")
    argv = ["compare", "--history", str(tmp_path / "h"), "--record", str(base), str(base), str(cand)]
    assert main(argv) == 2


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [("10%", "%", 0.10), ("7.5", "%", 0.075), ("off", "%", None), ("0.1pp", "pp", 0.1),
     ("0.5%", "pp", 0.5)],
)
def test_parse_percent(text: str, unit: str, expected: float | None) -> None:
    assert parse_percent(text, name="--x", unit=unit) == (
        pytest.approx(expected) if expected is not None else None)


def test_parse_percent_refuses_nonsense() -> None:
    with pytest.raises(UsageError, match="not a number"):
        parse_percent("lots", name="--x")


def test_slo_objectives_are_compared_statistically(tmp_path: Path) -> None:
    slo = tmp_path / "slo.yaml"
    slo.write_text("objectives:\n  - name: http-p95\n    sli: latency\n    percentile: 95\n"
                   "    threshold_ms: 1000\n    select: {kind: http}\n")
    base, cand = _run(tmp_path, "v1"), _run(tmp_path, "v2", scale=1.3)
    for run in (base, cand):
        write_verdict(verdict_with(Status.PASS, 50.0), run / "verdict.json")
        text = (run / "verdict.json").read_text().replace('"slo": ""', f'"slo": "{slo}"')
        (run / "verdict.json").write_text(text)
    assert main(["compare", str(base), str(cand), "--format", "json"]) == 1
    rows = {(m["operation"]["kind"], m["operation"]["name"], m["metric"]): m["change"]
            for m in _json(cand / "comparison.json")["metrics"]}
    assert rows[("slo", "http-p95", "latency")] == "worse"
    assert rows[("slo", "http-p95", "p95")] == "worse"
    assert ("slo", "http-p95", "throughput") not in rows


@pytest.mark.parametrize("flags", [["--format", "html"], ["--out", "elsewhere"]],
                         ids=["html_only", "out_elsewhere"])
def test_a_regressed_candidate_is_recorded_failing_whatever_formats_or_out(
        tmp_path: Path, flags: list[str]) -> None:
    """The comparison that decides the history's pass/fail is written by ``slo`` into the
    candidate on every compare, not only when the "json" report format lands there."""
    h = str(tmp_path / "history")
    v1 = _run(tmp_path, "v1")
    write_verdict(verdict_with(Status.PASS, 40.0), v1 / "verdict.json")
    assert main(["compare", "--history", h, "--record", str(v1)]) == 0
    v2 = _run(tmp_path, "v2", scale=1.3)
    write_verdict(verdict_with(Status.PASS, 52.0), v2 / "verdict.json")
    out = [f if f != "elsewhere" else str(tmp_path / "elsewhere") for f in flags]
    code = main(["compare", "--history", h, "--baseline", "latest-passing", *out,
                 "--record", str(v2), str(v2)])
    assert code == 1
    assert _json(v2 / "comparison.json")["outcome"] == "regression"
    entries = _json(tmp_path / "history" / "history.json")["entries"]
    assert [(e["label"], e["passed"]) for e in entries] == [("v1", True), ("v2", False)]
