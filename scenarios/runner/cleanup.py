"""The last line of defence: no process started by a run outlives it.

Engines stop their own workers and the embedded target stops itself; this catches whatever
slipped through (a worker's own child, a target interrupted mid-stop). Only processes that
were *not* children before the run started are touched, so a test's own servers, or a
caller's other subprocesses, are left alone.
"""

from __future__ import annotations

import os

import psutil

__all__ = ["child_pids", "stop_new_children"]


def child_pids() -> set[int]:
    """Every descendant of this process now."""
    try:
        return {c.pid for c in psutil.Process(os.getpid()).children(recursive=True)}
    except psutil.Error:
        return set()


def stop_new_children(before: set[int], *, grace_s: float = 3.0) -> int:
    """Terminate, then kill after ``grace_s``, descendants not in ``before``; return how many."""
    try:
        procs = [c for c in psutil.Process(os.getpid()).children(recursive=True) if c.pid not in before]
    except psutil.Error:
        return 0
    procs = [p for p in procs if _alive(p)]
    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=grace_s)
    return len(procs)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
