"""Fixtures: real WebSocket servers on 127.0.0.1 (see ``wsservers.py``), stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .wsservers import Behaviour, EchoServer, SlogateServer


@pytest.fixture
def slogate_server() -> Iterator[Callable[[Behaviour], SlogateServer]]:
    """Factory: ``server = slogate_server(Behaviour(...))``; stopped after the test."""
    started: list[SlogateServer] = []

    def make(behaviour: Behaviour) -> SlogateServer:
        server = SlogateServer(behaviour)
        server.thread.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.thread.stop()


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    server.thread.start()
    yield server
    server.thread.stop()
