"""What several benchmarks share: the machine description, a server process pinned to one
core (listening before it starts, so no readiness wait), and appending to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

__all__ = ["append_lines", "machine", "start_pinned_server"]


def machine() -> str:
    """``2 CPUs (AMD EPYC ...), Python 3.11.7``: what a benchmark result must name."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def start_pinned_server(script: str, cpu: int) -> tuple[str, subprocess.Popen[bytes]]:
    """Run ``script --serve FD`` on a listening socket bound here, pinned to ``cpu``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    sock.set_inheritable(True)
    proc = subprocess.Popen(
        [sys.executable, script, "--serve", str(sock.fileno())], pass_fds=(sock.fileno(),)
    )
    os.sched_setaffinity(proc.pid, {cpu})
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    return url, proc


def append_lines(path: Path, lines: list[str]) -> None:
    """Append a result section, starting on a fresh line."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    with path.open("a", encoding="utf-8") as f:
        if text and not text.endswith("\n"):
            f.write("\n")
        f.write("\n".join(lines) + "\n")
