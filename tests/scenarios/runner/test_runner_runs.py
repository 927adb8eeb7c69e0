"""Short real runs: real Locust workers and swarm shards, a real server, real files.

Each run lasts seconds. What they prove: the run record is complete and exact for a clean
run; a killed worker, the hard cap and the disk budget end the run ``aborted`` with every
sample written so far; nothing the run started is left running.
"""

from __future__ import annotations

import signal
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from foundation.errors import TargetError
from foundation.layout import RunLayout, RunStatus
from scenarios.record import read_samples, read_timeseries
from scenarios.runner import RunProgress, RunRequest, run_scenario
from scenarios.runner.cleanup import child_pids
from scenarios.spec import parse_scenario

pytestmark = pytest.mark.slow


def _scenario(base_url: str, body: str) -> str:
    return f"target: {base_url}\n" + body


def _kinds(run_dir: Path) -> dict[str, int]:
    kinds = read_samples(run_dir, columns=["kind"]).column("kind").to_pylist()
    return dict(Counter(kinds))


def test_clean_run_against_a_foreign_server(foreign_server: str, tmp_path: Path) -> None:
    text = _scenario(
        foreign_server,
        "duration: 3s\nload: {model: open, rate: 20}\n"
        "http:\n  - name: ping\n    method: GET\n    path: /ping\n"
        "websocket: {sessions: 10, protocol: echo, path: /echo, prompt_interval: 0.5s}\n",
    )
    seen: list[RunProgress] = []
    before = child_pids()
    outcome = run_scenario(
        RunRequest(parse_scenario(text), out_dir=tmp_path / "run", release="t1", progress=seen.append)
    )
    assert outcome.status is RunStatus.COMPLETE, outcome.reason
    layout = RunLayout(outcome.run_dir)
    info = layout.read_info()
    assert info.status is RunStatus.COMPLETE and info.release == "t1"
    assert info.target_url == foreign_server and info.ended_at is not None
    assert info.workers == 2 and info.model_extra is not None
    assert info.model_extra["worker_exit_codes"] == {"0": 0, "1": 0}
    kinds = _kinds(outcome.run_dir)
    # open model, constant arrivals: 20/s for 3 s is 60 requests (one either side for edges)
    assert abs(kinds["http"] - 60) <= 1, kinds
    assert kinds["ws_connect"] == 10
    assert kinds["ws_message"] >= 10
    assert all(read_samples(outcome.run_dir, columns=["ok"]).column("ok").to_pylist())
    assert info.model_extra["samples"] == sum(kinds.values())
    assert sorted(p.name for p in layout.samples_dir.iterdir()) == ["part-0.parquet", "part-1.parquet"]
    ts = read_timeseries(outcome.run_dir)
    assert ts is not None and ts.num_rows >= 3
    # Row contents are checked exactly in the unit tests; here, on a shared 2-core machine,
    # a 3 s run's sessions may fall between two 1 s samples, so only bounds are certain.
    assert max(ts.column("ws_sessions").to_pylist()) <= 10
    assert ts.column_names[:4] == ["ts", "elapsed_s", "http_users", "ws_sessions"]
    assert info.disk_bytes is not None and info.disk_bytes > 0
    assert any(p.phase == "running" and p.operations > 0 for p in seen)
    assert info.scenario["resolved"]["http"]["stages"] == [
        {"duration_s": 3.0, "users": None, "rate": 20.0, "ramp": False}
    ]
    assert child_pids() == before


def _kill_http_worker_once(state: dict[str, float]) -> Callable[[RunProgress], None]:
    """Progress callback: SIGKILL the HTTP worker 3 s after its users became active."""

    def progress(p: RunProgress) -> None:
        if "killed" in state or p.phase != "running" or not p.http_users:
            return
        state.setdefault("http_active_at", p.elapsed_s)
        if p.elapsed_s - state["http_active_at"] < 3.0:
            return
        for child in psutil.Process().children(recursive=True):
            if "scenarios.http.worker" in " ".join(child.cmdline()):
                child.send_signal(signal.SIGKILL)
                state["killed"] = p.elapsed_s

    return progress


def test_killed_worker_aborts_the_run_and_keeps_its_samples(
    foreign_server: str, tmp_path: Path
) -> None:
    text = _scenario(
        foreign_server,
        "duration: 30s\nload: {model: open, rate: 20}\nhttp: [{name: ping, path: /ping}]\n"
        "websocket: {sessions: 5, protocol: echo, path: /echo, prompt_interval: 0.5s}\n",
    )
    state: dict[str, float] = {}
    before = child_pids()
    started = time.monotonic()
    outcome = run_scenario(
        RunRequest(parse_scenario(text), out_dir=tmp_path / "run",
                   progress=_kill_http_worker_once(state))
    )
    assert "killed" in state
    assert time.monotonic() - started < 25  # ended by the crash, not by the plan
    assert outcome.status is RunStatus.ABORTED
    assert "worker 0 was killed by SIGKILL" in outcome.reason
    layout = RunLayout(outcome.run_dir)
    assert layout.read_info().status is RunStatus.ABORTED
    # the crashed worker's stream was recovered into a part; nothing is left half-written
    assert layout.part_path(0).exists() and not layout.stream_path(0).exists()
    kinds = _kinds(outcome.run_dir)
    assert kinds["http"] >= 20  # >= 2 s of flushed 1 s chunks (20/s) survive the SIGKILL
    assert kinds["ws_connect"] == 5  # the shard was stopped cleanly and kept everything
    assert child_pids() == before


