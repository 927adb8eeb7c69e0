"""The pure parts of distributed runs: load split, clock offsets, sample chunks, allow lists."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from foundation.errors import TargetError, UsageError
from foundation.layout import RunInfo, RunLayout
from reports.model import worker_hosts_of
from scenarios.distributed.chunks import HostSink, StreamTailer, decode_chunk, encode_chunk, shift_times
from scenarios.distributed.protocol import (
    Assignment,
    ClockSample,
    best_offset,
    parse_master_address,
    split_load,
)
from scenarios.http.plan import HttpPlan, RequestSpec, Stage
from scenarios.loopback import address_allowed
from scenarios.record import SampleWriter, read_samples
from scenarios.runner.distributed import distributed_settings
from scenarios.runner.request import RunRequest
from scenarios.runner.safety import ANY_ADDRESS, allowed_networks, check_target_allowed
from scenarios.spec import load_scenario
from scenarios.swarm import SessionGroup, SwarmPlan, assign_sessions


def _http(processes: int = 2) -> HttpPlan:
    return HttpPlan(
        base_url="http://127.0.0.1:9", model="open", stages=(Stage(duration_s=10, rate=30),),
        requests=(RequestSpec(name="p", method="GET", path="/p"),), processes=processes,
    )


def _swarm(shards: int = 2, sessions: int = 37) -> SwarmPlan:
    return SwarmPlan(
        url="ws://127.0.0.1:9/ws", duration_s=10, shards=shards, protocol="echo",
        groups=(SessionGroup("g", tier="", tenant="", token=None, sessions=sessions, prompt_interval_s=1),),
    )


# ----- split --------------------------------------------------------------------------------


def test_split_gives_each_host_a_contiguous_slice_and_every_session_once() -> None:
    hosts = split_load(_http(2), _swarm(2), hosts=3)
    assert [a.first_worker for a in hosts] == [0, 4, 8]
    assert [a.http_shares for a in hosts] == [(0, 1), (2, 3), (4, 5)]
    assert [a.swarm_shards for a in hosts] == [(0, 1), (2, 3), (4, 5)]
    assert hosts[1].workers == (4, 5, 6, 7) and hosts[1].swarm_first_worker == 6
    wide_http = HttpPlan.from_json(hosts[0].http_plan or "")
    wide_swarm = SwarmPlan.from_json(hosts[0].swarm_plan or "")
    assert wide_http.processes == 6 and wide_swarm.shards == 6
    # the same split a local run with 6 processes / shards makes: every ramp position once
    positions = sorted(s.index for a in hosts for k in a.swarm_shards for s in assign_sessions(wide_swarm, k))
    assert positions == list(range(37))
    # rates add back up to the plan's
    rates = [wide_http.worker_stages(i)[0].rate for a in hosts for i in a.http_shares]
    assert sum(r or 0 for r in rates) == pytest.approx(30.0)


def test_split_without_http_and_wire_round_trip() -> None:
    (only,) = split_load(None, _swarm(1), hosts=1)
    assert only.http_plan is None and only.http_shares == () and only.workers == (0,)
    assert Assignment.from_wire(json.loads(json.dumps(only.to_wire()))) == only
    with pytest.raises(ValueError):
        split_load(None, _swarm(1), hosts=0)


# ----- clocks -------------------------------------------------------------------------------


def test_offset_of_the_least_delayed_exchange() -> None:
    rng = np.random.default_rng(7)
    true_offset = 5.0
    samples = []
    for k in range(20):
        t1 = 100.0 + k
        out_leg, back_leg = 0.0002 + rng.exponential(0.01), 0.0002 + rng.exponential(0.01)
        t2 = t1 + out_leg + true_offset
        t3 = t2 + 0.0001
        t4 = t3 - true_offset + back_leg
        samples.append(ClockSample(t1, t2, t3, t4))
    best = best_offset(samples)
    legs = [(s.t2 - true_offset - s.t1, s.t4 - (s.t3 - true_offset)) for s in samples]
    i = int(np.argmin([a + b for a, b in legs]))
    assert best is samples[i]
    assert best.rtt == pytest.approx(sum(legs[i]))
    assert abs(best.offset - true_offset) <= best.rtt / 2 + 1e-12
    assert best.offset == pytest.approx(true_offset + (legs[i][0] - legs[i][1]) / 2)
    with pytest.raises(ValueError):
        best_offset([])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10.0.0.5", ("10.0.0.5", 5557)), ("h.example:6000", ("h.example", 6000)),
     ("[::1]:7000", ("::1", 7000)), ("::1", ("::1", 5557))],
)
def test_master_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_master_address(text) == expected


@pytest.mark.parametrize("text", ["", "host:0", "host:99999", ":5557"])
def test_bad_master_address(text: str) -> None:
    with pytest.raises(ValueError):
        parse_master_address(text)


# ----- chunks -------------------------------------------------------------------------------


def _record(writer: SampleWriter, n: int, t0: float) -> None:
    for i in range(n):
        writer.record(ts=t0 + i, intended_ts=t0 + i - 0.5, latency_ms=1.0 + i, kind="http", name="p",
                      tenant="", tier="", ok=True, status=200, error="", nbytes=3)


def test_tailer_reads_only_whole_batches_then_the_part(tmp_path: Path) -> None:
    scratch = tmp_path / "worker"
    writer = SampleWriter(scratch, worker=4)
    tail = StreamTailer(RunLayout(scratch), 4)
    assert tail.read_new() == []
    _record(writer, 3, 1000.0)
    writer.flush()
    first = tail.read_new()
    assert sum(b.num_rows for b in first) == 3
    # a torn batch: half of the next message is on disk
    stream = RunLayout(scratch).stream_path(4)
    whole = stream.read_bytes()
    _record(writer, 2, 2000.0)
    writer.flush()
    full = stream.read_bytes()
    stream.write_bytes(full[: len(whole) + (len(full) - len(whole)) // 2])
    assert tail.read_new() == []
    stream.write_bytes(full)
    assert [b.num_rows for b in tail.read_new()] == [2]
    _record(writer, 4, 3000.0)  # never flushed as a stream batch: only in the final part
    writer.close()
    assert not stream.exists()
    rest = tail.read_new()
    assert sum(b.num_rows for b in rest) == 4 and tail.rows_read == 9
    assert rest[0].column(0).to_pylist()[0] == 3000.0
    assert tail.read_new() == []


def test_chunk_round_trip_and_master_clock_correction(tmp_path: Path) -> None:
    scratch = tmp_path / "w"
    writer = SampleWriter(scratch, worker=2)
    _record(writer, 5, 1000.0)
    writer.close()
    batches = StreamTailer(RunLayout(scratch), 2).read_new()
    skewed = [shift_times(b, 5.0) for b in batches]  # what a worker whose clock is +5 s ships
    data = encode_chunk(skewed)
    assert sum(b.num_rows for b in decode_chunk(data)) == 5
    with pytest.raises(ValueError):
        decode_chunk(b"not arrow")
    run = tmp_path / "run"
    sink = HostSink(RunLayout(run), part=7, clock_offset_s=5.0)
    assert sink.write(data) == 5
    sink.close()
    table = read_samples(run)
    assert table.column("ts").to_pylist() == [1000.0 + i for i in range(5)]
    assert table.column("intended_ts").to_pylist() == [999.5 + i for i in range(5)]
    assert set(table.column("worker").to_pylist()) == {2}
    assert table.schema.equals(pa.schema(table.schema))


# ----- who may take part --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "networks", "ok"),
    [("127.0.0.1", (), True), ("::1", (), True), ("10.213.7.3", (), False),
     ("10.213.7.3", ("10.213.7.0/24",), True), ("10.213.8.3", ("10.213.7.0/24",), False),
     ("::ffff:10.213.7.3", ("10.213.7.0/24",), True), ("fd00::5", ("10.0.0.0/8",), False),
     ("fd00::5", ANY_ADDRESS, True), ("not-an-ip", ANY_ADDRESS, False)],
)
def test_address_allowed(address: str, networks: tuple[str, ...], ok: bool) -> None:
    assert address_allowed(address, networks) is ok


def test_allow_list_resolves_names_once_and_refuses_typos() -> None:
    dns = {"loadgen-2": ["10.1.2.3", "fd00::2"]}

    def resolve(host: str) -> list[str]:
        if host not in dns:
            raise OSError("Name or service not known")
        return dns[host]

    nets = allowed_networks(("10.213.7.0/24", "10.9.9.9", "loadgen-2"), resolve=resolve)
    assert nets == ("10.213.7.0/24", "10.9.9.9/32", "10.1.2.3/32", "fd00::2/128")
    with pytest.raises(TargetError, match="typo-host"):
        allowed_networks(("typo-host",), resolve=resolve)
    check_target_allowed("http://10.213.7.1:8000", allow_remote=False, allowed=nets)
    with pytest.raises(TargetError, match="refusing"):
        check_target_allowed("http://10.213.8.1:8000", allow_remote=False, allowed=nets)


def _scenario(tmp_path: Path, body: str) -> RunRequest:
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    return RunRequest(load_scenario(path))


def test_distributed_settings(tmp_path: Path) -> None:
    body = (
        "target: http://10.0.0.1:80\nduration: 5s\nload: {model: open, rate: 5}\n"
        "http: [{name: p, path: /p}]\n"
    )
    request = _scenario(tmp_path, body)
    assert distributed_settings(request.scenario.scenario, request) is None
    req = RunRequest(request.scenario, expect_workers=3, master_bind="0.0.0.0:6000",
                     allowed_remote=("10.0.0.0/8",))
    s = distributed_settings(req.scenario.scenario, req)
    assert s is not None and (s.expect_workers, s.bind_host, s.bind_port) == (3, "0.0.0.0", 6000)
    assert s.allowed_networks == ("10.0.0.0/8",)
    spec = _scenario(tmp_path, body + "distributed: {expect_workers: 2, port: 7000, join_timeout: 30s}\n")
    s2 = distributed_settings(spec.scenario.scenario, spec)
    assert s2 is not None and (s2.expect_workers, s2.bind_port, s2.join_timeout_s) == (2, 7000, 30.0)
    embedded = _scenario(tmp_path, "duration: 5s\nload: {users: 1}\ntenants: {starter: 1}\n")
    with pytest.raises(UsageError, match="embedded target"):
        distributed_settings(embedded.scenario.scenario, RunRequest(embedded.scenario, expect_workers=1))


def test_report_rows_from_run_json() -> None:
    info = RunInfo(run_id="r", target_url="http://x", started_at=0.0)
    assert worker_hosts_of(info) == ()
    info = info.with_facts(distributed={"worker_hosts": [
        {"address": "10.0.0.3", "hostname": "w1", "workers": [0, 1], "status": "done",
         "clock_offset_s": 5.0012, "clock_rtt_s": 0.0004, "rows": 10}]})
    (row,) = worker_hosts_of(info)
    assert (row.address, row.workers, row.rows) == ("10.0.0.3", "0-1", 10)
    assert row.clock_offset_ms == pytest.approx(5001.2)


def test_kubernetes_example_scenario_is_valid(tmp_path: Path) -> None:
    import yaml

    root = Path(__file__).resolve().parents[3]
    docs = list(yaml.safe_load_all((root / "ci/kubernetes/distributed.yaml").read_text()))
    kinds = [d["kind"] for d in docs]
    assert kinds == ["ConfigMap", "Service", "Deployment", "Deployment"]
    path = tmp_path / "scenario.yaml"
    path.write_text(docs[0]["data"]["scenario.yaml"])
    scenario = load_scenario(path).scenario
    assert scenario.distributed is not None and scenario.distributed.expect_workers == 3
    assert docs[1]["spec"]["ports"][0]["port"] == scenario.distributed.port == 5557
    assert docs[3]["spec"]["replicas"] == scenario.distributed.expect_workers


def test_bad_distributed_field_names_file_line_and_field(tmp_path: Path) -> None:
    from foundation.errors import ConfigError

    path = tmp_path / "bad.yaml"
    path.write_text("target: http://10.0.0.1:80\nduration: 5s\nload: {model: open, rate: 5}\n"
                    "http: [{name: p, path: /p}]\ndistributed:\n  expect_workers: 0\n")
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "bad.yaml" in text and "distributed.expect_workers" in text and ":6" in text


def test_engines_refuse_shares_outside_the_plan(tmp_path: Path) -> None:
    from scenarios.http import start_http_load
    from scenarios.swarm import start_swarm

    with pytest.raises(ValueError, match="shares"):
        start_http_load(_http(2), tmp_path, 0, shares=[2])
    with pytest.raises(ValueError, match="shards"):
        start_swarm(_swarm(2), tmp_path, 0, shards=[0, 5])


def test_allow_list_covers_the_websocket_url_too(tmp_path: Path) -> None:
    from scenarios.runner import run_scenario

    path = tmp_path / "s.yaml"
    path.write_text("target: http://10.213.7.1:80\nduration: 5s\n"
                    "websocket: {url: 'ws://10.99.0.1:80/ws', protocol: echo, sessions: 1}\n")
    request = RunRequest(load_scenario(path), out_dir=tmp_path / "r", allowed_remote=("10.213.7.0/24",))
    with pytest.raises(TargetError, match=r"10\.99\.0\.1"):
        run_scenario(request)
    assert not (tmp_path / "r").exists()
