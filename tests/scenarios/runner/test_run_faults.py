"""Scenario faults in real runs: timeline in run.json, health probes, recovery samples.

Real processes on 127.0.0.1: Locust workers, the embedded reference target under its
supervisor, the owned PostgreSQL, and (for the known-truth test) a small foreign server
whose health comes back exactly 2 s after the exec fault's undo command ran.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from foundation.layout import RunLayout, RunStatus
from scenarios.record import read_samples
from scenarios.runner import RunRequest, run_scenario
from scenarios.runner.cleanup import child_pids
from scenarios.spec import parse_scenario
from target_service.owned_postgres import OwnedPostgres
from tests._servers import serve_in_thread
from tests.target_service._pg_redis_fixtures import redis_url

pytestmark = pytest.mark.slow
__all__ = ["redis_url"]

ROOT = Path(__file__).resolve().parents[3]
_HEALTH_BACK_S = 2.0  # the foreign server's health returns this long after the undo


@pytest.fixture
def flaky_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``/ping`` always 200; ``/health`` 503 while ``down`` or ``down-forever`` exists, and
    for 2 s after the time written to ``removed`` (the undo command writes it)."""
    flags = tmp_path / "flags"
    flags.mkdir()

    async def ping(request: Request) -> PlainTextResponse:
        return PlainTextResponse("pong")

    async def health(request: Request) -> PlainTextResponse:
        removed = flags / "removed"
        recent = removed.exists() and time.time() - float(removed.read_text()) < _HEALTH_BACK_S
        if (flags / "down").exists() or (flags / "down-forever").exists() or recent:
            return PlainTextResponse("down", status_code=503)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/ping", ping), Route("/health", health)])
    with serve_in_thread(app) as server:
        yield server.url, flags


