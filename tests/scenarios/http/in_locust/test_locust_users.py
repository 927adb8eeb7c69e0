"""Locust users built as ``MyUser(env)``, one task called against a real server (Locust's own
test style), and the samples they leave in the run record."""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import locust  # noqa: F401  (first: gevent monkey-patching)
import numpy as np
import pytest
from locust.env import Environment
from locust.exception import StopUser

from scenarios.http.plan import RequestSpec, TenantCredential
from scenarios.http.recorder import SampleRecorder
from scenarios.http.request_users import request_list_user
from scenarios.http.tier_users import EnterpriseUser, StarterUser, TeamUser, TierUser
from scenarios.http.users import LoadControl, OpenGate, SlogateUser, make_open
from scenarios.progress import ProgressReport
from scenarios.record import SampleWriter, read_samples

CRED = TenantCredential(tenant="t-42", tier="team", token="tok-team", role="developer")


class Recorded:
    """An Environment whose request events go to a real SampleWriter, plus raw event capture."""

    def __init__(self, run_dir: Any) -> None:
        self.run_dir = run_dir
        self.env = Environment(user_classes=[])
        self.runner = self.env.create_local_runner()  # registers Locust's own stats listener
        self.writer = SampleWriter(run_dir, worker=7)
        self.report = ProgressReport(worker=7, source="http", t=0.0)
        self.recorder = SampleRecorder(self.writer, self.report)
        self.env.events.request.add_listener(  # type: ignore[no-untyped-call]
            self.recorder.on_request
        )
        self.events: list[dict[str, Any]] = []
        self.users: list[Any] = []
        self.env.events.request.add_listener(  # type: ignore[no-untyped-call]
            lambda **kw: self.events.append(kw)
        )

    def user(self, cls: type[SlogateUser], host: str, **attrs: Any) -> Any:
        sub: Any = type(cls.__name__, (cls,), {"host": host, **attrs})
        user = sub(self.env)
        self.users.append(user)
        user.on_start()
        return user

    def close(self) -> None:
        for user in self.users:
            user.client.client.clientpool.close()
        self.runner.quit()

    def rows(self) -> list[dict[str, Any]]:
        self.recorder.close()
        rows: list[dict[str, Any]] = read_samples(self.run_dir).to_pylist()
        return rows


@pytest.fixture
def rec(tmp_path: Any) -> Iterator[Recorded]:
    r = Recorded(tmp_path)
    yield r
    r.close()


def _list_user(specs: tuple[RequestSpec, ...], rec: Recorded, host: str, **attrs: Any) -> Any:
    return rec.user(request_list_user(specs, host=host), host, **attrs)


def test_sample_fields_of_a_json_post(rec: Recorded, http_server: Any) -> None:
    spec = RequestSpec(name="echo it", method="POST", path="/echo", json_body={"a": [1, 2]})
    user = _list_user((spec,), rec, http_server.url, credentials=(CRED,))
    before = time.time()
    user.send_one()
    after = time.time()
    (row,) = rec.rows()
    echoed = json.loads(rec.events[0]["response"].content)
    assert echoed == {
        "method": "POST",
        "body": '{"a":[1,2]}',
        "authorization": "Bearer tok-team",
        "content_type": "application/json",
    }
    assert before <= row["ts"] <= after
    assert row["intended_ts"] == row["ts"]  # closed model: sent when intended
    assert row["latency_ms"] == rec.events[0]["response_time"]  # stored unchanged
    assert row["latency_ms"] <= (after - before) * 1000
    assert row | {"ts": 0, "intended_ts": 0, "latency_ms": 0} == {
        "ts": 0, "intended_ts": 0, "latency_ms": 0, "kind": "http", "name": "echo it",
        "tenant": "t-42", "tier": "team", "ok": True, "status": 200, "error": "",
        "bytes": len(rec.events[0]["response"].content), "worker": 7,
    }  # fmt: skip
    assert rec.report.operations == 1 and rec.report.errors == 0


def test_147_ms_is_recorded_as_147_not_150(rec: Recorded, http_server: Any) -> None:
    spec = RequestSpec(name="slow", method="GET", path="/delay?ms=147")
    user = _list_user((spec,), rec, http_server.url)
    outer: list[float] = []
    for _ in range(20):  # on a busy machine some requests run late; one quiet one is enough
        t = time.perf_counter()
        user.send_one()
        outer.append((time.perf_counter() - t) * 1000)
        if rec.events[-1]["response_time"] < 149.5:
            break
    latencies = [row["latency_ms"] for row in rec.rows()]
    assert latencies == [e["response_time"] for e in rec.events]  # exact, event by event
    for lat, around in zip(latencies, outer, strict=True):
        assert 147.0 <= lat <= around  # the server slept 147 ms; the stopwatch brackets it
    assert min(latencies) < 149.5, latencies  # 147.x, where Locust's statistics say 150
    buckets = rec.env.stats.get("slow", "GET").response_times
    assert sum(buckets.values()) == len(latencies)
    assert all(key % 10 == 0 for key in buckets), buckets
    assert buckets.get(150, 0) >= 1


