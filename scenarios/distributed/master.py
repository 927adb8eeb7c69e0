"""The master process of a distributed run: ``python -m scenarios.distributed.master``.

Started by :func:`scenarios.distributed.start_distributed` (the runner never imports Locust,
which monkey-patches with gevent), it runs a Locust ``MasterRunner`` (ZeroMQ, heartbeats,
the worker registry) and speaks slogate's custom messages over it
(:mod:`scenarios.distributed.protocol`):

1. wait, bounded by ``join_timeout_s``, for ``expect_workers`` workers from allowed addresses;
   measure each one's clock offset (NTP-style pings, the least-delayed sample wins), and
   again every ``clock_interval_s`` during the run (later samples get the latest offset);
2. split the plans (:func:`~scenarios.distributed.protocol.split_load`), send each its share,
   wait until every host is ready, give all one start instant (in each host's own clock);
3. relay progress, store sample chunks on the master's clock (one part per worker host),
   notice hosts that end (``slogate_done``) or vanish (Locust's heartbeat says missing);
4. stdin EOF: tell every host to stop, wait for their last chunks, then finish.

Control: one JSON config line on stdin (the plans hold tenant tokens: never argv); stdout
lines, one JSON object each: ``listening``, ``joined``, ``refused``, ``started``, progress
reports (``ProgressReport.to_line()``), ``exited``, ``error``, and ``summary`` at the end.
Exit code 0 when it ran to the end (lost hosts are reported, not fatal), 3 when the run could
not start (workers did not come, or not ready in time).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.os
from gevent.event import Event
from locust.env import Environment
from locust.rpc.protocol import Message
from locust.runners import STATE_MISSING

from foundation.layout import RunLayout
from scenarios.distributed import protocol as p
from scenarios.distributed.chunks import HostSink
from scenarios.distributed.guard import GuardedMaster
from scenarios.distributed.settings import MasterConfig, harness_versions
from scenarios.http.plan import HttpPlan
from scenarios.loopback import address_allowed
from scenarios.swarm.plan import SwarmPlan

__all__ = ["main", "run_master"]

log = logging.getLogger("slogate.distributed.master")

_PINGS = 8
_PING_GAP_S = 0.05
_START_LEAD_S = 1.0
_TICK_S = 0.2


def _emit(data: dict[str, Any] | str) -> None:
    sys.stdout.write((data if isinstance(data, str) else p.dumps(data)) + "\n")
    sys.stdout.flush()


@dataclass
class Host:
    """One worker host, from its hello to its end."""

    node: str
    address: str
    facts: dict[str, Any]
    samples: list[p.ClockSample] = field(default_factory=list)
    clock: p.ClockSample | None = None  # the latest round's least-delayed exchange
    clock_history: list[dict[str, float]] = field(default_factory=list)
    assignment: p.Assignment | None = None
    sink: HostSink | None = None
    ready: bool = False
    done: bool = False
    lost: str = ""
    exit_codes: dict[int, int] = field(default_factory=dict)
    bad_chunks: int = 0

    def describe(self) -> dict[str, Any]:
        a = self.assignment
        return {
            "index": None if a is None else a.index,
            "node": self.node,
            "address": self.address,
            "hostname": self.facts.get("hostname", ""),
            "versions": self.facts.get("versions", {}),
            "platform": self.facts.get("platform", ""),
            "cpu_count": self.facts.get("cpu_count"),
            "clock_offset_s": None if not self.clock_history else self.clock_history[0]["offset_s"],
            "clock_rtt_s": None if not self.clock_history else self.clock_history[0]["rtt_s"],
            "clock_offsets": self.clock_history,  # one per round: at (master clock), offset_s, rtt_s
            "workers": [] if a is None else list(a.workers),
            "http_shares": [] if a is None else list(a.http_shares),
            "swarm_shards": [] if a is None else list(a.swarm_shards),
            "part": None if a is None else a.first_worker,
            "rows": 0 if self.sink is None else self.sink.rows,
            "chunks": 0 if self.sink is None else self.sink.chunks,
            "bad_chunks": self.bad_chunks,
            "status": "lost" if self.lost else ("done" if self.done else "running"),
            "lost_reason": self.lost,
            "exit_codes": {str(w): c for w, c in self.exit_codes.items()},
        }


class Master:
    """The master's state; message handlers run in Locust's receiving greenlet."""

    def __init__(self, config: MasterConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.layout = RunLayout(config.run_dir)
        networks = config.allowed_networks
        self.env = Environment(user_classes=[])
        self.runner = GuardedMaster(
            self.env, config.bind_host, config.bind_port, lambda peer: address_allowed(peer, networks)
        )
        self.env.runner = self.runner
        self.hosts: dict[str, Host] = {}
        self.stop_requested = Event()
        self.changed = Event()  # set by every handler: the main loop re-checks at once
        for name, handler in {
            p.HELLO: self._on_hello,
            p.PONG: self._on_pong,
            p.READY: self._on_ready,
            p.PROGRESS: self._on_progress,
            p.CHUNK: self._on_chunk,
            p.DONE: self._on_done,
        }.items():
            self.runner.register_message(name, handler)

    # ----- handlers (Locust calls them with environment=..., msg=...) -------------------

    def _host(self, msg: Message) -> Host | None:
        return self.hosts.get(msg.node_id)

    def _on_hello(self, environment: Environment, msg: Message, **_: Any) -> None:
        if msg.node_id in self.hosts:
            return
        if len(self.hosts) >= self.config.expect_workers:
            self.runner.send_message(
                p.REFUSED,
                {"reason": f"the run already has its {self.config.expect_workers} worker(s)"},
                client_id=msg.node_id,
            )
            return
        address = self.runner.peers.get(msg.node_id, "")
        facts = msg.data if isinstance(msg.data, dict) else {}
        self.hosts[msg.node_id] = Host(msg.node_id, address, facts)
        gevent.spawn(self._ping, msg.node_id)

    def _ping(self, node: str) -> None:
        for seq in range(_PINGS):
            self.runner.send_message(p.PING, {"seq": seq, "t1": self.clock()}, client_id=node)
            gevent.sleep(_PING_GAP_S)

    def _on_pong(self, environment: Environment, msg: Message, **_: Any) -> None:
        """A round of pings ends with the least-delayed exchange: the first round admits the
        host; later rounds (every ``clock_interval_s``) follow its clock's drift, and the
        host's samples from then on are corrected with the new offset."""
        t4 = self.clock()
        host = self._host(msg)
        if host is None:
            return
        d = msg.data
        host.samples.append(p.ClockSample(float(d["t1"]), float(d["t2"]), float(d["t3"]), t4))
        if len(host.samples) < _PINGS:
            return
        best, host.samples = p.best_offset(host.samples), []
        first = host.clock is None
        host.clock = best
        host.clock_history.append({"at": t4, "offset_s": best.offset, "rtt_s": best.rtt})
        if host.sink is not None:
            host.sink.correction_s = -best.offset
        if first:
            _emit({"joined": host.describe()})
            self.changed.set()

    def _on_ready(self, environment: Environment, msg: Message, **_: Any) -> None:
        host = self._host(msg)
        if host is not None:
            host.ready = True
            self.changed.set()

    def _on_progress(self, environment: Environment, msg: Message, **_: Any) -> None:
        if self._host(msg) is None:
            return
        for line in msg.data.get("reports", ()):
            _emit(str(line))

    def _on_chunk(self, environment: Environment, msg: Message, **_: Any) -> None:
        host = self._host(msg)
        if host is None or host.sink is None:
            return
        try:
            host.sink.write(bytes(msg.data["data"]))
        except (ValueError, KeyError, TypeError, OSError) as exc:  # OSError: the master's disk
            host.bad_chunks += 1
            log.warning("bad sample chunk from %s: %s", host.node, exc)

    def _on_done(self, environment: Environment, msg: Message, **_: Any) -> None:
        host = self._host(msg)
        if host is None or host.done or host.lost:
            return
        host.exit_codes = {int(w): int(c) for w, c in msg.data.get("exit_codes", {}).items()}
        host.done = True
        _emit({"exited": {str(w): c for w, c in host.exit_codes.items()}})
        self.changed.set()

    # ----- phases ----------------------------------------------------------------------

    def _wait(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0 or self.stop_requested.is_set():
                return predicate()
            self.changed.clear()
            self.changed.wait(min(left, _TICK_S))
            self._check_lost()
        return True

    def _check_lost(self) -> None:
        for host in self.hosts.values():
            if host.done or host.lost:
                continue
            node = self.runner.clients.get(host.node)
            if node is not None and node.state != STATE_MISSING:
                continue
            host.lost = (
                f"worker host {host.facts.get('hostname', '?')} ({host.address}) was lost mid-run: "
                "no heartbeat for 3 s; the samples it shipped are kept"
            )
            codes = {} if host.assignment is None else dict.fromkeys(host.assignment.workers, 255)
            host.exit_codes = codes
            _emit({"exited": {str(w): c for w, c in codes.items()}, "lost": host.describe()})

    def join(self) -> str | None:
        """Phase 1; an error sentence, or None when every worker has joined."""
        n = self.config.expect_workers
        joined = lambda: sum(h.clock is not None for h in self.hosts.values()) >= n  # noqa: E731
        if not self._wait(joined, self.config.join_timeout_s):
            got = sum(h.clock is not None for h in self.hosts.values())
            refused = sorted(set(self.runner.refused.values()))
            extra = f"; refused workers from {', '.join(refused)} (not allowed)" if refused else ""
            return (
                f"only {got} of {n} worker(s) joined within {self.config.join_timeout_s:g} s "
                f"on port {self.runner.server.port}{extra}; start them with "
                f"'slogate worker --master THIS_HOST:{self.runner.server.port}'"
            )
        lost = [h for h in self.hosts.values() if h.lost]
        return lost[0].lost if lost else None

    def assign(self) -> str | None:
        """Phase 2: shares out, every host ready; an error sentence or None."""
        http = None if self.config.http_plan is None else HttpPlan.from_json(self.config.http_plan)
        swarm = None if self.config.swarm_plan is None else SwarmPlan.from_json(self.config.swarm_plan)
        hosts = sorted(self.hosts.values(), key=lambda h: (h.address, h.node))
        for host, assignment in zip(hosts, p.split_load(http, swarm, len(hosts)), strict=True):
            assert host.clock is not None
            host.assignment = assignment
            host.sink = HostSink(self.layout, assignment.first_worker, host.clock.offset)
            self.runner.send_message(p.ASSIGN, assignment.to_wire(), client_id=host.node)
        _emit({"assigned": [h.describe() for h in hosts]})
        ok = self._wait(lambda: all(h.ready or h.lost for h in hosts), self.config.ready_timeout_s)
        lost = [h.lost for h in hosts if h.lost]
        if lost:
            return lost[0]
        if not ok:
            late = [h.address for h in hosts if not h.ready]
            return f"worker host(s) {', '.join(late)} not ready within {self.config.ready_timeout_s:g} s"
        return None

    def start(self) -> None:
        """Phase 3: one instant for all, sent in each host's own clock."""
        rtt = max(h.clock.rtt for h in self.hosts.values() if h.clock is not None)
        at = self.clock() + _START_LEAD_S + 2 * rtt
        for host in self.hosts.values():
            assert host.clock is not None
            self.runner.send_message(p.START, {"at": at + host.clock.offset}, client_id=host.node)
        _emit({"started": at})

    def drive(self) -> None:
        """Phase 4: until every host is done or lost (bounded after a stop request)."""
        stop_deadline: float | None = None
        next_clock = time.monotonic() + self.config.clock_interval_s
        while not all(h.done or h.lost for h in self.hosts.values()):
            if time.monotonic() >= next_clock:  # follow each host's clock drift
                for host in self.hosts.values():
                    if not (host.done or host.lost):
                        gevent.spawn(self._ping, host.node)
                next_clock += self.config.clock_interval_s
            if self.stop_requested.is_set() and stop_deadline is None:
                self.runner.send_message(p.STOP, {})
                stop_deadline = time.monotonic() + self.config.stop_timeout_s
            if stop_deadline is not None and time.monotonic() > stop_deadline:
                break
            self.changed.clear()
            self.changed.wait(_TICK_S)
            self._check_lost()

    def finish(self) -> None:
        for host in self.hosts.values():
            if host.sink is not None:
                host.sink.close()
        hosts = sorted(self.hosts.values(), key=lambda h: (h.assignment is None, h.describe()["index"] or 0))
        _emit({"summary": {
            "worker_hosts": [h.describe() for h in hosts],
            "master": {"port": self.runner.server.port, "versions": harness_versions()},
            "refused": [{"node": n, "address": a} for n, a in self.runner.refused.items()],
        }})

    def watch_stdin(self) -> None:
        fd = sys.stdin.fileno()
        gevent.os.make_nonblocking(fd)
        while gevent.os.nb_read(fd, 4096):
            pass
        self.stop_requested.set()
        self.changed.set()


def run_master(config: MasterConfig) -> int:
    master = Master(config)
    _emit({"listening": master.runner.server.port})
    gevent.spawn(master.watch_stdin)
    gevent.signal_handler(signal.SIGTERM, master.stop_requested.set)
    try:
        error = master.join() or master.assign()
        if error is None and not master.stop_requested.is_set():
            master.start()
            master.drive()
        elif error is None:
            error = "stopped before the load started"
        master.finish()
        if error is not None:
            _emit({"error": error})
            master.runner.send_message(p.STOP, {})
            return 3
        return 0
    finally:
        master.runner.quit()


def _read_config_line() -> bytes:
    """The first stdin line, byte by byte, so the EOF watcher later sees the raw pipe."""
    out = bytearray()
    while True:
        b = os.read(0, 1)
        if not b or b == b"\n":
            return bytes(out)
        out += b


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    try:
        config = MasterConfig.model_validate_json(_read_config_line())
    except ValueError as exc:
        print(f"distributed master: invalid config: {exc}", file=sys.stderr)
        return 2
    del argv
    return run_master(config)


if __name__ == "__main__":
    sys.exit(main())
