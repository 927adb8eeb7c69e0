"""One shard's engine, in-process, against real WebSocket servers on 127.0.0.1.

Counts are checked against what the *server* saw, and timings against lower bounds that
physics guarantees (a send cannot happen before it was scheduled, a reply cannot beat the
server's delay), so the assertions hold on a busy machine yet fail if the logic is wrong.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import itertools
import socket
import statistics
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from scenarios.record import SampleWriter, read_samples
from scenarios.swarm import SessionGroup, SwarmPlan
from scenarios.swarm.engine import ShardEngine

from .wsservers import Behaviour, EchoServer, SlogateServer

MakeServer = Callable[[Behaviour], SlogateServer]


def run_engine(
    plan: SwarmPlan, run_dir: Path, *, stop_on: threading.Event | None = None
) -> tuple[ShardEngine, list[dict[str, Any]]]:
    """Run one shard in-process; ``stop_on`` (set by the server thread) calls ``stop()``."""
    writer = SampleWriter(run_dir, worker=5)
    engine = ShardEngine(plan, shard=0, worker=5, writer=writer)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if stop_on is not None:
            waiter = loop.run_in_executor(None, stop_on.wait, 30.0)
            waiter.add_done_callback(lambda _: engine.stop())
        await engine.run()

    asyncio.run(main())
    writer.close()
    rows: list[dict[str, Any]] = read_samples(run_dir).to_pylist()
    return engine, sorted(rows, key=lambda r: (r["ts"], r["kind"]))


def grp(name: str, token: str | None, sessions: int = 1, **kw: Any) -> SessionGroup:
    kw.setdefault("prompt_interval_s", 0.05)
    return SessionGroup(name, tier=kw.pop("tier", f"tier-{name}"),
                        tenant=kw.pop("tenant", f"t-{name}"), token=token,
                        sessions=sessions, **kw)  # fmt: skip


def swarm(url: str, *groups: SessionGroup, **kw: Any) -> SwarmPlan:
    kw.setdefault("duration_s", 1.0)
    kw.setdefault("connect_rate", 500.0)
    kw.setdefault("seed", 1)
    return SwarmPlan(url=url, groups=groups, **kw)


def count(rows: list[dict[str, Any]], **match: Any) -> int:
    return sum(all(r[k] == v for k, v in match.items()) for r in rows)


def test_every_kind_recorded_with_tenant_and_tier(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(
        Behaviour(
            tokens={"tok-ent": "t-ent", "tok-team": "t-team", "tok-quota": "t-quota",
                    "tok-drop": "t-drop"},
            reject_http={"tok-forbidden"},
            quota_after={"t-quota": 2},
            drop_after={"t-drop": 1},
        )
    )  # fmt: skip
    plan = swarm(
        server.thread.url(),
        grp("ent", "tok-ent", 3, prompts_per_session=3),
        grp("team", "tok-team", 2, prompts_per_session=3),
        grp("quota", "tok-quota", 2, prompts_per_session=5),
        grp("drop", "tok-drop", 1, prompts_per_session=3),
        grp("bad", "wrong-token", 1, prompt_interval_s=30.0),
        grp("anon", None, 1, prompt_interval_s=30.0),
        grp("forbidden", "tok-forbidden", 1),
    )
    engine, rows = run_engine(plan, tmp_path)

    for r in rows:  # every row carries its group's tenant and tier
        assert (r["tenant"], r["tier"]) == (f"t-{r['name']}", f"tier-{r['name']}")
        assert r["worker"] == 5
    connects = {(r["name"], r["ok"], r["status"], r["error"]) for r in rows
                if r["kind"] == "ws_connect"}  # fmt: skip
    assert ("forbidden", False, 403, "http_403") in connects
    assert count(rows, kind="ws_connect", ok=True, status=101) == 10

    # The server's tally of prompts equals the ws_message samples, tenant by tenant.
    messages = collections.Counter(r["tenant"] for r in rows if r["kind"] == "ws_message")
    assert messages == server.tally.prompts == {"t-ent": 9, "t-team": 6, "t-quota": 6,
                                                "t-drop": 2}  # fmt: skip
    assert count(rows, kind="ws_message", ok=True) == 9 + 6 + 4 + 1
    assert count(rows, kind="ws_message", name="quota", ok=False, status=4429) == 2
    assert count(rows, kind="ws_message", name="drop", ok=False, status=1006) == 1
    assert count(rows, kind="ws_first_token") == 9 + 6 + 4 + 1

    closes = collections.Counter(
        (r["name"], r["status"], r["error"]) for r in rows if r["kind"] == "ws_close"
    )
    assert closes == {
        ("quota", 4429, "session quota exceeded"): 2,
        ("drop", 1006, "connection lost"): 1,
        ("bad", 4401, "unauthorized"): 1,
        ("anon", 4401, "unauthorized"): 1,
    }
    assert all(not r["ok"] for r in rows if r["kind"] == "ws_close")
    # Sessions the swarm itself closed at the end: a clean 1000, and no ws_close sample.
    assert server.tally.client_close_codes[1000] == 5
    assert engine.errors == count(rows, ok=False)
    assert engine.operations == sum(messages.values())
    assert engine.active == {f"tier-{n}": 0 for n in
                             ("ent", "team", "quota", "drop", "bad", "anon", "forbidden")}  # fmt: skip


def test_first_token_precedes_completion(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(Behaviour(tokens={"k": "t-a"}, tokens_per_reply=20))
    _, rows = run_engine(swarm(server.thread.url(), grp("a", "k", 2, prompts_per_session=3)),
                         tmp_path)  # fmt: skip
    by_send: dict[float, dict[str, Any]] = collections.defaultdict(dict)
    for r in rows:
        if r["kind"] in ("ws_first_token", "ws_message"):
            by_send[r["ts"]][r["kind"]] = r
    assert len(by_send) == 6
    for pair in by_send.values():
        first, full = pair["ws_first_token"], pair["ws_message"]
        assert first["intended_ts"] == full["intended_ts"]
        assert 0 < first["latency_ms"] <= full["latency_ms"]
        # accepted + 20 tokens + done, all counted.
        assert full["bytes"] > 20 * len('{"type": "token"}')


def test_intended_ts_keeps_the_schedule_when_the_server_is_slow(
    slogate_server: MakeServer, tmp_path: Path
) -> None:
    # Prompts are due every 50 ms but each reply takes >= 150 ms: an open schedule keeps
    # intended_ts on the 50 ms grid while the actual sends fall ever further behind.
    server = slogate_server(Behaviour(tokens={"k": "t-a"}, reply_delay_s=0.15))
    plan = swarm(server.thread.url(), grp("a", "k", prompts_per_session=5, jitter=0.0),
                 duration_s=2.0)  # fmt: skip
    engine, rows = run_engine(plan, tmp_path)
    msgs = [r for r in rows if r["kind"] == "ws_message"]
    assert len(msgs) == 5 and all(r["ok"] for r in msgs)
    intended = [r["intended_ts"] for r in msgs]
    sent = [r["ts"] for r in msgs]
    for a, b in itertools.pairwise(intended):
        assert abs((b - a) - 0.05) < 1e-6
    for k, r in enumerate(msgs):
        assert r["ts"] >= r["intended_ts"]
        assert r["latency_ms"] >= 150.0
        assert r["ts"] - r["intended_ts"] >= k * 0.1 - 0.005  # behind by >= 100 ms per prompt
    for a, b in itertools.pairwise(sent):
        assert b - a >= 0.15
    assert engine.slips >= 4


def test_sends_on_time_when_the_server_keeps_up(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(Behaviour(tokens={"k": "t-a"}))
    plan = swarm(server.thread.url(), grp("a", "k", 4, prompts_per_session=5))
    _, rows = run_engine(plan, tmp_path)
    lags = [r["ts"] - r["intended_ts"] for r in rows if r["kind"] == "ws_message"]
    assert len(lags) == 20 and min(lags) >= 0
    assert statistics.median(lags) < 0.05


def test_connect_rate_ramp_is_honoured(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(Behaviour(tokens={"k": "t-a"}))
    plan = swarm(server.thread.url(), grp("a", "k", 16, prompt_interval_s=30.0),
                 connect_rate=40.0, duration_s=1.0)  # fmt: skip
    _, rows = run_engine(plan, tmp_path)
    connects = sorted((r for r in rows if r["kind"] == "ws_connect"), key=lambda r: r["ts"])
    assert len(connects) == 16 and all(r["ok"] for r in connects)
    t0 = connects[0]["intended_ts"]
    for i, r in enumerate(connects):
        assert abs(r["intended_ts"] - (t0 + i / 40.0)) < 1e-6
        assert r["ts"] >= r["intended_ts"] - 1e-6
    assert connects[-1]["ts"] - connects[0]["ts"] >= 15 / 40.0 - 1e-3
    assert statistics.median(r["ts"] - r["intended_ts"] for r in connects) < 0.05


def test_protocol_errors_and_failed_runs(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(Behaviour(tokens={"k": "t-a"}, error_every=2, fail_every=3))
    _, rows = run_engine(swarm(server.thread.url(), grp("a", "k", prompts_per_session=6,
                                                        jitter=0.0)), tmp_path)  # fmt: skip
    msgs = [r for r in rows if r["kind"] == "ws_message"]
    assert [(r["ok"], r["status"], r["error"]) for r in msgs] == [
        (True, 101, ""),
        (False, 101, "rate_limited"),
        (False, 101, "provider_unavailable"),
        (False, 101, "rate_limited"),
        (True, 101, ""),
        (False, 101, "rate_limited"),
    ]
    assert count(rows, kind="ws_first_token") == 2
    assert count(rows, kind="ws_close") == 0


def test_response_timeout(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(Behaviour(tokens={"k": "t-a"}, silent={"t-a"}))
    plan = swarm(server.thread.url(), grp("a", "k", prompts_per_session=2),
                 response_timeout_s=0.2)  # fmt: skip
    engine, rows = run_engine(plan, tmp_path)
    msgs = [r for r in rows if r["kind"] == "ws_message"]
    assert [(r["ok"], r["error"]) for r in msgs] == [(False, "timeout")] * 2
    assert all(200.0 <= r["latency_ms"] < 400.0 for r in msgs)
    assert engine.errors == 2


def test_reconnect_after_unexpected_close(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(Behaviour(tokens={"k": "t-a"}, quota_after={"t-a": 1}))
    plan = swarm(server.thread.url(),
                 grp("a", "k", prompts_per_session=3, reconnect_delay_s=0.05))  # fmt: skip
    _, rows = run_engine(plan, tmp_path)
    assert [r["kind"] for r in rows if r["kind"] != "ws_first_token"] == [
        "ws_connect", "ws_message", "ws_message", "ws_close", "ws_connect", "ws_message",
    ]  # fmt: skip
    assert server.tally.connections["t-a"] == 2
    assert server.tally.prompts["t-a"] == 3


def test_stop_drains_prompts_in_flight(slogate_server: MakeServer, tmp_path: Path) -> None:
    # Replies take 0.3 s; stop() lands as soon as the server holds a prompt of each session.
    server = slogate_server(Behaviour(tokens={"k": "t-a"}, reply_delay_s=0.3, signal_after_prompts=3))
    plan = swarm(server.thread.url(), grp("a", "k", 3, prompt_interval_s=0.01), duration_s=30)
    _, rows = run_engine(plan, tmp_path, stop_on=server.prompted)
    msgs = [r for r in rows if r["kind"] == "ws_message"]
    assert len(msgs) == sum(server.tally.prompts.values()) >= 3
    assert all(r["ok"] for r in msgs)
    assert count(rows, kind="ws_close") == 0
    assert server.tally.client_close_codes[1000] == 3


def test_drain_timeout_records_unanswered_prompts(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(Behaviour(tokens={"k": "t-a"}, silent={"t-a"}))
    plan = swarm(server.thread.url(), grp("a", "k", 2, prompt_interval_s=0.01),
                 duration_s=0.3, drain_timeout_s=0.1)  # fmt: skip
    _, rows = run_engine(plan, tmp_path)
    msgs = [r for r in rows if r["kind"] == "ws_message"]
    assert [(r["ok"], r["error"]) for r in msgs] == [(False, "stopped")] * 2
    assert server.tally.prompts["t-a"] == 2


def test_echo_protocol_against_a_plain_echo_server(echo_server: EchoServer, tmp_path: Path) -> None:
    message = '{"hello": "world"}'
    plan = swarm(
        echo_server.thread.url("/anything"),
        SessionGroup("echo", tier="", tenant="", token=None, sessions=5,
                     prompt_interval_s=0.02, prompts_per_session=4, message=message),
        protocol="echo",
    )  # fmt: skip
    _, rows = run_engine(plan, tmp_path)
    msgs = [r for r in rows if r["kind"] == "ws_message"]
    assert len(msgs) == echo_server.messages == 20
    assert all(r["ok"] and r["bytes"] == len(message) for r in msgs)
    assert count(rows, kind="ws_first_token") == 20
    assert all((r["tenant"], r["tier"]) == ("", "") for r in rows)


def test_unreachable_target_is_a_failed_connect(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nobody listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    plan = swarm(f"ws://127.0.0.1:{port}/ws", grp("a", "k", 2), duration_s=0.3)
    engine, rows = run_engine(plan, tmp_path)
    assert [(r["kind"], r["ok"], r["status"], r["error"]) for r in rows] == [
        ("ws_connect", False, 0, "ConnectionRefusedError")
    ] * 2
    assert engine.errors == 2


def test_samples_match_the_run_record_schema(slogate_server: MakeServer, tmp_path: Path) -> None:
    server = slogate_server(Behaviour(tokens={"k": "t-a"}))
    run_engine(swarm(server.thread.url(), grp("a", "k", prompts_per_session=1)), tmp_path)
    table: pa.Table = read_samples(tmp_path)
    assert table.num_rows == 3
    assert (tmp_path / "samples" / "part-5.parquet").exists()
    assert not (tmp_path / "samples" / "worker-5.arrows").exists()


def test_pings_fragments_and_protocol_errors(slogate_server: MakeServer, tmp_path: Path) -> None:
    # The server pings first (we must pong), fragments every reply (we must reassemble),
    # and answers one tenant with a frame using a reserved bit (we must fail with 1002).
    server = slogate_server(
        Behaviour(tokens={"k": "t-a", "g": "t-g"}, ping_first=True, fragment_replies=True,
                  garbage={"t-g"})
    )  # fmt: skip
    plan = swarm(server.thread.url(), grp("a", "k", 2, prompts_per_session=3),
                 grp("g", "g", 1, prompts_per_session=3))  # fmt: skip
    _, rows = run_engine(plan, tmp_path)
    assert server.tally.pongs == 3
    assert count(rows, kind="ws_message", name="a", ok=True) == 6
    assert count(rows, kind="ws_first_token", name="a") == 6
    assert count(rows, kind="ws_message", name="g", ok=False, status=1002) == 1
    closes = [(r["name"], r["status"]) for r in rows if r["kind"] == "ws_close"]
    assert closes == [("g", 1002)]
    assert server.tally.client_close_codes[1000] == 2


def test_reconnecting_to_a_dead_target_ends_cleanly_at_the_stop(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    plan = swarm(f"ws://127.0.0.1:{port}/ws", grp("a", "k", 2, reconnect_delay_s=0.05),
                 duration_s=0.5)  # fmt: skip
    engine, rows = run_engine(plan, tmp_path)
    attempts = [r for r in rows if r["kind"] == "ws_connect"]
    assert len(attempts) >= 4  # each session retried at least once
    assert all(r["error"] == "ConnectionRefusedError" for r in attempts)
    assert engine.errors == len(attempts)
    assert engine._live == 0  # every session accounted for exactly once


def test_collector_is_paused_while_every_session_is_open_and_restored_after(
    echo_server: EchoServer, tmp_path: Path
) -> None:
    plan = SwarmPlan(
        url=echo_server.thread.url("/"),
        groups=(SessionGroup("e", tier="", tenant="", token=None, sessions=3,
                             prompt_interval_s=0.05, message="hi"),),
        duration_s=1.0, connect_rate=100.0, protocol="echo", seed=1,
    )  # fmt: skip
    writer = SampleWriter(tmp_path, worker=0)
    engine = ShardEngine(plan, shard=0, worker=0, writer=writer)
    seen: list[tuple[int, bool]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def look() -> None:
            seen.append((sum(engine.active.values()), gc.isenabled()))
            if not engine.finished:
                loop.call_later(0.05, look)

        look()
        await engine.run()

    assert gc.isenabled()
    asyncio.run(main())
    writer.close()
    assert gc.isenabled()  # restored at the end of the run
    assert (0, True) in seen  # before the ramp: untouched
    assert (3, False) in seen  # all open: paused (the sweep collects once a second)
    assert echo_server.messages > 0
