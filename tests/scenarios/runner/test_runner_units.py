"""Runner parts without load: safety rule, plans, progress merging, timeseries, resources."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest

from foundation.errors import HarnessError, TargetError
from scenarios.progress import BUCKET_BOUNDS_MS, LatencyHistogram, ProgressReport
from scenarios.runner.disk import check_room_to_start, dir_bytes
from scenarios.runner.plans import Tenant, build_http_plan, build_swarm_plan, ws_url
from scenarios.runner.resolved import resolved_scenario
from scenarios.runner.resources import (
    MetricsScraper,
    ProcessGroupMeter,
    ResourceSample,
    count_connections,
)
from scenarios.runner.safety import check_target_allowed, is_loopback_host
from scenarios.runner.timeseries import ProgressTracker, TimeseriesRecorder
from scenarios.spec import parse_scenario


def _fake_dns(table: dict[str, list[str]]) -> Callable[[str], list[str]]:
    def resolve(host: str) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


DNS = _fake_dns(
    {
        "localhost": ["127.0.0.1", "::1"],
        "sneaky.example": ["127.0.0.1", "93.184.216.34"],
        "example.com": ["93.184.216.34"],
    }
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("example.com", False),
        ("sneaky.example", False),  # one non-loopback address is enough to refuse
        ("no-such-host.invalid", False),
    ],
)
def test_loopback_rule(host: str, loopback: bool) -> None:
    assert is_loopback_host(host, resolve=DNS) is loopback


def test_remote_target_refused_without_the_flag() -> None:
    with pytest.raises(TargetError, match="--allow-remote") as info:
        check_target_allowed("http://example.com:8000", allow_remote=False, resolve=DNS)
    assert "\n" not in str(info.value)
    check_target_allowed("http://example.com:8000", allow_remote=True, resolve=DNS)
    check_target_allowed("http://localhost:8000/x", allow_remote=False, resolve=DNS)


def test_real_resolver_treats_localhost_as_loopback() -> None:
    assert is_loopback_host("localhost")


REFERENCE = """\
target: embedded
load: {model: closed, think_time: [1s, 3s], processes: 2}
stages:
  - {kind: ramp, duration: 10s, to: 20}
  - {kind: steady, duration: 20s, level: 20}
tenants: {starter: 1, team: 1}
tier_weights: {starter: 1, team: 3}
websocket:
  sessions_per_tenant: {starter: 5, team: 40}
  prompt_interval: 2s
  prompts_per_session: 3
  shards: 2
