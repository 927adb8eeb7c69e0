"""Bound the disk a run may use: refuse to start without room, stop when over budget.

Samples are one row per operation, so a long open-model run at a high rate can write
gigabytes; a load test that fills the disk takes the target (and the CI runner) down with
it. ``limits.disk_budget`` in the scenario caps the run directory's size.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from foundation.errors import HarnessError

__all__ = ["check_room_to_start", "dir_bytes", "human_bytes"]


def dir_bytes(path: Path) -> int:
    """Bytes of every regular file under ``path`` (0 if it does not exist)."""
    total = 0
    stack = [path]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(Path(entry.path))
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except FileNotFoundError:
                        continue  # a part rewritten while we looked
        except (FileNotFoundError, NotADirectoryError):
            continue
    return total


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def check_room_to_start(run_dir: Path, budget_bytes: int) -> None:
    """Raise when the file system holding ``run_dir`` has less free space than the budget."""
    probe = run_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < budget_bytes:
        raise HarnessError(
            f"only {human_bytes(free)} free under {probe}, less than the run's disk budget of "
            f"{human_bytes(budget_bytes)}; free space or lower limits.disk_budget"
        )
