"""The swarm plan: validation, JSON round trip, and how sessions are dealt to shards."""

from __future__ import annotations

import collections
import json
from typing import Any

import pytest

from scenarios.swarm import SessionGroup, SwarmPlan, assign_sessions
from scenarios.swarm.plan import is_loopback_host


def group(name: str = "g", sessions: int = 10, **kw: Any) -> SessionGroup:
    kw.setdefault("prompt_interval_s", 1.0)
    return SessionGroup(name, tier=kw.pop("tier", "team"), tenant="t", token="tok",
                        sessions=sessions, **kw)  # fmt: skip


def plan(*groups: SessionGroup, **kw: Any) -> SwarmPlan:
    return SwarmPlan(url=kw.pop("url", "ws://127.0.0.1:9/ws"), groups=groups or (group(),),
                     duration_s=kw.pop("duration_s", 10.0), **kw)  # fmt: skip


def test_json_round_trip_keeps_every_field() -> None:
    p = plan(
        group("a", 3, prompts_per_session=2, reconnect_delay_s=0.5),
        group("b", 0, tier="", message='{"x": 1}', jitter=0.0),
        shards=3,
        protocol="echo",
        source_addresses=("127.0.0.2", "127.0.0.3"),
        seed=7,
    )
    assert SwarmPlan.from_json(p.to_json()) == p


def test_from_json_rejects_unknown_fields_by_name() -> None:
    data = json.loads(plan().to_json())
    data["groups"][0]["sesions"] = 3
    with pytest.raises(ValueError, match="sesions"):
        SwarmPlan.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: plan(url="ws://10.1.2.3:80/ws"), "not a loopback", id="remote"),
        pytest.param(lambda: plan(url="http://127.0.0.1/ws"), "ws://", id="http_scheme"),
        pytest.param(lambda: plan(group("a"), group("a")), "unique", id="dup_names"),
        pytest.param(lambda: plan(shards=0), "shards", id="no_shards"),
        pytest.param(lambda: plan(connect_rate=0), "connect_rate", id="zero_rate"),
        pytest.param(lambda: plan(source_addresses=("10.0.0.1",)), "loopback", id="remote_src"),
        pytest.param(lambda: plan(source_addresses=("nope",)), "not an IP", id="bad_src"),
        pytest.param(lambda: group(sessions=-1), "sessions", id="neg_sessions"),
        pytest.param(lambda: group(prompt_interval_s=0), "prompt_interval_s", id="zero_iv"),
        pytest.param(lambda: group(jitter=1.0), "jitter", id="jitter_1"),
    ],
)
def test_invalid_plans_are_refused_with_the_field_named(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_remote_target_allowed_only_when_explicit() -> None:
    assert plan(url="ws://10.1.2.3:80/ws", allow_remote=True).url.startswith("ws://10.")


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("127.4.5.6", True), ("localhost", True), ("[::1]", True),
     ("::1", True), ("10.0.0.1", False), ("example.com", False), ("0.0.0.0", False)],
)  # fmt: skip
def test_is_loopback_host(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


@pytest.mark.parametrize("shards", [1, 2, 3, 7])
def test_shards_partition_the_swarm_exactly(shards: int) -> None:
    p = plan(group("big", 101), group("small", 10), group("none", 0), shards=shards,
             connect_rate=50.0, source_addresses=("127.0.0.1", "127.0.0.2", "127.0.0.3"))  # fmt: skip
    specs = [s for k in range(shards) for s in assign_sessions(p, k)]
    # Every ramp position exactly once, each group exactly its size.
    assert sorted(s.index for s in specs) == list(range(111))
    assert collections.Counter(s.group for s in specs) == {0: 101, 1: 10}
    for s in specs:
        assert s.start_offset_s == pytest.approx(s.index / 50.0)
        assert s.source_address == ("127.0.0.1", "127.0.0.2", "127.0.0.3")[s.index % 3]
    sizes = [len(assign_sessions(p, k)) for k in range(shards)]
    assert max(sizes) - min(sizes) <= 1


def test_groups_ramp_in_proportion() -> None:
    # 90/10 split: every prefix of the ramp holds the small group within one session of 10 %.
    specs = assign_sessions(plan(group("a", 90), group("b", 10)), 0)
    seen_b = 0
    for n, s in enumerate(specs, start=1):
        seen_b += s.group == 1
        assert abs(seen_b - n * 0.1) <= 1.0


def test_shard_index_out_of_range() -> None:
    with pytest.raises(ValueError, match="shard"):
        assign_sessions(plan(shards=2), 2)
