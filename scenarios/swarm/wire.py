"""WebSocket on the wire for the swarm's hot path: client frames (RFC 6455 section 5).

Why not ``websockets.asyncio.client``: measured here (``benchmarks/swarm_vs_locust_ws.py``),
its per-message machinery (a future per ``recv``, an async context manager per ``send``,
the message assembler, the generator-based frame parser) cost about 0.3 client CPU-seconds
per 1,000 echo round trips -- more than a Locust gevent user with ``websocket-client``.
The swarm therefore drives each connection from plain ``asyncio.Protocol`` callbacks and
keeps only what the hot path needs here, while the parts where correctness is subtle come
from ``websockets`` itself: the opening handshake (request, key and response validation:
:class:`websockets.client.ClientProtocol`) and masking (its C ``apply_mask``).

The server side is trusted only as far as RFC 6455 requires: reserved bits, masked server
frames, fragmented or oversized control frames, stray continuations and oversized
messages are protocol errors (:class:`WireError`, with the close code to send).
"""

from __future__ import annotations

import os
import struct
from typing import Final

from websockets.client import ClientProtocol
from websockets.http11 import Response
from websockets.speedups import apply_mask
from websockets.uri import WebSocketURI

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONT",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "FrameParser",
    "WireError",
    "check_response",
    "close_payload",
    "encode_frame",
    "handshake_request",
    "parse_close",
    "split_head",
]

OP_CONT: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

_MAX_HEAD = 64 * 1024  # an HTTP response head larger than this is not a WebSocket server
_NO_STATUS: Final = 1005  # RFC 6455 7.1.5: a close frame without a code
_H16 = struct.Struct("!BBH")
_H64 = struct.Struct("!BBQ")


class WireError(Exception):
    """The server broke the protocol; ``code`` is the close code to fail the connection with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _MaskKeys:
    """Fresh random masking keys from the OS CSPRNG, drawn 4 KiB at a time (one syscall
    per 1,024 frames instead of one per frame)."""

    __slots__ = ("_pool", "_pos")

    def __init__(self) -> None:
        self._pool = b""
        self._pos = 0

    def next(self) -> bytes:
        pos = self._pos
        if pos >= len(self._pool):
            self._pool, pos = os.urandom(4096), 0
        self._pos = pos + 4
        return self._pool[pos : pos + 4]


_mask_keys = _MaskKeys().next


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame. Every frame gets a fresh random key (RFC 6455 5.3)."""
    n = len(payload)
    mask = _mask_keys()
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = _H16.pack(0x80 | opcode, 0xFE, n)
    else:
        head = _H64.pack(0x80 | opcode, 0xFF, n)
    return head + mask + apply_mask(payload, mask)


def close_payload(code: int, reason: str = "") -> bytes:
    return code.to_bytes(2, "big") + reason.encode()[:123]


def parse_close(payload: bytes) -> tuple[int, str]:
    """(code, reason) of a close frame; 1005 when it carries no code."""
    if not payload:
        return _NO_STATUS, ""
    if len(payload) == 1:
        raise WireError(1002, "close frame with a 1-byte payload")
    return int.from_bytes(payload[:2], "big"), payload[2:].decode("utf-8", "replace")


