"""Real worker processes (Locust inside) against a real server on 127.0.0.1.

Each test starts its workers through :func:`start_http_load`, exactly as the runner does,
and checks the run record they leave against what the server counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from foundation.errors import TargetError
from foundation.layout import RunLayout
from scenarios.http import (
    HttpLoadHandle,
    HttpPlan,
    RequestSpec,
    Stage,
    TenantCredential,
    start_http_load,
)
from scenarios.progress import ProgressReport
from scenarios.record import read_samples

pytestmark = pytest.mark.slow

PING = RequestSpec(name="ping", method="GET", path="/ping")
STARTUP_S = 60.0  # worker imports on a busy 2-core machine
SLIP_S = 0.010


def plan_for(url: str, **kw: Any) -> HttpPlan:
    base: dict[str, Any] = {
        "base_url": url,
        "model": "open",
        "stages": (Stage(2.0, rate=50),),
        "requests": (PING,),
    }
    return HttpPlan(**(base | kw))


def run_to_end(handle: HttpLoadHandle, plan: HttpPlan) -> dict[int, ProgressReport]:
    """Wait for the workers to end by themselves; return their final ("done") reports."""
    assert handle.wait_started(STARTUP_S) is not None
    codes = handle.wait(plan.duration_s + plan.request_timeout_s + 30)
    assert codes == dict.fromkeys(handle.workers, 0)
    reports = {r.worker: r for r in handle.poll()}
    assert all(r.done for r in reports.values()) and set(reports) == set(handle.workers)
    return reports


def samples(run_dir: Path) -> Any:
    return read_samples(run_dir).to_pandas()


def test_generic_open_scenario_sends_on_schedule(http_server: Any, tmp_path: Path) -> None:
    plan = plan_for(http_server.url)
    with start_http_load(plan, tmp_path, first_worker=0) as handle:
        (done,) = run_to_end(handle, plan).values()
    df = samples(tmp_path)
    assert len(df) == 100 == http_server.counts()["GET /ping"] == done.operations
    np.testing.assert_allclose(np.diff(np.sort(df.intended_ts)), 1 / 50, atol=1e-6)
    late = df.ts - df.intended_ts
    assert late.min() > -0.002  # never sent (meaningfully) early
    assert (late > SLIP_S + 0.002).sum() <= done.schedule_slips <= (late > SLIP_S).sum()
    assert set(df.name) == {"ping"} and df.ok.all() and (df.status == 200).all()
    layout = RunLayout(tmp_path)
    assert layout.part_path(0).exists() and not layout.stream_path(0).exists()


def test_stall_is_charged_to_every_request_scheduled_during_it(
    http_server: Any, tmp_path: Path
) -> None:
    # 4 users for 40 arrivals/s: once the server freezes, arrivals queue in the generator
    plan = plan_for(http_server.url, stages=(Stage(3.0, rate=40),), pool_size=4)
    http_server.stall_after(requests=40, seconds=1.0)
    with start_http_load(plan, tmp_path, first_worker=0) as handle:
        (done,) = run_to_end(handle, plan).values()
    df = samples(tmp_path)
    assert len(df) == 120 == http_server.counts()["GET /ping"]  # late, never dropped
    start, end = http_server.stall_window()
    corrected = df.latency_ms + (df.ts - df.intended_ts) * 1000
    hit = df[(df.intended_ts >= start) & (df.intended_ts < end)]
    assert len(hit) >= 30
    # whatever a request's own latency, its corrected time runs to the end of the freeze
    waited = (end - hit.intended_ts) * 1000
    assert (corrected[hit.index] >= waited - 2.0).all()
    # most of them were sent after the freeze: short raw latency, long corrected latency
    sent_late = hit[hit.ts - hit.intended_ts > SLIP_S]
    assert len(sent_late) >= len(hit) - 2 * plan.pool_size  # type: ignore[operator]
    assert (sent_late.latency_ms < corrected[sent_late.index]).all()
    assert done.schedule_slips >= len(sent_late) - 1
    assert done.schedule_slips <= ((df.ts - df.intended_ts) > SLIP_S).sum()


def test_closed_model_keeps_users_per_tier(http_server: Any, tmp_path: Path) -> None:
    tenants = (
        TenantCredential("s1", "starter", "tok-s1", "developer"),
        TenantCredential("s2", "starter", "tok-s2", "developer"),
        TenantCredential("e1", "enterprise", "tok-e1", "developer", admin_token="admin-e1"),
    )
    plan = plan_for(
        http_server.url,
        model="closed",
        requests=(),
        tenants=tenants,
        tier_weights={"starter": 3.0, "enterprise": 1.0},
        stages=(Stage(2.5, users=4),),
        think_time_s=(0.0, 0.01),
        spawn_rate=100.0,
    )
    full = {"starter": 3, "enterprise": 1}
    with start_http_load(plan, tmp_path, first_worker=0) as handle:
        assert handle.wait_started(STARTUP_S) is not None
        assert handle.wait_for(lambda rs: bool(rs) and rs[0].active == full, timeout=10)
        run_to_end(handle, plan)
    df = samples(tmp_path)
    assert http_server.peak() <= 4  # never more requests in flight than users
    assert (df.ts == df.intended_ts).all()
    assert set(zip(df.tenant, df.tier, strict=True)) == {
        ("s1", "starter"), ("s2", "starter"), ("e1", "enterprise")
    }  # fmt: skip
    # route templates (isolation probes carry their label), never raw ids
    assert df.name.str.match(r"^(isolation: )?(GET|POST|DELETE) /").all()
    assert not df.name.str.contains("run-").any()
    assert len(df) == sum(http_server.counts().values())


def test_request_weights_hold_end_to_end(http_server: Any, tmp_path: Path) -> None:
    plan = plan_for(
        http_server.url,
        model="closed",
        stages=(Stage(2.0, users=4),),
        think_time_s=(0.0, 0.0),
        requests=(
            RequestSpec("heavy", "GET", "/ping", weight=3),
            RequestSpec("light", "POST", "/echo", json_body={"x": 1}),
        ),
    )
    with start_http_load(plan, tmp_path, first_worker=0) as handle:
        run_to_end(handle, plan)
    df = samples(tmp_path)
    n = len(df)
    share = float((df.name == "heavy").mean())
    assert n >= 200
    assert abs(share - 0.75) < 4 * np.sqrt(0.75 * 0.25 / n)  # binomial, 4 sigma
    counts = http_server.counts()
    assert counts == {"GET /ping": (df.name == "heavy").sum(), "POST /echo": (df.name == "light").sum()}


def test_sigkilled_worker_keeps_flushed_samples(http_server: Any, tmp_path: Path) -> None:
    plan = plan_for(http_server.url, stages=(Stage(30.0, rate=100),))
    with start_http_load(plan, tmp_path, first_worker=4) as handle:
        assert handle.wait_started(STARTUP_S) is not None
        assert handle.wait_for(lambda rs: bool(rs) and rs[0].operations >= 100, timeout=20)
        seen = handle.poll()[0]
        # a report at least 1.5 s later: everything recorded before `seen` has been flushed
        assert handle.wait_for(lambda rs: rs[0].t >= seen.t + 1.5, timeout=20)
        handle.kill()
        assert handle.wait(5) == {4: -9}
        layout = RunLayout(tmp_path)
        assert layout.stream_path(4).exists() and not layout.part_path(4).exists()
        kept = len(read_samples(tmp_path))
        assert kept >= seen.operations
        assert handle.recover_samples() == [4]
    assert layout.part_path(4).exists() and not layout.stream_path(4).exists()
    assert len(read_samples(tmp_path)) == kept


def test_stop_ends_cleanly_and_loses_nothing_in_flight(http_server: Any, tmp_path: Path) -> None:
    slow = RequestSpec("slow", "GET", "/delay?ms=300")
    plan = plan_for(
        http_server.url, model="closed", stages=(Stage(60.0, users=5),),
        requests=(slow,), think_time_s=(0.0, 0.0),
    )  # fmt: skip
    with start_http_load(plan, tmp_path, first_worker=0) as handle:
        assert handle.wait_started(STARTUP_S) is not None
        assert handle.wait_for(lambda rs: bool(rs) and rs[0].operations >= 10, timeout=20)
        handle.stop()  # users are mid-request: they must finish and be recorded
        assert handle.wait(plan.request_timeout_s + 10) == {0: 0}
        (done,) = handle.poll()
    assert done.done
    layout = RunLayout(tmp_path)
    assert layout.part_path(0).exists() and not layout.stream_path(0).exists()
    df = samples(tmp_path)
    assert len(df) == done.operations == http_server.counts()["GET /delay"]
    assert df.ok.all()


def test_processes_write_separate_parts_that_add_up(http_server: Any, tmp_path: Path) -> None:
    plan = plan_for(http_server.url, stages=(Stage(2.0, rate=60),), processes=2)
    with start_http_load(plan, tmp_path, first_worker=5) as handle:
        assert handle.workers == [5, 6]
        reports = run_to_end(handle, plan)
    df = samples(tmp_path)
    assert sorted(p.name for p in RunLayout(tmp_path).samples_dir.iterdir()) == [
        "part-5.parquet", "part-6.parquet"
    ]  # fmt: skip
    per_worker = df.groupby("worker").size().to_dict()
    assert per_worker == {w: r.operations for w, r in reports.items()} == {5: 60, 6: 60}
    assert len(df) == 120 == http_server.counts()["GET /ping"]
    # the two schedules interleave into the plan's single 60/s schedule
    np.testing.assert_allclose(np.diff(np.sort(df.intended_ts)), 1 / 60, atol=1e-6)


def test_remote_target_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="not a loopback address"):
        start_http_load(plan_for("http://192.0.2.10:80"), tmp_path, first_worker=0)
    assert not any(tmp_path.iterdir())
