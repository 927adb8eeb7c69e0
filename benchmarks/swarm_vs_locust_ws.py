"""WebSocket swarm vs a Locust gevent WebSocket user, side by side, against one echo server.

Two modes, everything on 127.0.0.1, each bounded (about 15 s per client run, so about
fifteen minutes for the default ``compare`` sweep and one for ``10k`` on a quiet machine):

``compare``  for each session count (default 1,000 and 5,000) and total message rate
             (default 1,000, 5,000 and 10,000 msgs/s): (a) one swarm shard, (b) one Locust
             process whose users use ``websocket-client`` under gevent
             (``benchmarks/locust_ws_user.py``) and (c) the floor, a bare asyncio client that
             only sends and counts (``benchmarks/ws_floor_client.py``): what the kernel and
             the event loop alone cost per message, so ``Locust / floor`` is the largest
             ratio any asyncio client could show at that rate. Client CPU-seconds per 1,000
             messages are measured over a steady window (all sessions open, after a
             warm-up) from the client process's own CPU times, so start-up and ramp are
             excluded for all three. The three run in turn ``--repeat`` times (default 3)
             and the table shows each client's median and range.
``10k``      one shard holds 10,000 sessions (two server processes, two loopback source
             addresses) and reports open time, RSS per session, CPU per message and RTT.

Usage::

    python benchmarks/swarm_vs_locust_ws.py                  # both modes, print a table
    python benchmarks/swarm_vs_locust_ws.py --mode compare --sessions 2000 --rates 2000,8000
    python benchmarks/swarm_vs_locust_ws.py --record BENCHMARKS.md   # also write the section

``--record`` replaces the ``## WebSocket swarm`` section of that file (or appends it),
leaving other sections alone.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine as common_machine  # noqa: E402
from scenarios.record import read_samples  # noqa: E402
from scenarios.swarm import SessionGroup, SwarmPlan, start_swarm  # noqa: E402

MESSAGE = "Summarise the quarterly report in three sentences."
SWARM = "slogate swarm (1 shard, uvloop)"
LOCUST = "Locust User + websocket-client (gevent)"
FLOOR = "floor: bare asyncio client, sends and counts only"
HEADING = "## WebSocket swarm"


@dataclass(frozen=True, slots=True)
class Tick:
    """One observation of a client process: its own counters plus what the OS says."""

    t: float
    messages: int
    live: int
    cpu_s: float  # user + system of the client process
    rss: int


@dataclass(frozen=True, slots=True)
class Result:
    client: str
    sessions: int
    live: int
    window_s: float
    msgs_per_s: float
    cpu_per_1k: float
    rss_per_session_kb: float
    open_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    p99_corrected_ms: float | None = None
    failed_connects: int = 0


def steady_window(
    ticks: list[Tick], sessions: int, warmup: float, window: float, *, partial: bool = False
) -> Result:
    """CPU per message and RSS per session over ``window`` s, ``warmup`` s after all open.

    With ``partial``, a client that never held every session is measured from when it held
    the most (the table then shows how many it held). Pure: ticks in, numbers out.
    """
    most = max((k.live for k in ticks), default=0)
    goal = sessions if not partial else min(sessions, most)
    full = next((k for k in ticks if k.live >= goal and k.live > 0), None)
    if full is None:
        raise RuntimeError(f"the client never held all {sessions} sessions: {ticks[-1:]}")
    start = next((k for k in ticks if k.t >= full.t + warmup), None)
    end = next((k for k in ticks if start is not None and k.t >= start.t + window), None)
    if start is None or end is None or end.messages <= start.messages:
        raise RuntimeError("the run ended before a full steady window was observed")
    n = end.messages - start.messages
    return Result(
        client="",
        sessions=sessions,
        live=start.live,
        window_s=end.t - start.t,
        msgs_per_s=n / (end.t - start.t),
        cpu_per_1k=(end.cpu_s - start.cpu_s) / n * 1000.0,
        rss_per_session_kb=(start.rss - ticks[0].rss) / start.live / 1024.0,
    )


def _observe(pid: int) -> tuple[float, int]:
    proc = psutil.Process(pid)
    cpu = proc.cpu_times()
    return cpu.user + cpu.system, proc.memory_info().rss


@contextlib.contextmanager
def echo_server(processes: int) -> Iterator[int]:
    """The plain echo server in its own process(es); yields its port."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "ws_echo_server.py"),
         "--processes", str(processes)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"echo server did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()


def run_swarm(
    url: str, sessions: int, interval: float, warmup: float, window: float,
    *, connect_rate: float, sources: tuple[str, ...] = (),
) -> Result:  # fmt: skip
    ramp = sessions / connect_rate
    plan = SwarmPlan(
        url=url,
        groups=(SessionGroup("echo", tier="", tenant="", token=None, sessions=sessions,
                             prompt_interval_s=interval, message=MESSAGE),),
        duration_s=ramp + warmup + window + 60.0,  # a bound; we stop once the window is in
        connect_rate=connect_rate,
        protocol="echo",
        source_addresses=sources,
        open_timeout_s=30.0,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="swarm-bench-") as tmp:
        run_dir = Path(tmp)
        handle = start_swarm(plan, run_dir, first_worker=0)
        pid = handle.pids[0]
        ticks: list[Tick] = []
        last_t = 0.0
        deadline = time.monotonic() + plan.duration_s + 10.0
        try:
            while time.monotonic() < deadline:
                reports = handle.poll()
                if reports and reports[0].t != last_t:
                    r = reports[0]
                    last_t = r.t
                    cpu, rss = _observe(pid)
                    ticks.append(Tick(r.t, r.operations, sum(r.active.values()), cpu, rss))
                    with contextlib.suppress(RuntimeError):
                        steady_window(ticks, sessions, warmup, window)
                        break
                if handle.wait(0.02)[0] is not None:
                    break
            handle.stop()
            handle.wait(30.0)
        finally:
            handle.kill()
        res = steady_window(ticks, sessions, warmup, window, partial=True)
        return _with_latencies(res, run_dir, ticks, warmup, window, res.live)


def _with_latencies(
    res: Result, run_dir: Path, ticks: list[Tick], warmup: float, window: float, sessions: int
) -> Result:
    t = read_samples(run_dir).to_pandas()
    conn = t[t.kind == "ws_connect"]
    open_s = float((conn.ts + conn.latency_ms / 1000.0).max() - conn.ts.min())
    full = next(k for k in ticks if k.live >= sessions)
    lo = full.t + warmup
    msgs = t[(t.kind == "ws_message") & (t.ts >= lo) & (t.ts < lo + window) & t.ok]
    rtt = msgs.latency_ms.to_numpy()
    corrected = rtt + (msgs.ts - msgs.intended_ts).to_numpy() * 1000.0
    return Result(
        client=SWARM,
        sessions=res.sessions, live=res.live, window_s=res.window_s,
        msgs_per_s=res.msgs_per_s, cpu_per_1k=res.cpu_per_1k,
        rss_per_session_kb=res.rss_per_session_kb, open_s=open_s,
        p50_ms=float(np.percentile(rtt, 50)), p99_ms=float(np.percentile(rtt, 99)),
        p99_corrected_ms=float(np.percentile(corrected, 99)),
        failed_connects=int((~conn.ok).sum()),
    )  # fmt: skip


