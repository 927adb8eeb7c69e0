"""One shard's share of a swarm on the current event loop: ramp, record, stop, drain.

The engine owns what sessions share: the plan, the clock offset, the sample writer and the
live counters the shard reports once a second. Sessions (:mod:`scenarios.swarm.session`)
call back into it for every outcome, and it turns each into one row of the run record.
Times are ``time.monotonic()`` internally and become epoch seconds with one offset taken at
start, so a wall-clock step cannot produce negative latencies.

Driven by :mod:`scenarios.swarm.shard` in its own process, and in-process by the tests.
"""

from __future__ import annotations

import asyncio
import gc
import random
import ssl
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from websockets.uri import parse_uri

from scenarios.progress import LatencyHistogram, ProgressReport
from scenarios.record import SampleColumns, SampleKind, SampleWriter
from scenarios.swarm.plan import SessionGroup, SwarmPlan, assign_sessions
from scenarios.swarm.protocols import new_exchange
from scenarios.swarm.session import Session
from scenarios.swarm.wheel import PromptWheel

__all__ = ["GroupRuntime", "ShardEngine"]

_CONNECT = SampleKind.WS_CONNECT.value
_MESSAGE = SampleKind.WS_MESSAGE.value
_FIRST_TOKEN = SampleKind.WS_FIRST_TOKEN.value
# status of an exchange the server answered over the open connection: the upgrade's 101
# (0 is reserved for "no answer": transport error, timeout, cut at the stop)
_ANSWERED = 101
_CLOSE = SampleKind.WS_CLOSE.value
_MAX_CATCH_UP_S = 1.0
_MAX_PENDING_ROWS = 20_000
_MAX_BURST = 64  # connects started per loop iteration when the ramp is behind
# Reply deadlines are checked by one sweep every tick rather than by a timer per prompt
# (a loop timer costs a few microseconds to arm and cancel; a list append does not). A
# timed-out prompt is therefore recorded up to one tick after its deadline.
_TICK_S = 0.05
_GC_EVERY_TICKS = 20  # while the collector is paused (see _maybe_freeze): one pass a second
_USER_AGENT = "slogate-swarm"


@dataclass(frozen=True, slots=True)
class GroupRuntime:
    """What every session of a group shares, prepared once."""

    name: str
    tenant: str
    tier: str
    headers: tuple[tuple[str, str], ...]
    interval: float
    jitter: float
    limit: int | None
    reconnect_delay: float | None

    @classmethod
    def of(cls, g: SessionGroup) -> GroupRuntime:
        auth = (("Authorization", f"Bearer {g.token}"),) if g.token else ()
        return cls(g.name, g.tenant, g.tier, (("User-Agent", _USER_AGENT), *auth),
                   g.prompt_interval_s, g.jitter, g.prompts_per_session, g.reconnect_delay_s)  # fmt: skip


