"""End to end on the real evaluator: run record -> slogate's own verdict -> claims -> reports.

The golden tests use a hand-written verdict; this one proves the reports read what
``slo.evaluate_run`` really writes, and that the SLO file's selections reach the claims.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from foundation.layout import RunLayout
from reports.render import render_all
from slo.evaluate_run import EvaluateRequest, evaluate_run

SLO = """\
name: pipeline
window: 30d
objectives:
  - name: http-availability
    sli: availability
    target: 99.5
    select: {kind: http}
  - name: http-p95
    sli: latency
    percentile: 95
    threshold_ms: 500
    corrected: true
    select: {kind: http}
  - name: ws-drop-rate
    sli: ws_drop_rate
    threshold_percent: 1
  - name: ws-message-p95
    sli: latency
    percentile: 95
    threshold_ms: 3000
    select: {kind: ws_message}
  - name: everything-p99
    sli: latency
    percentile: 99
    threshold_ms: 60000
"""


def test_reports_from_the_real_verdict(record: Callable[[str], Path], tmp_path: Path) -> None:
    run = shutil.copytree(record("mixed"), tmp_path / "run")
    layout = RunLayout(run)
    layout.verdict_json.unlink()
    layout.server_json.unlink()
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    outcome = evaluate_run(EvaluateRequest(run_dir=run, slo_path=slo))
    assert outcome.verdict_path == layout.verdict_json

    paths = render_all(run)
    data = json.loads(paths["json"].read_text())
    claims = {c["id"]: c for c in data["readiness"]["claims"]}
    by_name = {o["name"]: o for o in data["verdict"]["objectives"]}
    # claim 6 is judged on the evaluator's own numbers, with the corrected P95
    assert claims[6]["tests"] == ["http-availability", "http-p95"]
    assert f"{by_name['http-availability']['value']:.2f} %" in claims[6]["measured"]
    assert "(corrected)" in claims[6]["measured"]
    # the SLO file says everything-p99 covers every kind, so it is not a WebSocket objective
    assert claims[1]["tests"] == ["ws-drop-rate", "ws-message-p95"]
    assert claims[1]["status"] == "passed"
    assert claims[8]["status"] == "not_verified"  # server.json removed
    assert "server.json" in claims[8]["evidence"]
    md = paths["md"].read_text()
    assert md.splitlines()[0].startswith("# ❌ NO-GO")
    assert "## SLO objectives (pipeline)" in md