def _run_reporting_process(
    cmd: list[str], env: dict[str, str], client: str, sessions: int, warmup: float, window: float
) -> Result:
    """Run a client that prints ``{"bench": 1, ...}`` lines; measure its steady window."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    ticks: list[Tick] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.startswith('{"bench"'):
                continue
            d = json.loads(line)
            cpu, rss = _observe(proc.pid)
            ticks.append(Tick(d["t"], d["messages"], d["users"], cpu, rss))
            with contextlib.suppress(RuntimeError):
                steady_window(ticks, sessions, warmup, window)
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    res = steady_window(ticks, sessions, warmup, window, partial=True)
    return Result(
        client=client, sessions=res.sessions, live=res.live, window_s=res.window_s,
        msgs_per_s=res.msgs_per_s, cpu_per_1k=res.cpu_per_1k,
        rss_per_session_kb=res.rss_per_session_kb,
    )  # fmt: skip


def run_locust(url: str, sessions: int, interval: float, warmup: float, window: float,
               spawn_rate: float) -> Result:  # fmt: skip
    ramp = sessions / spawn_rate
    env = dict(os.environ, BENCH_WS_INTERVAL=repr(interval), BENCH_WS_MESSAGE=MESSAGE)
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks" / "locust_ws_user.py"),
           "--headless", "-u", str(sessions), "-r", str(spawn_rate), "--host", url,
           "-t", f"{int(ramp + warmup + window + 20)}s", "--only-summary", "--loglevel", "ERROR"]  # fmt: skip
    return _run_reporting_process(cmd, env, LOCUST, sessions, warmup, window)


def run_floor(url: str, sessions: int, interval: float, warmup: float, window: float) -> Result:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "ws_floor_client.py"), "--url", url,
           "--sessions", str(sessions), "--interval", repr(interval), "--message", MESSAGE,
           "--duration", str(int(sessions / 500 + warmup + window + 20))]  # fmt: skip
    return _run_reporting_process(cmd, dict(os.environ), FLOOR, sessions, warmup, window)


def median_of(runs: list[Result]) -> tuple[Result, str]:
    """The run with the median CPU per message, and the range over all runs as text."""
    ordered = sorted(runs, key=lambda r: r.cpu_per_1k)
    lo, hi = ordered[0].cpu_per_1k, ordered[-1].cpu_per_1k
    return ordered[(len(ordered) - 1) // 2], f"{lo:.3f}-{hi:.3f}"


def machine() -> str:
    """The shared machine line, plus the kernel and the versions of every client measured."""
    return (
        f"{common_machine()}, Linux {platform.release()}, websockets {version('websockets')}, "
        f"uvloop {version('uvloop')}, locust {version('locust')}, "
        f"websocket-client {version('websocket-client')}"
    )


def _f(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def table(rows: list[Result], spreads: list[str] | None = None) -> str:
    """Markdown rows; with ``spreads``, a column for each row's CPU range over repeats."""
    extra = " (median) | range over runs" if spreads is not None else ""
    head = (f"| client | sessions held | msgs/s | client CPU-s / 1k msgs{extra} | RSS / session | "
            "open time | RTT p50 | RTT p99 | p99 from intended send | failed connects |\n"
            + "|---" * (11 if spreads is not None else 10) + "|")  # fmt: skip
    lines = [head]
    for i, r in enumerate(rows):
        spread = f" {spreads[i]} |" if spreads is not None else ""
        # the floor client reports only once every session is open: it has no RSS baseline
        rss = "-" if r.client == FLOOR else f"{r.rss_per_session_kb:.1f} KB"
        lines.append(
            f"| {r.client} | {r.live:,} | {r.msgs_per_s:,.0f} | {r.cpu_per_1k:.3f} |{spread} "
            f"{rss} | {_f(r.open_s, '.2f')} s | "
            f"{_f(r.p50_ms, '.2f')} ms | {_f(r.p99_ms, '.2f')} ms | "
            f"{_f(r.p99_corrected_ms, '.2f')} ms | {r.failed_connects} |"
        )
    return "\n".join(lines)


