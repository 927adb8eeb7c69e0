"""Coordinated omission: corrected vs uncorrected percentiles against a freezing server.

The server (FastAPI on uvicorn, pinned to CPU 1) freezes for 1 s in every 10 s of wall
clock: every request that arrives while it is frozen waits until the freeze ends. Under an
open model at a fixed rate, 10 % of the intended requests fall in a freeze and wait a time
uniform on 0..1 s, so the response time a user on schedule sees has

    P(X > x) = 0.10 * (1 - x / 1 s)  ->  p95 = 500 ms, p99 = 900 ms  (analytic)

Three runs of the same length, side by side, each through slogate's HTTP worker (CPU 0):

- ``open, pool sized``: open model, the default pool (peak rate x 2 s of users), so sends
  stay on schedule even during a freeze;
- ``open, 10 users``: open model with a pool too small to ride out a freeze: arrivals queue
  in the generator, go out late and are counted as schedule slips, and only the corrected
  time (``latency_ms + (ts - intended_ts) * 1000``, as wrk2) still shows the freeze;
- ``closed, 10 users``: Locust semantics (10 users x 0.1 s think time, about the same rate
  when healthy): users stuck in a freeze stop sending, so the freeze hides itself.

Percentiles with numpy (linear interpolation). Target: corrected p95/p99 of the open run
with a sized pool within 10 % of the analytic values.

    python benchmarks/open_model_co.py [--rate 100] [--seconds 40] [--append]
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import (  # benchmarks/ is on sys.path when run as a script
    append_section,
    machine,
    start_pinned_server,
)

ROOT = Path(__file__).resolve().parents[1]
SERVER_CPU, CLIENT_CPU = 1, 0
PERIOD_S, FREEZE_S = 10.0, 1.0
ANALYTIC = {95: 500.0, 99: 900.0}
TOLERANCE = 0.10


def serve(fd: int) -> None:
    import asyncio

    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    async def freezing(scope: Any, receive: Any, send: Any) -> None:
        now = time.time()
        phase = now % PERIOD_S
        if scope["type"] == "http" and phase >= PERIOD_S - FREEZE_S:
            await asyncio.sleep(PERIOD_S - phase)  # everyone waits for the end of the freeze
        await app(scope, receive, send)

    config = uvicorn.Config(freezing, loop="uvloop", http="httptools", access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


def start_server() -> tuple[str, subprocess.Popen[bytes]]:
    return start_pinned_server(__file__, SERVER_CPU)


def run_variant(url: str, args: argparse.Namespace, name: str) -> dict[str, Any]:
    from scenarios.http import HttpPlan, RequestSpec, Stage, start_http_load
    from scenarios.record import read_samples

    common: dict[str, Any] = {"base_url": url, "requests": (RequestSpec("ping", "GET", "/ping"),)}
    if name == "closed, 10 users":
        think = 10 / args.rate
        plan = HttpPlan(
            model="closed", stages=(Stage(args.seconds, users=10),),
            think_time_s=(think, think), spawn_rate=100.0, **common,
        )  # fmt: skip
    else:
        pool = 10 if name == "open, 10 users" else None
        plan = HttpPlan(model="open", stages=(Stage(args.seconds, rate=args.rate),), pool_size=pool, **common)
    with (
        tempfile.TemporaryDirectory(prefix="slogate-bench-") as tmp,
        start_http_load(plan, tmp, first_worker=0) as handle,
    ):
        assert handle.wait_started(120) is not None, "worker did not start"
        codes = handle.wait(plan.duration_s + 60)
        assert codes == {0: 0}, codes
        (done,) = handle.poll()
        df = read_samples(tmp).to_pandas()
    raw = df.latency_ms.to_numpy()
    corrected = raw + (df.ts - df.intended_ts).to_numpy() * 1000
    return {
        "name": name,
        "sent": len(df),
        "intended": round(args.rate * args.seconds),
        "slips": done.schedule_slips,
        "raw": dict(zip((95, 99), np.percentile(raw, [95, 99]), strict=True)),
        "corrected": dict(zip((95, 99), np.percentile(corrected, [95, 99]), strict=True)),
        "over_100ms": float((corrected > 100).mean()),
    }


def _err(value: float, q: int) -> str:
    return f"{(value - ANALYTIC[q]) / ANALYTIC[q]:+.1%}"


def run(args: argparse.Namespace) -> int:
    os.sched_setaffinity(0, {CLIENT_CPU})  # the workers we start inherit it
    url, server = start_server()
    names = ["open, pool sized", "open, 10 users"] + ([] if args.skip_closed else ["closed, 10 users"])
    try:
        results = [run_variant(url, args, n) for n in names]
    finally:
        server.terminate()
        server.wait()
    header = (
        "load", "sent / intended", "slips", "p95 raw", "p95 corrected", "p99 raw",
        "p99 corrected", "corrected > 100 ms",
    )  # fmt: skip
    rows = [
        (
            r["name"], f"{r['sent']} / {r['intended']}", str(r["slips"]),
            f"{r['raw'][95]:.0f} ms", f"{r['corrected'][95]:.0f} ms ({_err(r['corrected'][95], 95)})",
            f"{r['raw'][99]:.0f} ms", f"{r['corrected'][99]:.0f} ms ({_err(r['corrected'][99], 99)})",
            f"{r['over_100ms']:.1%}",
        )
        for r in results
    ]  # fmt: skip
    rows.append(("analytic", "", "", "", "500 ms", "", "900 ms", "10.0%"))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    # the target is on the open model with a pool sized for the rate; the 10-user run shows
    # what correction recovers when the generator itself falls behind (its backlog adds delay)
    first = results[0]["corrected"]
    ok = all(abs(first[q] - ANALYTIC[q]) <= TOLERANCE * ANALYTIC[q] for q in (95, 99))
    verdict = "yes" if ok else "NO"
    print(f"open model (pool sized) corrected p95/p99 within {TOLERANCE:.0%} of analytic: {verdict}")
    load = os.getloadavg()[0]
    print(f"{machine()}; load average {load:.2f}")
    if args.append:
        append_markdown(args, header, rows, ok, load)
    return 0 if ok else 1


def append_markdown(
    args: argparse.Namespace, header: Sequence[str], rows: Sequence[Sequence[str]], ok: bool,
    load: float,
) -> None:  # fmt: skip
    append_section(
        ROOT / "BENCHMARKS.md",
        "## Open model",
        f"`benchmarks/open_model_co.py --rate {args.rate:g} --seconds {args.seconds:g}` "
        f"({time.strftime('%Y-%m-%d')}; {machine()}): FastAPI/uvicorn server pinned to CPU 1 "
        f"freezing {FREEZE_S:g} s in every {PERIOD_S:g} s, slogate's worker on CPU 0; "
        "percentiles with numpy; error against the analytic value in brackets.",
        header,
        rows,
        f"Load average {load:.2f} (shared machine). Target (open model, pool sized: corrected "
        f"p95/p99 within 10 % of analytic): {'met' if ok else 'NOT met'}. With 10 users the "
        "generator falls behind in each freeze: the late sends are counted as slips and the "
        "corrected times still show the freeze, plus the time the backlog took to drain; the "
        "closed model never sends what the freeze held back, and its p95 hides the freeze.",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="arrivals per second")
    parser.add_argument("--seconds", type=float, default=40.0, help="a multiple of 10")
    parser.add_argument("--skip-closed", action="store_true", help="only the two open runs")
    parser.add_argument("--append", action="store_true", help="append to BENCHMARKS.md")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return 0
    if not math.isclose(args.seconds % PERIOD_S, 0.0, abs_tol=1e-9):
        parser.error("--seconds must be a multiple of 10 so the run holds whole freeze periods")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