class FrameParser:
    """Turns received bytes into whole messages and control frames, in order.

    ``feed`` returns ``(opcode, payload)`` pairs: text/binary messages already reassembled
    from their fragments, and control frames (close, ping, pong) as they arrive, which may
    be between the fragments of a message.
    """

    __slots__ = ("_buf", "_frag_op", "_frag_size", "_frags", "max_size")

    def __init__(self, max_size: int = 2**20) -> None:
        self.max_size = max_size
        self._buf = b""
        self._frag_op = -1
        self._frags: list[bytes] = []
        self._frag_size = 0

    def single(self, data: bytes) -> bytes | None:
        """The payload if ``data`` is exactly one small, final, unmasked text or binary frame
        and nothing is buffered -- the common case of one reply per read -- else ``None``
        (then call :meth:`feed`). Spares the hot path the list and tuple ``feed`` builds."""
        if not self._buf and self._frag_op < 0 and len(data) >= 2:
            b0, n = data[0], data[1]
            if (b0 == 0x81 or b0 == 0x82) and n < 126 and len(data) == n + 2:
                return data[2:]
        return None

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self._buf + data if self._buf else data
        out: list[tuple[int, bytes]] = []
        pos, end = 0, len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            if b0 & 0x70:
                raise WireError(1002, "reserved bits set without an extension")
            if b1 & 0x80:
                raise WireError(1002, "masked frame from the server")
            n, head = b1 & 0x7F, 2
            if n == 126:
                if end - pos < 4:
                    break
                n, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif n == 127:
                if end - pos < 10:
                    break
                n, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if n > self.max_size:
                raise WireError(1009, f"frame of {n} bytes exceeds {self.max_size}")
            stop = pos + head + n
            if stop > end:
                break
            payload = buf[pos + head : stop]
            pos = stop
            op, fin = b0 & 0x0F, b0 & 0x80
            if op >= 0x8:
                if op not in (OP_CLOSE, OP_PING, OP_PONG):
                    raise WireError(1002, f"unknown control opcode {op}")
                if not fin or n > 125:
                    raise WireError(1002, "fragmented or oversized control frame")
                out.append((op, payload))
            elif op == OP_CONT:
                if self._frag_op < 0:
                    raise WireError(1002, "continuation frame without a message")
                self._add_fragment(payload)
                if fin:
                    out.append((self._frag_op, b"".join(self._frags)))
                    self._frag_op, self._frags, self._frag_size = -1, [], 0
            elif op in (OP_TEXT, OP_BINARY):
                if self._frag_op >= 0:
                    raise WireError(1002, "new message before the last one finished")
                if fin:
                    out.append((op, payload))
                else:
                    self._frag_op = op
                    self._add_fragment(payload)
            else:
                raise WireError(1002, f"unknown data opcode {op}")
        self._buf = buf[pos:] if pos < end else b""
        return out

    def _add_fragment(self, payload: bytes) -> None:
        self._frag_size += len(payload)
        if self._frag_size > self.max_size:
            raise WireError(1009, f"message exceeds {self.max_size} bytes")
        self._frags.append(payload)


def handshake_request(
    uri: WebSocketURI, headers: tuple[tuple[str, str], ...]
) -> tuple[bytes, ClientProtocol]:
    """The opening handshake to send, and the websockets state that validates the reply."""
    proto = ClientProtocol(uri)
    request = proto.connect()
    for name, value in headers:
        request.headers[name] = value
    proto.send_request(request)
    return b"".join(proto.data_to_send()), proto


def split_head(buf: bytes) -> tuple[bytes, bytes] | None:
    """(response head including the blank line, bytes after it), or None if incomplete."""
    i = buf.find(b"\r\n\r\n")
    if i < 0:
        if len(buf) > _MAX_HEAD:
            raise WireError(1002, "HTTP response head too long")
        return None
    return buf[: i + 4], buf[i + 4 :]


def check_response(proto: ClientProtocol, head: bytes) -> tuple[int, str]:
    """(HTTP status, error) of the handshake response; ``(101, "")`` means the socket is open.

    A refusal (any status but 101) is reported by its status, without reading its body; a
    101 whose headers do not complete the handshake (wrong accept key, no upgrade) is
    ``(0, <websockets' exception name>)``.
    """
    line = head.split(b"\r\n", 1)[0].split(None, 2)
    if len(line) < 2 or not line[0].startswith(b"HTTP/1.") or not line[1].isdigit():
        return 0, "InvalidMessage"
    status = int(line[1])
    if status != 101:
        return status, f"http_{status}"
    proto.receive_data(head)
    events = proto.events_received()
    exc = proto.handshake_exc
    if exc is not None or not events or not isinstance(events[0], Response):
        return 0, type(exc).__name__ if exc is not None else "InvalidMessage"
    return 101, ""
