"""Start-up phase stamps: the worker's file, merging with the supervisor's, durations, parsing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from target_service.startup_phases import WorkerStartup, mark_phase, read_phases


def test_a_worker_stamps_phases_into_its_own_file(tmp_path: Path) -> None:
    mark_phase(tmp_path, "booted")
    mark_phase(tmp_path, "app_created")
    stamps = read_phases(tmp_path, os.getpid())
    assert list(stamps) == ["booted", "app_created"]
    assert stamps["booted"] <= stamps["app_created"]
    assert (tmp_path / f"{os.getpid()}.json").exists()
    assert not list(tmp_path.glob("*.tmp"))  # written by rename, nothing half-written left


def test_without_a_directory_nothing_is_written(tmp_path: Path) -> None:
    mark_phase(None, "booted")
    assert read_phases(tmp_path, os.getpid()) == {}
    assert list(tmp_path.iterdir()) == []


def test_read_phases_ignores_unknown_and_broken_content(tmp_path: Path) -> None:
    (tmp_path / "7.json").write_text('{"booted": 1.5, "ready": 9, "app_created": "x"}')
    (tmp_path / "8.json").write_text("{not json")
    assert read_phases(tmp_path, 7) == {"booted": 1.5}
    assert read_phases(tmp_path, 8) == {}


def test_worker_stamps_fill_in_but_never_overwrite() -> None:
    s = WorkerStartup(slot=1, pid=9, spawned=10.0, booted=10.5, ready=14.0)
    merged = s.with_stamps({"booted": 99.0, "app_created": 12.0, "lifespan_started": 13.25})
    assert (merged.booted, merged.app_created, merged.lifespan_started) == (10.5, 12.0, 13.25)
    assert merged.durations() == {"boot": 0.5, "import": 1.5, "lifespan": 1.25, "listen": 0.75}
    assert merged.summary() == (
        "ready 4.00 s after spawn (boot 0.50 s, import 1.50 s, lifespan 1.25 s, listen 0.75 s)"
    )


def test_a_start_up_not_yet_ready_says_so() -> None:
    s = WorkerStartup(slot=0, pid=9, spawned=10.0, booted=11.0)
    assert s.durations() == {"boot": 1.0, "import": None, "lifespan": None, "listen": None}
    assert s.summary() == "not ready yet (boot 1.00 s)"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param({"slot": 0, "pid": 3, "spawned": 1.0, "ready": 2.0},
                     WorkerStartup(slot=0, pid=3, spawned=1.0, ready=2.0), id="partial"),
        pytest.param({"slot": 0, "pid": 3, "spawned": 1.0, "extra": 5},
                     WorkerStartup(slot=0, pid=3, spawned=1.0), id="unknown_key_ignored"),
        pytest.param({"slot": 0, "spawned": 1.0}, None, id="pid_missing"),
        pytest.param([1, 2], None, id="not_a_mapping"),
    ],
)
def test_from_json(entry: object, expected: WorkerStartup | None) -> None:
    parsed = WorkerStartup.from_json(entry)
    assert parsed == expected
    if parsed is not None:
        assert WorkerStartup.from_json(parsed.to_json()) == parsed
