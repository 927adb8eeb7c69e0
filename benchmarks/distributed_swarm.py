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
        --interval 60 --duration 400 --connect-rate 200 --no-local   # 50,000 sessions

The 50,000-session run needs its ramp inside ``--duration`` (sessions / connect rate, plus
a few intervals of steady state: the window measured starts after the last connect) and, on
two shared cores, a message load the echo server can keep up with (BENCHMARKS.md: at one
message per 30 s the starved server let connects time out near 50,000).
    python benchmarks/distributed_swarm.py --shipping-only --record

Every process it starts lives in namespaces it creates (sgt-<pid>-*) and is killed, and
the namespaces deleted, before it exits.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import append_lines, machine  # noqa: E402
from tests.scenarios.distributed.netlab import SUBNET, NetLab, unavailable_reason  # noqa: E402

BIN = Path(sys.executable).parent
PORT = 9000
_SETTLE_S = 5.0  # see _measure


@dataclass
class Result:
    label: str
    hosts: int
    shards: int
    sessions: int
    held: int  # fewest sessions open at once in the steady window (runner's timeseries)
    held_by_samples: int  # ok connects - drops before the window's end (the samples' count)
    ramp_s: float  # first connect sent -> last successful connect answered
    steady_s: float  # the window after the ramp and before the stop
    msgs_per_s: float  # ok ws_message rows in the steady window / its length
    p50_ms: float
    p99_ms: float
    drops: int
    failed_connects: int
    connect_errors: str
    timeouts: int  # prompts without a reply (response_timeout or stop)
    kb_per_session: float | None  # shard RSS in the steady window / held
    marginal_kb: float | None  # (shard RSS in the window - before the ramp) / held
    rss_mb: float | None
    worker_proc_mb: float | None  # the `slogate worker` processes (Locust, shipping), if any
    server_kb_per_session: float | None  # the echo server's RSS / held
    load: tuple[float, float, float]  # 1/5/15 min load average in the steady window
    status: str
    listen_drops: int = 0  # SYNs the echo server's namespace dropped: accept queue full


def listen_drops(lab: NetLab) -> int:
    """TcpExt ListenDrops of the target namespace (per-namespace counters, cumulative)."""
    text = lab.run("target", ["cat", "/proc/net/netstat"]).stdout.splitlines()
    for names, values in zip(text[::2], text[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split(), strict=True))["ListenDrops"])
    return 0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOGATE_")}
    env.update(extra)
    return env