def test_429_is_recorded_not_hidden_and_backs_off(rec: Recorded, http_server: Any) -> None:
    spec = RequestSpec(name="limited", method="GET", path="/status/429")
    user = _list_user((spec,), rec, http_server.url, think_time_s=(0.1, 0.2))
    user.send_one()
    (row,) = rec.rows()
    assert (row["ok"], row["status"], row["error"]) == (False, 429, "HTTP 429")
    assert user.wait_time() == 2.0  # Retry-After: 2 beats the 0.1-0.2 s think time
    assert 0.1 <= user.wait_time() <= 0.2  # once only
    assert rec.report.errors == 1


def test_unexpected_status_and_transport_error(rec: Recorded, http_server: Any) -> None:
    wrong = RequestSpec(name="wrong", method="POST", path="/status/201", expect_status=(200,))
    _list_user((wrong,), rec, http_server.url).send_one()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    refused = RequestSpec(name="refused", method="GET", path="/ping")
    _list_user((refused,), rec, closed).send_one()
    rows = {r["name"]: r for r in rec.rows()}
    assert (rows["wrong"]["ok"], rows["wrong"]["status"]) == (False, 201)
    assert rows["wrong"]["error"] == "HTTP 201 (expected [200])"
    assert (rows["refused"]["ok"], rows["refused"]["status"]) == (False, 0)
    assert rows["refused"]["error"].startswith("ConnectionRefusedError"), rows["refused"]


def test_request_weights_pick_in_proportion() -> None:
    specs = tuple(
        RequestSpec(name=n, method="GET", path="/ping", weight=w)
        for n, w in (("a", 6.0), ("b", 3.0), ("c", 1.0))
    )
    cls = request_list_user(specs, host="http://127.0.0.1:1")
    user = cls(Environment(user_classes=[]))  # no request is sent: no connection to close
    random.seed(1234)
    n = 100_000
    counts = np.bincount([user.pick() for _ in range(n)], minlength=3)
    expected = n * np.array([0.6, 0.3, 0.1])
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 13.82, (counts, chi2)  # chi-square, 2 dof, p = 0.001 (published table)


# ----- tier users against a fake of the reference API -----------------------------------


def _tier(rec: Recorded, cls: type[TierUser], url: str, cred: TenantCredential) -> Any:
    return rec.user(cls, url, credentials=(cred,))


def test_team_user_polls_its_runs_until_they_finish(rec: Recorded, http_server: Any) -> None:
    user = _tier(rec, TeamUser, http_server.url, CRED)
    user.create_run()
    assert len(user.run_ids) == 1
    user.poll_run()  # -> running
    assert len(user.run_ids) == 1
    user.poll_run()  # -> succeeded: no longer polled
    assert len(user.run_ids) == 0
    user.poll_run()  # nothing to poll: starts a run instead
    rows = rec.rows()
    assert [r["name"] for r in rows] == [
        "POST /v1/runs", "GET /v1/runs/{id}", "GET /v1/runs/{id}", "POST /v1/runs"
    ]  # fmt: skip
    assert [r["status"] for r in rows] == [202, 200, 200, 202]
    assert {(r["tenant"], r["tier"]) for r in rows} == {("t-42", "team")}


def test_enterprise_audit_needs_an_admin_token(rec: Recorded, http_server: Any) -> None:
    admin = TenantCredential("t-9", "enterprise", "tok-dev", "developer", admin_token="admin-9")
    plain = TenantCredential("t-8", "enterprise", "tok-dev", "developer")
    _tier(rec, EnterpriseUser, http_server.url, admin).read_audit()
    _tier(rec, EnterpriseUser, http_server.url, plain).read_audit()  # falls back to a list
    lister = _tier(rec, EnterpriseUser, http_server.url, plain)
    lister.list_runs()
    assert lister._cursor == "page-2"  # enterprise pages through
    lister.list_runs()
    assert lister._cursor is None  # the fake's last page
    rows = rec.rows()
    assert [(r["name"], r["status"], r["tenant"]) for r in rows] == [
        ("GET /v1/audit", 200, "t-9"),
        ("GET /v1/runs", 200, "t-8"),
        ("GET /v1/runs", 200, "t-8"),
        ("GET /v1/runs", 200, "t-8"),
    ]