"""
TENANTS = [Tenant("acme", "starter", "tok-a", "developer", "adm-a"), Tenant("zeta", "team", "tok-z")]


def test_reference_scenario_resolves_to_plans() -> None:
    s = parse_scenario(REFERENCE).scenario
    http = build_http_plan(s, "http://127.0.0.1:8123", TENANTS)
    assert http is not None
    assert http.model == "closed" and http.requests == () and http.processes == 2
    assert [(st.duration_s, st.users, st.rate, st.ramp) for st in http.stages] == [
        (10, 20, None, True),
        (20, 20, None, False),
    ]
    assert http.think_time_s == (1.0, 3.0)
    assert http.tier_weights == {"starter": 1.0, "team": 3.0}
    assert {(t.tenant, t.tier, t.token, t.admin_token) for t in http.tenants} == {
        ("acme", "starter", "tok-a", "adm-a"),
        ("zeta", "team", "tok-z", None),
    }
    swarm = build_swarm_plan(s, "http://127.0.0.1:8123", TENANTS)
    assert swarm is not None
    assert swarm.url == "ws://127.0.0.1:8123/v1/sessions/ws"
    assert swarm.duration_s == 30 and swarm.shards == 2
    assert [(g.tier, g.tenant, g.token, g.sessions, g.prompts_per_session) for g in swarm.groups] == [
        ("starter", "acme", "tok-a", 5, 3),
        ("team", "zeta", "tok-z", 40, 3),
    ]


def test_generic_scenario_resolves_to_one_open_stage() -> None:
    s = parse_scenario(
        "target: http://127.0.0.1:9000\nduration: 30s\nload: {model: open, rate: 50}\n"
        "http:\n  - name: ping\n    method: GET\n    path: /ping\n"
    ).scenario
    http = build_http_plan(s, s.target, [])
    assert http is not None
    assert http.model == "open" and http.arrival == "constant"
    assert [(st.duration_s, st.users, st.rate) for st in http.stages] == [(30, None, 50)]
    assert [(r.name, r.method, r.path, r.weight) for r in http.requests] == [
        ("ping", "GET", "/ping", 1.0)
    ]
    assert build_swarm_plan(s, s.target, []) is None


def test_untenanted_sessions_and_explicit_ws_url() -> None:
    s = parse_scenario(
        "target: https://localhost:9443\nduration: 5s\n"
        "websocket: {sessions: 7, protocol: echo, path: /echo}\n"
    ).scenario
    assert build_http_plan(s, s.target, []) is None
    swarm = build_swarm_plan(s, s.target, [])
    assert swarm is not None
    assert swarm.url == "wss://localhost:9443/echo" and swarm.protocol == "echo"
    assert [(g.tier, g.tenant, g.token, g.sessions) for g in swarm.groups] == [("", "", None, 7)]
    assert swarm.groups[0].reconnect_delay_s is None  # a dropped session stays down by default


def test_reconnect_delay_reaches_every_session_group() -> None:
    s = parse_scenario(
        "target: http://127.0.0.1:9000\nduration: 5s\n"
        "websocket: {sessions: 3, protocol: echo, reconnect_delay: 1500ms}\n"
    ).scenario
    swarm = build_swarm_plan(s, s.target, [])
    assert swarm is not None
    assert [g.reconnect_delay_s for g in swarm.groups] == [1.5]
    s2 = parse_scenario(
        "target: http://127.0.0.1:1\nduration: 5s\nwebsocket: {sessions: 1, url: 'ws://127.0.0.1:2/x'}\n"
    ).scenario
    assert ws_url(s2, s2.target) == "ws://127.0.0.1:2/x"


def test_resolved_scenario_hides_tokens() -> None:
    s = parse_scenario(
        "target: http://127.0.0.1:9000\nduration: 5s\ncredentials:\n"
        "  - {tenant: a, tier: team, token: s3cret, admin_token: adm1n}\n"
        "websocket: {sessions_per_tenant: {team: 1}}\n"
    ).scenario
    tenants = [Tenant("a", "team", "s3cret", "developer", "adm1n")]
    data = resolved_scenario(s, None, build_swarm_plan(s, s.target, tenants), 35.0)
    text = repr(data)
    assert "s3cret" not in text and "adm1n" not in text
    assert data["resolved"]["websocket"]["sessions"] == 1
    assert data["resolved"]["max_duration_s"] == 35.0


def _report(worker: int, source: str, t: float, ops: int, errs: int, lat: list[float],
            active: dict[str, int]) -> ProgressReport:
    hist = LatencyHistogram()
    for v in lat:
        hist.add(v)
    return ProgressReport(worker=worker, source=source, t=t, operations=ops, errors=errs,
                          active=active, latency=hist)


def test_timeseries_rows_are_per_second_differences() -> None:
    rng = np.random.default_rng(7)
    first = rng.lognormal(3.0, 0.5, 400)
    second = rng.lognormal(5.0, 0.3, 300)  # the second second is much slower
    tracker = ProgressTracker()
    rec = TimeseriesRecorder(["starter", "team"])
    none = ResourceSample(None, None)
    tracker.update([_report(0, "http", 1.0, 400, 4, list(first), {"team": 3}),
                    _report(1, "ws", 1.0, 0, 0, [], {"starter": 10, "team": 5})])
    rec.add(ts=1.0, elapsed_s=1.0, tracker=tracker, target=ResourceSample(50.0, 10),
            generator=none, open_connections=15)
    tracker.update([_report(0, "http", 2.0, 700, 5, [*first, *second], {"team": 3})])
    row = rec.add(ts=2.0, elapsed_s=2.0, tracker=tracker, target=none, generator=none,
                  open_connections=None)
    assert row["operations_per_s"] == 300 and row["errors_per_s"] == 1
    # interval p95 is the upper bound of the bucket holding numpy's p95 of the second second
    expected = np.percentile(second, 95, method="inverted_cdf")
    bound = row["p95_ms"]
    assert bound / 1.05 <= expected <= bound
    assert row["ws_sessions"] == 15 and row["http_users"] == 3
    table = rec.table()
    assert table.column("ws_sessions_starter").to_pylist() == [10, 10]
    assert table.column("http_users_team").to_pylist() == [3, 3]
    assert table.column("target_cpu_percent").to_pylist() == [50.0, None]
    assert table.column("open_connections").to_pylist() == [15, None]
    tracker.mark_exited(1)
    assert tracker.active("ws") == {}


def test_timeseries_p95_per_kind_never_mixes_http_with_websocket() -> None:
    """HTTP requests of ~8 ms and WebSocket first tokens of ~400 ms (whole messages ~600 ms):
    each per-kind column is the bucket bound of numpy's p95 of that kind alone, this tick."""
    rng = np.random.default_rng(11)
    http = rng.lognormal(np.log(8.0), 0.2, 500)
    first = rng.lognormal(np.log(400.0), 0.2, 300)
    whole = first + 200.0
    ws = _report(1, "ws", 1.0, 300, 0, list(whole), {"team": 5})
    for v in first:
        ws.first_token.add(v)
    ws = ProgressReport.from_line(ws.to_line()) or ws  # survives the trip over stdout
    tracker = ProgressTracker()
    tracker.update([_report(0, "http", 1.0, 500, 0, list(http), {"team": 3}), ws])
    rec = TimeseriesRecorder(["team"])
    none = ResourceSample(None, None)
    row = rec.add(ts=1.0, elapsed_s=1.0, tracker=tracker, target=none, generator=none,
                  open_connections=None)
    for column, values in (("http_p95_ms", http), ("ws_first_token_p95_ms", first)):
        expected = np.percentile(values, 95, method="inverted_cdf")
        assert row[column] / 1.05 <= expected <= row[column]
    assert row["http_p95_ms"] < 20 < 300 < row["ws_first_token_p95_ms"]
    # the next tick with nothing new has no per-kind p95 (null, never a stale value)
    row = rec.add(ts=2.0, elapsed_s=2.0, tracker=tracker, target=none, generator=none,
                  open_connections=None)
    assert row["http_p95_ms"] is None and row["ws_first_token_p95_ms"] is None
    table = rec.table()
    assert {"http_p95_ms", "ws_first_token_p95_ms"} <= set(table.column_names)