class ShardEngine:
    """Runs one shard's share of a :class:`SwarmPlan`.

    Example::

        writer = SampleWriter(run_dir, worker=3)
        engine = ShardEngine(plan, shard=0, worker=3, writer=writer)
        await engine.run()        # returns after duration_s, or soon after engine.stop()
        writer.close()
    """

    def __init__(self, plan: SwarmPlan, shard: int, worker: int, writer: SampleWriter) -> None:
        self.plan = plan
        self.worker = worker
        self._writer = writer
        self.uri = parse_uri(plan.url)
        self._ssl: ssl.SSLContext | None = ssl.create_default_context() if self.uri.secure else None
        seed = None if plan.seed is None else plan.seed * 1_000_003 + shard
        self.rand = random.Random(seed).random
        self.open_timeout = plan.open_timeout_s
        self.response_timeout = plan.response_timeout_s
        self.close_timeout = plan.close_timeout_s
        runtimes = [GroupRuntime.of(g) for g in plan.groups]
        self._sessions = [
            Session(self, spec, runtimes[spec.group],
                    new_exchange(plan.protocol, plan.groups[spec.group].message))
            for spec in assign_sessions(plan, shard)
        ]  # fmt: skip
        self.loop: asyncio.AbstractEventLoop  # set by run()
        self.wheel: PromptWheel  # set by run(): when each open session sends next
        self.epoch = time.time() - time.monotonic()
        self.stopping = False
        self.connecting = 0  # sessions in TCP connect or handshake
        self._live = 0  # sessions launched and not yet ended
        self._ramp_done = False
        self._stop_fut: asyncio.Future[bool] | None = None
        self._idle_fut: asyncio.Future[bool] | None = None
        self.operations = 0
        self.errors = 0
        self.slips = 0
        self.active: dict[str, int] = {g.tier: 0 for g in plan.groups}
        self.latency = LatencyHistogram()
        self.first_token = LatencyHistogram()  # the live WS figure (first token, not message)
        self.finished = False
        self._pending = SampleColumns()  # samples not yet handed to the writer
        self._deadlines: dict[int, list[Session]] = {}  # tick -> sessions expecting a reply
        self._swept = int(time.monotonic() / _TICK_S)
        self._sweeper: asyncio.TimerHandle | None = None
        self._gc_paused = False

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    def progress(self) -> ProgressReport:
        """A snapshot of the counters, in the form the runner merges across workers."""
        return ProgressReport(
            worker=self.worker, source="ws", t=time.time(), operations=self.operations,
            errors=self.errors, schedule_slips=self.slips, active=dict(self.active),
            latency=LatencyHistogram(dict(self.latency.counts)), done=self.finished,
            first_token=LatencyHistogram(dict(self.first_token.counts)),
        )  # fmt: skip

    # -- running -----------------------------------------------------------------------------

    async def run(self, start_at: float | None = None) -> None:
        """Ramp, hold and converse until ``duration_s`` after the start or :meth:`stop`.

        ``start_at`` (epoch s) is the swarm's common start, shared by all shards; ``None``
        starts now. A shard up to a second late keeps the common ramp (the sessions it is
        late for connect at once, and their ``intended_ts`` shows it); later than that, its
        ramp is shifted rather than compressed into a burst.
        """
        loop = self.loop = asyncio.get_running_loop()
        self.wheel = PromptWheel(loop)
        now = time.monotonic()
        self.epoch = time.time() - now
        t0 = now
        if start_at is not None and now - (start_at - self.epoch) < _MAX_CATCH_UP_S:
            t0 = start_at - self.epoch
        stop_fut = self._stop_fut = loop.create_future()
        self._idle_fut = loop.create_future()
        if self.stopping:
            stop_fut.set_result(True)
        deadline = loop.call_later(t0 + self.plan.duration_s - now, self.stop)
        self._swept = int(now / _TICK_S)
        self._sweeper = loop.call_later(_TICK_S, self._sweep)
        try:
            await self._launch(t0, stop_fut)
            await stop_fut
            await self._drain()
        finally:
            deadline.cancel()
            if self._sweeper is not None:
                self._sweeper.cancel()
            for s in self._sessions:
                s.kill()
            self.wheel.close()
            if self._gc_paused:
                self._gc_paused = False
                gc.enable()
            self.flush_rows()
            self.finished = True

    def flush_rows(self) -> None:
        """Hand the samples gathered so far to the writer (the shard does it every second)."""
        if len(self._pending):
            self._writer.record_columns(self._pending)

    def expect_reply(self, s: Session, deadline: float) -> None:
        """Check ``s`` for a reply timeout at the first sweep after ``deadline``."""
        key = int(deadline / _TICK_S) + 1
        bucket = self._deadlines.get(key)
        if bucket is None:
            self._deadlines[key] = [s]
        else:
            bucket.append(s)

    def _sweep(self) -> None:
        now = time.monotonic()
        key = int(now / _TICK_S)
        for k in range(self._swept + 1, key + 1):
            for s in self._deadlines.pop(k, ()):
                s.check_deadline(now)
        if self._gc_paused and key % _GC_EVERY_TICKS == 0:
            gc.collect()
        self._swept = key
        self._sweeper = self.loop.call_later(_TICK_S, self._sweep)

    def stop(self) -> None:
        """Stop ramping; idle sessions close now, sessions in flight after their reply."""
        if self.stopping:
            return
        self.stopping = True
        if self._stop_fut is not None and not self._stop_fut.done():
            self._stop_fut.set_result(True)
        for s in self._sessions:
            s.stop()

    async def _launch(self, t0: float, stop_fut: asyncio.Future[bool]) -> None:
        sessions = self._sessions
        i, n = 0, len(sessions)
        burst = 0
        while i < n and not self.stopping:
            due = t0 + sessions[i].spec.start_offset_s
            wait = due - time.monotonic()
            if wait > 0:
                burst = 0
                await asyncio.wait([stop_fut], timeout=wait)
                continue
            if burst >= _MAX_BURST:
                # Behind schedule: let the loop serve replies and handshakes between batches
                # rather than opening thousands of connections in one iteration.
                burst = 0
                await asyncio.sleep(0)
                continue
            self._live += 1
            burst += 1
            sessions[i].connect(due)
            i += 1
        self._ramp_done = True
        self._check_idle()
        self._maybe_freeze()

    async def _drain(self) -> None:
        idle = self._idle_fut
        assert idle is not None
        if not idle.done():
            await asyncio.wait([idle], timeout=self.plan.drain_timeout_s)
        if not idle.done():
            for s in self._sessions:
                s.abort_in_flight()
            await asyncio.wait([idle], timeout=self.close_timeout + 1.0)

    def _check_idle(self) -> None:
        if self._live == 0 and self._ramp_done and self._idle_fut is not None:
            if not self._idle_fut.done():
                self._idle_fut.set_result(True)
            self.stop()  # every session has ended: nothing is left to run

    def _maybe_freeze(self) -> None:
        # Once every session is open, move the long-lived objects out of the collector's
        # reach: full collections over 10k sessions otherwise stall the loop for 100s of ms.
        if self.plan.freeze_gc and self._ramp_done and self.connecting == 0:
            gc.freeze()
            if gc.isenabled():
                # Every message allocates new objects (frames, payloads, floats), and at
                # thousands a second the collector's automatic young-generation passes cost
                # ~5 % of the shard's CPU (measured in-process, alternating runs). Nothing on
                # the hot path makes reference cycles, so the sweep collects once a second
                # instead; run() restores the collector when the shard's run ends.
                gc.disable()
                self._gc_paused = True

    # -- called by sessions ------------------------------------------------------------------

    def open_tcp(self, s: Session) -> Coroutine[Any, Any, object]:
        uri, src = self.uri, s.spec.source_address
        return self.loop.create_connection(
            lambda: s, uri.host, uri.port, ssl=self._ssl,
            server_hostname=uri.host if self._ssl else None,
            local_addr=(src, 0) if src else None,
        )  # fmt: skip

    def _row(
        self, ts: float, intended: float, latency_ms: float, kind: str, rt: GroupRuntime,
        ok: bool, status: int, error: str, nbytes: int,
    ) -> None:  # fmt: skip
        ts_, intended_, latency_, kind_, name_, tenant_, tier_, ok_, status_, error_, nbytes_ = (
            self._pending.appenders
        )
        ts_(ts)
        intended_(intended)
        latency_(latency_ms)
        kind_(kind)
        name_(rt.name)
        tenant_(rt.tenant)
        tier_(rt.tier)
        ok_(ok)
        status_(status)
        error_(error)
        nbytes_(nbytes)

    def connect_result(self, s: Session, ok: bool, status: int, error: str) -> None:
        rt = s.rt
        self.connecting -= 1
        if ok:
            self.active[rt.tier] += 1
        else:
            self.errors += 1
        self._row(s.t_start + self.epoch, s.intended + self.epoch,
                  (time.monotonic() - s.t_start) * 1000.0, _CONNECT, rt, ok, status, error, 0)  # fmt: skip
        self._maybe_freeze()

    def message_result(self, s: Session, ok: bool, status: int, error: str) -> None:
        rt = s.rt
        t_send = s.t_start
        latency_ms = (time.monotonic() - t_send) * 1000.0
        ts, intended = t_send + self.epoch, s.intended + self.epoch
        if t_send - s.intended > self.plan.slip_tolerance_s:
            self.slips += 1
        self.operations += 1
        self.latency.add(latency_ms)
        row = self._row
        if ok and s.t_first:
            first_ms = (s.t_first - t_send) * 1000.0
            self.first_token.add(first_ms)
            row(ts, intended, first_ms, _FIRST_TOKEN, rt, True, _ANSWERED, "", 0)
        elif not ok:
            self.errors += 1
        row(ts, intended, latency_ms, _MESSAGE, rt, ok, status, error, s.nbytes)
        if len(self._pending) >= _MAX_PENDING_ROWS:
            self.flush_rows()

    def close_result(self, s: Session, code: int, reason: str) -> None:
        self.errors += 1
        now = time.monotonic() + self.epoch
        self._row(now, now, 0.0, _CLOSE, s.rt, False, code, reason, 0)

    def session_closed(self, s: Session) -> None:
        self.active[s.rt.tier] -= 1

    def session_ended(self, s: Session) -> None:
        self._live -= 1
        self._check_idle()
