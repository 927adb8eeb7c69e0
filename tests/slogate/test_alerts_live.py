"""A run with ``--prometheus local`` loads the SLO file's burn-rate rules into its Prometheus;
a fault set mid-run on the embedded target makes the fast page alert fire, and undoing it
makes it resolve -- both recorded in ``alerts.json`` (and, for the error fault, shown in the
report).

Timeline (40 s of load, no warm-up): the rules are scaled for 40 s, so ``page-1h`` compares a
40 s window with a 4 s one (3.3 s, raised to four scrape intervals) at 14.4 x the budget.

- Error fault (PUT /v1/admin/faults from the progress feed): every ``/v1/runs*`` request
  fails from ~10 s to ~22 s against a 0.5 % budget.
- Latency fault (the scenario's own ``faults:`` timeline): ``POST /v1/runs`` takes 400 ms
  more from 10 s to 22 s against a p99 < 300 ms objective selected by that name: budget 1 %,
  so the page needs 14.4 % of the requests over the 284.9 ms bucket in both windows.

Either page must fire after the fault starts and resolve after it ends (the 4 s window
empties), before the load ends.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import target_service.embedded as embedded
from foundation.layout import RunStatus
from scenarios.runner import RunProgress, RunRequest
from scenarios.runner.cleanup import child_pids
from scenarios.spec import parse_scenario
from slo.alert_history import ALERTS_JSON, read_alert_record
from slogate.pipeline import PipelineRequest, run_pipeline

SCENARIO = """\
target: embedded
duration: 40s
load: {model: closed, users: 6, think_time: [0.1s, 0.3s]}
tenants: {team: 2}
"""

SLO = """\
objectives:
  - {name: avail, sli: availability, target: 99.5, min_events: 10, select: {kind: http}}
"""

FAULT_ON_S, FAULT_OFF_S = 10.0, 22.0


class FaultDriver:
    """Sets and clears the error fault on the run's embedded target from the progress feed."""

    def __init__(self) -> None:
        self.target: Any = None
        self.on_at: float | None = None
        self.off_at: float | None = None
        self.errors: list[str] = []

    def capture(self, original: Any) -> Any:
        def start(*args: Any, **kwargs: Any) -> Any:
            self.target = original(*args, **kwargs)
            return self.target
        return start

    def _put(self, body: dict[str, Any]) -> float:
        r = httpx.put(f"{self.target.url}/v1/admin/faults", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {self.target.admin_token}"})
        if r.status_code != 200:
            self.errors.append(f"{r.status_code} {r.text}")
        return time.time()

    def progress(self, p: RunProgress) -> None:
        if p.phase != "running" or self.target is None:
            return
        if self.on_at is None and p.elapsed_s >= FAULT_ON_S:
            self.on_at = self._put({"error_rate": 1.0, "error_route": "/v1/runs*"})
        elif self.on_at is not None and self.off_at is None and p.elapsed_s >= FAULT_OFF_S:
            self.off_at = self._put({})


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("prometheus") is None,
                    reason="Debian package prometheus not installed (scripts/services.sh)")
