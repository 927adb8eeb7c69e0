"""One swarm session: a WebSocket connection driven entirely by event-loop callbacks.

A session is its own ``asyncio.Protocol``: no task, no coroutine and no future while it is
open, and at most one timer handle at a time (open, close or reconnect deadline); prompts
are filed in the engine's :class:`~scenarios.swarm.wheel.PromptWheel` and reply deadlines
in its sweep. That is what lets one process hold ten thousand of them in a few KB each and
spend its CPU on messages rather than on scheduling. Times are ``time.monotonic()``
(uvloop's ``loop.time()`` is cached per loop iteration at millisecond resolution, too coarse
for loopback latencies); the engine turns them into epoch seconds for the record.

Life of a session::

    CONNECTING --tcp--> HANDSHAKE --101--> IDLE <--reply/timeout-- WAITING
                                            |  \\--prompt timer------^
                                            |   (prompts done) -> HOLDING
                     stop: IDLE/HOLDING -> CLOSING (close 1000) -> gone, no sample
    server close / lost link / protocol error -> ws_close sample -> gone (or reconnect)
"""

from __future__ import annotations

import asyncio
import errno
import time
from typing import TYPE_CHECKING, cast

from websockets.client import ClientProtocol

from scenarios.swarm.protocols import FINAL, FIRST, IGNORED, Exchange
from scenarios.swarm.wire import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameParser,
    WireError,
    check_response,
    close_payload,
    encode_frame,
    handshake_request,
    parse_close,
    split_head,
)

if TYPE_CHECKING:
    from scenarios.swarm.engine import GroupRuntime, ShardEngine
    from scenarios.swarm.plan import SessionSpec

__all__ = ["Session", "short_error"]

# States. Ints, not an Enum: they are compared on every message.
CONNECTING, HANDSHAKE, IDLE, WAITING, HOLDING, CLOSING, ENDING, DOWN, KILLED = range(9)
_ABNORMAL = 1006  # RFC 6455: the connection closed without a close frame


def short_error(exc: BaseException) -> str:
    """A low-cardinality reason for the ``error`` column (e.g. ``OSError:EADDRNOTAVAIL``)."""
    name = type(exc).__name__
    if type(exc) is OSError and exc.errno is not None:
        return f"{name}:{errno.errorcode.get(exc.errno, exc.errno)}"
    return name


