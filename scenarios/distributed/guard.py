"""Locust's runners with slogate's two additions: a master that refuses workers by address,
and a worker that listens for slogate's messages before it first says hello.

Imports Locust (gevent): only the master and worker processes import this module.

Why the peer address check sits on the socket: ZeroMQ's ROUTER socket accepts any peer, and
a worker's node id is just a name it picked. Every received frame carries the TCP peer
address of the connection it came in on (``zmq_msg_gets(msg, "Peer-Address")``), so the
master drops every message from an address outside the allowed list before Locust's
handler sees it (the worker is never acknowledged, never gets users or plans) and tells
that worker once, with ``slogate_refused``, why.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

import zmq.error as zmqerr
from locust.env import Environment
from locust.exception import RPCError, RPCReceiveError
from locust.rpc.protocol import Message
from locust.rpc.zmqrpc import Server
from locust.runners import MasterRunner, WorkerRunner

from scenarios.distributed.protocol import MESSAGES, REFUSED

__all__ = ["GuardedMaster", "ListeningWorker"]

log = logging.getLogger("slogate.distributed")


class _GuardedServer(Server):
    """Locust's RPC server, receiving only from allowed peer addresses."""

    allowed: Callable[[str], bool]
    peers: dict[str, str]
    refused: dict[str, str]  # node id -> address, refused so far

    def recv_from_client(self) -> tuple[str, Message]:
        while True:
            try:
                frames = self.socket.recv_multipart(copy=False)
            except zmqerr.ZMQError as exc:
                raise RPCError("ZMQ network broken") from exc
            if len(frames) < 2:
                continue
            node = frames[0].bytes.decode("utf-8", "replace")
            peer = _plain(str(frames[0].get("Peer-Address") or ""))
            if not self.allowed(peer):
                self._refuse(node, peer)
                continue
            self.peers[node] = peer
            try:
                return node, Message.unserialize(frames[1].bytes)  # type: ignore[no-untyped-call]
            except (UnicodeDecodeError, ValueError) as exc:
                raise RPCReceiveError("ZMQ interrupted or corrupted message", addr=node) from exc

    def _refuse(self, node: str, peer: str) -> None:
        if node in self.refused:
            return
        self.refused[node] = peer
        log.warning("refused worker %s from %s: address not allowed", node, peer)
        reason = (
            f"the master refuses workers from {peer}: it is neither this machine nor in "
            "the run's --allow-remote list"
        )
        with contextlib.suppress(RPCError):  # it gives up on its own when no ack comes
            self.send_to_client(Message(REFUSED, {"reason": reason}, node))  # type: ignore[no-untyped-call]


def _plain(address: str) -> str:
    """``::ffff:10.0.0.3`` (an IPv4 peer of a dual-stack socket) as ``10.0.0.3``."""
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def _guard(
    server: Server, allowed: Callable[[str], bool], peers: dict[str, str], refused: dict[str, str]
) -> None:
    server.__class__ = _GuardedServer
    guarded: Any = server
    guarded.allowed, guarded.peers, guarded.refused = allowed, peers, refused


class GuardedMaster(MasterRunner):
    """A Locust ``MasterRunner`` whose server drops messages from disallowed addresses.

    ``peers`` maps each admitted node id to its TCP peer address; ``refused`` the node ids
    turned away, with their addresses.
    """

    def __init__(
        self, environment: Environment, host: str, port: int, allowed: Callable[[str], bool]
    ) -> None:
        super().__init__(environment, host, port)
        self.allowed = allowed
        self.peers: dict[str, str] = {}
        self.refused: dict[str, str] = {}
        _guard(self.server, allowed, self.peers, self.refused)

    def reset_connection(self) -> None:
        super().reset_connection()  # a new Server: guard it as well
        _guard(self.server, self.allowed, self.peers, self.refused)


class ListeningWorker(WorkerRunner):
    """A Locust ``WorkerRunner`` that registers slogate's message handlers before it first
    contacts the master, so a refusal sent in reply to its very first message is heard.

    ``handlers`` maps message type -> ``listener(environment=..., msg=...)``; types in
    :data:`~scenarios.distributed.protocol.MESSAGES` only.
    """

    refusal: str | None = None  # the master's reason, when it turned this worker away

    def __init__(
        self, environment: Environment, host: str, port: int, handlers: dict[str, Callable[..., None]]
    ) -> None:
        self._pending_handlers = handlers
        super().__init__(environment, host, port)

    def connect_to_master(self) -> None:
        for name, handler in self._pending_handlers.items():
            if name not in MESSAGES:
                raise ValueError(f"not a slogate message: {name}")
            if name not in self.custom_messages:
                self.register_message(name, handler)
        if REFUSED not in self.custom_messages:
            self.register_message(REFUSED, self._on_refused)
        if self.refusal is None:
            super().connect_to_master()  # type: ignore[no-untyped-call]

    def _on_refused(self, environment: Environment, msg: Message, **_: Any) -> None:
        data = msg.data if isinstance(msg.data, dict) else {}
        self.refusal = str(data.get("reason", "refused by the master"))
        self.connection_event.set()  # ends Locust's connect loop at once
