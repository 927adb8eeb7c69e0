"""Distributed swarm vs local shards, across network namespaces; and the cost of shipping
samples to the master.

Part 1 (root only: network namespaces): an echo server in namespace "target" (10.213.7.1),
the master in "master"; for each H in --hosts, one `slogate run` with H local shards in
the master namespace, then one with H worker namespaces (1 shard each, each its own source
address) through `slogate worker`. Reported per run: sessions held (connected and never
dropped), messages/s (ok `ws_message` rows over the load window), RTT p50/p99, drops, and
the RSS per session of the shard processes (sampled mid-run). Ratios: distributed / local.

Part 2 (no root needed): CPU per 1,000 samples of the worker's shipping path (tail the
Arrow stream, encode an LZ4 IPC chunk, msgpack it as Locust's Message does) and of the
master's (unpack, decode, correct the clock, append to the host's stream), against the
cost of recording them locally (SampleWriter.record + flush) measured in the same run.

Usage::

    python benchmarks/distributed_swarm.py --sessions 2000 --hosts 1,2,4 --record
    python benchmarks/distributed_swarm.py --sessions 50000 --hosts 4 --echo-processes 4 \
        --interval 30 --duration 120              # the full 50,000-session run
    python benchmarks/distributed_swarm.py --shipping-only --record

Every process it starts lives in namespaces it creates (sgt-<pid>-*) and is killed, and
the namespaces deleted, before it exits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import append_section, machine  # noqa: E402
from tests.scenarios.distributed.netlab import NetLab, unavailable_reason  # noqa: E402

BIN = Path(sys.executable).parent
PORT = 9000


@dataclass
class Result:
    label: str
    hosts: int
    shards: int
    sessions: int
    held: int
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    drops: int
    failed_connects: int
    kb_per_session: float | None
    rss_mb: float | None
    status: str


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOGATE_")}
    env.update(extra)
    return env


def _scenario(path: Path, args: argparse.Namespace, shards: int, hosts: int | None) -> Path:
    lines = [
        f"target: http://10.213.7.1:{PORT}",
        f"duration: {args.duration}s",
        "websocket:",
        f"  url: ws://10.213.7.1:{PORT}/",
        "  protocol: echo",
        f"  sessions: {args.sessions}",
        f"  shards: {shards}",
        f"  prompt_interval: {args.interval}s",
        f"  connect_rate: {args.connect_rate}",
        f"limits: {{max_duration: {args.duration * 3 + 120}s, stop_timeout: 30s}}",
    ]
    if hosts:
        lines.append(f"distributed: {{expect_workers: {hosts}, join_timeout: 120s}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rss_sampler(lab: NetLab, names: Sequence[str], at_s: float, out: list[int]) -> threading.Thread:
    """Sum the RSS of the shard processes in ``names`` once, ``at_s`` after start."""

    def sample() -> None:
        time.sleep(at_s)
        total = 0
        for name in names:
            for pid in lab.pids(name):
                try:
                    p = psutil.Process(pid)
                    if "scenarios.swarm.shard" in " ".join(p.cmdline()):
                        total += p.memory_info().rss
                except psutil.Error:
                    continue
        out.append(total)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    return t


def _measure(out: Path, label: str, hosts: int, shards: int, sessions: int, rss: list[int]) -> Result:
    info = json.loads((out / "run.json").read_text())
    cols = ["ts", "latency_ms", "kind", "ok", "status", "error"]
    tables = [pq.read_table(p, columns=cols) for p in sorted((out / "samples").glob("part-*.parquet"))]
    kind = np.concatenate([np.array(t.column("kind").to_pylist(), dtype=object) for t in tables])
    ok = np.concatenate([t.column("ok").to_numpy(zero_copy_only=False) for t in tables])
    ts = np.concatenate([t.column("ts").to_numpy() for t in tables])
    lat = np.concatenate([t.column("latency_ms").to_numpy() for t in tables])
    msg = (kind == "ws_message") & ok
    connects = (kind == "ws_connect")
    drops = int((kind == "ws_close").sum())
    span = float(ts[msg].max() - ts[msg].min()) if msg.sum() > 1 else float("nan")
    held = int((connects & ok).sum()) - drops
    return Result(
        label=label, hosts=hosts, shards=shards, sessions=sessions, held=held,
        msgs_per_s=float(msg.sum()) / span if span == span and span > 0 else 0.0,
        p50_ms=float(np.percentile(lat[msg], 50)) if msg.any() else float("nan"),
        p99_ms=float(np.percentile(lat[msg], 99)) if msg.any() else float("nan"),
        drops=drops, failed_connects=int((connects & ~ok).sum()),
        kb_per_session=(rss[0] / 1024 / max(1, held)) if rss and rss[0] else None,
        rss_mb=(rss[0] / 1024**2) if rss and rss[0] else None,
        status=str(info["status"]),
    )


def run_local(lab: NetLab, args: argparse.Namespace, shards: int, tmp: Path) -> Result:
    out = tmp / f"local-{shards}"
    scen = _scenario(tmp / f"local-{shards}.yaml", args, shards, None)
    rss: list[int] = []
    sampler = _rss_sampler(lab, ["master"], args.sessions / args.connect_rate + args.duration / 2 + 5, rss)
    proc = lab.popen("master", [str(BIN / "slogate"), "run", str(scen), "--out", str(out),
                                "--allow-remote", "10.213.7.0/24", "--no-cross-check", "--format", "json"],
                     env=_env(), log=tmp / f"local-{shards}.log")
    proc.wait(args.duration * 4 + 300)
    sampler.join(1)
    return _measure(out, "local shards", 1, shards, args.sessions, rss)


def run_distributed(lab: NetLab, args: argparse.Namespace, hosts: int, tmp: Path) -> Result:
    out = tmp / f"dist-{hosts}"
    scen = _scenario(tmp / f"dist-{hosts}.yaml", args, 1, hosts)
    proc = lab.popen("master", [str(BIN / "slogate"), "run", str(scen), "--out", str(out),
                                "--allow-remote", "10.213.7.0/24", "--no-cross-check", "--format", "json"],
                     env=_env(), log=tmp / f"dist-{hosts}.log")
    workers = [f"w{i + 1}" for i in range(hosts)]
    for name in workers:
        lab.popen(name, [str(BIN / "slogate"), "worker", "--master", "10.213.7.2:5557",
                         "--join-timeout", "120"], env=_env(), log=tmp / f"{name}-{hosts}.log")
    rss: list[int] = []
    sampler = _rss_sampler(lab, workers, args.sessions / args.connect_rate + args.duration / 2 + 10, rss)
    proc.wait(args.duration * 4 + 300)
    sampler.join(1)
    return _measure(out, "worker namespaces", hosts, hosts, args.sessions, rss)


def network_part(args: argparse.Namespace) -> list[Result]:
    reason = unavailable_reason()
    if reason is not None:
        print(f"skipping the namespace runs: {reason}", file=sys.stderr)
        return []
    hosts = [int(h) for h in args.hosts.split(",")]
    names = ["target", "master", *[f"w{i + 1}" for i in range(max(hosts))]]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sgt-bench-") as tmpdir, NetLab.create(names) as lab:
        tmp = Path(tmpdir)
        lab.popen("target", [sys.executable, str(ROOT / "benchmarks/ws_echo_server.py"), "--host",
                             "10.213.7.1", "--port", str(PORT), "--processes", str(args.echo_processes)],
                  env=_env(), log=tmp / "echo.log")
        time.sleep(3)
        for h in hosts:
            for fn in (run_local, run_distributed):
                r = fn(lab, args, h, tmp)
                print(r, flush=True)
                results.append(r)
    return results


# ----- part 2: shipping cost ------------------------------------------------------------------


def shipping_part(n: int, chunk: int) -> tuple[float, float, float, float]:
    """(record CPU-s/1k, worker shipping CPU-s/1k, master CPU-s/1k, wire bytes/1k)."""
    import msgpack
    import pyarrow as pa

    from foundation.layout import RunLayout
    from scenarios.distributed.chunks import HostSink, StreamTailer, decode_chunk, encode_chunk
    from scenarios.record import SampleWriter

    pa.array([0.0], type=pa.float64())  # pyarrow's lazy pandas import: not a per-sample cost
    with tempfile.TemporaryDirectory(prefix="sgt-ship-") as tmpdir:
        tmp = Path(tmpdir)
        writer = SampleWriter(tmp / "w", worker=0, chunk_rows=10**9)
        tail = StreamTailer(RunLayout(tmp / "w"), 0)
        sink = HostSink(RunLayout(tmp / "m"), part=0, clock_offset_s=0.25)
        rec = ship = master = 0.0
        wire = 0
        t = 1.7e9
        for start in range(0, n, chunk):
            c0 = time.process_time()
            for i in range(start, min(n, start + chunk)):
                writer.record(ts=t + i * 1e-3, intended_ts=t + i * 1e-3, latency_ms=0.3 + (i % 97) * 0.01,
                              kind="ws_message", name="sessions", tenant="", tier="", ok=True, status=101,
                              error="", nbytes=48)
            writer.flush()
            c1 = time.process_time()
            payload = msgpack.dumps(("slogate_chunk", {"seq": start, "data": encode_chunk(tail.read_new())},
                                     "node"))
            c2 = time.process_time()
            _, data, _ = msgpack.loads(payload, raw=False)
            decode_chunk(data["data"])  # what the master validates
            sink.write(data["data"])
            c3 = time.process_time()
            rec, ship, master, wire = rec + c1 - c0, ship + c2 - c1, master + c3 - c2, wire + len(payload)
        writer.close()
        sink.close()
        k = n / 1000
        return rec / k, ship / k, master / k, wire / k


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=2000)
    p.add_argument("--hosts", default="1,2,4", help="worker namespace counts to compare")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between a session's prompts")
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--connect-rate", type=float, default=500.0)
    p.add_argument("--echo-processes", type=int, default=2)
    p.add_argument("--samples", type=int, default=200_000, help="part 2: samples shipped")
    p.add_argument("--shipping-only", action="store_true")
    p.add_argument("--record", action="store_true", help="append the results to BENCHMARKS.md")
    args = p.parse_args()
    rec, ship, master, wire = shipping_part(args.samples, chunk=2000)
    print(f"per 1,000 samples: record {rec * 1000:.1f} ms CPU, worker shipping {ship * 1000:.1f} ms, "
          f"master {master * 1000:.1f} ms, {wire / 1024:.1f} KiB on the wire")
    results = [] if args.shipping_only else network_part(args)
    if args.record:
        _record(args, results, (rec, ship, master, wire))
    return 0


def _record(args: argparse.Namespace, results: list[Result], ship: tuple[float, float, float, float]) -> None:
    load = os.getloadavg()[0]
    heading = "## Distributed runs (Locust master/worker, network namespaces)"
    rec, worker, master, wire = ship
    append_section(
        ROOT / "BENCHMARKS.md", heading,
        f"`benchmarks/distributed_swarm.py --samples {args.samples}` (part 2) "
        f"({time.strftime('%Y-%m-%d')}; {machine()}; load average {load:.1f}, a shared machine): "
        "CPU per 1,000 samples of shipping them to the master (2,000-sample chunks, one a second "
        "at 2,000 samples/s), against recording them locally in the same run.",
        ["path", "CPU per 1,000 samples", "x local recording"],
        [["record locally (SampleWriter.record + flush)", f"{rec * 1000:.1f} ms", "1.00x"],
         ["worker: tail stream + LZ4 IPC chunk + msgpack", f"{worker * 1000:.1f} ms",
          f"{worker / rec:.2f}x"],
         ["master: unpack + decode + clock shift + append", f"{master * 1000:.1f} ms",
          f"{master / rec:.2f}x"],
         ["bytes on the wire", f"{wire / 1024:.1f} KiB", "-"]],
        "",
    )
    if not results:
        return
    rows = []
    base = {r.shards: r for r in results if r.label == "local shards"}
    for r in results:
        b = base.get(r.shards)
        ratio = f"{r.msgs_per_s / b.msgs_per_s:.2f}x" if b and b.msgs_per_s and r is not b else "1.00x"
        rows.append([r.label, str(r.shards), f"{r.held}/{r.sessions}", f"{r.msgs_per_s:.0f}", ratio,
                     f"{r.p50_ms:.2f}", f"{r.p99_ms:.1f}", str(r.drops), str(r.failed_connects),
                     "-" if r.rss_mb is None else f"{r.rss_mb:.0f}",
                     "-" if r.kb_per_session is None else f"{r.kb_per_session:.1f}", r.status])
    append_section(
        ROOT / "BENCHMARKS.md", heading,
        f"`benchmarks/distributed_swarm.py --sessions {args.sessions} --hosts {args.hosts} "
        f"--interval {args.interval:g} --duration {args.duration}` ({time.strftime('%Y-%m-%d')}; "
        f"{machine()}; load average {load:.1f} when done, a machine shared with five other "
        "engineers): echo server (namespace 10.213.7.1, "
        f"{args.echo_processes} processes); local = `slogate run` with N shards in the master "
        "namespace; distributed = N worker namespaces x 1 shard, each its own source address.",
        ["generator", "shards", "held / planned", "msgs/s", "x local", "RTT p50 ms", "RTT p99 ms",
         "drops", "failed connects", "shard RSS MB", "RSS KB/session", "status"],
        rows, "",
    )


if __name__ == "__main__":
    sys.exit(main())
