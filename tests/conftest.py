"""Fixtures for every suite: a clean environment, so no test reads another's settings.

The service reads ``SLOGATE_*`` variables (pydantic-settings) and prometheus_client reads
``PROMETHEUS_MULTIPROC_DIR``; a developer's shell or an earlier test that exported one would
otherwise change what a test measures (httpx's ``clean_environ`` habit). ``get_settings`` is
cached per process, so its cache is cleared as well.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from target_service.config import get_settings

_SCRUBBED_PREFIXES = ("SLOGATE_",)
_SCRUBBED_NAMES = ("PROMETHEUS_MULTIPROC_DIR",)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove slogate's and prometheus_client's variables for the test; restore them after."""
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) or name in _SCRUBBED_NAMES:
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
