"""``slogate run``'s pipeline end to end on the embedded target: load, the target's own
metrics read while it is up (a real Prometheus, or two /metrics scrapes), verdict, reports.

The cross-check must reconcile *exactly*: the reachability probe, tenant provisioning and
the durability read-back happen outside the metrics window, so every request the server
counted is one the client recorded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from foundation.layout import RunStatus
from scenarios.runner import RunRequest
from scenarios.runner.cleanup import child_pids
from scenarios.spec import parse_scenario
from slogate.pipeline import PipelineRequest, run_pipeline

SCENARIO = """\
target: embedded
duration: 6s
warmup: 1s
load: {model: closed, users: 3, think_time: [0.1s, 0.3s]}
tenants: {team: 1, enterprise: 1}
websocket:
  sessions_per_tenant: {team: 3, enterprise: 4}
  prompt_interval: 2s
"""

SLO = """\
objectives:
  - {name: avail, sli: availability, target: 99, min_events: 10, select: {kind: http}}
  - {name: db, sli: server_latency, metric: slogate_db_query_duration_seconds, percentile: 95,
     threshold_ms: 1000, min_events: 10}
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "prometheus",
    [
        pytest.param(None, id="scrape_before_and_after"),
        pytest.param("local", id="real_prometheus", marks=pytest.mark.skipif(
            shutil.which("prometheus") is None,
            reason="Debian package prometheus not installed (./test installs it: apt-get install prometheus)",
        )),
    ],
)
def test_run_is_cross_checked_judged_and_reported(tmp_path: Path, prometheus: str | None) -> None:
    before = child_pids()
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    outcome = run_pipeline(PipelineRequest(
        run=RunRequest(parse_scenario(SCENARIO), out_dir=tmp_path / "run"),
        prometheus=prometheus, slo_path=slo,
    ))
    assert outcome.run.status is RunStatus.COMPLETE, outcome.run.reason
    assert outcome.exit_code == 0 and outcome.notes == ()
    server = json.loads((tmp_path / "run" / "server.json").read_text())
    assert server["source"] == ("prometheus" if prometheus else "scrape")
    mismatches = [f["message"] for f in server["findings"] if f["kind"] == "count_mismatch"]
    assert mismatches == [] and server["notes"] == []
    rows = {(r["operation"], r["status"]): r for r in server["reconciliation"]}
    assert rows[("POST /v1/runs", 202)]["client"] == rows[("POST /v1/runs", 202)]["server"] > 0
    verdict = json.loads((tmp_path / "run" / "verdict.json").read_text())
    assert {o["name"]: o["status"] for o in verdict["objectives"]} == {"avail": "pass", "db": "pass"}
    assert set(outcome.reports) == {"html", "md", "json", "junit"}
    assert all(path.exists() for path in outcome.reports.values())
    assert child_pids() == before  # target, workers and Prometheus all stopped
