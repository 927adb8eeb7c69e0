"""First measurement of the reference target: POST /v1/runs against GET /healthz, and
WebSocket sessions held.

    .venv/bin/python benchmarks/target_throughput.py [--duration 12] [--connections 32]
        [--sessions 1000,2000] [--only embedded|production] [--json OUT]

For each configuration (``embedded``: 1 worker on SQLite; ``production``: 2 workers with
Redis and PostgreSQL, if both answer on 127.0.0.1), in one run:

1. Start the real target (``start_embedded_target``) with enterprise quotas raised through
   ``SLOGATE_QUOTAS`` so that the limiter admits everything; provision 4 enterprise tenants.
2. HTTP, closed loop with ``wrk`` (C, 1 thread, pinned to CPU 0; the 1-worker server pinned
   to CPU 1; two workers, PostgreSQL and Redis share both CPUs): ``GET /healthz`` (the
   baseline: same server, same middleware, trivial route), then ``POST /v1/runs`` (auth,
   rate limit, insert run + audit row, enqueue; the executor then runs it against the
   simulated provider and writes it twice more), then ``POST /v1/runs`` on one connection
   (service time without queueing). Requests/s, p50/p99 from wrk's histogram, responses by
   status (``429 queue_full`` = load shed), and CPU-seconds per process group (server, wrk,
   PostgreSQL, Redis, whole machine) over the window, to say what saturated. Server CPU per
   request is the figure least disturbed by other work on a shared machine; requests/s and
   latency are not.
3. WebSocket (``target_ws_sessions.py``), from a separate client process (``websockets`` on
   uvloop, permessage-deflate offered as browsers do unless ``--no-compression``): open 1,000 then
   2,000 sessions spread over the tenants; open time, server RSS growth per session,
   ``slogate_ws_sessions`` from /metrics (the server's own count), then a few prompts one at
   a time: prompt -> first token and prompt -> done.

Needs ``wrk`` (``apt-get install -y wrk``). Everything runs on 127.0.0.1 and stops at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from target_service.embedded import EmbeddedTarget, EmbeddedTargetOptions, start_embedded_target  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from target_ws_sessions import WsLevel, measure_ws, metric  # noqa: E402

CLIENT_CPU, SERVER_CPU = 0, 1
TENANTS = 4
BIG_QUOTA = {"max_sessions": 1000, "requests_per_s": 1_000_000, "burst": 1_000_000}
QUOTAS = {
    "starter": {"max_sessions": 10, "requests_per_s": 20, "burst": 40},
    "team": {"max_sessions": 50, "requests_per_s": 100, "burst": 200},
    "enterprise": BIG_QUOTA,
}

WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local parts = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      parts[#parts + 1] = string.format('"%d":%d', status, n)
    end
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, table.concat(parts, ",")))
end
"""


# ----- pure summaries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpResult:
    config: str
    route: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    socket_errors: int
    cpu: dict[str, float]  # cores busy on average: server, client, postgres, redis, others, machine
    server_ms: float  # mean time in the server (its own histogram), from first byte in to last out
    db_queries_per_request: float  # statements at the driver per request, executor included
    db_ms_per_query: float

    @property
    def server_cpu_ms_per_request(self) -> float:
        """Server CPU per request (the executor's work on accepted runs included): unlike
        requests/s, this barely depends on what else the machine is running."""
        return 1000 * self.cpu["server"] / self.requests_per_s if self.requests_per_s else float("nan")

    @property
    def ok_per_s(self) -> float:
        total = sum(self.statuses.values())
        ok = sum(n for s, n in self.statuses.items() if s.startswith("2"))
        return self.requests_per_s * ok / total if total else 0.0


def saturation(cpu: dict[str, float], server_cores: float, cores: int) -> str:
    """Name what limited the run from the average number of cores each group kept busy."""
    if cpu["machine"] >= 0.9 * cores:
        busiest = max(("server", "client", "postgres", "redis", "others"), key=lambda k: cpu[k])
        return f"machine CPU ({cpu['machine']:.2f}/{cores} cores busy; most: {busiest})"
    if cpu["server"] >= 0.9 * server_cores:
        return f"server CPU ({cpu['server']:.2f} of {server_cores:g} cores)"
    if cpu["client"] >= 0.9:
        return "client (wrk) CPU"
    return "none by CPU (latency-bound: waits on the database, queue or provider)"


# ----- process measurements ------------------------------------------------------------------


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def _named(name: str) -> list[int]:
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == name]


class CpuWindow:
    """CPU-seconds used by each process group between ``__enter__`` and ``__exit__``."""

    def __init__(self, server_pids: list[int]) -> None:
        self.groups = {"server": server_pids, "postgres": _named("postgres"), "redis": _named("redis-server")}
        self.cores: dict[str, float] = {}

    def __enter__(self) -> CpuWindow:
        self._t0 = time.monotonic()
        self._before = {k: _cpu_seconds(v) for k, v in self.groups.items()}
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._machine = psutil.cpu_times()
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.monotonic() - self._t0
        for key, pids in self.groups.items():
            self.cores[key] = (_cpu_seconds(pids) - self._before[key]) / wall
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has exited
        used = children.ru_utime + children.ru_stime - self._children.ru_utime - self._children.ru_stime
        self.cores["client"] = used / wall
        now = psutil.cpu_times()
        busy = (
            sum(now)
            - now.idle
            - now.iowait
            - (sum(self._machine) - self._machine.idle - self._machine.iowait)
        )
        self.cores["machine"] = busy / wall
        ours = sum(self.cores[k] for k in ("server", "client", "postgres", "redis"))
        self.cores["others"] = max(0.0, self.cores["machine"] - ours)  # other users of the machine


def run_wrk(
    url: str, route: str, token: str | None, seconds: float, connections: int, script: Path
) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script)]
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
    if route.startswith("POST "):
        command += ["-H", "Content-Type: application/json"]
    env = {**os.environ, "WRK_METHOD": route.split()[0]}
    proc = subprocess.Popen([*command, url + route.split()[1]], stdout=subprocess.PIPE, text=True, env=env)
    os.sched_setaffinity(proc.pid, {CLIENT_CPU})
    out, _ = proc.communicate(timeout=seconds + 30)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    return result


def measure_http(
    config: str, target: EmbeddedTarget, token: str, args: argparse.Namespace, script: Path
) -> list[HttpResult]:
    """The baseline, the route under test, and the route alone (1 connection: service time)."""
    phases = (
        ("GET /healthz", None, args.connections, args.duration),
        ("POST /v1/runs", token, args.connections, args.duration),
        ("POST /v1/runs", token, 1, max(3.0, args.duration / 3)),
    )
    results = []
    for route, auth, connections, seconds in phases:
        run_wrk(target.url, route, auth, 2, connections, script)  # warm-up, not recorded
        _drain(target, token)
        before = _server_counters(target, route)
        with CpuWindow(target.pids()) as window:
            raw = run_wrk(target.url, route, auth, seconds, connections, script)
        after = _server_counters(target, route)
        handled, seconds_in_server, queries, query_s = (b - a for a, b in zip(before, after, strict=True))
        results.append(
            HttpResult(
                config=config,
                route=route if connections == args.connections else f"{route} (c={connections})",
                requests_per_s=raw["requests"] / (raw["duration_us"] / 1e6),
                p50_ms=raw["p50_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                statuses={str(k): int(v) for k, v in raw["statuses"].items()},
                socket_errors=raw["socket_errors"],
                cpu=window.cores,
                server_ms=1000 * seconds_in_server / handled if handled else float("nan"),
                db_queries_per_request=queries / handled if handled else float("nan"),
                db_ms_per_query=1000 * query_s / queries if queries else float("nan"),
            )
        )
    _drain(target, token)
    return results


def _server_counters(target: EmbeddedTarget, route: str) -> tuple[float, float, float, float]:
    """Requests handled on ``route`` and their total seconds; statements and their seconds."""
    method, path = route.split()
    http = "slogate_http_request_duration_seconds"
    return (
        metric(target, f"{http}_count", route=path, method=method),
        metric(target, f"{http}_sum", route=path, method=method),
        metric(target, "slogate_db_query_duration_seconds_count"),
        metric(target, "slogate_db_query_duration_seconds_sum"),
    )


def _drain(target: EmbeddedTarget, token: str, limit_s: float = 120.0) -> None:
    """Wait until the tenant has no queued or running run, so that the executor's backlog
    from one phase loads no later phase (polled: there is no event to wait on)."""
    deadline = time.monotonic() + limit_s
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=target.url, headers=headers, timeout=30) as client:
        while time.monotonic() < deadline:
            busy = [client.get("/v1/runs", params={"status": s, "limit": 1}).json()["items"] for s in _ACTIVE]
            if not any(busy):
                return
            time.sleep(0.5)
    raise RuntimeError(f"runs still queued or running after {limit_s:g}s")