class Session(asyncio.Protocol):
    """State of one session and the callbacks of its current connection."""

    __slots__ = (
        "_counted", "_due", "_head", "_hs", "_parser", "_task", "_timer", "_tr", "deadline", "e",
        "ex", "intended", "nbytes", "rt", "sent", "spec", "state", "t_first", "t_start",
    )  # fmt: skip

    def __init__(self, engine: ShardEngine, spec: SessionSpec, rt: GroupRuntime, ex: Exchange):
        self.e = engine
        self.spec = spec
        self.rt = rt
        self.ex = ex
        self.state = DOWN
        self.sent = 0  # prompts sent, over all connections of this session
        self.intended = 0.0  # monotonic time the current connect or prompt was due
        self.nbytes = 0  # bytes received for the prompt in flight
        self.t_start = 0.0  # monotonic start of the current connect or prompt
        self.t_first = 0.0  # monotonic arrival of the first token, 0.0 = none yet
        self.deadline = 0.0  # monotonic reply deadline of the prompt in flight
        self._tr: asyncio.Transport | None = None
        self._task: asyncio.Task[object] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._parser: FrameParser | None = None
        self._hs: ClientProtocol | None = None
        self._head = b""
        self._counted = False  # open and counted in the engine's active sessions
        self._due = -1  # the prompt wheel's key for the next prompt (see prompt_due)

    # -- connecting --------------------------------------------------------------------

    def connect(self, intended: float) -> None:
        """Open the connection now; ``intended`` is when the ramp wanted it (monotonic)."""
        e = self.e
        self.intended = intended
        self.t_start = time.monotonic()
        self.state = CONNECTING
        e.connecting += 1
        self._task = e.loop.create_task(e.open_tcp(self))
        self._task.add_done_callback(self._tcp_done)
        self._set_timer(e.open_timeout, self._open_timed_out)

    def _tcp_done(self, task: asyncio.Task[object]) -> None:
        self._task = None
        if task.cancelled():
            return  # the open timeout did it, and recorded it
        exc = task.exception()
        if exc is not None and self.state == CONNECTING:
            self._connect_failed(0, short_error(exc))
            self._ended(unexpected=True)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._tr = cast(asyncio.Transport, transport)
        self.state = HANDSHAKE
        self._head = b""
        request, self._hs = handshake_request(self.e.uri, self.rt.headers)
        self._tr.write(request)

    def _open_timed_out(self) -> None:
        self._timer = None
        if self.state == CONNECTING:
            self._connect_failed(0, "TimeoutError")
            if self._task is not None:
                self._task.cancel()
            self._ended(unexpected=True)
        elif self.state == HANDSHAKE:
            self._connect_failed(0, "TimeoutError")
            self._abort()

    def _connect_failed(self, status: int, error: str) -> None:
        self._cancel_timer()
        self.e.connect_result(self, False, status, error)
        self.state = ENDING

    def _on_head(self, data: bytes) -> None:
        self._head += data
        try:
            parts = split_head(self._head)
        except WireError:
            parts, self._head = (b"", b""), b""
        if parts is None:
            return
        head, rest = parts
        assert self._hs is not None
        status, error = check_response(self._hs, head) if head else (0, "InvalidMessage")
        self._hs = None
        self._head = b""
        self._cancel_timer()
        if status != 101:
            self._connect_failed(status, error)
            self._abort()
            return
        self.e.connect_result(self, True, 101, "")
        self._counted = True
        self._parser = FrameParser()
        if self.e.stopping:
            self._start_close()
        elif self.rt.limit is not None and self.sent >= self.rt.limit:
            self.state = HOLDING
        else:
            # A random phase spreads the first prompts over one interval, however fast
            # the ramp, so the prompt rate is steady from the start.
            self.state = IDLE
            self._schedule(time.monotonic() + self.rt.interval * self.e.rand())
        if rest:
            self._on_frames(rest)

    # -- prompting -----------------------------------------------------------------------

    def _schedule(self, when: float) -> None:
        self.intended = when
        self._due = self.e.wheel.add(self, when)

    def prompt_due(self, key: int) -> None:
        """The engine's prompt wheel reached ``key``: send, unless this entry went stale
        (the session was rescheduled, is closing, or reconnected since it was filed)."""
        if key != self._due or self.state != IDLE:
            return
        assert self._tr is not None
        self.sent += 1
        self.nbytes = 0
        self.t_first = 0.0
        frame = encode_frame(OP_TEXT, self.ex.start(self.spec.index, self.sent))
        self.t_start = t = time.monotonic()
        self._tr.write(frame)
        self.state = WAITING
        self.deadline = t + self.e.response_timeout
        self.e.expect_reply(self, self.deadline)

    def check_deadline(self, now: float) -> None:
        """Called by the engine's sweep: time the prompt out if its deadline has passed."""
        if self.state == WAITING and self.deadline <= now:
            self.ex.abandon()
            self._finish_exchange(False, 0, "timeout")

    def _finish_exchange(self, ok: bool, status: int, error: str) -> None:
        """Record the prompt in flight (state WAITING, so no timer is armed), then: next
        prompt, hold, or close."""
        self.e.message_result(self, ok, status, error)
        rt = self.rt
        if self.e.stopping:
            self._start_close()
        elif rt.limit is not None and self.sent >= rt.limit:
            self.state = HOLDING
        else:
            self.state = IDLE
            step = rt.interval * (1.0 + rt.jitter * (2.0 * self.e.rand() - 1.0))
            self._schedule(self.intended + step)

    # -- receiving -------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        state = self.state
        if state == WAITING:
            assert self._parser is not None
            payload = self._parser.single(data)
            if payload is not None:
                self._on_message(payload)
            else:
                self._on_frames(data)
        elif state == HANDSHAKE:
            self._on_head(data)
        elif IDLE <= state <= CLOSING and self._parser is not None:
            self._on_frames(data)

    def _on_frames(self, data: bytes) -> None:
        assert self._parser is not None and self._tr is not None
        try:
            frames = self._parser.feed(data)
        except WireError as exc:
            self._fail(exc.code, exc.reason)
            return
        for op, payload in frames:
            if op in (OP_TEXT, OP_BINARY):
                self._on_message(payload)
            elif op == OP_CLOSE:
                self._on_close_frame(payload)
                return
            elif op == OP_PING:
                self._tr.write(encode_frame(OP_PONG, payload))
            # OP_PONG: nothing to do, we send no pings

    def _on_message(self, raw: bytes) -> None:
        flags = self.ex.feed(raw)  # also for stale replies, so the exchange can skip them
        if self.state != WAITING:
            return
        self.nbytes += len(raw)
        if flags == IGNORED:
            return
        if flags & FIRST:
            self.t_first = time.monotonic()
        if flags & FINAL:
            self._finish_exchange(self.ex.ok, 101, self.ex.error)  # answered on the open connection

    def _on_close_frame(self, payload: bytes) -> None:
        assert self._tr is not None
        if self.state == CLOSING:  # the reply to our close: the handshake is complete
            self._tr.close()
            return
        try:
            code, reason = parse_close(payload)
        except WireError as exc:
            self._fail(exc.code, exc.reason)
            return
        self._dropped(code, reason)
        self._tr.write(encode_frame(OP_CLOSE, payload[:2]))  # echo the code (RFC 6455 5.5.1)
        self._tr.close()

    def _fail(self, code: int, reason: str) -> None:
        """The server broke the protocol: record it as an unexpected close, then fail."""
        assert self._tr is not None
        self._dropped(code, reason)
        self._tr.write(encode_frame(OP_CLOSE, close_payload(code)))
        self._tr.close()

    def _dropped(self, code: int, reason: str) -> None:
        """An unexpected close: fail the prompt in flight, record the close."""
        in_flight = self.state == WAITING
        self._cancel_timer()
        self.state = ENDING
        if in_flight:
            self.e.message_result(self, False, code, "connection closed")
        self.e.close_result(self, code, reason)

    # -- closing ---------------------------------------------------------------------------

    def stop(self) -> None:
        """The swarm is stopping: close now unless a reply is in flight (it drains first)."""
        if self.state in (IDLE, HOLDING):
            self._start_close()
        elif self.state == DOWN and self._timer is not None:  # waiting to reconnect
            self._cancel_timer()
            self.e.session_ended(self)

    def abort_in_flight(self) -> None:
        """The drain timed out: the prompt in flight will never be answered; say so, close."""
        if self.state == WAITING:
            self.ex.abandon()
            self._finish_exchange(False, 0, "stopped")  # stopping: this starts the close

    def _start_close(self) -> None:
        assert self._tr is not None
        self._cancel_timer()
        self.state = CLOSING
        self._tr.write(encode_frame(OP_CLOSE, close_payload(1000)))
        self._set_timer(self.e.close_timeout, self._abort)

    def _abort(self) -> None:
        self._timer = None
        if self._tr is not None:
            self._tr.abort()

    def kill(self) -> None:
        """End of the shard: drop whatever is left, silently (it is past every deadline)."""
        self._cancel_timer()
        self.state = KILLED
        if self._task is not None:
            self._task.cancel()
        if self._tr is not None:
            self._tr.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        state = self.state
        if state == KILLED:
            self._tr = None
            return
        if state == HANDSHAKE:
            self._connect_failed(0, short_error(exc) if exc else "ConnectionClosed")
        elif state in (IDLE, WAITING, HOLDING):
            self._dropped(_ABNORMAL, "connection lost")
            state = ENDING
        if self._counted:
            self._counted = False
            self.e.session_closed(self)
        self._tr = None
        self._parser = None
        self._ended(unexpected=state != CLOSING)

    def _ended(self, unexpected: bool) -> None:
        """This connection is gone: reconnect if the group wants it, else the session ends."""
        self._cancel_timer()  # from here on, a timer means "reconnect pending" (see stop())
        self.state = DOWN
        delay = self.rt.reconnect_delay
        if unexpected and delay is not None and not self.e.stopping:
            when = time.monotonic() + delay
            self._set_timer(delay, lambda: self._reconnect(when))
        else:
            self.e.session_ended(self)

    def _reconnect(self, when: float) -> None:
        self._timer = None
        if self.e.stopping:
            self.e.session_ended(self)
        else:
            self.connect(when)

    # -- timers ----------------------------------------------------------------------------

    def _set_timer(self, delay: float, callback: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.e.loop.call_later(max(0.0, delay), callback)  # type: ignore[arg-type]

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # Writes are small and the peer is expected to read; flow control is not needed.
    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass
