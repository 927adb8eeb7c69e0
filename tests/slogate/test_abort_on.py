"""``abort_on`` end to end: a real target starts failing (error-rate fault set through
``PUT /v1/admin/faults`` mid-run), the live burn-rate check stops the run, the verdict says
why, and the exit code is 1 (a failed gate).

Timing is measured from the run record's own timestamps: the first bad send vs the instant
the check fired (run.json ``stopped_early.at``), which must be within the window plus one
second (the check runs once a second on samples flushed about once a second).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from foundation.errors import EXIT_GATE_FAILED
from foundation.layout import RunStatus
from scenarios.record import read_samples
from scenarios.runner import RunRequest
from scenarios.runner.cleanup import child_pids
from scenarios.spec import parse_scenario
from slogate.pipeline import PipelineRequest, run_pipeline
from target_service.embedded import EmbeddedTargetOptions, start_embedded_target

WINDOW_S = 4.0
SLO = f"""\
objectives:
  - name: avail
    sli: availability
    target: 99
    min_events: 10
    select: {{kind: http}}
    abort_on: {{burn_rate: 14.4, window: {WINDOW_S:g}s, min_events: 20}}
"""


@pytest.mark.slow
def test_abort_on_burn_stops_the_run_within_the_window(tmp_path: Path) -> None:
    before = child_pids()
    with start_embedded_target(EmbeddedTargetOptions(data_dir=tmp_path / "target")) as target:
        scenario = parse_scenario(
            f"target: {target.url}\nduration: 60s\nload: {{model: open, rate: 40}}\n"
            "http:\n  - {name: health, method: GET, path: /healthz}\n"
        )
        slo = tmp_path / "slo.yaml"
        slo.write_text(SLO)

        stop = threading.Event()

        def break_target() -> None:
            """Once the load has flushed samples for ~3 s, make every /healthz fail."""
            samples = tmp_path / "run" / "samples"
            while not stop.is_set() and not any(
                    p.stat().st_size > 0 for p in samples.glob("worker-*.arrows")):
                stop.wait(0.2)  # polling the run directory: there is no event to wait on
            if not stop.wait(3.0):
                httpx.put(f"{target.url}/v1/admin/faults", timeout=10.0,
                          headers={"Authorization": f"Bearer {target.admin_token}"},
                          json={"error_rate": 1.0, "error_route": "/healthz"}).raise_for_status()

        breaker = threading.Thread(target=break_target, daemon=True)
        breaker.start()
        try:
            outcome = run_pipeline(PipelineRequest(
                run=RunRequest(scenario, out_dir=tmp_path / "run"), slo_path=slo,
                cross_check=False, formats=("json",),
            ))
        finally:
            stop.set()
            breaker.join(timeout=15.0)
    run_dir = tmp_path / "run"
    info = json.loads((run_dir / "run.json").read_text())
    assert outcome.run.status is RunStatus.ABORTED
    assert "abort_on: objective 'avail'" in info["reason"]
    assert outcome.exit_code == EXIT_GATE_FAILED
    table = read_samples(run_dir, columns=["ts", "ok", "kind"])
    ts = table.column("ts").to_numpy()
    ok = table.column("ok").to_numpy(zero_copy_only=False)
    first_bad = float(ts[~ok].min())
    fired = info["stopped_early"]["at"]
    assert first_bad < fired <= first_bad + WINDOW_S + 1.0
    assert float(ts.max()) < first_bad + 30.0  # stopped long before the planned 60 s
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["status"] == "fail"
    assert verdict["abort"]["objective"] == "avail" and verdict["abort"]["burn_rate"] >= 14.4
    assert verdict["abort"]["window_s"] == WINDOW_S
    assert np.count_nonzero(ok & (ts < first_bad)) > 40  # the load ran healthy first
    assert child_pids() == before