_ACTIVE = ("queued", "running")


# ----- configurations ------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database on 127.0.0.1 (None if the server does not answer)."""
    import asyncpg

    name = f"slogate_bench_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres", timeout=3)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError):
        yield None
        return
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def redis_available(url: str) -> bool:
    import redis

    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
            client.ping()
            for key in client.scan_iter(match="slogate:*"):
                client.delete(key)
    except redis.RedisError:
        return False
    return True


def provision(target: EmbeddedTarget) -> list[str]:
    tokens = []
    with httpx.Client(
        base_url=target.url, timeout=30, headers={"Authorization": f"Bearer {target.admin_token}"}
    ) as c:
        for i in range(TENANTS):
            tenant = c.post("/v1/tenants", json={"name": f"bench-{i}", "tier": "enterprise"}).json()["id"]
            tokens.append(c.post(f"/v1/tenants/{tenant}/tokens", json={"role": "developer"}).json()["token"])
    return tokens


def run_config(
    name: str, options: EmbeddedTargetOptions, args: argparse.Namespace, script: Path
) -> tuple[list[HttpResult], list[WsLevel]]:
    print(
        f"== {name}: {options.workers} worker(s), {(options.database_url or 'sqlite').split(':')[0]}",
        flush=True,
    )
    with start_embedded_target(options) as target:
        if options.workers == 1:
            for pid in target.pids():
                os.sched_setaffinity(pid, {SERVER_CPU})
        tokens = provision(target)
        http = measure_http(name, target, tokens[0], args, script)
        ws = measure_ws(name, target, tokens, args.sessions, compression=not args.no_compression)
    return http, ws


# ----- report --------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} vCPU {model}, Python {platform.python_version()}, load average at start {load}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(row) + " |" for row in rows
    ]


def _p50_max(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} / {max(values):.0f}" if values else "-"


