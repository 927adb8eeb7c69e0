"""Recovery measured on a real target: an error fault of known duration (set and undone
through ``PUT /v1/admin/faults`` at recorded instants) gives an SLI recovery within 1 s of
the truth, phases that fail only during the fault, and a per-fault budget equal to the
errors the client saw.

The ``faults`` list is written into run.json here the way the runner of branch ``faults``
writes it (same fields, docs/slo.md "Faults"); everything else is real: target, load
workers, samples, evaluation.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from foundation.layout import RunLayout, RunStatus
from scenarios.record import read_samples
from scenarios.runner import RunRequest, run_scenario
from scenarios.runner.cleanup import child_pids
from scenarios.spec import parse_scenario
from slo.evaluate_run import EvaluateRequest, evaluate_run
from target_service.embedded import EmbeddedTargetOptions, start_embedded_target

FAULT_S = 4.0
SLO = """\
objectives:
  - {name: avail, sli: availability, target: 99, min_events: 10, select: {kind: http}}
"""


@pytest.mark.slow
def test_fault_of_known_duration_recovers_within_a_second_of_the_truth(tmp_path: Path) -> None:
    before = child_pids()
    marks: dict[str, float] = {}
    run_dir = tmp_path / "run"
    with start_embedded_target(EmbeddedTargetOptions(data_dir=tmp_path / "target")) as target:
        scenario = parse_scenario(
            f"target: {target.url}\nduration: 26s\nload: {{model: open, rate: 40}}\n"
            "http:\n  - {name: health, method: GET, path: /healthz}\n"
        )
        headers = {"Authorization": f"Bearer {target.admin_token}"}
        stop = threading.Event()

        def fault() -> None:
            samples = run_dir / "samples"
            while not stop.is_set() and not any(
                    p.stat().st_size > 0 for p in samples.glob("worker-*.arrows")):
                stop.wait(0.2)  # polling the run directory: there is no event to wait on
            if stop.wait(3.0):
                return
            url = f"{target.url}/v1/admin/faults"
            marks["start"] = time.time()  # it may take effect any time during the PUT
            httpx.put(url, headers=headers, timeout=10.0,
                      json={"error_rate": 1.0, "error_route": "/healthz"}).raise_for_status()
            stop.wait(FAULT_S)
            httpx.put(url, headers=headers, timeout=10.0, json={}).raise_for_status()
            marks["end"] = time.time()  # undone for sure once the PUT has returned

        worker = threading.Thread(target=fault, daemon=True)
        worker.start()
        try:
            outcome = run_scenario(RunRequest(scenario, out_dir=run_dir))
        finally:
            worker.join(timeout=30.0)
            stop.set()
    assert outcome.status is RunStatus.COMPLETE, outcome.reason
    assert set(marks) == {"start", "end"}
    layout = RunLayout(run_dir)
    info = layout.read_info()
    info = info.with_facts(faults=[{
        "index": 0, "name": "healthz errors", "action": "target",
        "spec": {"target": {"error_rate": 1.0}}, "planned_at": 0.0, "planned_for": FAULT_S,
        "started_at": marks["start"], "ended_at": marks["end"], "status": "done", "error": "",
    }])
    layout.write_info(info)
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    evaluate_run(EvaluateRequest(run_dir, slo))
    (fault,) = json.loads(layout.verdict_json.read_text())["faults"]
    # Truth: the target stops failing the moment the fault is undone, so the SLIs are back
    # at once; what a client sees can lag by one request in flight.
    assert fault["recovered"] and 0.0 <= fault["sli_recovery_s"] <= 1.0
    phases = {p["phase"]: p["status"] for p in fault["phases"]}
    assert phases == {"before": "pass", "during": "fail", "after": "pass"}
    table = read_samples(run_dir, columns=["ts", "ok"])
    ts = table.column("ts").to_numpy()
    ok = table.column("ok").to_numpy(zero_copy_only=False)
    bad_ts = ts[~ok]
    assert bad_ts.min() >= marks["start"] - 0.5 and bad_ts.max() <= marks["end"] + 1.0
    assert fault["budgets"][0]["bad"] == int(np.count_nonzero(~ok))
    assert child_pids() == before
