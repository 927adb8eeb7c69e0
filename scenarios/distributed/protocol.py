"""What slogate's master and workers say to each other over Locust's own messaging — pure.

Locust's master/worker engine (ZeroMQ, msgpack, heartbeats, worker registry) carries these
as *custom messages* (``runner.register_message`` / ``runner.send_message``); this module
only names them, splits the load among worker hosts and estimates clock offsets, so it is
imported on both sides and by the runner without Locust.

Conversation (``m`` master, ``w`` worker)::

    w -> m  slogate_hello     host facts and versions, once Locust has acknowledged the worker
    m -> w  slogate_ping      {seq, t1}            (x PINGS, NTP style)
    w -> m  slogate_pong      {seq, t1, t2, t3}    t2/t3: the worker's clock at receive/send
    m -> w  slogate_assign    an :class:`Assignment` (its share of HTTP users and WS shards)
    w -> m  slogate_ready     every local process is ready (imports done, sessions planned)
    m -> w  slogate_start     {at}: the common start instant, in the *worker's* clock
    w -> m  slogate_progress  latest progress report lines of its processes, once a second
    w -> m  slogate_chunk     {seq, data}: Arrow IPC stream bytes, about one second of samples
    w -> m  slogate_done      {exit_codes}: its processes ended; everything is shipped
    m -> w  slogate_stop      stop early (Ctrl-C, duration cap on the master)
    m -> w  slogate_refused   {reason}: address not allowed, or the run is full
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

__all__ = [
    "ASSIGN",
    "CHUNK",
    "DONE",
    "HELLO",
    "PING",
    "PONG",
    "PROGRESS",
    "READY",
    "REFUSED",
    "START",
    "STOP",
    "Assignment",
    "ClockSample",
    "best_offset",
    "dumps",
    "parse_master_address",
    "split_load",
]

HELLO: Final = "slogate_hello"
PING: Final = "slogate_ping"
PONG: Final = "slogate_pong"
ASSIGN: Final = "slogate_assign"
READY: Final = "slogate_ready"
START: Final = "slogate_start"
PROGRESS: Final = "slogate_progress"
CHUNK: Final = "slogate_chunk"
DONE: Final = "slogate_done"
STOP: Final = "slogate_stop"
REFUSED: Final = "slogate_refused"

MESSAGES: Final = (HELLO, PING, PONG, ASSIGN, READY, START, PROGRESS, CHUNK, DONE, STOP, REFUSED)


@dataclass(frozen=True, slots=True)
class ClockSample:
    """One ping exchange: master send ``t1``, worker receive ``t2`` and send ``t3`` (worker
    clock), master receive ``t4`` (master clock). NTP's estimate (RFC 5905 section 8)."""

    t1: float
    t2: float
    t3: float
    t4: float

    @property
    def offset(self) -> float:
        """Worker clock minus master clock, seconds (exact when both legs take equally long)."""
        return ((self.t2 - self.t1) + (self.t3 - self.t4)) / 2.0

    @property
    def rtt(self) -> float:
        """Round trip on the wire, without the worker's own turnaround."""
        return (self.t4 - self.t1) - (self.t3 - self.t2)


def best_offset(samples: Sequence[ClockSample]) -> ClockSample:
    """The sample with the smallest round trip: its offset error is at most ``rtt / 2``
    (queueing delays only ever lengthen a round trip, so the shortest is the least skewed)."""
    if not samples:
        raise ValueError("no clock samples")
    return min(samples, key=lambda s: s.rtt)


@dataclass(frozen=True, slots=True)
class Assignment:
    """One worker host's share of the run, sent to it as ``slogate_assign``.

    ``http_plan`` / ``swarm_plan`` are the whole run's plans as JSON, with ``processes`` and
    ``shards`` already multiplied by the number of hosts; the host runs shares
    ``http_shares`` and shards ``swarm_shards`` of them, as worker numbers
    ``first_worker, first_worker + 1, ...`` (HTTP processes first, then shards), so every
    worker number in the run record is unique and each host's processes are contiguous.
    """

    index: int  # the host's position, 0..hosts-1
    first_worker: int
    http_plan: str | None
    http_shares: tuple[int, ...]
    swarm_plan: str | None
    swarm_shards: tuple[int, ...]

    @property
    def workers(self) -> tuple[int, ...]:
        n = len(self.http_shares) + len(self.swarm_shards)
        return tuple(range(self.first_worker, self.first_worker + n))

    @property
    def http_workers(self) -> tuple[int, ...]:
        return self.workers[: len(self.http_shares)]

    @property
    def swarm_first_worker(self) -> int:
        return self.first_worker + len(self.http_shares)

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Assignment:
        return cls(
            index=int(data["index"]),
            first_worker=int(data["first_worker"]),
            http_plan=data.get("http_plan"),
            http_shares=tuple(int(i) for i in data.get("http_shares", ())),
            swarm_plan=data.get("swarm_plan"),
            swarm_shards=tuple(int(i) for i in data.get("swarm_shards", ())),
        )


def split_load(http_plan: Any, swarm_plan: Any, hosts: int) -> list[Assignment]:
    """Deal a run's HTTP plan and swarm plan out to ``hosts`` worker hosts.

    Each host runs as many HTTP processes (``http_plan.processes``) and swarm shards
    (``swarm_plan.shards``) as the scenario asks of one machine; the run's plans are widened
    to ``hosts`` times that, so share ``i`` of ``K`` means the same users, rate and ramp
    positions as locally and host ``j`` takes the ``j``-th contiguous slice. Constant
    arrivals of all hosts then interleave into the plan's single schedule, and swarm ramp
    positions deal round-robin over every shard of every host.
    """
    if hosts < 1:
        raise ValueError(f"hosts must be >= 1, got {hosts}")
    wide_http = None if http_plan is None else replace(http_plan, processes=http_plan.processes * hosts)
    wide_swarm = None if swarm_plan is None else replace(swarm_plan, shards=swarm_plan.shards * hosts)
    p = 0 if http_plan is None else http_plan.processes
    s = 0 if swarm_plan is None else swarm_plan.shards
    http_json = None if wide_http is None else wide_http.to_json()
    swarm_json = None if wide_swarm is None else wide_swarm.to_json()
    return [
        Assignment(
            index=j,
            first_worker=j * (p + s),
            http_plan=http_json,
            http_shares=tuple(range(j * p, (j + 1) * p)),
            swarm_plan=swarm_json,
            swarm_shards=tuple(range(j * s, (j + 1) * s)),
        )
        for j in range(hosts)
    ]


def parse_master_address(text: str, default_port: int = 5557) -> tuple[str, int]:
    """``HOST[:PORT]`` (``[v6]:PORT`` for IPv6) -> (host, port); raises ``ValueError``."""
    text = text.strip()
    if not text:
        raise ValueError("empty master address; give HOST or HOST:PORT")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    port = default_port if not port_text else int(port_text)
    if not host or not 0 < port < 65536:
        raise ValueError(f"master address {text!r}: want HOST or HOST:PORT with a port 1..65535")
    return host, port


def dumps(data: Any) -> str:
    """Compact JSON for the control lines between the runner and the master process."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False)
