"""Facts about this run recorded in run.json: its id, the git checkout, the host, the harness.

A result without its context cannot be compared with another one: two runs of the same
release on a loaded and an idle machine differ, and the record must say which was which.
"""

from __future__ import annotations

import os
import platform
import secrets
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

__all__ = ["git_sha", "harness_version", "host_facts", "new_run_id"]


def new_run_id(now: float | None = None) -> str:
    """``20261126-061502-3fa9``: sortable by start time, unique enough for one machine."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def git_sha(directory: Path) -> str | None:
    """The commit checked out in ``directory``, or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and len(sha) >= 40 else None


def harness_version() -> str:
    try:
        return metadata.version("slogate")
    except metadata.PackageNotFoundError:
        return "unknown"


def host_facts() -> dict[str, Any]:
    """What bounds the generator: cores, memory, load, the open-file limit."""
    facts: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": psutil.cpu_count(logical=True),
        "memory_bytes": psutil.virtual_memory().total,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        import resource

        facts["open_files_limit"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        facts["open_files_limit"] = None
    return facts
