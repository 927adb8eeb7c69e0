"""The distributed benchmark's own arithmetic: the steady window it measures sessions held,
messages/s and drops in, and the machine limits it checks before a run. It decides the
50,000-session figures in BENCHMARKS.md, so it is checked against hand-computed values; and
its echo server (a real one) really spreads connections over its processes."""

from __future__ import annotations

import collections
import os
import socket
import time

import psutil
import pyarrow as pa
import pytest

from benchmarks.distributed_swarm import check_limits, shards_per_host, steady_state
from benchmarks.swarm_vs_locust_ws import echo_server


def _samples(rows: list[tuple[float, float, str, bool, str]]) -> pa.Table:
    ts, lat, kind, ok, error = zip(*rows, strict=True)
    return pa.table({"ts": list(ts), "latency_ms": list(lat), "kind": list(kind), "ok": list(ok),
                     "error": list(error)})


def test_steady_state_counts_only_the_window_after_the_ramp_and_before_the_stop() -> None:
    rows: list[tuple[float, float, str, bool, str]] = []
    # four sessions connect 0.5 s apart, each answered after 500 ms: the ramp ends at 102.0
    for i in range(4):
        rows.append((100.0 + 0.5 * i, 500.0, "ws_connect", True, ""))
    rows.append((101.2, 3.0, "ws_connect", False, "OSError:EADDRNOTAVAIL"))
    # one message a second per session from 103 to 128; session 3 is dropped at 120.0
    for i in range(4):
        for t in range(103, 129):
            if i == 3 and t >= 120:
                continue
            rows.append((float(t), 50.0 if (i, t) == (0, 110) else 2.0, "ws_message", True, ""))
    rows.append((110.5, 30000.0, "ws_message", False, "timeout"))
    rows.append((120.0, 0.0, "ws_close", False, "connection lost"))
    # live counts: a row lagging the ramp (106: 2) must fall before the window
    live = {100: 0, 101: 2, 102: 4, 106: 2, **{t: 4 for t in range(107, 120)},
            **{t: 3 for t in range(120, 131)}}
    series = pa.table({"ts": [float(t) for t in live], "ws_sessions": list(live.values())})

    s = steady_state(_samples(rows), series, duration_s=30.0, settle_s=5.0)

    assert (s.first, s.ramp_end) == (100.0, 102.0)
    assert (s.lo, s.hi, s.seconds) == (107.0, 129.0, 22.0)  # stop at 100 + 30, minus 1 s
    assert s.held == 3  # the fewest live sessions in [107, 129]
    assert s.held_by_samples == 4 - 1
    # in [107, 128]: 3 sessions x 22 s + session 3's 107..119 (13) = 79 messages
    assert s.ok_msgs == 79
    assert s.msgs_per_s == pytest.approx(79 / 22)
    assert s.p50_ms == 2.0 and 2.0 < s.p99_ms <= 50.0
    assert (s.drops, s.failed_connects, s.timeouts) == (1, 1, 1)
    assert s.connect_errors == {"OSError:EADDRNOTAVAIL": 1}


def test_shards_per_host_keep_each_shard_under_three_quarters_of_the_file_limit() -> None:
    assert shards_per_host(12_500, 20_000) == 1
    assert shards_per_host(15_000, 20_000) == 1
    assert shards_per_host(15_001, 20_000) == 2
    assert shards_per_host(45_001, 20_000) == 4


@pytest.mark.parametrize(
    ("sessions", "hosts", "echo", "problem"),
    [
        pytest.param(50_000, 4, 4, None, id="50k_over_4_namespaces_fits"),
        pytest.param(50_000, 1, 4, "ephemeral ports", id="one_address_runs_out_of_ports"),
        pytest.param(50_000, 4, 2, "echo server", id="two_echo_processes_run_out_of_files"),
    ],
)
def test_check_limits_names_the_wall(sessions: int, hosts: int, echo: int, problem: str | None) -> None:
    found = check_limits(sessions, hosts, echo, nofile=20_000, ports=28_232)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0]


def test_echo_server_spreads_connections_over_its_processes() -> None:
    """Each process has its own SO_REUSEPORT socket, so the kernel deals connections out by
    address hash: at 50,000 connections over 4 processes none nears the 20,000-file limit.
    (One shared accept socket let whichever process woke first take them.)"""
    with echo_server(processes=2) as port:
        listening = [c for c in psutil.net_connections("tcp")
                     if c.laddr and c.laddr.port == port and c.status == "LISTEN"]
        # two listening sockets, not one shared by both processes
        assert len({os.readlink(f"/proc/{c.pid}/fd/{c.fd}") for c in listening}) == 2
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(200)]
        try:
            per_pid: collections.Counter[int] = collections.Counter()
            deadline = time.monotonic() + 10
            while sum(per_pid.values()) < 200 and time.monotonic() < deadline:
                time.sleep(0.2)  # until both processes have accepted every connection
                per_pid = collections.Counter(
                    c.pid for c in psutil.net_connections("tcp")
                    if c.laddr and c.laddr.port == port and c.status == "ESTABLISHED" and c.pid
                )
        finally:
            for s in socks:
                s.close()
    assert sum(per_pid.values()) == 200 and len(per_pid) == 2
    assert min(per_pid.values()) >= 50  # binomial(200, 1/2): below 50 is a 10^-12 event