def test_hard_cap_ends_the_run_aborted(foreign_server: str, tmp_path: Path) -> None:
    # WebSocket only: a shard starts in about a second, so samples exist well before the cap
    text = _scenario(
        foreign_server,
        "duration: 60s\nwebsocket: {sessions: 3, protocol: echo, path: /echo, "
        "prompt_interval: 0.5s}\nlimits: {max_duration: 12s}\n",
    )
    before = child_pids()
    started = time.monotonic()
    outcome = run_scenario(RunRequest(parse_scenario(text), out_dir=tmp_path / "run"))
    assert time.monotonic() - started < 40  # the cap, not the 60 s plan, ended it
    assert outcome.status is RunStatus.ABORTED
    assert "hard duration cap of 12 s" in outcome.reason
    kinds = _kinds(outcome.run_dir)
    assert kinds["ws_connect"] == 3 and kinds["ws_message"] >= 3
    assert child_pids() == before


def test_disk_budget_ends_the_run_aborted(foreign_server: str, tmp_path: Path) -> None:
    text = _scenario(
        foreign_server,
        "duration: 60s\nload: {model: open, rate: 5}\nhttp: [{name: ping, path: /ping}]\n"
        "limits: {disk_budget: 2KB}\n",
    )
    outcome = run_scenario(RunRequest(parse_scenario(text), out_dir=tmp_path / "run"))
    assert outcome.status is RunStatus.ABORTED
    assert "disk budget" in outcome.reason


def test_unreachable_target_fails_in_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = _scenario(
        f"http://127.0.0.1:{port}",
        "duration: 5s\nload: {model: open, rate: 5}\nhttp: [{name: ping, path: /ping}]\n",
    )
    with pytest.raises(TargetError, match="unreachable") as info:
        run_scenario(RunRequest(parse_scenario(text), out_dir=tmp_path / "run"))
    assert "\n" not in str(info.value)
    record = RunLayout(tmp_path / "run").read_info()
    assert record.status is RunStatus.FAILED and "unreachable" in record.reason


def test_remote_target_refused_before_anything_is_written(tmp_path: Path) -> None:
    text = _scenario(
        "http://10.255.255.1:80",
        "duration: 5s\nload: {model: open, rate: 5}\nhttp: [{name: ping, path: /ping}]\n",
    )
    with pytest.raises(TargetError, match="--allow-remote"):
        run_scenario(RunRequest(parse_scenario(text), out_dir=tmp_path / "run"))
    assert not (tmp_path / "run").exists()


REFERENCE = """\
target: embedded
duration: 6s
warmup: 1s
load: {model: closed, users: 3, think_time: [0.2s, 0.5s]}
tenants: {starter: 1, team: 1, enterprise: 1}
websocket:
  sessions_per_tenant: {starter: 2, team: 3, enterprise: 4}
  prompt_interval: 2s
"""


def test_short_run_against_the_embedded_reference_target(tmp_path: Path) -> None:
    before = child_pids()
    outcome = run_scenario(RunRequest(parse_scenario(REFERENCE), out_dir=tmp_path / "run"))
    assert outcome.status is RunStatus.COMPLETE, outcome.reason
    info = RunLayout(outcome.run_dir).read_info()
    extra = info.model_dump()  # typed facts and extras alike
    assert extra["provisioning"]["tenants"] == 3
    assert extra["provisioning"]["per_tier"] == {"starter": 1, "team": 1, "enterprise": 1}
    assert extra["provisioning"]["total_s"] > 0
    assert info.target_url.startswith("http://127.0.0.1:")
    samples = read_samples(outcome.run_dir, columns=["kind", "tier", "ok"]).to_pandas()
    connects = samples[samples.kind == "ws_connect"]
    assert len(connects) == 9 and connects.ok.all()
    assert connects.groupby("tier").size().to_dict() == {"enterprise": 4, "starter": 2, "team": 3}
    assert set(samples[samples.kind == "http"].tier) <= {"starter", "team", "enterprise"}
    assert (samples.kind == "http").sum() > 0
    ts = read_timeseries(outcome.run_dir)
    assert ts is not None
    assert any(v is not None and v > 0 for v in ts.column("target_rss_bytes").to_pylist())
    assert any(v is not None for v in ts.column("target_cpu_percent").to_pylist())
    assert extra["target_resources"]["source"] == "psutil"
    # provisioned tokens reach the workers (their plan file) but nothing the run leaves behind:
    # run records are shared as CI artifacts. Every token the target issues starts "sgt_".
    assert not list((outcome.run_dir / "http").glob("plan-*.json"))
    leaked = [p for p in outcome.run_dir.rglob("*") if p.is_file() and b"sgt_" in p.read_bytes()]
    assert leaked == []
    assert child_pids() == before  # the embedded target is gone too
