"""Fixtures for the reference target: settings, an in-process client, a real server.

- ``settings_factory(**overrides)``: ``Settings`` on a fresh SQLite file in ``tmp_path``, the
  known ``helpers.ADMIN_TOKEN`` and ``helpers.FAST_PROVIDER`` (milliseconds, not the production-like 120 ms
  TTFT), so runs finish quickly; any field can be overridden.
- ``app_factory(**overrides)``: ``create_app(settings_factory(**overrides))``.
- ``client``: ``TestClient`` on a default app, entered (lifespan runs: schema, executor).
- ``client_factory(**overrides)``: the same with other settings; closed after the test.
- ``live_server``: a real uvicorn server in a thread on 127.0.0.1 (``tests._servers.LiveServer``);
  ``live_server_factory(**overrides)`` for other settings.
- ``make_tenant``: ``helpers.make_tenant`` (``make_tenant(client, tier) -> (id, {role: token})``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from target_service.config import Settings
from target_service.main import create_app
from tests._servers import LiveServer, serve_in_thread

from .helpers import make_settings
from .helpers import make_tenant as _make_tenant

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def settings_factory(tmp_path: Path) -> SettingsFactory:
    """Build settings for one app; each call gets its own database file."""
    counter = iter(range(1_000_000))

    def make(**overrides: Any) -> Settings:
        return make_settings(tmp_path / f"target-{next(counter)}.db", **overrides)

    return make


@pytest.fixture
def app_factory(settings_factory: SettingsFactory) -> Callable[..., FastAPI]:
    def make(**overrides: Any) -> FastAPI:
        return create_app(settings_factory(**overrides))

    return make


@pytest.fixture
def client_factory(app_factory: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    """``client_factory(**overrides)``: an entered TestClient (lifespan running)."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> TestClient:
            return stack.enter_context(TestClient(app_factory(**overrides)))

        yield make


@pytest.fixture
def client(client_factory: Callable[..., TestClient]) -> TestClient:
    return client_factory()


@pytest.fixture
def live_server_factory(app_factory: Callable[..., FastAPI]) -> Iterator[Callable[..., LiveServer]]:
    """``live_server_factory(**overrides)``: a real server; stopped after the test."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> LiveServer:
            return stack.enter_context(serve_in_thread(app_factory(**overrides)))

        yield make


@pytest.fixture
def live_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory()


@pytest.fixture
def make_tenant() -> Callable[..., tuple[str, dict[Any, str]]]:
    return _make_tenant
