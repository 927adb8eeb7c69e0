"""The two conversation protocols a swarm session speaks, as pure per-session state machines.

A session sends one prompt, then feeds every message it receives to its protocol object
until the object says the response is final. Keeping the protocols free of I/O lets the
tests check every server reply (including stale replies after a timeout) without a socket,
and lets the hot loop reuse one object per session instead of allocating one per prompt.

``slogate`` (the reference target, route ``/v1/sessions/ws``)::

    client -> {"type":"prompt","prompt":str,"ref":str}
    server -> {"type":"accepted","run_id":str,"ref":str}
              {"type":"token","run_id":str,"index":int,"text":str}   (many)
              {"type":"done","run_id":str,"status":"succeeded"|"failed","reason":str|null,...}
           or {"type":"error","error":code,"detail":str,"ref":str,"retry_after":float|null}

``echo`` (any WebSocket server): the configured message is sent as a text frame and the
first message back is both the first token and the complete response.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Final, Protocol

__all__ = [
    "FINAL",
    "FIRST",
    "IGNORED",
    "EchoExchange",
    "Exchange",
    "SlogateExchange",
    "new_exchange",
]

# feed() results are bit flags: one message can be both the first token and the final one.
IGNORED: Final = 0  # not part of the current response (stale, or bookkeeping like "accepted")
FIRST: Final = 1  # the first token of the current response
FINAL: Final = 2  # the response is complete; ``ok`` and ``error`` say how it ended


class Exchange(Protocol):
    """One session's view of the prompt/response conversation."""

    ok: bool
    error: str

    def start(self, session: int, n: int) -> bytes:
        """Begin prompt ``n`` of swarm session ``session``; return the text frame's payload.

        The pair is unique in the swarm; a protocol that correlates replies (``slogate``)
        makes its ref from it, one that does not (``echo``) pays nothing for it.
        """
        ...

    def feed(self, raw: bytes) -> int:
        """Account one received message; return a combination of FIRST and FINAL, or IGNORED."""
        ...

    def abandon(self) -> None:
        """The current prompt timed out: its reply, if it ever comes, must not count."""
        ...


class SlogateExchange:
    """State of one session speaking the reference target's protocol.

    Replies are matched to the current prompt by ``ref`` (accepted, error) and by the
    ``run_id`` the server assigned (token, done), so a reply that arrives after its prompt
    timed out is ignored instead of being mistaken for the next prompt's.
    """

    __slots__ = ("_prefix", "_ref", "_run_id", "_tokens", "error", "ok")

    def __init__(self, prompt: str) -> None:
        self._prefix = _prompt_prefix(prompt)
        self._ref = ""
        self._run_id: object = None
        self._tokens = 0
        self.ok = False
        self.error = ""

    def start(self, session: int, n: int) -> bytes:
        self._ref = ref = f"{session}-{n}"
        self._run_id = None
        self._tokens = 0
        self.ok = False
        self.error = ""
        return (self._prefix + '"' + ref + '"}').encode()  # digits and "-": no JSON escaping

    def feed(self, raw: bytes) -> int:
        try:
            msg = json.loads(raw)
            kind = msg["type"]
        except (ValueError, TypeError, KeyError):
            return self._fail("invalid_reply")
        if kind == "token":
            if self._run_id is None or msg.get("run_id") != self._run_id:
                return IGNORED
            self._tokens += 1
            return FIRST if self._tokens == 1 else IGNORED
        if kind == "accepted":
            if msg.get("ref") == self._ref:
                self._run_id = msg.get("run_id")
            return IGNORED
        if kind == "done":
            if self._run_id is None or msg.get("run_id") != self._run_id:
                return IGNORED
            if msg.get("status") == "succeeded":
                self.ok = True
                return FINAL
            return self._fail(str(msg.get("reason") or "failed"))
        if kind == "error":
            ref = msg.get("ref")
            # A server that could not parse our prompt cannot echo its ref: that error is ours.
            if ref is not None and ref != self._ref:
                return IGNORED
            return self._fail(str(msg.get("error") or "error"))
        return IGNORED  # unknown message types are allowed (forward compatibility)

    def abandon(self) -> None:
        self._ref = ""
        self._run_id = None

    def _fail(self, error: str) -> int:
        self.ok = False
        self.error = error
        return FINAL


@lru_cache(maxsize=64)
def _prompt_prefix(prompt: str) -> str:
    # Everything before the ref is the same for every prompt of a group: encode it once and
    # share the string among the group's sessions.
    return '{"type":"prompt","prompt":' + json.dumps(prompt) + ',"ref":'


class EchoExchange:
    """State of one session talking to a generic server that answers each message once.

    Echo replies carry no correlation id, so after a timeout the session counts the replies
    it still owes and skips that many before the next reply counts.
    """

    __slots__ = ("_message", "_stale", "error", "ok")

    def __init__(self, message: str) -> None:
        self._message = message.encode()
        self._stale = 0
        self.ok = True
        self.error = ""

    def start(self, session: int, n: int) -> bytes:
        return self._message

    def feed(self, raw: bytes) -> int:
        if self._stale:
            self._stale -= 1
            return IGNORED
        return FIRST | FINAL

    def abandon(self) -> None:
        self._stale += 1


def new_exchange(protocol: str, message: str) -> Exchange:
    """The exchange object for ``protocol`` ("slogate" or "echo")."""
    if protocol == "slogate":
        return SlogateExchange(message)
    if protocol == "echo":
        return EchoExchange(message)
    raise ValueError(f"unknown swarm protocol {protocol!r}; use 'slogate' or 'echo'")
