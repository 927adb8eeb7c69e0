"""Keyset pagination: every object exactly once, newest first, whatever the page size."""

from __future__ import annotations

import math
import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from target_service.config import Role
from target_service.pagination import AUDIT_CURSOR_PATTERN, ID_CURSOR_PATTERN, decode_cursor, encode_cursor

from .helpers import create_tenant


def _walk(client: TestClient, path: str, headers: dict[str, str], limit: int) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = ""
    for _ in range(50):
        page = client.get(f"{path}?limit={limit}{cursor}", headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        if not body["next_cursor"]:
            return items
        cursor = f"&cursor={body['next_cursor']}"
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 200])
def test_agents_pages_hold_every_agent_once_newest_first(client: TestClient, limit: int) -> None:
    tenant = create_tenant(client)
    dev = tenant.headers(Role.DEVELOPER)
    created = [client.post("/v1/agents", json={"name": f"a{i}"}, headers=dev).json()["id"] for i in range(7)]
    items = _walk(client, "/v1/agents", dev, limit)
    assert [i["id"] for i in items] == list(reversed(created))


def test_runs_pages_hold_every_run_once(client: TestClient) -> None:
    tenant = create_tenant(client)
    dev = tenant.headers(Role.DEVELOPER)
    created = {client.post("/v1/runs", json={"prompt": f"p{i}"}, headers=dev).json()["id"] for i in range(5)}
    items = _walk(client, "/v1/runs", dev, 2)
    ids = [str(i["id"]) for i in items]
    assert len(ids) == len(set(ids)) == 5 and set(ids) == created
    times = [float(str(i["created_at"])) for i in items]
    assert times == sorted(times, reverse=True)


@given(st.from_regex(ID_CURSOR_PATTERN, fullmatch=True))
@settings(max_examples=200, database=None)
def test_every_cursor_matching_the_published_pattern_decodes(cursor: str) -> None:
    """The pattern in /openapi.json is exact: what a generator draws from it is a position,
    never a refusal (schemathesis' positive_data_acceptance relies on it)."""
    at, key = decode_cursor(cursor)
    assert math.isfinite(at) and at >= 0
    assert key == cursor.split("~", 1)[1]


@given(st.from_regex(AUDIT_CURSOR_PATTERN, fullmatch=True))
@settings(max_examples=200, database=None)
def test_every_audit_cursor_fits_the_integer_key(cursor: str) -> None:
    _, key = decode_cursor(cursor, AUDIT_CURSOR_PATTERN)
    assert 0 <= int(key) < 2**31  # the audit id column is a 32-bit integer in PostgreSQL


def test_issued_cursors_round_trip_exactly() -> None:
    for at in (1733450000.1234567, 1733450000.0, 0.1, 1e9 + 1 / 3):
        cursor = encode_cursor(at, "run_" + "a" * 32)
        assert re.fullmatch(ID_CURSOR_PATTERN, cursor), cursor
        assert decode_cursor(cursor) == (at, "run_" + "a" * 32)
