"""The swarm's own framing and handshake, checked against the ``websockets`` reference.

Client frames are parsed by websockets' server-side frame parser; server frames are
produced by websockets' serializer; the handshake is answered by websockets' server
protocol. A disagreement with the library is a bug in ``scenarios.swarm.wire``.
"""

from __future__ import annotations

import pytest
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.streams import StreamReader
from websockets.uri import parse_uri

from scenarios.swarm.wire import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
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

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 70000]


def parse_as_server(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    gen = Frame.parse(reader.read_exact, mask=True)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    frame: Frame = stop.value.value
    return frame


def server_frame(opcode: Opcode, payload: bytes, fin: bool = True) -> bytes:
    return Frame(opcode, payload, fin=fin).serialize(mask=False)


@pytest.mark.parametrize("size", SIZES)
def test_client_frames_parse_in_websockets(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    frame = parse_as_server(encode_frame(OP_BINARY, payload))
    assert (frame.opcode, frame.fin, bytes(frame.data)) == (Opcode.BINARY, True, payload)


def test_every_frame_gets_its_own_mask() -> None:
    masks = {encode_frame(OP_TEXT, b"same")[2:6] for _ in range(50)}
    assert len(masks) > 45  # 32-bit random keys: a repeat in 50 draws is ~3e-7 likely


@pytest.mark.parametrize("size", SIZES)
def test_server_frames_parse_whole_and_byte_by_byte(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    data = server_frame(Opcode.TEXT, payload)
    assert FrameParser().feed(data) == [(OP_TEXT, payload)]
    if size <= 200:  # every split point: headers and payloads cut anywhere
        p = FrameParser()
        got = [msg for i in range(len(data)) for msg in p.feed(data[i : i + 1])]
        assert got == [(OP_TEXT, payload)]


def test_fragments_are_reassembled_around_control_frames() -> None:
    data = (
        server_frame(Opcode.TEXT, b"hel", fin=False)
        + server_frame(Opcode.PING, b"p")
        + server_frame(Opcode.CONT, b"lo ", fin=False)
        + server_frame(Opcode.CONT, b"world")
        + server_frame(Opcode.BINARY, b"\x00")
    )
    assert FrameParser().feed(data) == [
        (OP_PING, b"p"),
        (OP_TEXT, b"hello world"),
        (OP_BINARY, b"\x00"),
    ]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(bytes([0xC1, 0x00]), 1002, id="rsv1_without_extension"),
        pytest.param(Frame(Opcode.TEXT, b"x").serialize(mask=True), 1002, id="masked"),
        pytest.param(bytes([0x09, 0x01]) + b"x", 1002, id="fragmented_ping"),
        pytest.param(bytes([0x89, 126, 0, 126]) + b"x" * 126, 1002, id="ping_over_125"),
        pytest.param(server_frame(Opcode.CONT, b"x"), 1002, id="stray_continuation"),
        pytest.param(
            server_frame(Opcode.TEXT, b"a", fin=False) + server_frame(Opcode.TEXT, b"b"),
            1002,
            id="message_inside_message",
        ),
        pytest.param(bytes([0x83, 0x00]), 1002, id="reserved_data_opcode"),
        pytest.param(bytes([0x8B, 0x00]), 1002, id="reserved_control_opcode"),
        pytest.param(bytes([0x81, 127]) + (2**21).to_bytes(8, "big"), 1009, id="too_big"),
    ],
)
def test_protocol_violations(data: bytes, code: int) -> None:
    with pytest.raises(WireError) as exc:
        FrameParser().feed(data)
    assert exc.value.code == code


def test_fragmented_message_over_the_size_limit() -> None:
    p = FrameParser(max_size=10)
    p.feed(server_frame(Opcode.TEXT, b"123456", fin=False))
    with pytest.raises(WireError) as exc:
        p.feed(server_frame(Opcode.CONT, b"789012"))
    assert exc.value.code == 1009


@pytest.mark.parametrize(("code", "reason"), [(1000, ""), (4429, "session quota exceeded"), (1011, "büro")])
def test_close_payload_round_trips_through_websockets(code: int, reason: str) -> None:
    assert Close.parse(close_payload(code, reason)) == Close(code, reason)
    assert parse_close(Close(code, reason).serialize()) == (code, reason)


def test_close_without_code_and_malformed_close() -> None:
    assert parse_close(b"") == (1005, "")
    with pytest.raises(WireError):
        parse_close(b"\x03")
    assert parse_frame_close_of(encode_frame(OP_CLOSE, close_payload(1000))) == Close(1000, "")


def parse_frame_close_of(data: bytes) -> Close:
    return Close.parse(parse_as_server(data).data)


def answer(request: bytes, *, tamper: bool = False, status: int = 101) -> bytes:
    server = ServerProtocol()
    server.receive_data(request)
    [req] = server.events_received()
    assert isinstance(req, Request)
    response = server.accept(req) if status == 101 else server.reject(status, "no\n")
    if tamper:
        response.headers["Sec-WebSocket-Accept"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    server.send_response(response)
    return b"".join(server.data_to_send())


def test_handshake_accepted_by_a_websockets_server() -> None:
    request, proto = handshake_request(
        parse_uri("ws://127.0.0.1:9/v1/sessions/ws"), (("Authorization", "Bearer t"),)
    )
    assert b"GET /v1/sessions/ws HTTP/1.1\r\n" in request
    assert b"\r\nAuthorization: Bearer t\r\n" in request
    reply = answer(request) + server_frame(Opcode.TEXT, b"early")
    parts = split_head(reply)
    assert parts is not None
    head, rest = parts
    assert check_response(proto, head) == (101, "")
    assert FrameParser().feed(rest) == [(OP_TEXT, b"early")]  # bytes after the head survive


def test_handshake_with_a_wrong_accept_key_is_refused() -> None:
    request, proto = handshake_request(parse_uri("ws://127.0.0.1:9/"), ())
    parts = split_head(answer(request, tamper=True))
    assert parts is not None
    status, error = check_response(proto, parts[0])
    assert status == 0 and error.startswith("Invalid")


def test_handshake_refusal_reports_the_http_status() -> None:
    request, proto = handshake_request(parse_uri("ws://127.0.0.1:9/"), ())
    parts = split_head(answer(request, status=403))
    assert parts is not None
    assert check_response(proto, parts[0]) == (403, "http_403")
    assert check_response(proto, b"SSH-2.0-OpenSSH\r\n\r\n") == (0, "InvalidMessage")


def test_incomplete_and_oversized_heads() -> None:
    assert split_head(b"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n") is None
    with pytest.raises(WireError):
        split_head(b"x" * 70_000)
