"""Shard processes through the runner's API: exact merge, stop, SIGKILL, stdin EOF.

Every test waits on the shards' own signals (progress lines, exit codes), never on sleeps.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foundation.layout import RunLayout
from scenarios.progress import ProgressReport, kind_histogram, merge_reports
from scenarios.record import finalize_stream, read_samples, read_stream
from scenarios.swarm import SessionGroup, SwarmHandle, SwarmPlan, start_swarm

from .wsservers import Behaviour, SlogateServer

MakeServer = Callable[[Behaviour], SlogateServer]


def plan_for(server: SlogateServer, **kw: Any) -> SwarmPlan:
    groups = (
        SessionGroup("ent", tier="enterprise", tenant="t-ent", token="k-ent",
                     sessions=kw.pop("ent", 8), prompt_interval_s=kw.pop("interval", 0.05),
                     prompts_per_session=kw.pop("prompts", 4)),
        SessionGroup("team", tier="team", tenant="t-team", token="k-team", sessions=4,
                     prompt_interval_s=0.05, prompts_per_session=4),
    )  # fmt: skip
    kw.setdefault("duration_s", 2.0)
    return SwarmPlan(url=server.thread.url(), groups=groups, connect_rate=200.0, seed=3, **kw)


def server_for(make: MakeServer, **kw: Any) -> SlogateServer:
    return make(Behaviour(tokens={"k-ent": "t-ent", "k-team": "t-team"}, **kw))


def wait_for_report(
    handle: SwarmHandle, ready: Callable[[list[ProgressReport]], bool], timeout: float = 30.0
) -> list[ProgressReport]:
    """Block until the shards' reports satisfy ``ready``; the shards report once a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reports = handle.poll()
        if ready(reports):
            return reports
        codes = handle.wait(timeout=0.1)  # doubles as the pause between polls
        assert not any(c is not None and c != 0 for c in codes.values()), codes
    raise AssertionError(f"shards never reported the expected progress: {handle.poll()}")