def nofile_limit() -> int:
    """Open files a process may have here (inherited by every namespace's processes)."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def port_range() -> int:
    """Ephemeral ports per source/destination address pair (a new namespace starts with the
    same default range as the machine's)."""
    lo, hi = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return hi - lo + 1


def shards_per_host(sessions_per_host: int, nofile: int) -> int:
    """Shards one host needs so that no shard process holds more sockets than its open-files
    limit allows (a quarter left for the interpreter, Arrow files and pipes, and slack)."""
    return max(1, math.ceil(sessions_per_host / (nofile * 0.75)))


def check_limits(sessions: int, hosts: int, echo_processes: int, nofile: int, ports: int) -> list[str]:
    """Why this run cannot hold ``sessions`` on this machine; empty when it can.

    Walls (docs: /work/shared/PERFORMANCE-NOTES.md): a process's open files (every shard and
    every echo server process holds one socket per session), and the ephemeral ports per
    source/destination address pair (each worker namespace, or each source address of the
    local run, opens ``sessions / hosts`` connections to one server address).
    """
    problems = []
    per_host = math.ceil(sessions / hosts)
    if per_host > ports:
        problems.append(f"{per_host} sessions per source address > {ports} ephemeral ports: "
                        "use more --hosts")
    per_echo = math.ceil(sessions / echo_processes * 1.05)  # SO_REUSEPORT hashing: within a few %
    if per_echo > nofile * 0.9:
        problems.append(f"about {per_echo} connections per echo server process > 90 % of the "
                        f"{nofile}-file limit: use more --echo-processes")
    return problems


def _scenario(path: Path, args: argparse.Namespace, shards: int, hosts: int | None,
              sources: Sequence[str] = ()) -> Path:  # fmt: skip
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
        *([f"  source_addresses: [{', '.join(sources)}]"] if sources else []),
        f"limits: {{max_duration: {args.duration * 3 + 120}s, stop_timeout: 60s}}",
    ]
    if hosts:
        lines.append(f"distributed: {{expect_workers: {hosts}, join_timeout: 180s}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class RssSample:
    t: float  # epoch s
    shards: int  # bytes, swarm shard processes
    workers: int  # bytes, `slogate worker` processes
    server: int  # bytes, echo server processes
    load: tuple[float, float, float]


class RssSampler:
    """Every ``every_s``: the RSS of the shard, worker and echo server processes of the lab."""

    def __init__(self, lab: NetLab, names: Sequence[str], every_s: float = 2.0) -> None:
        self.lab, self.names, self.every_s = lab, list(names), every_s
        self.samples: list[RssSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _rss(self, names: Sequence[str], needle: str) -> int:
        total = 0
        for name in names:
            for pid in self.lab.pids(name):
                try:
                    p = psutil.Process(pid)
                    if needle in " ".join(p.cmdline()):
                        total += p.memory_info().rss
                except psutil.Error:
                    continue
        return total

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.samples.append(RssSample(
                time.time(), self._rss(self.names, "scenarios.swarm.shard"),
                self._rss(self.names, "slogate worker"), self._rss(["target"], "ws_echo_server"),
                os.getloadavg(),
            ))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.every_s + 30)

    def at(self, lo: float, hi: float) -> RssSample | None:
        """The sample nearest the middle of [lo, hi] (the steady window)."""
        inside = [s for s in self.samples if lo <= s.t <= hi]
        mid = (lo + hi) / 2
        return min(inside, key=lambda s: abs(s.t - mid)) if inside else None

    def before(self, t: float) -> RssSample | None:
        """The last sample with shard processes running, before ``t`` (the ramp's start)."""
        early = [s for s in self.samples if s.t < t and s.shards]
        return early[-1] if early else None


@dataclass(frozen=True)
class Steady:
    """What the samples and the live counts say about one run's steady state."""

    first: float  # epoch s of the first connect sent
    ramp_end: float  # epoch s the last successful connect was answered
    lo: float  # the steady window: [lo, hi]
    hi: float
    held: int  # fewest sessions live in any timeseries row of the window
    held_by_samples: int  # ok connects answered by hi - drops recorded by hi
    ok_msgs: int  # ok ws_message rows sent in the window
    p50_ms: float
    p99_ms: float
    drops: int
    failed_connects: int
    connect_errors: collections.Counter[str]
    timeouts: int

    @property
    def seconds(self) -> float:
        return max(0.0, self.hi - self.lo)

    @property
    def msgs_per_s(self) -> float:
        return self.ok_msgs / self.seconds if self.seconds else 0.0


def steady_state(
    samples: pa.Table, series: pa.Table, duration_s: float, settle_s: float = _SETTLE_S
) -> Steady:
    """The steady window of a run and what it held: ``samples`` has the run record's ``ts``,
    ``latency_ms``, ``kind``, ``ok``, ``error``; ``series`` the timeseries' ``ts`` and
    ``ws_sessions``.

    The swarm stops ``duration_s`` after its first connect; the window ends a second before
    that and opens ``settle_s`` after the last successful connect, because live counts reach
    the runner through the shard's, the worker's and the master's one-second reports, so a
    row just after the ramp can lag its last sessions.
    """
    kind = np.array(samples.column("kind").to_pylist(), dtype=object)
    ok = samples.column("ok").to_numpy(zero_copy_only=False).astype(bool)
    ts = samples.column("ts").to_numpy()
    lat = samples.column("latency_ms").to_numpy()
    error = np.array(samples.column("error").to_pylist(), dtype=object)
    conn, msg, close = kind == "ws_connect", kind == "ws_message", kind == "ws_close"
    first = float(ts[conn].min())
    opened = ts[conn & ok] + lat[conn & ok] / 1000
    ramp_end = float(opened.max()) if opened.size else first
    lo, hi = ramp_end + settle_s, first + duration_s - 1.0
    ok_msgs = msg & ok & (ts >= lo) & (ts <= hi)
    sts = series.column("ts").to_numpy()
    live = series.column("ws_sessions").to_numpy()
    rows = (sts >= lo) & (sts <= hi)
    return Steady(
        first=first, ramp_end=ramp_end, lo=lo, hi=hi,
        held=int(live[rows].min()) if rows.any() else 0,
        held_by_samples=int((opened <= hi).sum()) - int((close & (ts <= hi)).sum()),
        ok_msgs=int(ok_msgs.sum()),
        p50_ms=float(np.percentile(lat[ok_msgs], 50)) if ok_msgs.any() else float("nan"),
        p99_ms=float(np.percentile(lat[ok_msgs], 99)) if ok_msgs.any() else float("nan"),
        drops=int(close.sum()), failed_connects=int((conn & ~ok).sum()),
        connect_errors=collections.Counter(str(e) for e in error[conn & ~ok]),
        timeouts=int((msg & ~ok).sum()),
    )


def _measure(out: Path, label: str, hosts: int, shards: int, args: argparse.Namespace,
             rss: RssSampler) -> Result:  # fmt: skip
    """Sessions held at steady state, drops, RSS per session and messages/s of one run."""
    info = json.loads((out / "run.json").read_text())
    samples = pa.concat_tables([
        pq.read_table(p, columns=["ts", "latency_ms", "kind", "ok", "error"])
        for p in sorted((out / "samples").glob("part-*.parquet"))
    ])
    s = steady_state(samples, pq.read_table(out / "timeseries.parquet", columns=["ts", "ws_sessions"]),
                     args.duration)
    mid, base = rss.at(s.lo, s.hi), rss.before(s.first)
    held = s.held
    return Result(
        label=label, hosts=hosts, shards=shards, sessions=args.sessions, held=held,
        held_by_samples=s.held_by_samples, ramp_s=s.ramp_end - s.first, steady_s=s.seconds,
        msgs_per_s=s.msgs_per_s, p50_ms=s.p50_ms, p99_ms=s.p99_ms, drops=s.drops,
        failed_connects=s.failed_connects,
        connect_errors=", ".join(f"{e or '?'} x{n}" for e, n in s.connect_errors.most_common(3)),
        timeouts=s.timeouts,
        kb_per_session=mid.shards / 1024 / held if mid and held else None,
        marginal_kb=(mid.shards - base.shards) / 1024 / held if mid and base and held else None,
        rss_mb=mid.shards / 1024**2 if mid else None,
        worker_proc_mb=mid.workers / 1024**2 if mid and mid.workers else None,
        server_kb_per_session=mid.server / 1024 / held if mid and held else None,
        load=mid.load if mid else os.getloadavg(),
        status=str(info["status"]),
    )


def _slogate_run(lab: NetLab, scen: Path, out: Path, log: Path) -> subprocess.Popen[bytes]:
    return lab.popen("master", [str(BIN / "slogate"), "run", str(scen), "--out", str(out),
                                "--allow-remote", "10.213.7.0/24", "--no-cross-check", "--format", "json"],
                     env=_env(), log=log)


def _wait(proc: subprocess.Popen[bytes], args: argparse.Namespace) -> None:
    # the ramp alone may take several times its plan on a loaded machine
    proc.wait(args.duration * 3 + args.sessions / args.connect_rate * 4 + 300)


def run_local(lab: NetLab, args: argparse.Namespace, hosts: int, per_host: int, tmp: Path) -> Result:
    """H x S shards in the master namespace, from H source addresses (as H hosts would)."""
    sources = [f"{SUBNET}.{101 + i}" for i in range(hosts)]
    for addr in sources:
        lab.run("master", ["ip", "addr", "add", f"{addr}/24", "dev", "eth0"])
    out = tmp / f"local-{hosts}"
    shards = hosts * per_host
    scen = _scenario(tmp / f"local-{hosts}.yaml", args, shards, None, sources)
    rss = RssSampler(lab, ["master"])
    try:
        _wait(_slogate_run(lab, scen, out, tmp / f"local-{hosts}.log"), args)
    finally:
        rss.stop()
        for addr in sources:
            lab.run("master", ["ip", "addr", "del", f"{addr}/24", "dev", "eth0"])
    return _measure(out, "local shards", hosts, shards, args, rss)


def run_distributed(lab: NetLab, args: argparse.Namespace, hosts: int, per_host: int, tmp: Path) -> Result:
    """H worker namespaces x S shards, each namespace its own source address."""
    out = tmp / f"dist-{hosts}"
    scen = _scenario(tmp / f"dist-{hosts}.yaml", args, per_host, hosts)
    workers = [f"w{i + 1}" for i in range(hosts)]
    rss = RssSampler(lab, workers)
    try:
        proc = _slogate_run(lab, scen, out, tmp / f"dist-{hosts}.log")
        for name in workers:
            lab.popen(name, [str(BIN / "slogate"), "worker", "--master", f"{SUBNET}.2:5557",
                             "--join-timeout", "180"], env=_env(), log=tmp / f"{name}-{hosts}.log")
        _wait(proc, args)
    finally:
        rss.stop()
    return _measure(out, "worker namespaces", hosts, hosts * per_host, args, rss)


def network_part(args: argparse.Namespace) -> list[Result]:
    reason = unavailable_reason()
    if reason is not None:
        print(f"skipping the namespace runs: {reason}", file=sys.stderr)
        return []
    hosts = [int(h) for h in args.hosts.split(",")]
    nofile, ports = nofile_limit(), port_range()
    for h in hosts:
        problems = check_limits(args.sessions, h, args.echo_processes, nofile, ports)
        if problems:
            raise SystemExit(f"--sessions {args.sessions} --hosts {h}: " + "; ".join(problems))
    names = ["target", "master", *[f"w{i + 1}" for i in range(max(hosts))]]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sgt-bench-") as tmpdir, NetLab.create(names) as lab:
        tmp = Path(args.keep) if args.keep else Path(tmpdir)
        tmp.mkdir(parents=True, exist_ok=True)
        lab.popen("target", [sys.executable, str(ROOT / "benchmarks/ws_echo_server.py"), "--host",
                             f"{SUBNET}.1", "--port", str(PORT), "--processes", str(args.echo_processes)],
                  env=_env(), log=tmp / "echo.log")
        time.sleep(3)
        for h in hosts:
            per_host = shards_per_host(math.ceil(args.sessions / h), nofile)
            runs = (run_distributed,) if args.no_local else (run_local, run_distributed)
            for fn in runs:
                drops_before = listen_drops(lab)
                r = fn(lab, args, h, per_host, tmp)
                r.listen_drops = listen_drops(lab) - drops_before
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
    p.add_argument("--duration", type=int, default=20, help="seconds from the first connect to the stop")
    p.add_argument("--connect-rate", type=float, default=500.0)
    p.add_argument("--echo-processes", type=int, default=2)
    p.add_argument("--no-local", action="store_true", help="skip the local-shard baseline runs")
    p.add_argument("--keep", metavar="DIR", help="keep run records and logs here")
    p.add_argument("--samples", type=int, default=200_000, help="part 2: samples shipped")
    p.add_argument("--shipping-only", action="store_true")
    p.add_argument("--record", action="store_true", help="add the results to BENCHMARKS.md")
    args = p.parse_args()
    rec, ship, master, wire = shipping_part(args.samples, chunk=2000)
    print(f"per 1,000 samples: record {rec * 1000:.1f} ms CPU, worker shipping {ship * 1000:.1f} ms, "
          f"master {master * 1000:.1f} ms, {wire / 1024:.1f} KiB on the wire")
    load_before = os.getloadavg()
    results = [] if args.shipping_only else network_part(args)
    blocks = [_shipping_block(args, (rec, ship, master, wire))]
    if results:
        blocks.append(_network_block(args, results, load_before))
        print("\n".join(blocks[-1]))
    if args.record:
        _insert_in_section(ROOT / "BENCHMARKS.md", HEADING, [line for b in blocks for line in b])
    return 0


HEADING = "## Distributed runs (Locust master/worker, network namespaces)"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows)]