def _samples(run_dir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = read_samples(run_dir).to_pylist()
    return sorted(rows, key=lambda r: r["ts"])


def _faults(run_dir: Path) -> list[dict[str, Any]]:
    faults: list[dict[str, Any]] = json.loads((run_dir / "run.json").read_text())["faults"]
    return faults


def _recovery(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [r for r in rows if r["kind"] == "recovery" and r["name"] == f"recovery: {name}"]
    assert len(found) == 1, [r["name"] for r in rows if r["kind"] == "recovery"]
    return found[0]


def test_recovery_of_a_known_delay_is_measured_within_a_second(
    flaky_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, flags = flaky_server
    text = f"""target: {url}
health_path: /health
duration: 11s
load: {{model: open, rate: 10}}
http: [{{name: ping, path: /ping}}]
faults:
  - name: flag down
    at: 2s
    for: 3s
    exec: {{run: "touch {flags}/down", undo: "rm {flags}/down && date +%s.%N > {flags}/removed"}}
  - {{name: forever, at: 8s, exec: {{run: "touch {flags}/down-forever"}}}}
"""
    outcome = run_scenario(RunRequest(parse_scenario(text), out_dir=tmp_path / "run"))
    assert outcome.status is RunStatus.COMPLETE, outcome.reason
    down, forever = _faults(outcome.run_dir)
    assert down["status"] == "done" and down["action"] == "exec" and down["planned_for"] == 3.0
    assert down["ended_at"] - down["started_at"] == pytest.approx(3.0, abs=1.0)
    rows = _samples(outcome.run_dir)
    health = [r for r in rows if r["kind"] == "health"]
    assert {r["name"] for r in health} == {"GET /health (probe)"}
    gaps = [b["ts"] - a["ts"] for a, b in itertools.pairwise(health)]
    assert sorted(gaps)[len(gaps) // 2] == pytest.approx(0.25, abs=0.05)  # probe every 0.25 s
    # the truth: health is back 2 s after the undo command wrote the time
    truth_s = float((flags / "removed").read_text()) + _HEALTH_BACK_S - down["ended_at"]
    rec = _recovery(rows, "flag down")
    assert rec["ok"] and rec["ts"] == down["ended_at"]
    assert abs(rec["latency_ms"] / 1000.0 - truth_s) < 1.0, (rec["latency_ms"], truth_s)
    # never undone: not recovered, with the time observed without recovery
    assert forever["status"] == "done" and forever["ended_at"] == forever["started_at"]
    never = _recovery(rows, "forever")
    assert not never["ok"] and never["error"] == "not recovered" and never["latency_ms"] > 500
    # health samples are red exactly around the faults
    red = [r["ts"] for r in health if not r["ok"]]
    assert red and min(red) >= down["started_at"] - 0.3
    assert all(t <= down["ended_at"] + truth_s + 0.3 or t >= forever["started_at"] - 0.3 for t in red)


def test_embedded_target_fault_kill_and_a_fault_the_run_outlives(tmp_path: Path) -> None:
    text = """target: embedded
duration: 16s
load: {model: open, rate: 8}
tenants: {starter: 1}
faults:
  - {name: db down, at: 2s, for: 3s, target: {database_down: true}}
  - {at: 6s, kill: {process: 0}}
  - {name: slow tail, at: 13s, for: 60s, target: {latency: [{ms: 5}]}}
"""
    before = child_pids()
    outcome = run_scenario(RunRequest(parse_scenario(text), out_dir=tmp_path / "run"))
    assert outcome.status is RunStatus.COMPLETE, outcome.reason
    db, kill, tail = _faults(outcome.run_dir)
    rows = _samples(outcome.run_dir)
    # the target's fault API: health is red while it is in force and back at once (< 1 s)
    assert db["status"] == "done" and db["ended_at"] - db["started_at"] == pytest.approx(3.0, abs=1.0)
    rec = _recovery(rows, "db down")
    assert rec["ok"] and 0 <= rec["latency_ms"] < 1000
    red = [r for r in rows if r["kind"] == "health" and not r["ok"] and r["ts"] < kill["started_at"]]
    assert red and all(r["status"] == 503 for r in red)
    assert all(db["started_at"] - 0.3 <= r["ts"] <= db["ended_at"] + 1.0 for r in red)
    # kill: the supervisor restarts the one worker after its delay; load goes on after it
    assert kill["status"] == "done" and kill["name"] == "kill #2"
    krec = _recovery(rows, "kill #2")
    assert krec["ok"] and krec["latency_ms"] >= 900, krec  # restart delay is 1 s
    back_at = kill["ended_at"] + krec["latency_ms"] / 1000.0
    assert any(r["kind"] == "http" and r["ok"] and r["ts"] > back_at for r in rows)
    assert any(r["kind"] == "http" and r["ts"] < kill["ended_at"] for r in rows)
    # a fault still in force when the load ended is undone at shutdown: not recovered
    assert tail["status"] == "interrupted" and tail["ended_at"] is None and tail["started_at"]
    trec = _recovery(rows, "slow tail")
    assert not trec["ok"] and trec["error"].startswith("not recovered")
    assert child_pids() == before  # supervisor and workers gone


@pytest.mark.postgres
def test_database_outage_of_the_owned_postgres(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"""target: embedded
duration: 12s
load: {{model: open, rate: 8}}
tenants: {{starter: 2}}
embedded: {{workers: 2, database: owned-postgres, redis: "{redis_url}"}}
faults:
  - {{at: 3s, for: 3s, database: outage}}
"""
    ports: list[int] = []  # the run's own server: not mocked, only noted as it is created
    real_create = OwnedPostgres.create

    def noting_create(root: Path, *args: Any, **kwargs: Any) -> OwnedPostgres:
        pg = real_create(root, *args, **kwargs)
        ports.append(pg.port)
        return pg

    monkeypatch.setattr(OwnedPostgres, "create", noting_create)
    outcome = run_scenario(RunRequest(parse_scenario(text), out_dir=tmp_path / "run"))
    assert outcome.status is RunStatus.COMPLETE, outcome.reason
    (outage,) = _faults(outcome.run_dir)
    assert outage["action"] == "database" and outage["status"] == "done"
    rows = _samples(outcome.run_dir)
    http = [r for r in rows if r["kind"] == "http"]
    during = [r for r in http if outage["started_at"] + 0.5 < r["ts"] < outage["ended_at"] - 0.2]
    # liveness stays green (the processes are fine); everything needing the database is 503
    assert {r["status"] for r in during if r["name"] == "GET /healthz"} <= {200}
    needs_db = [r for r in during if r["name"] != "GET /healthz"]
    assert needs_db and {r["status"] for r in needs_db} <= {503, 429}, {
        (r["name"], r["status"]) for r in needs_db
    }
    assert all(r["latency_ms"] < 5000 for r in during)  # failing fast, never hanging
    assert not [r for r in http if r["status"] >= 500 and r["status"] != 503]
    health = [r for r in rows if r["kind"] == "health"]
    assert any(not r["ok"] for r in health if outage["started_at"] < r["ts"] < outage["ended_at"])
    assert health[-1]["ok"]  # green again
    rec = _recovery(rows, "database outage #1")
    assert rec["ok"] and "database" in rec["name"]
    checks = {r["name"]: r for r in rows if r["kind"] == "check"}
    assert checks["durability: every run ended"]["ok"], checks
    assert checks["durability: POST /v1/runs read back"]["ok"], checks
    assert len(ports) == 1
    assert not _owned_pg_processes(ports[0])  # the owned PostgreSQL is stopped


def _owned_pg_processes(port: int) -> set[int]:
    """The postmaster of the owned PostgreSQL on ``port``, if it runs.

    By port, not every ``slogate-pg-`` server on the machine: other test processes (xdist)
    and other runs start and stop their own owned servers meanwhile.
    """
    found = set()
    for p in psutil.process_iter(["cmdline"]):
        try:
            argv = p.info["cmdline"] or []
        except psutil.Error:
            continue
        on_port = "-p" in argv and argv[argv.index("-p") + 1 :][:1] == [str(port)]
        if on_port and "slogate-pg-" in " ".join(argv):
            found.add(p.pid)
    return found


def _database_port(processes: list[psutil.Process]) -> int:
    """The port in the embedded target's ``--database-url`` (its owned PostgreSQL's)."""
    for proc in processes:
        try:
            argv = proc.cmdline()
        except psutil.Error:
            continue
        if "--database-url" in argv:
            port = urlsplit(argv[argv.index("--database-url") + 1]).port
            assert port is not None, argv
            return port
    raise AssertionError("no process of the run was given a --database-url")


# As in tests/slogate/test_run_command.py: SIGINT must raise KeyboardInterrupt in the child.
_AS_FOREGROUND = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'slogate'; runpy.run_module('slogate.cli', run_name='__main__')"
)


@pytest.mark.postgres
def test_ctrl_c_during_faults_undoes_them_and_stops_everything(tmp_path: Path) -> None:
    flag = tmp_path / "fault-in-force"
    path = tmp_path / "s.yaml"
    path.write_text(
        f"""target: embedded
duration: 60s
load: {{model: open, rate: 5}}
tenants: {{starter: 1}}
embedded: {{database: owned-postgres}}
faults:
  - {{at: 1s, for: 50s, exec: {{run: "touch {flag}", undo: "rm {flag}"}}}}
  - {{at: 1s, for: 50s, database: outage}}
"""
    )
    out_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOGATE_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-c", _AS_FOREGROUND, "run", str(path), "--out", str(out_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    descendants: list[psutil.Process] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "fault in force" in line and "database outage" in line:
                break
        assert flag.exists()
        descendants = psutil.Process(proc.pid).children(recursive=True)
        pg_port = _database_port(descendants)
        assert not _owned_pg_processes(pg_port)  # the outage: the owned server is down
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    assert not flag.exists()  # the exec fault's undo ran
    info = RunLayout(out_dir).read_info()
    assert info.status is RunStatus.ABORTED and "interrupted" in info.reason
    faults = _faults(out_dir)
    assert [f["status"] for f in faults] == ["interrupted", "interrupted"]
    assert all("undone" in f["error"] for f in faults)
    _gone, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, alive
    assert not _owned_pg_processes(pg_port)  # started again by the undo, then stopped
