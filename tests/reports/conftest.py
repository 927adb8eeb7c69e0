"""Run records for the report tests, built once per session (they are read-only inputs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reports.builders import Variant, build_run


@pytest.fixture(scope="session")
def record(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Variant], Path]:
    """``record("mixed")`` -> a run directory; each variant is built once per session.

    Tests that write into a run directory must copy it first (``shutil.copytree``).
    """
    built: dict[str, Path] = {}

    def get(variant: Variant) -> Path:
        if variant not in built:
            built[variant] = build_run(tmp_path_factory.mktemp(variant) / "run", variant)
        return built[variant]

    return get