def _shipping_block(args: argparse.Namespace, ship: tuple[float, float, float, float]) -> list[str]:
    rec, worker, master, wire = ship
    return [
        f"`benchmarks/distributed_swarm.py --samples {args.samples}` (part 2) "
        f"({time.strftime('%Y-%m-%d')}; {machine()}; load average {os.getloadavg()[0]:.1f}, a shared "
        "machine): CPU per 1,000 samples of shipping them to the master (2,000-sample chunks, one a "
        "second at 2,000 samples/s), against recording them locally in the same run.", "",
        *_table(["path", "CPU per 1,000 samples", "x local recording"], [
            ["record locally (SampleWriter.record + flush)", f"{rec * 1000:.1f} ms", "1.00x"],
            ["worker: tail stream + LZ4 IPC chunk + msgpack", f"{worker * 1000:.1f} ms",
             f"{worker / rec:.2f}x"],
            ["master: unpack + decode + clock shift + append", f"{master * 1000:.1f} ms",
             f"{master / rec:.2f}x"],
            ["bytes on the wire", f"{wire / 1024:.1f} KiB", "-"]]), "",
    ]


def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None or value != value else format(value, fmt)


def _network_block(
    args: argparse.Namespace, results: list[Result], load_before: tuple[float, ...]
) -> list[str]:
    base = {r.hosts: r for r in results if r.label == "local shards"}
    rows = []
    for r in results:
        b = base.get(r.hosts)
        ratio = f"{r.msgs_per_s / b.msgs_per_s:.2f}x" if b and b.msgs_per_s else "-"
        rows.append([
            r.label, f"{r.hosts} x {r.shards // r.hosts}", f"{r.held}/{r.sessions}", str(r.held_by_samples),
            f"{r.ramp_s:.0f} s", f"{r.steady_s:.0f} s", f"{r.msgs_per_s:.0f} ({r.held / args.interval:.0f})",
            ratio, f"{r.p50_ms:.2f} / {r.p99_ms:.0f}", str(r.drops),
            str(r.failed_connects) + (f" ({r.connect_errors})" if r.connect_errors else ""),
            str(r.timeouts), str(r.listen_drops), _f(r.rss_mb, ".0f"), _f(r.kb_per_session, ".1f"),
            _f(r.marginal_kb, ".1f"),
            _f(r.worker_proc_mb, ".0f"), _f(r.server_kb_per_session, ".1f"),
            " / ".join(f"{x:.1f}" for x in r.load), r.status,
        ])
    return [
        f"`benchmarks/distributed_swarm.py --sessions {args.sessions} --hosts {args.hosts} "
        f"--echo-processes {args.echo_processes} --interval {args.interval:g} --duration {args.duration} "
        f"--connect-rate {args.connect_rate:g}{' --no-local' if args.no_local else ''}` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}, {_mem_gb():.0f} GB; "
        f"load average {' / '.join(f'{x:.1f}' for x in load_before)} before, "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} after; a machine shared with other "
        "engineers' test runs; open-files limit "
        f"{nofile_limit()} per process, {port_range()} ephemeral ports per address pair): echo server in "
        f"namespace {SUBNET}.1 ({args.echo_processes} processes, one SO_REUSEPORT socket each); local = "
        "`slogate run` in the master namespace with H x S shards connecting from H source addresses; "
        "distributed = H worker namespaces (`slogate worker`) x S shards, each namespace its own "
        "address. *held* = fewest sessions open at once in the steady window (the runner's "
        "`timeseries.parquet`, summed live counts of every shard); *by samples* = successful "
        "connects minus drops up to the window's end; *steady* = from the last successful connect "
        f"+{_SETTLE_S:g} s to the stop -1 s; msgs/s over that window (expected: held / interval); "
        "RSS sampled every 2 s, the sample nearest the window's middle; *marginal* subtracts the shards' RSS "
        "before the ramp; load average is the one at that sample (1 / 5 / 15 min).", "",
        *_table(["generator", "hosts x shards", "held / planned", "by samples", "ramp", "steady",
                 "msgs/s (expected)", "x local", "RTT p50 / p99 ms", "drops", "failed connects",
                 "timeouts", "server listen drops", "shard RSS MB", "KB/session", "marginal KB/session",
                 "`slogate worker` MB",
                 "echo server KB/session", "load avg", "status"], rows), "",
    ]


def _mem_gb() -> float:
    return psutil.virtual_memory().total / 1024**3


def _insert_in_section(path: Path, heading: str, lines: list[str]) -> None:
    """Add ``lines`` at the end of ``heading``'s section (before the next ``## ``)."""
    text = path.read_text(encoding="utf-8")
    if heading not in text:
        append_lines(path, ["", heading, "", *lines])
        return
    at = text.index(heading) + len(heading)
    nxt = text.find("\n## ", at)
    nxt = len(text) if nxt < 0 else nxt + 1
    path.write_text(text[:nxt] + "\n".join(lines) + "\n" + text[nxt:], encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
