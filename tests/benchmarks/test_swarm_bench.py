"""The swarm benchmark's own arithmetic and its floor client, on a real echo server.

The benchmark decides the headline ratio in BENCHMARKS.md, so the window it measures and
the median it reports are checked here against hand-computed values, and the floor client
is run briefly to show it really holds its sessions and counts every echoed message.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.swarm_vs_locust_ws import (
    FLOOR,
    ROOT,
    Result,
    Tick,
    echo_server,
    median_of,
    steady_window,
)


def tick(t: float, messages: int, live: int, cpu: float, rss: int = 0) -> Tick:
    return Tick(t=t, messages=messages, live=live, cpu_s=cpu, rss=rss)


def test_steady_window_starts_after_warmup_once_every_session_is_open() -> None:
    ticks = [
        tick(0.0, 0, 10, 0.0, rss=1000),
        tick(1.0, 50, 90, 0.5),  # still ramping: not yet 100 sessions
        tick(2.0, 150, 100, 0.9, rss=1000 + 100 * 2048),  # all open
        tick(3.0, 250, 100, 1.1),
        tick(4.0, 400, 100, 1.4, rss=1000 + 100 * 2048),  # warm-up of 2 s ends here
        tick(5.0, 600, 100, 1.6),
        tick(6.0, 800, 100, 1.9),  # window of 2 s ends here
        tick(7.0, 999, 100, 9.9),
    ]
    r = steady_window(ticks, sessions=100, warmup=2.0, window=2.0)
    assert r.window_s == 2.0
    assert r.msgs_per_s == pytest.approx((800 - 400) / 2.0)
    assert r.cpu_per_1k == pytest.approx((1.9 - 1.4) / 400 * 1000)  # 1.25 CPU-s per 1k
    assert r.rss_per_session_kb == pytest.approx(2.0)


def test_steady_window_refuses_a_client_that_never_held_every_session() -> None:
    ticks = [tick(float(t), t * 10, 50, t * 0.1) for t in range(20)]
    with pytest.raises(RuntimeError, match="never held all 100"):
        steady_window(ticks, sessions=100, warmup=1.0, window=2.0)
    partial = steady_window(ticks, sessions=100, warmup=1.0, window=2.0, partial=True)
    assert partial.live == 50


def test_median_of_picks_the_middle_run_and_reports_the_range() -> None:
    runs = [Result("c", 10, 10, 10.0, 100.0, cpu, 1.0) for cpu in (0.09, 0.03, 0.05)]
    med, spread = median_of(runs)
    assert med.cpu_per_1k == 0.05
    assert spread == "0.030-0.090"


def test_floor_client_holds_its_sessions_and_counts_every_echo() -> None:
    sessions, interval, duration = 20, 0.1, 4.0
    with echo_server(processes=1) as port:
        out = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "ws_floor_client.py"),
             "--url", f"ws://127.0.0.1:{port}/", "--sessions", str(sessions),
             "--interval", str(interval), "--duration", str(duration)],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith('{"bench"')]
    assert lines and all(x["users"] == sessions for x in lines)
    counts = [x["messages"] for x in lines]
    assert counts == sorted(counts) and counts[-1] > 0
    # at most one message per session per interval, since the first report
    elapsed = lines[-1]["t"] - lines[0]["t"]
    assert counts[-1] - counts[0] <= sessions * (elapsed / interval + 1)
    assert FLOOR.startswith("floor")


def test_floor_client_refuses_a_non_loopback_target() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ws_floor_client.py"),
         "--url", "ws://192.0.2.1:80/", "--sessions", "1", "--interval", "1", "--duration", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2 and "non-loopback" in out.stderr
