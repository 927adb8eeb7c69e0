"""What several benchmarks share: the machine description, a server process pinned to one
core (listening before it starts, so no readiness wait), a synthetic run record split into
per-worker parts, and appending to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["append_lines", "append_section", "machine", "start_pinned_server", "write_parts"]


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


def write_parts(samples_dir: Path, part_path: Callable[[int], Path], n: int, parts: int,
                make_part: Callable[[int, int], pa.Table]) -> None:  # fmt: skip
    """``n`` samples as ``parts`` Parquet parts, as that many workers would leave them;
    ``make_part(rows, worker)`` builds each (the last takes the remainder)."""
    samples_dir.mkdir(parents=True, exist_ok=True)
    per = n // parts
    for w in range(parts):
        m = per if w < parts - 1 else n - per * (parts - 1)
        pq.write_table(make_part(m, w), part_path(w), compression="zstd")


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


def append_section(
    path: Path, heading: str, intro: str, header: Sequence[str], rows: Sequence[Sequence[str]],
    outro: str,
) -> None:  # fmt: skip
    """Append one result (intro, Markdown table, outro) under ``heading``, adding the heading
    (and the file's title) the first time."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = [] if text else ["# Benchmarks", ""]
    if heading not in text:
        lines += [heading, ""]
    lines += [
        intro,
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
        outro,
        "",
    ]
    append_lines(path, lines)
