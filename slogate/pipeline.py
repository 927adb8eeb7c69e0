"""``slogate run`` end to end: load -> cross-check -> verdict -> reports -> exit code.

The composition root's one pipeline. Each stage is a room's public function working on the
run directory, so any stage can also be re-run alone (``slogate evaluate``, ``slogate
report``). The only thing wired *during* the load is the target's own metrics: the runner
owns the target's lifetime, so a :class:`MetricsObserver` takes the "before" and "after"
measurements through the runner's observer hook while the target is surely up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from foundation.errors import EXIT_INCOMPLETE, HarnessError
from foundation.layout import RunLayout, RunStatus
from reports.load import load_report_data
from reports.render import render_data
from scenarios.record import StreamTail
from scenarios.runner import RunOutcome, RunRequest, run_scenario
from slo.abort import ABORT_COLUMNS, BurnWatch, abort_rules
from slo.alert_history import (
    ALERTS_JSON,
    AlertRecord,
    firings_from_range,
    rule_infos,
    write_alert_record,
)
from slo.alerts import AlertPlan, build_rules
from slo.claims import Readiness
from slo.evaluate_run import CATALOG_DIR, DEFAULT_SLO, EvaluateOutcome, EvaluateRequest, evaluate_run
from slo.server import ServerRecord
from slo.sources import LocalPrometheus, PrometheusSource, ScrapeSource, Window
from slo.spec.load import SloSpec, load_slo
from slo.spec.model import CrossCheckConfig

__all__ = ["AbortCheck", "MetricsObserver", "PipelineOutcome", "PipelineRequest", "run_pipeline"]


@dataclass(frozen=True, slots=True)
class PipelineRequest:
    """A run plus how to judge and report it.

    ``prometheus``: ``None`` scrapes the target's ``/metrics`` before and after the load;
    ``"local"`` starts a real Prometheus server scraping every second; a URL uses a
    Prometheus the user runs. ``cross_check=False`` skips server metrics entirely (a foreign
    target without Prometheus metrics).
    """

    run: RunRequest
    prometheus: str | None = None
    cross_check: bool = True
    formats: tuple[str, ...] = ("html", "md", "json", "junit")
    slo_path: Path | None = None


@dataclass(frozen=True, slots=True)
class PipelineOutcome:
    run: RunOutcome
    evaluation: EvaluateOutcome | None
    reports: dict[str, Path] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    exit_code: int = EXIT_INCOMPLETE
    readiness: Readiness | None = None
    """The readiness decision the reports show (None when nothing was judged)."""


class _Captured:
    """A metrics source answering with what was measured while the target was up."""

    def __init__(self, record: ServerRecord) -> None:
        self._record = record

    def measure(self, config: CrossCheckConfig, window: Window) -> ServerRecord:
        return self._record


class MetricsObserver:
    """Measures the target's own metrics around the load (runner hook, see TargetObserver)."""

    def __init__(self, config: CrossCheckConfig, prometheus: str | None,
                 alerts: AlertPlan | None = None) -> None:
        self.config = config
        self.prometheus = prometheus
        self.alerts = alerts  # burn-rate rules for a local Prometheus (slo.alerts)
        self._run_dir: Path | None = None
        self.record: ServerRecord | None = None
        self.error: str | None = None
        self._scrape: ScrapeSource | None = None
        self._local: LocalPrometheus | None = None
        self._source: PrometheusSource | None = None
        self._start = 0.0

    def target_ready(self, url: str, run_dir: Path) -> None:
        self._start = time.time()
        if self.prometheus is None:
            scrape = ScrapeSource(url)
            try:
                scrape.start()
            except HarnessError as exc:  # a target without /metrics: judge the client side only
                self.error = f"{exc} (pass --no-cross-check for a target without Prometheus metrics)"
                return
            self._scrape = scrape
            return
        prometheus_url = self.prometheus
        if self.prometheus == "local":
            self._run_dir = run_dir
            self._local = LocalPrometheus(run_dir, url, rule_files=self._rule_files(run_dir))
            self._local.start()
            self._local.wait_until_scraped()
            prometheus_url = self._local.url
        self._source = PrometheusSource(prometheus_url)
        # The window starts one scrape interval after a scrape that saw the target as it is
        # now: the "before" instant (start - interval) then holds the reachability probe and
        # tenant provisioning, which the client does not record either. No load runs yet.
        self._source.wait_for_scrape_after(time.time())
        time.sleep(self._source.scrape_interval_s)
        self._start = time.time()

    def load_finished(self) -> None:
        window = Window(self._start, time.time())
        try:
            if self._scrape is not None:
                self._scrape.stop()
                self.record = self._scrape.measure(self.config, window)
            elif self._source is not None:
                self.record = self._source.measure(self.config, window)
                self._record_alerts(window)
        except HarnessError as exc:  # a cross-check that cannot run is a finding, not a crash
            self.error = str(exc)

    def _rule_files(self, run_dir: Path) -> tuple[Path, ...]:
        if self.alerts is None:
            return ()
        path = run_dir / "prometheus" / "slogate-alerts.rules.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.alerts.rules_yaml(), encoding="utf-8")
        return (path,)

    def _record_alerts(self, window: Window) -> None:
        """What the loaded burn-rate rules did over the run -> alerts.json (docs/slo.md)."""
        if self.alerts is None or self._source is None or self._run_dir is None:
            return
        end = window.end + self._source.scrape_interval_s
        notes: list[str] = []
        try:
            result = self._source.range_query('ALERTS{alertstate="firing"}', window.start, end)
        except HarnessError as exc:  # the cross-check stands; the alerts are unknown
            result, notes = [], [f"the alerts could not be read: {exc}"]
        write_alert_record(AlertRecord(
            url=self._source.url, start=window.start, end=end,
            duration_s=self.alerts.duration_s, rules_file="prometheus/slogate-alerts.rules.yml",
            rules=rule_infos(self.alerts), firings=firings_from_range(result, 1.0, end),
            notes=notes,
        ), self._run_dir / ALERTS_JSON)

    def close(self) -> None:
        if self._local is not None:
            self._local.stop()

    def captured(self) -> _Captured | None:
        return _Captured(self.record) if self.record is not None else None


