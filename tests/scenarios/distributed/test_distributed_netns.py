"""A distributed run across real network hosts: namespaces target, master, w1, w2 (and a
stranger), each with its own address in 10.213.7.0/24 on a bridge inside the lab.

What it proves, end to end through the ``slogate`` command line:

* the master's merged record holds exactly what the target counted (the cross-check's
  per-operation reconciliation of samples against the target's own ``/metrics``);
* one part per worker host, each holding exactly its processes' rows, and the WebSocket
  ramp positions of all shards on all hosts add up to the plan (exact shard merge);
* a worker whose clock reads 5 s ahead (the ``SLOGATE_TEST_CLOCK_SKEW_S`` hook) is
  measured at +5 s and its samples land on the master's clock;
* a worker host killed mid-run aborts the run and what it shipped is kept;
* a worker from an address outside ``--allow-remote`` is refused.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from scenarios.record import read_samples
from tests.scenarios.distributed.conftest import ADMIN_TOKEN, SLOGATE, child_env
from tests.scenarios.distributed.netlab import NetLab

pytestmark = pytest.mark.slow

SKEW_S = 5.0


def _scenario(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def _start_target(lab: NetLab, tmp_path: Path) -> str:
    data = tmp_path / "target-data"
    data.mkdir()
    ip = lab.address("target")
    lab.popen(
        "target",
        [str(Path(SLOGATE).parent / "python"), "-m", "target_service", "--host", ip, "--port", "8000",
         "--admin-token", ADMIN_TOKEN],
        env=child_env(), log=tmp_path / "target.log", cwd=data,
    )
    url = f"http://{ip}:8000"
    lab.wait_http("master", url + "/healthz", timeout=90)
    return url


def _worker(lab: NetLab, name: str, tmp_path: Path, skew: float = 0.0) -> object:
    return lab.popen(
        name,
        [SLOGATE, "worker", "--master", f"{lab.address('master')}:5557", "--join-timeout", "90"],
        env=child_env(SLOGATE_TEST_CLOCK_SKEW_S=str(skew)), log=tmp_path / f"{name}.log",
    )


def test_two_worker_hosts_one_record(lab_factory: type[NetLab], tmp_path: Path) -> None:
    lab = lab_factory.create(["target", "master", "w1", "w2"])
    url = _start_target(lab, tmp_path)
    scenario = _scenario(tmp_path / "dist.yaml", f"""
target: {url}
duration: 8s
load: {{model: open, rate: 16}}
tenants: {{starter: 1, team: 1, enterprise: 1, admin_token_env: SGT_ADMIN}}
websocket:
  sessions_per_tenant: {{starter: 4, team: 6, enterprise: 10}}
  prompt_interval: 1s
  connect_rate: 50
  shards: 2