def report(http: list[HttpResult], ws: list[WsLevel], workers: dict[str, int]) -> str:
    """Three Markdown tables: HTTP side by side, the ratios with what saturated, sessions."""
    cores = os.cpu_count() or 1
    http_rows = [
        [
            r.config,
            r.route,
            f"{r.requests_per_s:,.0f}",
            f"{r.ok_per_s:,.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            f"{r.server_ms:.2f}",
            f"{r.server_cpu_ms_per_request:.2f}",
            f"{r.db_queries_per_request:.1f} x {r.db_ms_per_query:.2f}",
            " ".join(f"{k}:{v}" for k, v in sorted(r.statuses.items())),
            *(f"{r.cpu[k]:.2f}" for k in ("server", "client", "postgres", "redis", "others", "machine")),
        ]
        for r in http
    ]
    ratio_rows = []
    for config in dict.fromkeys(r.config for r in http):
        base, post = (
            next(r for r in http if r.config == config and r.route == route)
            for route in ("GET /healthz", "POST /v1/runs")
        )
        ratio_rows.append(
            [
                config,
                f"{post.requests_per_s / base.requests_per_s:.3f}",
                f"{post.p50_ms / base.p50_ms:.1f}x",
                f"{post.p99_ms / base.p99_ms:.1f}x",
                f"{post.server_cpu_ms_per_request / base.server_cpu_ms_per_request:.1f}x",
                saturation(post.cpu, workers[config], cores),
            ]
        )
    ws_rows = [
        [
            w.config,
            f"{w.sessions:,}",
            f"{w.open_s:.2f}",
            f"{w.server_sessions_gauge:,.0f}",
            f"{w.server_rss_per_session_kb:.1f}",
            f"{w.client_rss_per_session_kb:.1f}",
            _p50_max(w.first_token_ms),
            _p50_max(w.done_ms),
            str(w.dropped),
        ]
        for w in ws
    ]
    cpu = ["server cores", "wrk cores", "PG cores", "Redis cores", "other cores", "machine cores"]
    http_header = [
        "config",
        "route",
        "req/s",
        "2xx/s",
        "p50 ms",
        "p99 ms",
        "in-server ms",
        "server CPU ms/req",
    ]
    http_header += ["DB statements/req x ms", "statuses"]
    lines = _table([*http_header, *cpu], http_rows)
    ratio_header = ["config", "POST/healthz req/s", "p50 ratio", "p99 ratio", "CPU/req ratio"]
    ratio_header += ["saturated during POST"]
    lines += ["", *_table(ratio_header, ratio_rows)]
    ws_header = ["config", "sessions", "open s", "server gauge", "server RSS/session KB"]
    ws_header += ["client RSS/session KB", "first token p50 / max ms", "done p50 / max ms", "dropped"]
    lines += ["", *_table(ws_header, ws_rows)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per wrk measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sessions", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 2000])
    parser.add_argument("--only", choices=["embedded", "production"], default=None)
    parser.add_argument(
        "--no-compression", action="store_true", help="WebSocket clients do not offer permessage-deflate"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    args = parser.parse_args()
    if not all(0 < s <= 4000 for s in args.sessions) or not 1 <= args.duration <= 60:
        parser.error("--sessions must be 1..4000 each and --duration 1..60 s (bounded load)")
    print(machine(), flush=True)
    env = {"SLOGATE_QUOTAS": json.dumps(QUOTAS)}
    http: list[HttpResult] = []
    ws: list[WsLevel] = []
    workers: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="slogate-bench-") as tmp, postgres_database() as pg_url:
        script = Path(tmp) / "wrk.lua"
        script.write_text(
            WRK_SCRIPT.replace("function init(args)", _method_prelude() + "function init(args)")
        )
        plans: list[tuple[str, EmbeddedTargetOptions]] = []
        if args.only in (None, "embedded"):
            plans.append(("1 worker, SQLite", EmbeddedTargetOptions(data_dir=Path(tmp) / "a", env=env)))
        if args.only in (None, "production"):
            if pg_url is None or not redis_available(args.redis_url):
                print("production-like configuration skipped: PostgreSQL or Redis not answering", flush=True)
            else:
                plans.append(
                    (
                        "2 workers, PostgreSQL + Redis",
                        EmbeddedTargetOptions(
                            data_dir=Path(tmp) / "b",
                            workers=2,
                            database_url=pg_url,
                            redis_url=args.redis_url,
                            env=env,
                        ),
                    )
                )
        for name, options in plans:
            workers[name] = options.workers
            h, w = run_config(name, options, args, script)
            http += h
            ws += w
        if any(o.redis_url for _, o in plans):
            redis_available(args.redis_url)  # removes the run's keys
    print(report(http, ws, workers))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": machine(), "http": [asdict(r) for r in http], "ws": [asdict(w) for w in ws]},
                indent=2,
            )
        )
    return 0


def _method_prelude() -> str:
    """POST with a fixed body when wrk is told so by WRK_METHOD (set per invocation)."""
    return (
        'wrk.method = os.getenv("WRK_METHOD") or "GET"\n'
        'if wrk.method == "POST" then wrk.body = \'{"prompt":"benchmark: summarise the quarter"}\' end\n'
    )


if __name__ == "__main__":
    sys.exit(main())
