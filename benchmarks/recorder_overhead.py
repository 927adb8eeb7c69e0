"""Recorder overhead: client CPU per 1,000 requests, bare Locust vs slogate's HTTP worker.

Side by side in one run, against one trivial FastAPI/uvicorn server (uvloop, httptools) in
its own process pinned to CPU 1, every client pinned to CPU 0, all at the same fixed rate:

- ``bare``: Locust ``FastHttpUser`` x U users with ``constant_throughput(rate/U)``, Locust's
  own statistics only (what ``locust --headless`` does);
- ``bare+recorder``: the same process plus slogate's ``SampleRecorder`` on the request
  event and a ``SampleWriter`` flushed on a timer (the recording cost alone);
- ``slogate``: the real worker (``start_http_load``, open model at the rate, a pool of U
  users): schedule, recorder, writer, progress lines.

The three clients run *at the same time* in each round, so that the load other processes
put on this shared machine (which moves CPU cost per request by +-20 % from one minute to
the next) hits all of them alike. CPU is each client process's own user+system time
(``psutil``), sampled at its 1 s progress ticks, over the same wall-clock window after a
warm-up, divided by the requests it completed in the window. The verdict is the median over
rounds of slogate's CPU per request divided by bare Locust's in the same round.
Target: at most 10 % more.

    python benchmarks/recorder_overhead.py [--rate 500] [--users 20] [--rounds 5] [--append]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
from _common import (  # benchmarks/ is on sys.path when run as a script
    append_section,
    machine,
    start_pinned_server,
)

ROOT = Path(__file__).resolve().parents[1]
SERVER_CPU, CLIENT_CPU = 1, 0
TARGET_RATIO = 1.10
START_BUDGET_S = 120.0  # worker imports on a busy machine


# ----- the server (child process) ----------------------------------------------------------


def serve(fd: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    config = uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


def start_server() -> tuple[str, subprocess.Popen[bytes]]:
    return start_pinned_server(__file__, SERVER_CPU)


# ----- bare Locust client (child process) ----------------------------------------------------


def bare_client(url: str, rate: float, users: int, seconds: float, run_dir: str | None) -> None:
    import gevent
    from locust import FastHttpUser, constant_throughput, task
    from locust.env import Environment

    class Bare(FastHttpUser):
        host = url
        wait_time = constant_throughput(rate / users)

        @task
        def ping(self) -> None:
            self.client.get("/ping")

    env = Environment(user_classes=[Bare])
    runner = env.create_local_runner()
    writer = None
    recorder = None
    if run_dir is not None:
        import pyarrow as pa

        from scenarios.http.recorder import SampleRecorder
        from scenarios.progress import ProgressReport
        from scenarios.record import SampleWriter

        writer = SampleWriter(run_dir, 0)
        pa.array([0.0], type=pa.float64())  # lazy pandas import, as the worker does
        recorder = SampleRecorder(writer, ProgressReport(worker=0, source="http", t=0.0))
        env.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]

        def flush() -> None:
            while True:
                gevent.sleep(0.25)
                recorder.fold()  # as the worker's flush timer does
                writer.maybe_flush()

        gevent.spawn(flush)
    runner.start(users, spawn_rate=users)
    t0 = time.time()
    tick = t0
    while tick < t0 + seconds:
        tick += 1.0
        gevent.sleep(max(0.0, tick - time.time()))
        print(json.dumps({"t": time.time(), "ops": env.stats.total.num_requests}), flush=True)
    runner.quit()
    if recorder is not None:
        recorder.close()


# ----- measurement (parent) ----------------------------------------------------------------


def cpu_of(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


class Ticks:
    """``(t, requests, cpu)`` of one client process, sampled as its 1 s progress lines arrive."""

    def __init__(self, pid: int, changed: threading.Condition) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float, float]] = []
        self._changed = changed

    def add(self, t: float, requests: float) -> None:
        cpu = cpu_of(self.pid)
        with self._changed:
            self.samples.append((t, requests, cpu))
            self._changed.notify_all()

    def last_t(self) -> float:
        return self.samples[-1][0] if self.samples else -math.inf

    def window(self, t1: float, t2: float) -> dict[str, float]:
        """CPU-s per 1k requests between the first samples at or after ``t1`` and ``t2``."""
        (a_t, a_n, a_c) = next(x for x in self.samples if x[0] >= t1)
        (b_t, b_n, b_c) = next(x for x in self.samples if x[0] >= t2)
        return {"cpu_per_1k": (b_c - a_c) / (b_n - a_n) * 1000, "rate": (b_n - a_n) / (b_t - a_t)}


def _follow_bare(proc: subprocess.Popen[str], ticks: Ticks) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        data = json.loads(line)
        ticks.add(data["t"], data["ops"])


def _follow_slogate(handle: Any, ticks: Ticks, done: threading.Event) -> None:
    last = -math.inf
    while not done.is_set():
        if handle.wait_for(lambda rs: bool(rs) and rs[0].t > last, timeout=1.0):  # noqa: B023
            report = handle.poll()[0]
            ticks.add(report.t, report.operations)
            last = report.t


def measure_round(url: str, args: argparse.Namespace, tmp: str) -> dict[str, dict[str, float]]:
    """All three clients at once, so the shared machine's load hits them alike."""
    from scenarios.http import HttpPlan, RequestSpec, Stage, start_http_load

    budget = START_BUDGET_S + args.warmup + args.seconds + 5
    changed = threading.Condition()
    ticks: dict[str, Ticks] = {}
    procs: list[subprocess.Popen[str]] = []
    threads: list[threading.Thread] = []
    for name, run_dir in (("bare", None), ("bare+recorder", f"{tmp}/bare")):
        cmd = [sys.executable, __file__, "--bare", url, str(args.rate), str(args.users), str(budget)]
        proc = subprocess.Popen(cmd + (["--run-dir", run_dir] if run_dir else []),
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        procs.append(proc)
        ticks[name] = Ticks(proc.pid, changed)
        threads.append(threading.Thread(target=_follow_bare, args=(proc, ticks[name])))
    plan = HttpPlan(
        base_url=url, model="open", stages=(Stage(budget, rate=args.rate),),
        requests=(RequestSpec("ping", "GET", "/ping"),), pool_size=args.users,
    )  # fmt: skip
    done = threading.Event()
    with start_http_load(plan, f"{tmp}/slogate", first_worker=0) as handle:
        ticks["slogate"] = Ticks(handle.pids[0], changed)
        threads.append(threading.Thread(target=_follow_slogate, args=(handle, ticks["slogate"], done)))
        for t in threads:
            t.start()
        try:
            with changed:  # every client sending, then a warm-up, then the measured window
                assert changed.wait_for(lambda: all(x.samples for x in ticks.values()), START_BUDGET_S)
                t1 = time.time() + args.warmup
                t2 = t1 + args.seconds
                assert changed.wait_for(
                    lambda: all(x.last_t() >= t2 for x in ticks.values()), args.warmup + args.seconds + 30
                )  # fmt: skip
            return {name: x.window(t1, t2) for name, x in ticks.items()}
        finally:
            done.set()
            handle.stop()
            for proc in procs:
                proc.terminate()
                proc.wait()
            for t in threads:
                t.join(timeout=10)


def run(args: argparse.Namespace) -> int:
    os.sched_setaffinity(0, {CLIENT_CPU})  # inherited by every client process we start
    url, server = start_server()
    results: dict[str, list[dict[str, float]]] = {"bare": [], "bare+recorder": [], "slogate": []}
    try:
        for r in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="slogate-bench-") as tmp:
                got = measure_round(url, args, tmp)
            for k, v in got.items():
                results[k].append(v)
            print(f"round {r + 1}: " + ", ".join(
                f"{k} {v['cpu_per_1k']:.4f} CPU-s/1k @ {v['rate']:.0f}/s" for k, v in got.items()
            ), flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    med = {k: statistics.median(x["cpu_per_1k"] for x in v) for k, v in results.items()}
    rate = {k: statistics.median(x["rate"] for x in v) for k, v in results.items()}
    # within-round ratios cancel slow drifts of a shared machine; their median is the verdict
    ratio = {
        k: statistics.median(
            x["cpu_per_1k"] / b["cpu_per_1k"] for x, b in zip(v, results["bare"], strict=True)
        )
        for k, v in results.items()
    }
    rows = [
        (k, f"{med[k]:.4f}", f"{ratio[k]:.3f}", f"{rate[k]:.0f}",
         " / ".join(f"{x['cpu_per_1k']:.4f}" for x in results[k]))
        for k in results
    ]  # fmt: skip
    header = (
        "client", "CPU-s / 1k requests (median)", "x bare (median of rounds)", "achieved req/s",
        "CPU-s / 1k per round",
    )  # fmt: skip
    for row in (header, *rows):
        print(f"{row[0]:<14} {row[1]:>29} {row[2]:>26} {row[3]:>15}   {row[4]}")
    ok = ratio["slogate"] <= TARGET_RATIO
    print(f"slogate within {TARGET_RATIO - 1:.0%} of bare Locust:", "yes" if ok else "NO")
    load = os.getloadavg()[0]
    print(f"{machine()}; load average {load:.2f}")
    if args.append:
        append_markdown(args, header, rows, ok, load)
    return 0 if ok else 1


def append_markdown(
    args: argparse.Namespace, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], ok: bool,
    load: float,
) -> None:  # fmt: skip
    append_section(
        ROOT / "BENCHMARKS.md",
        "## HTTP recorder",
        f"`benchmarks/recorder_overhead.py --rate {args.rate:g} --users {args.users} "
        f"--rounds {args.rounds}` ({time.strftime('%Y-%m-%d')}; {machine()}): trivial "
        "FastAPI/uvicorn server pinned to CPU 1, the three clients pinned to CPU 0 and run at "
        f"the same time, {args.seconds:g} s windows after {args.warmup:g} s warm-up, client CPU "
        "from each client process's own user+system time; verdict: median over rounds of the "
        "within-round ratio to bare Locust.",
        header,
        rows,
        f"Load average {load:.2f} (shared machine). Target (slogate <= 1.10 x bare): "
        f"{'met' if ok else 'NOT met'}.",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="requests/s per client")
    parser.add_argument("--users", type=int, default=20, help="Locust users (both sides)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--append", action="store_true", help="append to BENCHMARKS.md")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return 0
    if args.bare:
        url, rate, users, seconds = args.bare
        bare_client(url, float(rate), int(users), float(seconds), args.run_dir)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
