"""What a WebSocket swarm does: session groups, the swarm plan, and how it splits into shards.

Everything here is pure: the plan is validated when it is built, travels to a shard process
as JSON (``to_json``/``from_json``, validated again by pydantic on the way in), and each shard
derives its own share of sessions with :func:`assign_sessions`, so every shard agrees on the
split without talking to the others.

Example::

    plan = SwarmPlan(
        url="ws://127.0.0.1:8000/v1/sessions/ws",
        groups=(SessionGroup("enterprise-1", tier="enterprise", tenant="t1", token="tok",
                             sessions=500, prompt_interval_s=5.0),),
        duration_s=60.0,
        connect_rate=200.0,
        shards=2,
    )
    mine = assign_sessions(plan, shard=0)   # 250 sessions, every other one of the ramp
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, TypeAdapter

from scenarios.loopback import is_loopback_ip, is_loopback_literal

__all__ = ["SessionGroup", "SessionSpec", "SwarmPlan", "assign_sessions", "is_loopback_host"]

Protocol = Literal["slogate", "echo"]


@dataclass(frozen=True, slots=True)
class SessionGroup:
    """Sessions that share a tenant, tier, token and prompt schedule.

    Example::

        SessionGroup("team-3", tier="team", tenant="t3", token="slg_...", sessions=50,
                     prompt_interval_s=2.0, prompts_per_session=10)
    """

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    name: str  # e.g. "enterprise-1"; the `name` column of every sample of this group
    tier: str  # "" for a foreign target
    tenant: str  # "" for a foreign target
    token: str | None  # bearer token, None = no Authorization header
    sessions: int
    prompt_interval_s: float  # mean seconds between prompts of one session
    prompts_per_session: int | None = None  # None = until the stop time
    message: str = "Summarise the quarterly report in three sentences."
    jitter: float = 0.1  # +-10 % uniform jitter on intervals
    reconnect_delay_s: float | None = None  # None = a dropped session stays down

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("session group name must not be empty")
        if self.sessions < 0:
            raise ValueError(f"group {self.name!r}: sessions must be >= 0, got {self.sessions}")
        if not (self.prompt_interval_s > 0 and math.isfinite(self.prompt_interval_s)):
            raise ValueError(
                f"group {self.name!r}: prompt_interval_s must be a positive number of seconds, "
                f"got {self.prompt_interval_s}"
            )
        if self.prompts_per_session is not None and self.prompts_per_session < 0:
            raise ValueError(
                f"group {self.name!r}: prompts_per_session must be >= 0 or None (until the stop "
                f"time), got {self.prompts_per_session}"
            )
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"group {self.name!r}: jitter is a fraction in [0, 1), got {self.jitter}")
        if self.reconnect_delay_s is not None and self.reconnect_delay_s < 0:
            raise ValueError(
                f"group {self.name!r}: reconnect_delay_s must be >= 0 or None, got {self.reconnect_delay_s}"
            )


@dataclass(frozen=True, slots=True)
class SwarmPlan:
    """The whole swarm: target, session groups, timing, and how it is spread over processes.

    ``duration_s`` counts from the first connect; sessions then finish the prompt in flight
    (at most ``drain_timeout_s``) and close cleanly. ``connect_rate`` is sessions per second
    over the whole swarm; each of the ``shards`` processes opens its share at
    ``connect_rate / shards``. ``source_addresses`` (loopback IPs such as ``127.0.0.2``) are
    used round-robin as the local end of each connection, which multiplies the ~28k
    ephemeral ports available per source/destination pair.
    """

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    url: str  # ws://127.0.0.1:PORT/v1/sessions/ws
    groups: tuple[SessionGroup, ...]
    duration_s: float  # from the first connect; then sessions close cleanly
    connect_rate: float = 200.0  # sessions per second, whole swarm
    shards: int = 1
    protocol: Protocol = "slogate"
    source_addresses: tuple[str, ...] = ()  # empty = the OS chooses; else round-robin
    response_timeout_s: float = 30.0
    open_timeout_s: float = 10.0  # TCP connect + WebSocket handshake
    close_timeout_s: float = 2.0  # wait for the server's close frame at the end
    drain_timeout_s: float = 5.0  # at the stop, how long prompts in flight may finish
    slip_tolerance_s: float = 0.05  # a send later than this after its schedule is a slip
    seed: int | None = None  # jitter and first-prompt phase; None = different every run
    freeze_gc: bool = True  # gc.freeze() once the ramp is done (kills GC tail latency)
    allow_remote: bool = False  # refuse a non-loopback target unless explicitly allowed

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"url must be ws://host:port/path or wss://..., got {self.url!r}")
        if not self.allow_remote and not is_loopback_host(parts.hostname):
            raise ValueError(
                f"url {self.url!r} is not a loopback address; swarms only target 127.0.0.1, "
                "localhost or [::1] unless allow_remote=True"
            )
        if not self.groups:
            raise ValueError("a swarm needs at least one session group")
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError(f"session group names must be unique, got {names}")
        positive = {
            "duration_s": self.duration_s,
            "connect_rate": self.connect_rate,
            "response_timeout_s": self.response_timeout_s,
            "open_timeout_s": self.open_timeout_s,
            "close_timeout_s": self.close_timeout_s,
        }
        for field_name, value in positive.items():
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{field_name} must be a positive number, got {value}")
        if self.drain_timeout_s < 0 or self.slip_tolerance_s < 0:
            raise ValueError("drain_timeout_s and slip_tolerance_s must be >= 0")
        if self.shards < 1:
            raise ValueError(f"shards must be >= 1, got {self.shards}")
        for addr in self.source_addresses:
            try:
                loopback = is_loopback_ip(addr)
            except ValueError:
                raise ValueError(f"source address {addr!r} is not an IP address (e.g. '127.0.0.2')") from None
            if not self.allow_remote and not loopback:
                raise ValueError(f"source address {addr!r} is not a loopback address")

    @property
    def total_sessions(self) -> int:
        return sum(g.sessions for g in self.groups)

    def to_json(self) -> str:
        """The plan as JSON, for handing to a shard process."""
        return _ADAPTER.dump_json(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> SwarmPlan:
        """Parse and validate a plan; raises ``ValueError`` naming the offending field."""
        return _ADAPTER.validate_json(text)


_ADAPTER: TypeAdapter[SwarmPlan] = TypeAdapter(SwarmPlan)


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """One session of one shard: which group, when it connects, from which local address."""

    index: int  # position in the whole swarm's ramp (0-based, unique across shards)
    group: int  # index into ``plan.groups``
    start_offset_s: float  # connect time relative to the swarm's start: index / connect_rate
    source_address: str | None  # local IP to bind, None = the OS chooses


def assign_sessions(plan: SwarmPlan, shard: int) -> tuple[SessionSpec, ...]:
    """The sessions shard ``shard`` runs, in connect order.

    The whole swarm's sessions are interleaved so that every group ramps up in proportion
    (a group with 10 % of the sessions holds 10 % of every prefix of the ramp), then dealt out
    round-robin: shard ``k`` gets ramp positions ``k, k + shards, ...``. Position ``i``
    connects at ``i / connect_rate`` from the start, so the shards together honour the global
    rate and each shard alone runs at ``connect_rate / shards``. Source addresses go
    round-robin over ramp positions, spreading connections evenly over addresses.
    """
    if not 0 <= shard < plan.shards:
        raise ValueError(f"shard must be in 0..{plan.shards - 1}, got {shard}")
    # Key of the j-th session of a group with n sessions: (j + 0.5) / n, i.e. the centre of
    # its slot; ties broken by group order. Sorting by it interleaves groups evenly.
    keyed = sorted(
        ((j + 0.5) / g.sessions, gi) for gi, g in enumerate(plan.groups) for j in range(g.sessions)
    )
    addrs = plan.source_addresses
    return tuple(
        SessionSpec(
            index=i,
            group=gi,
            start_offset_s=i / plan.connect_rate,
            source_address=addrs[i % len(addrs)] if addrs else None,
        )
        for i, (_, gi) in enumerate(keyed)
        if i % plan.shards == shard
    )


is_loopback_host = is_loopback_literal  # the engines' check: spelling only, no DNS
