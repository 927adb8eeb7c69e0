"""Keyset pagination: every object exactly once, newest first, whatever the page size."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from target_service.config import Role

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
