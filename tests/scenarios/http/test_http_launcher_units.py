"""Launcher pieces that need no worker process: target safety and the worker line protocol."""

from __future__ import annotations

import pytest

from scenarios.http import is_loopback_url
from scenarios.http.launcher import read_ready_line


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.8.9.10/", True),
        ("http://localhost:9000/x", True),
        ("http://[::1]:8000", True),
        ("https://10.0.0.5", False),
        ("http://example.com", False),
        ("http://127.0.0.1.nip.io", False),
        ("http://[::ffff:10.0.0.1]", False),
    ],
)
def test_only_loopback_targets_count_as_local(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


@pytest.mark.parametrize(
    ("line", "worker"),
    [
        ('{"ready": 1, "worker": 4}', 4),
        ('{"progress": 1, "worker": 4}', None),
        ('{"ready": 1}', None),
        ("[1, 2]", None),
        ("Traceback (most recent call last):", None),
    ],
)
def test_ready_lines(line: str, worker: int | None) -> None:
    assert read_ready_line(line) == worker