distributed: {{expect_workers: 2, join_timeout: 90s}}
limits: {{max_duration: 120s}}
""")
    _worker(lab, "w1", tmp_path)
    _worker(lab, "w2", tmp_path, skew=SKEW_S)
    out = tmp_path / "run"
    proc = lab.popen(
        "master",
        ["env", f"SGT_ADMIN={ADMIN_TOKEN}", SLOGATE, "run", str(scenario), "--out", str(out),
         "--allow-remote", "10.213.7.0/24", "--format", "html,json"],
        env=child_env(), log=tmp_path / "master.log",
    )
    rc = proc.wait(240)
    log = (tmp_path / "master.log").read_text()
    assert rc in (0, 1), log[-3000:]
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "complete", info["reason"]

    hosts = info["distributed"]["worker_hosts"]
    by_address = {h["address"]: h for h in hosts}
    assert set(by_address) == {lab.address("w1"), lab.address("w2")}
    skewed, plain = by_address[lab.address("w2")], by_address[lab.address("w1")]
    # NTP estimate: error at most rtt/2 (sub-millisecond on a bridge; generous for a busy box)
    assert skewed["clock_offset_s"] == pytest.approx(SKEW_S, abs=0.25)
    assert plain["clock_offset_s"] == pytest.approx(0.0, abs=0.25)
    for h in hosts:
        assert h["status"] == "done" and set(h["exit_codes"].values()) == {0}
        assert h["versions"]["slogate"] == info["distributed"]["master"]["versions"]["slogate"]

    # one part per worker host, each exactly its processes' rows (plus the runner's own
    # parts on the master: its health prober's 'health' samples during the load, and the
    # read-back's 'check' samples after it)
    parts = {p.name for p in (out / "samples").glob("part-*.parquet")}
    host_parts = {f"part-{h['part']}.parquet" for h in hosts}
    assert host_parts <= parts and len(parts - host_parts) <= 2
    own = set()
    for extra in parts - host_parts:
        own |= set(pq.read_table(out / "samples" / extra).column("kind").to_pylist())
    assert own <= {"check", "health"} and "health" in own
    for h in hosts:
        table = pq.read_table(out / "samples" / f"part-{h['part']}.parquet")
        assert table.num_rows == h["rows"] > 0
        assert set(table.column("worker").to_pylist()) <= set(h["workers"])
    samples = read_samples(out)
    assert samples.num_rows == info["samples"]

    # exact shard merge: every planned session connected exactly once, over 4 shards on 2 hosts
    kind = np.array(samples.column("kind").to_pylist())
    workers = np.array(samples.column("worker").to_pylist())
    connects = kind == "ws_connect"
    assert connects.sum() == 20
    assert len(set(workers[connects])) == 4  # 2 shards per host x 2 hosts

    # the skewed host's samples sit on the master's clock: same start as the other's
    ts = np.array(samples.column("ts").to_pylist())
    start = info["load_started_at"]
    for h in hosts:
        mine = np.isin(workers, h["workers"])
        assert abs(ts[mine].min() - start) < 3.0, (h["address"], ts[mine].min() - start)

    # the target's own /metrics counted exactly what the samples say, operation by operation
    server = json.loads((out / "server.json").read_text())
    total = next(r for r in server["reconciliation"] if r["operation"] == "(all compared)")
    assert total["category"] == "match" and total["client"] == int((kind == "http").sum()) > 50
    assert not [f for f in server["findings"] if f["kind"] == "count_mismatch"]

    report = (out / "report.html").read_text()
    assert lab.address("w2") in report and "+5.00" in report  # the offset, shown


def test_killed_worker_and_refused_stranger(lab_factory: type[NetLab], tmp_path: Path) -> None:
    lab = lab_factory.create(["target", "master", "w1", "w2", "stranger"])
    url = _start_target(lab, tmp_path)
    scenario = _scenario(tmp_path / "dist.yaml", f"""
target: {url}
duration: 30s
load: {{model: open, rate: 10}}
http: [{{name: health, method: GET, path: /healthz}}]
distributed: {{expect_workers: 2, join_timeout: 90s}}
limits: {{max_duration: 120s}}
""")
    allowed = ",".join([lab.address("target"), lab.address("w1"), lab.address("w2")])
    out = tmp_path / "run"
    proc = lab.popen(
        "master",
        [SLOGATE, "run", str(scenario), "--out", str(out), "--allow-remote", allowed, "--no-cross-check",
         "--format", "json"],
        env=child_env(), log=tmp_path / "master.log",
    )
    stranger = _worker(lab, "stranger", tmp_path)
    assert stranger.wait(120) == 3  # type: ignore[attr-defined]
    refusal = (tmp_path / "stranger.log").read_text()
    assert "refuses workers from 10.213.7.5" in refusal, refusal
    _worker(lab, "w1", tmp_path)
    _worker(lab, "w2", tmp_path)
    deadline = time.monotonic() + 120
    while "[running]" not in (tmp_path / "master.log").read_text():  # the load has started
        assert time.monotonic() < deadline, (tmp_path / "master.log").read_text()[-2000:]
        time.sleep(0.5)
    time.sleep(4.0)  # a few chunks shipped (one every half second)
    killed = lab.kill_host("w2")
    assert killed
    rc = proc.wait(180)
    assert rc == 3, (tmp_path / "master.log").read_text()[-2000:]
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "aborted"
    assert "was lost mid-run" in info["reason"] and lab.address("w2") in info["reason"]
    hosts = {h["address"]: h for h in info["distributed"]["worker_hosts"]}
    lost = hosts[lab.address("w2")]
    assert lost["status"] == "lost" and lost["rows"] > 0
    part = pq.read_table(out / "samples" / f"part-{lost['part']}.parquet")
    assert part.num_rows == lost["rows"]  # everything it shipped is kept
    assert info["distributed"]["refused"][0]["address"] == lab.address("stranger")
