"""The CI gate (ci/gate.sh) end to end on two short real runs of the reference target.

Baseline: every ``/healthz`` answer is delayed 250 ms by the target's fault injection.
Candidate: the same plus a relative fault of +30 % of each request's own time -- the
"slower release" of the issue. Both are real ``slogate run`` records (open model, 40
requests/s, 8 s). The gate must pass the first run and record it, then fail the second
with a latency regression, keep the first as ``latest-passing``, write the Markdown
summary and JUnit; the reverse comparison must report an improvement.

The fixed 250 ms delay is there because this machine is shared: CPU contention adds tens
to hundreds of milliseconds to every request, and a +30 % change of a 1 ms request would
drown in it. The runs are sequential, not concurrent: two runners at once on two cores
starved each other's generators in trials (no request sent at all).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from slo.compare import Change, CompareSettings, Outcome
from slogate.commands.compare import CompareRequest, run_compare
from target_service.embedded import EmbeddedTargetOptions, start_embedded_target

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "ci" / "gate.sh"
SLOGATE = Path(sys.executable).with_name("slogate")
BASE_FAULTS = {"latency": [{"route": "/healthz", "ms": 250}]}
SLOW_FAULTS = {"latency": [{"route": "/healthz", "ms": 250}, {"route": "*", "relative": 0.3}]}
SLO = """\
name: gate-check
objectives:
  - name: availability
    sli: availability
    target: 99
    select: {kind: http}
  - name: p95
    sli: latency
    percentile: 95
    threshold_ms: 20000
    select: {kind: http}
"""


def _slogate(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SLOGATE), *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """(baseline run, candidate run, SLO file): two real runs against one target."""
    if not SLOGATE.exists() or importlib.util.find_spec("slogate.commands.run") is None:
        pytest.skip("`slogate run` is not available in this environment")
    tmp = tmp_path_factory.mktemp("gate")
    slo = tmp / "slo.yaml"
    slo.write_text(SLO)
    options = EmbeddedTargetOptions(data_dir=tmp / "target", faults=json.dumps(BASE_FAULTS))
    with start_embedded_target(options) as target:
        scenario = tmp / "scenario.yaml"
        scenario.write_text(
            f"name: gate-check\ntarget: {target.url}\nduration: 8s\n"
            "load:\n  model: open\n  rate: 40\n"
            "http:\n  - name: healthz\n    method: GET\n    path: /healthz\n"
        )
        out = []
        for label, faults in (("v1", BASE_FAULTS), ("v2", SLOW_FAULTS)):
            httpx.put(f"{target.url}/v1/admin/faults", json=faults, timeout=10,
                      headers={"Authorization": f"Bearer {target.admin_token}"}).raise_for_status()
            run_dir = tmp / label
            done = _slogate("run", str(scenario), "--out", str(run_dir), "--release", label)
            assert done.returncode == 0, done.stderr[-2000:]
            out.append(run_dir)
    yield out[0], out[1], slo


def _gate(run_dir: Path, history: Path, slo: Path, summary: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATE_SLOGATE": str(SLOGATE), "GITHUB_STEP_SUMMARY": str(summary)}
    return subprocess.run(
        ["bash", str(GATE), str(run_dir), "--history", str(history), "--slo", str(slo)],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )


def test_gate_passes_a_first_run_then_fails_an_injected_regression(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    v1, v2, slo = runs
    history, summary = tmp_path / "history", tmp_path / "summary.md"

    first = _gate(v1, history, slo, summary)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert "nothing to compare against" in first.stdout
    assert "recorded" in first.stdout
    index = json.loads((history / "history.json").read_text())
    assert [(e["label"], e["passed"]) for e in index["entries"]] == [("v1", True)]

    second = _gate(v2, history, slo, summary)
    assert second.returncode == 1, second.stdout[-3000:] + second.stderr[-2000:]
    comparison = json.loads((v2 / "comparison.json").read_text())
    assert comparison["outcome"] == "regression"
    assert comparison["baseline"]["release"] == "v1"
    latency = next(m for m in comparison["metrics"] if m["metric"] == "latency")
    assert latency["change"] == "worse", latency
    assert latency["change_pct_ci"]["low"] > 10.0
    assert "regression" in (v2 / "comparison.junit.xml").read_text()

    index = json.loads((history / "history.json").read_text())
    assert [(e["label"], e["passed"]) for e in index["entries"]] == [("v1", True), ("v2", False)]
    text = summary.read_text()
    assert "Regression" in text and "v2 vs v1" in text
    assert "## Trend" in (v2 / "comparison.md").read_text()


def test_the_faster_release_is_reported_as_an_improvement(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """The same two records the other way round (in-process: the CLI path is tested above)."""
    v1, v2, _ = runs
    outcome = run_compare(CompareRequest(candidate=v1, baseline=v2, settings=CompareSettings(),
                                         out=tmp_path), now=0.0)
    assert outcome.exit_code == 0 and outcome.comparison is not None
    assert outcome.comparison.outcome is Outcome.IMPROVEMENT
    latency = next(m for m in outcome.comparison.metrics if m.metric == "latency")
    assert latency.change is Change.BETTER
    assert latency.change_pct_ci is not None and latency.change_pct_ci.high < -10.0
    assert (tmp_path / "comparison.html").exists()