def record(path: Path, section: str) -> None:
    """Replace this benchmark's section of ``path`` (or append it); keep the others."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def _ints(v: str) -> list[int]:
    return [int(x) for x in v.split(",")]


def compare(session_counts: list[int], rates: list[int], repeat: int, warmup: float, window: float) -> str:
    """The ``compare`` section: for each (sessions, rate), the three clients ``repeat`` times
    in turn."""
    rows: list[Result] = []
    spreads: list[str] = []
    ratios: list[str] = []
    for sessions, rate in itertools.product(session_counts, rates):
        interval = sessions / rate
        runs: dict[str, list[Result]] = {SWARM: [], LOCUST: [], FLOOR: []}
        with echo_server(processes=2) as port:
            url = f"ws://127.0.0.1:{port}/"
            for _ in range(repeat):
                runs[SWARM].append(run_swarm(url, sessions, interval, warmup, window,
                                             connect_rate=1000.0))  # fmt: skip
                runs[LOCUST].append(run_locust(url, sessions, interval, warmup, window,
                                               spawn_rate=1000.0))  # fmt: skip
                runs[FLOOR].append(run_floor(url, sessions, interval, warmup, window))
        med = {name: median_of(rs) for name, rs in runs.items()}
        for name in (SWARM, LOCUST, FLOOR):
            rows.append(med[name][0])
            spreads.append(med[name][1])
        swarm, locust, floor = med[SWARM][0], med[LOCUST][0], med[FLOOR][0]
        ratios.append(
            f"- **{rate:,} msgs/s** ({sessions:,} sessions x 1 message / {interval:g} s): Locust "
            f"uses **{locust.cpu_per_1k / swarm.cpu_per_1k:.1f}x** the swarm's client CPU per "
            f"message; at most {locust.cpu_per_1k / floor.cpu_per_1k:.1f}x was possible (Locust / "
            f"floor); the swarm costs {swarm.cpu_per_1k / floor.cpu_per_1k:.2f}x the floor "
            f"(Locust sustained {locust.msgs_per_s:,.0f} msgs/s)."
        )
    return (
        f"### Swarm vs Locust vs the floor, by sessions and message rate\n\nSame echo server "
        f"(2 processes, websockets on uvloop), a fresh one per row group; steady {window:g} s "
        f"window {warmup:g} s after all sessions were open; CPU = user + system of the client "
        f"process over that window; {repeat} runs of each client in turn, median shown. "
        "Target: Locust >= 3x.\n\n" + table(rows, spreads) + "\n\n" + "\n".join(ratios) + "\n"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mode", choices=("compare", "10k", "all"), default="all")
    p.add_argument("--rates", type=_ints, default=[1000, 5000, 10000],
                   help="compare: total messages/s, comma-separated (default 1000,5000,10000)")  # fmt: skip
    p.add_argument("--sessions", type=_ints, default=[1000, 5000],
                   help="compare: session counts, comma-separated (default 1000,5000)")  # fmt: skip
    p.add_argument("--repeat", type=int, default=3, help="compare: runs of each client per rate")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--window", type=float, default=10.0)
    p.add_argument("--record", type=Path, help="write the results section into this file")
    args = p.parse_args()
    sections: list[str] = []
    if args.mode in ("compare", "all"):
        sections.append(compare(args.sessions, args.rates, args.repeat, args.warmup, args.window))
    if args.mode in ("10k", "all"):
        with echo_server(processes=2) as port:
            big = run_swarm(f"ws://127.0.0.1:{port}/", 10_000, 5.0, args.warmup, 20.0,
                            connect_rate=2000.0, sources=("127.0.0.1", "127.0.0.2"))  # fmt: skip
        sections.append(
            "### One shard holding 10,000 sessions\n\n1 message / 5 s per session, connect "
            "rate 2,000/s, source addresses 127.0.0.1 and 127.0.0.2, echo server in 2 "
            "processes; 20 s steady window.\n\n" + table([big]) + "\n"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = (
        f"{HEADING}\n\nMeasured by `python benchmarks/swarm_vs_locust_ws.py` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}: {machine()}. Client and server share the cores; "
        f"load average at the end {load}.\n\n" + "\n".join(sections)
    )
    print(body)
    if args.record:
        record(args.record, body + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