def test_every_tier_task_sends_exactly_one_request(rec: Recorded, http_server: Any) -> None:
    creds = {t: TenantCredential(f"t-{t}", t, f"tok-{t}", "admin") for t in ("starter", "team")}
    creds["enterprise"] = TenantCredential("t-e", "enterprise", "admin-e", "admin")
    sent = 0
    for cls in (StarterUser, TeamUser, EnterpriseUser):
        user = _tier(rec, cls, http_server.url, creds[cls.tier])
        tasks: list[Any] = list(dict.fromkeys(cls.tasks))  # each distinct task once
        for task in tasks:
            task(user)
            sent += 1
            assert len(rec.events) == sent, task.__name__
    probes = [e for e in rec.events if e["name"].startswith("isolation: ")]
    others = [e for e in rec.events if not e["name"].startswith("isolation: ")]
    assert all(e["exception"] is None for e in others), [e["exception"] for e in others]
    # A probe passes exactly when the server answers 404 (this fake does not isolate tenants,
    # so its probes may well fail: that is the probe doing its job).
    assert probes
    for e in probes:
        status = e["response"].status_code
        assert (e["exception"] is None) == (status == 404), (e["name"], status, e["exception"])
        if status != 404:
            assert f"answered {status}, not 404" in str(e["exception"])


def _names(cls: type[TierUser]) -> list[str]:
    return [getattr(t, "__name__", "") for t in cls.tasks]


def _share(cls: type[TierUser], names: set[str]) -> float:
    return sum(n in names for n in _names(cls)) / len(cls.tasks)


def test_tier_mixes_match_their_descriptions() -> None:
    reads = {"t_list_runs", "t_list_agents", "t_poll_run", "t_health", "t_read_audit"}
    assert _share(StarterUser, reads) >= 0.8  # starter: mostly reads
    assert _share(StarterUser, {"t_create_run"}) <= 0.1  # few runs
    assert _share(TeamUser, {"t_poll_run"}) > _share(StarterUser, {"t_poll_run"})
    enterprise_creates = _share(EnterpriseUser, {"t_create_run"})
    assert enterprise_creates > _share(TeamUser, {"t_create_run"})  # heavy run creation
    assert enterprise_creates == max(_share(EnterpriseUser, {n}) for n in _names(EnterpriseUser))
    assert _share(EnterpriseUser, {"t_read_audit"}) > 0


def test_tier_user_without_credentials_says_what_is_missing(rec: Recorded) -> None:
    with pytest.raises(RuntimeError, match="needs tenant credentials"):
        rec.user(StarterUser, "http://127.0.0.1:1")


# ----- open model step --------------------------------------------------------------------


def _open_user(rec: Recorded, url: str, offsets: list[float], t0: float) -> tuple[Any, OpenGate]:
    control = LoadControl()
    gate = OpenGate(iter(offsets), control, slip_threshold_s=0.010)
    gate.t0 = t0
    control.started.set()
    base = request_list_user((RequestSpec("ping", "GET", "/ping"),), host=url)
    return rec.user(make_open(base, gate, pool=1), url), gate


def test_open_step_keeps_intended_time_and_counts_late_sends(
    rec: Recorded, http_server: Any
) -> None:
    now = time.time()
    # first arrival 1 s overdue (no free user had taken it), second 0.2 s in the future
    user, gate = _open_user(rec, http_server.url, [0.0, 1.2], t0=now - 1.0)
    step: Callable[[Any], None] = type(user).tasks[0]
    step(user)  # Locust runs a task before the first wait: nothing to send yet
    assert rec.events == []
    for _ in range(2):  # what Locust's TaskSet loop does: wait_time, sleep, task
        gevent.sleep(user.wait_time())
        step(user)
    late, on_time = rec.rows()
    assert late["intended_ts"] == now - 1.0
    assert late["ts"] - late["intended_ts"] >= 1.0  # corrected latency includes the wait
    assert on_time["intended_ts"] == now + 0.2
    assert on_time["ts"] >= on_time["intended_ts"]  # never sent early
    slipped = [r["ts"] - r["intended_ts"] > gate.slip_threshold_s for r in (late, on_time)]
    assert gate.slips == sum(slipped) >= 1
    assert gate.sent == 2 and gate.in_flight == 0
    gevent.spawn_later(0.05, gate.control.stopping.set)
    with pytest.raises(StopUser):  # schedule over: the user idles until the worker stops it
        user.wait_time()
    assert gate.done.is_set()
