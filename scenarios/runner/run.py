"""``run_scenario``: drive one scenario against one target and leave a run record behind.

Order of steps, each a reason a run can end early:

1. safety check (loopback unless allowed), out dir, disk room — refused: nothing written;
2. run.json ``running``; start the embedded target if asked; is the target answering;
   provision tenants — failure: run.json ``failed`` with the reason, :class:`TargetError`;
3. start HTTP workers and swarm shards (distinct worker numbers), then loop until they finish:
   merge progress, sample ``timeseries.parquet`` each second, watch for crashed workers, the
   hard duration cap and the disk budget — run.json ``aborted`` with the reason. Workers
   end on their own when their plan is done (each plan's clock starts when its workers are
   ready, which on a busy machine can be seconds apart), so the runner never guesses an end
   time; one that does not end is caught by the cap;
4. always, in ``finally``: stop workers, kill those that outlive the grace period, recover
   crashed workers' sample streams, stop the target, kill any process the run started that
   is still alive, write the final run.json.

Ctrl-C (SIGINT) and SIGTERM end the load phase as an ``aborted`` run that keeps every sample
written so far; the caller gets a :class:`RunOutcome`, not an exception.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import pyarrow.parquet as pq

from foundation.errors import UsageError
from foundation.layout import RunInfo, RunLayout, RunStatus
from scenarios.isolation.probe import finish_probe, make_probe
from scenarios.record import finalize_stream
from scenarios.runner import cleanup
from scenarios.runner.control import check_reachable, provision_tenants
from scenarios.runner.disk import check_room_to_start, dir_bytes, human_bytes
from scenarios.runner.distributed import distributed_settings
from scenarios.runner.engines import HandleGroup, start_distributed, start_http, start_swarm
from scenarios.runner.facts import git_sha, harness_version, host_facts, new_run_id
from scenarios.runner.faulting import RunFaults
from scenarios.runner.monitor import Monitor
from scenarios.runner.plans import Tenant, build_http_plan, build_swarm_plan
from scenarios.runner.readback import accepted_http_runs, read_back, record_read_back
from scenarios.runner.request import RunOutcome, RunProgress, RunRequest
from scenarios.runner.resolved import resolved_scenario
from scenarios.runner.safety import allowed_networks, check_target_allowed
from scenarios.runner.target import TargetSession, given_tenants, open_target
from scenarios.spec import LoadedScenario

__all__ = ["run_scenario"]

_TICK_S = 0.1
_DISK_CHECK_S = 5.0
_FLUSH_S = 5.0
_SETTLE_S = 15.0  # how long runs in flight at the end of the load may take to end


def run_scenario(request: RunRequest) -> RunOutcome:
    """Run ``request.scenario``; see the module docstring for the steps and outcomes."""
    loaded = request.scenario.with_overrides(duration_s=request.duration_s, target=request.target)
    scenario = loaded.scenario
    allowed = allowed_networks(request.allowed_remote)
    for url in (scenario.target, scenario.websocket.url if scenario.websocket else None):
        if url is not None and url != "embedded":  # the target, and a WebSocket URL of its own
            check_target_allowed(url, allow_remote=request.allow_remote, allowed=allowed)
    run_id = new_run_id()
    run_dir = request.out_dir if request.out_dir is not None else Path.cwd() / "runs" / run_id
    layout = RunLayout(run_dir)
    if layout.run_json.exists():
        raise UsageError(f"{run_dir} already holds a run record; choose another --out")
    check_room_to_start(run_dir, scenario.limits.disk_budget)
    environ = request.environ if request.environ is not None else dict(os.environ)
    return _Run(request, loaded, layout, run_id, environ).execute()


class _Run:
    """One run's state; exists only inside :func:`run_scenario`."""

    def __init__(
        self,
        request: RunRequest,
        loaded: LoadedScenario,
        layout: RunLayout,
        run_id: str,
        environ: Mapping[str, str],
    ) -> None:
        self.request = request
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.layout = layout
        self.environ = environ
        self.planned_s = self.scenario.total_duration()
        limit = self.scenario.limits.max_duration
        self.cap_s = limit if limit is not None else self.planned_s * 1.25 + 30.0
        self.distributed = distributed_settings(self.scenario, request)  # None: this machine only
        self.extra: dict[str, Any] = {}
        self.elapsed = 0.0  # seconds of load so far, for the display
        self.probe_samples = 0  # health + recovery samples the runner wrote itself
        self.info = RunInfo(
            run_id=run_id,
            release=request.release,
            git_sha=git_sha(Path.cwd()),
            scenario_path=str(loaded.path) if loaded.path else None,
            slo_path=str(loaded.slo_path) if loaded.slo_path else None,
            target_url=self.scenario.target,
            started_at=time.time(),
            harness_version=harness_version(),
            host=host_facts(),
            warmup_s=self.scenario.warmup,
        )

    def _say(self, message: str) -> None:
        if self.request.progress is not None:
            self.request.progress(RunProgress("starting", 0.0, self.planned_s, message=message))

    def execute(self) -> RunOutcome:
        self.layout.samples_dir.mkdir(parents=True, exist_ok=True)
        self.layout.write_info(self.info)
        before = cleanup.child_pids()
        status, reason = RunStatus.FAILED, "the runner stopped unexpectedly"
        try:
            with _signals_interrupt():
                try:
                    status, reason = self._with_target()
                except KeyboardInterrupt:
                    status, reason = RunStatus.ABORTED, "interrupted before the load started"
        except Exception as exc:
            status, reason = RunStatus.FAILED, str(exc) or type(exc).__name__
            raise
        finally:
            with _sigint_ignored():
                strays = cleanup.stop_new_children(before)
                if strays:
                    self.extra["stray_processes_killed"] = strays
                self._finish(status, reason)
        return RunOutcome(self.layout.root, self.info)

    def _with_target(self) -> tuple[RunStatus, str]:
        if self.scenario.target == "embedded":
            self._say("starting the embedded target")
        # a claimed Redis database outlives a run that died by the run's cap and a margin
        claim_ttl_s = self.cap_s + 600.0
        with open_target(self.scenario, self.environ, self.info.run_id, claim_ttl_s) as target:
            self.info = self.info.model_copy(update={"target_url": target.url})
            probes = ["/healthz", *(r.path for r in self.scenario.http[:1]), "/"]
            check_reachable(target.url, probes)
            tenants = self._tenants(target)
            observer = self.request.observer
            try:
                if observer is not None:
                    observer.target_ready(target.url, self.layout.root)
                status, reason = self._load(target, tenants)
                if observer is not None:
                    observer.load_finished()
            finally:
                if observer is not None:
                    with _sigint_ignored():
                        observer.close()
            if status is RunStatus.COMPLETE and tenants and not self.scenario.credentials:
                self._read_back(target.url, tenants)
            return status, reason

    def _read_back(self, url: str, tenants: list[Tenant]) -> None:
        """Durability evidence after the load (claims 8 and 13); see ``readback.py``."""
        self._say("reading back every acknowledged write")
        results = read_back(url, tenants, accepted_http_runs(self.layout.root), settle_s=_SETTLE_S)
        parts = [int(p.stem.split("-", 1)[1]) for p in self.layout.samples_dir.glob("part-*.parquet")]
        record_read_back(self.layout.root, max(parts, default=-1) + 1, results, _SETTLE_S)
        self.extra["read_back"] = [
            {"tenant": r.tenant, "accepted": r.accepted, "listed": r.listed, "unfinished": r.unfinished}
            for r in results
        ]

    def _tenants(self, target: TargetSession) -> list[Tenant]:
        if self.scenario.credentials:
            return given_tenants(self.scenario, self.environ)
        if self.scenario.tenants is None or not self.scenario.tenants.counts():
            return []
        counts = self.scenario.tenants.counts()
        self._say(f"provisioning {sum(counts.values())} tenants")
        assert target.admin_token is not None  # open_target guarantees it
        done = provision_tenants(target.url, target.admin_token, counts, prefix=self.info.run_id)
        self.extra["provisioning"] = done.summary()
        return [Tenant(t.name, t.tier, t.token, "developer", t.admin_token) for t in done.tenants]

    def _load(self, target: TargetSession, tenants: list[Tenant]) -> tuple[RunStatus, str]:
        remote = self.request.allow_remote or bool(self.request.allowed_remote)
        http_plan = build_http_plan(self.scenario, target.url, tenants, allow_remote=remote)
        swarm_plan = build_swarm_plan(self.scenario, target.url, tenants, allow_remote=remote)
        self.info = self.info.model_copy(update={
            "scenario": resolved_scenario(self.scenario, http_plan, swarm_plan, self.cap_s)})
        self.layout.write_info(self.info)
        monitor = Monitor(target, self.scenario.tiers(), self.layout.timeseries)
        group = HandleGroup()
        faults = RunFaults(self.scenario, target, self.layout.root)
        status, reason = RunStatus.FAILED, "the load did not start"
        probe = None  # the isolation probe (scenarios/isolation/), when asked for
        try:
            if self.request.isolation_probe or self.scenario.isolation_probe:
                probe = make_probe(target.url, tenants, self.scenario.warmup, self.planned_s)
            self._say("starting load workers")
            if self.distributed is not None:  # the worker hosts run both plans
                dist = self.distributed
                group.add(start_distributed(http_plan, swarm_plan, self.layout.root, dist, self._say))
            if http_plan is not None and self.distributed is None:
                group.add(start_http(http_plan, self.layout.root, 0))
            if swarm_plan is not None and self.distributed is None:
                group.add(start_swarm(swarm_plan, self.layout.root, group.next_worker()))
            if probe is not None:
                probe.start()
            faults.start(group.next_worker())
            status, reason = self._drive(group, monitor, faults)
        except KeyboardInterrupt:
            status, reason = RunStatus.ABORTED, "interrupted (Ctrl-C or SIGTERM); samples so far are kept"
        finally:
            with _sigint_ignored():
                try:  # running faults are undone, and probing ends, before workers stop
                    self.extra["faults"] = faults.finish()
                    self.probe_samples = faults.samples_written
                finally:
                    status, reason = self._shutdown(group, monitor, status, reason)
                if probe is not None:
                    self._say("finishing the isolation probe")
                    aborted = status is not RunStatus.COMPLETE
                    self.extra["isolation_probe"] = finish_probe(probe, self.layout.root, aborted=aborted)
        return status, reason

    def _drive(self, group: HandleGroup, monitor: Monitor, faults: RunFaults) -> tuple[RunStatus, str]:
        t0 = time.monotonic()
        next_row, next_progress, next_disk, next_flush = t0 + 1.0, t0, t0 + 1.0, t0 + _FLUSH_S
        load_t0: float | None = None  # when the first worker reported: the load's clock
        while True:
            now = time.monotonic()
            reports = group.poll()
            if load_t0 is None and reports:
                load_t0 = now
                self.extra["load_started_at"] = time.time()
                faults.load_started(self.extra["load_started_at"])
            elapsed = self.elapsed = now - (load_t0 if load_t0 is not None else t0)
            monitor.update(reports)
            for worker, code in group.newly_exited().items():
                monitor.mark_exited(worker)
                if code != 0:
                    why = group.explain(worker) or f"worker {worker} {_exit_text(code)} during the run"
                    return RunStatus.ABORTED, why
            if group.all_exited():
                return RunStatus.COMPLETE, ""
            if now - t0 >= self.cap_s:
                return RunStatus.ABORTED, (
                    f"the hard duration cap of {self.cap_s:g} s was reached "
                    f"(planned {self.planned_s:g} s); raise limits.max_duration"
                )
            if now >= next_row:
                monitor.tick(now - t0)  # timeseries clock: since the workers were started
                next_row = _next_tick(next_row, 1.0, now)
                stop = self._live_check()
                if stop is not None:
                    return RunStatus.ABORTED, stop
            if now >= next_disk:
                used = dir_bytes(self.layout.root)
                if used > self.scenario.limits.disk_budget:
                    return RunStatus.ABORTED, (
                        f"the run record reached {human_bytes(used)}, over its disk budget of "
                        f"{human_bytes(self.scenario.limits.disk_budget)} (limits.disk_budget)"
                    )
                next_disk = _next_tick(next_disk, _DISK_CHECK_S, now)
            if now >= next_flush:
                monitor.flush()
                next_flush = _next_tick(next_flush, _FLUSH_S, now)
            if now >= next_progress and self.request.progress is not None:
                if load_t0 is None:
                    self._say("waiting for the load workers to start")
                else:
                    live = monitor.progress("running", elapsed, self.planned_s)
                    self.request.progress(replace(live, faults=faults.in_force()))
                next_progress = _next_tick(next_progress, 0.5, now)
            time.sleep(_TICK_S)

    def _live_check(self) -> str | None:
        """The request's once-a-second check (``abort_on``); its reason stops the run."""
        if self.request.live_check is None:
            return None
        reason = self.request.live_check(self.layout.root)
        if reason is not None:
            self.extra["stopped_early"] = {"at": time.time(), "reason": reason}
        return reason

    def _shutdown(
        self, group: HandleGroup, monitor: Monitor, status: RunStatus, reason: str
    ) -> tuple[RunStatus, str]:
        """Stop workers (kill after the grace period), recover streams, keep the timeseries."""
        if self.request.progress is not None:
            self.request.progress(monitor.progress("stopping", self.elapsed, self.planned_s))
        try:
            group.stop()
            left = group.wait(self.scenario.limits.stop_timeout)
            if left:
                group.kill()
                if status is RunStatus.COMPLETE:
                    status, reason = (
                        RunStatus.ABORTED,
                        (
                            f"worker(s) {', '.join(map(str, left))} did not stop within "
                            f"{self.scenario.limits.stop_timeout:g} s and were killed"
                        ),
                    )
            monitor.update(group.poll())
            group.close()
            failed = {w: c for w, c in group.exit_codes.items() if c != 0}
            if failed and status is RunStatus.COMPLETE:
                worker, code = min(failed.items())
                status, reason = RunStatus.ABORTED, f"worker {worker} {_exit_text(code)} while stopping"
        finally:
            self.extra["worker_exit_codes"] = {str(w): c for w, c in group.exit_codes.items()}
            self.info = self.info.model_copy(update={"workers": len(group.workers)})
            self.extra.update(group.facts())  # distributed: every worker host, clock offsets
            for plan in (self.layout.root / "http").glob("plan-*.json"):
                plan.unlink()  # it holds tenant tokens; run records get shared as CI artifacts
            for stream in sorted(self.layout.samples_dir.glob("worker-*.arrows")):
                finalize_stream(self.layout, int(stream.stem.split("-", 1)[1]))
            monitor.flush()
            self.extra.update(monitor.summary())
            monitor.close()
        return status, reason

    def _finish(self, status: RunStatus, reason: str) -> None:
        ended_at = time.time()
        self.extra["samples"] = _count_samples(self.layout)
        # health/recovery samples are the runner's own: a run with only those recorded no load
        if status is RunStatus.COMPLETE and self.extra["samples"] - self.probe_samples == 0:
            # Workers that exit cleanly having sent nothing must not pass for a clean run.
            status, reason = (
                RunStatus.FAILED,
                (
                    "the load workers exited cleanly but recorded no samples; see the worker "
                    "logs in the run directory"
                ),
            )
        # RunInfo is immutable: the finished run is a new, validated one (typed facts parsed)
        self.info = self.info.with_facts(**{
            **self.extra, "status": status, "reason": reason, "ended_at": ended_at,
            "schedule_slips": int(self.extra.get("schedule_slips", 0)),
            "disk_bytes": dir_bytes(self.layout.root),
        })
        self.layout.write_info(self.info)


def _next_tick(previous: float, period: float, now: float) -> float:
    """The next time on a fixed grid; after a stall, skip missed ticks instead of bunching."""
    following = previous + period
    return following if following > now else now + period


def _count_samples(layout: RunLayout) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in layout.samples_dir.glob("part-*.parquet"))


def _exit_text(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C does (main thread only: signals need it)."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """A second Ctrl-C must not cut the clean-up short and leave processes behind."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
