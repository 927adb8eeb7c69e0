"""Fixtures for distributed runs across network namespaces (real hosts, one machine)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.distributed.netlab import NetLab, unavailable_reason

BIN = Path(sys.executable).parent
SLOGATE = str(BIN / "slogate")
ADMIN_TOKEN = "sgt-admin-token-for-tests-0123456789"


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment (already scrubbed of SLOGATE_*), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOGATE_")}
    env.update(extra)
    return env


@pytest.fixture
def lab_factory() -> Iterator[type[NetLab]]:
    """Skips with the reason when namespaces cannot be made; deletes every lab made."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    made: list[NetLab] = []

    class _Lab(NetLab):
        @classmethod
        def create(cls, names: list[str]) -> NetLab:  # type: ignore[override]
            lab = NetLab.create(names)
            made.append(lab)
            return lab

    try:
        yield _Lab
    finally:
        for lab in made:
            lab.close()