def test_two_shards_merge_exactly(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = server_for(slogate_server)
    plan = plan_for(server, shards=2)
    with start_swarm(plan, tmp_path, first_worker=10) as handle:
        assert handle.workers == [10, 11]
        codes = handle.wait(timeout=30.0)  # they stop by themselves at duration_s
        reports = handle.poll()
    assert codes == {10: 0, 11: 0}
    table = read_samples(tmp_path)
    rows = table.to_pylist()
    layout = RunLayout(tmp_path)
    assert layout.part_path(10).exists() and layout.part_path(11).exists()
    assert not layout.stream_path(10).exists() and not layout.stream_path(11).exists()

    # What the server saw, exactly, tenant by tenant.
    msgs = collections.Counter(r["tenant"] for r in rows if r["kind"] == "ws_message")
    assert msgs == server.tally.prompts == {"t-ent": 32, "t-team": 16}
    assert server.tally.connections == {"t-ent": 8, "t-team": 4}
    # Each shard did its half, and the merged record is the sum of the shards.
    per_worker = collections.Counter((r["worker"], r["kind"]) for r in rows)
    assert per_worker[(10, "ws_connect")] == per_worker[(11, "ws_connect")] == 6
    assert per_worker[(10, "ws_message")] + per_worker[(11, "ws_message")] == 48
    # The final reports are the shards' complete counts, and they add up to the record.
    assert all(r.done for r in reports) and {r.worker for r in reports} == {10, 11}
    total = merge_reports(reports)
    assert total.operations == 48 and total.errors == 0
    assert total.latency.total == 48
    # first tokens travel in their own histogram (the live WS figure), one per answered prompt
    firsts = [r["latency_ms"] for r in rows if r["kind"] == "ws_first_token"]
    assert total.first_token.total == len(firsts) == 48
    assert total.first_token.quantile(0.95) == kind_histogram(reports, "ws_first_token").quantile(
        0.95) and kind_histogram(reports, "http").total == 0
    # Shards run on uvloop, whose timers may fire a little early: never a send before its time.
    assert all(r["ts"] >= r["intended_ts"] - 0.001 for r in rows)
    # Both shards shared one ramp: ramp positions i connect at start + i / connect_rate.
    connects = sorted(r["intended_ts"] for r in rows if r["kind"] == "ws_connect")
    for i, t in enumerate(connects):
        assert abs(t - (connects[0] + i / 200.0)) < 1e-6


def test_stop_closes_sessions_cleanly_and_writes_parts(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = server_for(slogate_server)
    plan = plan_for(server, shards=2, duration_s=60.0, prompts=None, interval=0.2)
    handle = start_swarm(plan, tmp_path, first_worker=0)
    try:
        reports = wait_for_report(
            handle, lambda rs: len(rs) == 2 and sum(sum(r.active.values()) for r in rs) == 12
        )
        assert merge_reports(reports).active == {"enterprise": 8, "team": 4}
        started = time.monotonic()
        handle.stop()
        codes = handle.wait(timeout=20.0)
    finally:
        handle.kill()
    assert codes == {0: 0, 1: 0}
    assert time.monotonic() - started < plan.drain_timeout_s + 5.0
    layout = RunLayout(tmp_path)
    assert layout.part_path(0).exists() and layout.part_path(1).exists()
    table = read_samples(tmp_path)
    kinds = collections.Counter(table.column("kind").to_pylist())
    assert kinds["ws_close"] == 0  # closes the swarm initiated are not samples
    assert kinds["ws_connect"] == 12
    assert kinds["ws_message"] == sum(server.tally.prompts.values())
    assert server.tally.client_close_codes == {1000: 12}
    final = handle.poll()
    assert all(r.done and sum(r.active.values()) == 0 for r in final)


def test_sigkill_keeps_every_flushed_sample(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = server_for(slogate_server)
    plan = plan_for(server, duration_s=60.0, prompts=None, interval=0.02)
    handle = start_swarm(plan, tmp_path, first_worker=7)
    try:
        # A shard flushes its samples *before* printing each report: what a report counts
        # is on disk when we read it.
        reports = wait_for_report(handle, lambda rs: bool(rs) and rs[0].operations >= 50)
        handle.kill()
    finally:
        handle.kill()
    layout = RunLayout(tmp_path)
    assert not layout.part_path(7).exists()  # no clean shutdown happened
    stream = read_stream(layout.stream_path(7))
    messages = stream.column("kind").to_pylist().count("ws_message")
    assert messages >= reports[0].operations
    part = finalize_stream(layout, 7)
    assert part.exists() and read_samples(tmp_path).num_rows == stream.num_rows


def test_stdin_eof_stops_a_shard(slogate_server: MakeServer, tmp_path: Path) -> None:
    # The runner died: the shard's stdin pipe closes, and the shard must not live on.
    server = server_for(slogate_server)
    plan = plan_for(server, duration_s=60.0, prompts=None, interval=0.2)
    proc = subprocess.Popen(
        [sys.executable, "-m", "scenarios.swarm.shard", "--plan-stdin",
         "--run-dir", str(tmp_path), "--worker", "3"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(plan.to_json().encode() + b"\n")
        proc.stdin.flush()
        for line in proc.stdout:  # wait until all sessions are open
            report = ProgressReport.from_line(line.decode())
            if report is not None and sum(report.active.values()) == 12:
                break
        proc.stdin.close()
        assert proc.wait(timeout=20.0) == 0
        last = [ProgressReport.from_line(x.decode()) for x in proc.stdout.readlines()][-1]
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert last is not None and last.done
    assert RunLayout(tmp_path).part_path(3).exists()
    assert server.tally.client_close_codes == {1000: 12}


def test_invalid_plan_exits_2_with_the_field_named(tmp_path: Path) -> None:
    bad = json.loads(
        SwarmPlan(url="ws://127.0.0.1:9/ws", duration_s=1.0, groups=(
            SessionGroup("g", tier="", tenant="", token=None, sessions=1,
                         prompt_interval_s=1.0),)).to_json()
    )  # fmt: skip
    bad["duration_s"] = "soon"
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(bad))
    proc = subprocess.run(
        [sys.executable, "-m", "scenarios.swarm.shard", "--plan-file", str(plan_file),
         "--run-dir", str(tmp_path), "--worker", "0"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "duration_s" in proc.stderr