class AbortCheck:
    """The runner's once-a-second live check for ``abort_on`` objectives (slo/abort.py):
    reads only the samples flushed since the last call, returns a reason to stop or None."""

    def __init__(self, watch: BurnWatch) -> None:
        self.watch = watch
        self._tail: StreamTail | None = None

    def __call__(self, run_dir: Path) -> str | None:
        if self._tail is None:
            self._tail = StreamTail(run_dir)
        table = self._tail.read_new(ABORT_COLUMNS)
        if table is not None:
            self.watch.feed(table)
        fired = self.watch.check(time.time())
        return None if fired is None else fired.reason


def run_pipeline(request: PipelineRequest) -> PipelineOutcome:
    """Run, judge and report. Reports are written for aborted runs too: they say so."""
    slo_path = request.slo_path or _scenario_slo(request.run)
    observer: MetricsObserver | None = None
    spec = load_slo(slo_path)
    if request.cross_check:
        observer = MetricsObserver(spec.cross_check, request.prometheus,
                                   _alert_plan(spec, request))
    run = _with_observer(request.run, observer)
    rules = abort_rules(spec.objectives)
    if rules and run.live_check is None:
        run = replace(run, live_check=AbortCheck(BurnWatch(rules)))
    outcome = run_scenario(run)
    notes: list[str] = []
    if observer is not None and observer.error:
        notes.append(f"cross-check skipped: {observer.error}")
    evaluation = evaluate_run(
        EvaluateRequest(
            run_dir=outcome.run_dir,
            slo_path=slo_path,
            allow_incomplete=outcome.status is not RunStatus.FAILED,
            source=observer.captured() if observer is not None else None,
        )
    ) if _has_samples(outcome) else None
    if evaluation is None:
        notes.append("no samples were recorded, so nothing could be judged")
    reports: dict[str, Path] = {}
    readiness: Readiness | None = None
    if evaluation is not None:  # loaded once: the reports and the terminal summary agree
        data = load_report_data(outcome.run_dir)
        reports = render_data(data, request.formats, "sre", outcome.run_dir)
        readiness = data.readiness
    code = EXIT_INCOMPLETE if not outcome.ok or evaluation is None else evaluation.exit_code
    if evaluation is not None and evaluation.verdict.abort is not None:
        code = evaluation.exit_code  # stopped by abort_on: a failed gate (1), see exit_code_for
    return PipelineOutcome(outcome, evaluation, reports, tuple(notes), code, readiness)


def _scenario_slo(run: RunRequest) -> Path:
    """The scenario's ``slo:`` file; else the reference target's default SLO for the
    embedded target, and the generic HTTP SLO for any other target (whose API and
    WebSocket protocol the reference SLOs know nothing about)."""
    if run.scenario.slo_path is not None:
        return run.scenario.slo_path
    embedded = run.target is None and run.scenario.scenario.target == "embedded"
    return DEFAULT_SLO if embedded else CATALOG_DIR / "http.yaml"


def _alert_plan(spec: SloSpec, request: PipelineRequest) -> AlertPlan | None:
    """Burn-rate rules for the local Prometheus, windows scaled to the judged run (the
    load after warm-up) exactly as ``slogate evaluate`` scales its replay."""
    if request.prometheus != "local":
        return None
    scenario = request.run.scenario.scenario
    load_s = request.run.duration_s or scenario.total_duration()
    plan = build_rules(spec, duration_s=max(1.0, load_s - scenario.warmup))
    return plan if plan.objectives else None


def _with_observer(run: RunRequest, observer: MetricsObserver | None) -> RunRequest:
    return replace(run, observer=observer)


def _has_samples(outcome: RunOutcome) -> bool:
    samples = RunLayout(outcome.run_dir).samples_dir
    return samples.is_dir() and any(samples.iterdir())
