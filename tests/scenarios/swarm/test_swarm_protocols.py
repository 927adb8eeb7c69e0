"""The per-session protocol state machines, fed server replies without a socket."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scenarios.swarm.protocols import (
    FINAL,
    FIRST,
    IGNORED,
    EchoExchange,
    SlogateExchange,
    new_exchange,
)


def msg(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def test_prompt_frame_is_valid_json_with_ref() -> None:
    ex = SlogateExchange('say "hi"\n')
    frame = json.loads(ex.start(7, 1))
    assert frame == {"type": "prompt", "prompt": 'say "hi"\n', "ref": "7-1"}


def test_successful_run_first_token_then_final() -> None:
    ex = SlogateExchange("p")
    ex.start(0, 1)
    assert ex.feed(msg(type="accepted", run_id="A", ref="0-1")) == IGNORED
    assert ex.feed(msg(type="token", run_id="A", index=0, text="a")) == FIRST
    assert ex.feed(msg(type="token", run_id="A", index=1, text="b")) == IGNORED
    assert ex.feed(msg(type="done", run_id="A", status="succeeded", reason=None)) == FINAL
    assert (ex.ok, ex.error) == (True, "")


def test_replies_of_an_abandoned_prompt_are_ignored() -> None:
    ex = SlogateExchange("p")
    ex.start(0, 1)
    ex.feed(msg(type="accepted", run_id="A", ref="0-1"))
    ex.abandon()  # prompt 0-1 timed out
    ex.start(0, 2)
    assert ex.feed(msg(type="token", run_id="A", index=0, text="late")) == IGNORED
    assert ex.feed(msg(type="done", run_id="A", status="succeeded")) == IGNORED
    assert ex.feed(msg(type="error", error="queue_full", ref="0-1")) == IGNORED
    assert ex.feed(msg(type="accepted", run_id="B", ref="0-2")) == IGNORED
    assert ex.feed(msg(type="done", run_id="B", status="succeeded")) == FINAL
    assert ex.ok


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        pytest.param(msg(type="error", error="rate_limited", ref="0-1", retry_after=1.0),
                     "rate_limited", id="error_with_ref"),
        pytest.param(msg(type="error", error="invalid_message", ref=None), "invalid_message",
                     id="error_without_ref"),
        pytest.param(b"not json", "invalid_reply", id="not_json"),
        pytest.param(b"[1, 2]", "invalid_reply", id="not_an_object"),
        pytest.param(msg(no_type=1), "invalid_reply", id="no_type"),
    ],
)  # fmt: skip
def test_failures_end_the_response(reply: bytes, error: str) -> None:
    ex = SlogateExchange("p")
    ex.start(0, 1)
    assert ex.feed(reply) == FINAL
    assert (ex.ok, ex.error) == (False, error)


def test_failed_run_reports_its_reason() -> None:
    ex = SlogateExchange("p")
    ex.start(0, 1)
    ex.feed(msg(type="accepted", run_id="A", ref="0-1"))
    assert ex.feed(msg(type="done", run_id="A", status="failed", reason="provider_down")) == FINAL
    assert (ex.ok, ex.error) == (False, "provider_down")
    ex.start(0, 2)  # state is reset for the next prompt
    ex.feed(msg(type="accepted", run_id="B", ref="0-2"))
    assert ex.feed(msg(type="done", run_id="B", status="failed", reason=None)) == FINAL
    assert ex.error == "failed"


def test_unknown_message_types_are_tolerated() -> None:
    ex = SlogateExchange("p")
    ex.start(0, 1)
    assert ex.feed(msg(type="heartbeat")) == IGNORED


def test_echo_first_reply_is_first_and_final_and_stale_replies_are_skipped() -> None:
    ex = EchoExchange("hello")
    assert ex.start(0, 1) == b"hello"
    assert ex.feed(b"hello") == FIRST | FINAL
    ex.abandon()  # one reply still owed to a timed-out prompt
    ex.abandon()
    ex.start(0, 2)
    assert ex.feed(b"hello") == IGNORED
    assert ex.feed(b"hello") == IGNORED
    assert ex.feed(b"hello") == FIRST | FINAL


def test_new_exchange_rejects_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="unknown swarm protocol"):
        new_exchange("mqtt", "m")