def test_timeseries_written_atomically(tmp_path: Path) -> None:
    rec = TimeseriesRecorder()
    rec.add(ts=1.0, elapsed_s=1.0, tracker=ProgressTracker(), target=ResourceSample(None, None),
            generator=ResourceSample(1.0, 2), open_connections=0)
    rec.write(tmp_path / "timeseries.parquet")
    assert pq.read_table(tmp_path / "timeseries.parquet").num_rows == 1
    assert list(tmp_path.iterdir()) == [tmp_path / "timeseries.parquet"]


def test_process_group_meter_reports_absence_when_processes_are_gone() -> None:
    with subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                          stdin=subprocess.PIPE) as proc:
        try:
            clock = iter([0.0, 1.0])
            meter = ProcessGroupMeter(lambda: [proc.pid], clock=lambda: next(clock))
            first = meter.sample()
            assert first.cpu_percent is None  # no interval yet
            assert first.rss_bytes is not None and first.rss_bytes > 0
        finally:
            proc.kill()
    # nothing left to measure: 0 % CPU is true, but there is no RSS to report
    assert meter.sample() == ResourceSample(0.0, None)


def test_process_group_meter_cpu_percent_against_cpu_times() -> None:
    me = os.getpid()
    ticks = iter([100.0, 101.0])
    meter = ProcessGroupMeter(lambda: [me], clock=lambda: next(ticks))
    import psutil

    before = psutil.Process(me).cpu_times()
    meter.sample()
    t = __import__("time").process_time()
    while __import__("time").process_time() - t < 0.2:
        pass
    after = psutil.Process(me).cpu_times()
    pct = meter.sample().cpu_percent
    used = (after.user + after.system) - (before.user + before.system)
    assert pct is not None
    assert pct == pytest.approx(used * 100.0, abs=5.0)  # 1 s "elapsed" on the injected clock


METRICS = """\
# HELP slogate_process_cpu_seconds CPU seconds of the target's workers
# TYPE slogate_process_cpu_seconds gauge
slogate_process_cpu_seconds 12.5
# TYPE slogate_process_resident_memory_bytes gauge
slogate_process_resident_memory_bytes 1.048576e+08
# TYPE process_cpu_seconds counter
process_cpu_seconds_total 99.0
"""


def test_metrics_scraper_reads_cpu_and_rss() -> None:
    cpu = iter([12.5, 13.0])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/metrics"
        return httpx.Response(200, text=METRICS.replace("12.5", str(next(cpu))))

    ticks = iter([0.0, 2.0])
    scraper = MetricsScraper("http://127.0.0.1:1", transport=httpx.MockTransport(handler),
                             clock=lambda: next(ticks))
    assert scraper.sample() == ResourceSample(None, 104857600)
    assert scraper.sample() == ResourceSample(25.0, 104857600)  # 0.5 cpu-s over 2 s


def test_metrics_scraper_falls_back_to_standard_names_and_gives_up_on_404() -> None:
    text = "# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total 4.0\n" \
           "process_cpu_seconds_created 1.7e9\n" \
           "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 2048\n"
    scraper = MetricsScraper("http://127.0.0.1:1", transport=httpx.MockTransport(
        lambda r: httpx.Response(200, text=text)))
    assert scraper.sample() == ResourceSample(None, 2048)
    calls = []

    def missing(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(404)

    gone = MetricsScraper("http://127.0.0.1:1", transport=httpx.MockTransport(missing))
    assert gone.sample() == ResourceSample(None, None)
    assert gone.sample() == ResourceSample(None, None)
    assert len(calls) == 1 and gone.error is not None and "404" in gone.error


def test_disk_budget(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x" * 1000)
    (tmp_path / "g").write_bytes(b"y" * 24)
    assert dir_bytes(tmp_path) == 1024
    assert dir_bytes(tmp_path / "missing") == 0
    check_room_to_start(tmp_path / "new" / "run", 1024)
    with pytest.raises(HarnessError, match="disk budget"):
        check_room_to_start(tmp_path, 10**18)


def test_bucket_bounds_are_what_the_p95_check_assumes() -> None:
    assert BUCKET_BOUNDS_MS[1] / BUCKET_BOUNDS_MS[0] == pytest.approx(1.05)


def test_count_connections_counts_client_sides_to_the_port() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:
        port = server.getsockname()[1]
        before = count_connections(port)
        assert before == 0
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(25)]
        accepted = [server.accept()[0] for _ in clients]
        try:
            # 25 client ends; the 25 accepted server ends have the port as *local* port
            assert count_connections(port) == 25
        finally:
            for sock in (*clients, *accepted):
                sock.close()