def test_error_fault_fires_and_resolves_the_page_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = child_pids()
    driver = FaultDriver()
    monkeypatch.setattr(embedded, "start_embedded_target",
                        driver.capture(embedded.start_embedded_target))
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    run_dir = tmp_path / "run"
    # the progress callback runs on the runner's loop: the PUTs go out from a thread
    feed = RunRequest(parse_scenario(SCENARIO), out_dir=run_dir,
                      progress=lambda p: threading.Thread(target=driver.progress,
                                                          args=(p,)).start())
    outcome = run_pipeline(PipelineRequest(run=feed, prometheus="local", slo_path=slo))
    assert outcome.run.status is RunStatus.COMPLETE, outcome.run.reason
    assert driver.errors == [] and driver.on_at and driver.off_at

    rules = (run_dir / "prometheus" / "slogate-alerts.rules.yml").read_text()
    assert "windows scaled for a run of 40s" in rules
    assert "ratio_rate40s" in rules and "ratio_rate4s" in rules
    record = read_alert_record(run_dir / ALERTS_JSON)
    assert {r.rule for r in record.rules} == {"page-1h", "page-6h", "ticket-3d"}
    pages = [f for f in record.firings if f.rule == "page-1h"]
    assert pages, f"page-1h never fired: {record.firings}"
    first = pages[0]
    # fired after the fault began (within the evaluation and scrape lag), and resolved after
    # it ended, before the load's end -- never before the errors stopped
    assert driver.on_at - 1.0 <= first.fired_at <= driver.off_at
    assert first.resolved_at is not None and driver.off_at <= first.resolved_at <= record.end
    assert all(f.fired_at >= driver.on_at - 1.0 for f in record.firings)

    report = json.loads((run_dir / "report.json").read_text())
    # both pages may fire in one evaluation on a loaded machine: the order is not the point
    assert "page-1h" in {f["rule"] for f in report["alerts"]["firings"]}
    html = (run_dir / "report.html").read_text()
    assert 'id="alerts"' in html and "page-1h" in html and "did not fire" not in html.split(
        "page-1h")[1].split("</tr>")[0]
    md = (run_dir / "report.md").read_text()
    assert "## SLO burn-rate alerts" in md
    assert child_pids() == before  # target, workers and Prometheus all stopped


LATENCY_SCENARIO = """\
target: embedded
duration: 40s
load: {model: closed, users: 6, think_time: [0.1s, 0.3s]}
tenants: {team: 2}
faults:
  - name: slow runs
    at: 10s
    for: 12s
    target: {latency: [{route: /v1/runs, ms: 400}]}
"""

LATENCY_SLO = """\
objectives:
  - name: create-p99
    sli: latency
    percentile: 99
    threshold_ms: 300
    select: {kind: http, name: POST /v1/runs}
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("prometheus") is None,
                    reason="Debian package prometheus not installed (scripts/services.sh)")
def test_latency_fault_fires_and_resolves_the_latency_page_alert(tmp_path: Path) -> None:
    before = child_pids()
    slo = tmp_path / "slo.yaml"
    slo.write_text(LATENCY_SLO)
    run_dir = tmp_path / "run"
    feed = RunRequest(parse_scenario(LATENCY_SCENARIO), out_dir=run_dir)
    outcome = run_pipeline(PipelineRequest(run=feed, prometheus="local", slo_path=slo))
    assert outcome.run.status is RunStatus.COMPLETE, outcome.run.reason
    info = json.loads((run_dir / "run.json").read_text())
    (fault,) = info["faults"]
    on_at, off_at = fault["started_at"], fault["ended_at"]
    assert on_at and off_at, fault

    rules = (run_dir / "prometheus" / "slogate-alerts.rules.yml").read_text()
    # the name became label matchers; the 300 ms threshold fell to the 284.9 ms bucket
    assert 'method=~"POST",route=~"/v1/runs"' in rules and 'le="0.284904"' in rules
    assert "conservative" in rules
    record = read_alert_record(run_dir / ALERTS_JSON)
    assert {(r.slo, r.rule) for r in record.rules} == {
        ("create-p99", "page-1h"), ("create-p99", "page-6h"), ("create-p99", "ticket-3d")}
    pages = [f for f in record.firings if f.rule == "page-1h" and f.slo == "create-p99"]
    during = [f for f in pages if on_at - 1.0 <= f.fired_at <= off_at]
    assert during, f"page-1h did not fire during the fault: {record.firings}"
    # resolved after the slow requests stopped (the 4 s window empties), before the end
    first = during[0]
    assert first.resolved_at is not None and off_at <= first.resolved_at <= record.end
    # Before the fault, only a start-up blip that resolved before it may have paged: on a
    # loaded machine the first requests meet a cold target while every window holds a few
    # seconds of data (rules have no minimum-events guard, the replay in verdict.json waits
    # for a full window) -- never a page that ran on into the fault.
    early = [f for f in pages if f.fired_at < on_at - 1.0]
    assert all(f.resolved_at is not None and f.resolved_at <= on_at + 1.0 for f in early), pages
    report = json.loads((run_dir / "report.json").read_text())
    assert "page-1h" in {f["rule"] for f in report["alerts"]["firings"]}
    assert child_pids() == before  # target, workers and Prometheus all stopped
