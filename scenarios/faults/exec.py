"""``exec:``: a shell command (and an optional undo command) for a foreign target.

Plain :mod:`subprocess`, not Chaos Toolkit: what is needed is "run this command, give up
after the timeout, say why it failed", which is a dozen lines here; chaostoolkit-lib's
process provider does the same through its own experiment format and brings a dependency
tree with it (see the branch report). The command runs in a session of its own, so a
timeout kills everything it started, not only the shell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping

from scenarios.faults.base import FaultError

__all__ = ["ExecFault", "run_command"]


class ExecFault:
    """``run`` on apply, ``undo`` (if given) on undo; non-zero exit or timeout is an error."""

    def __init__(
        self, run: str, undo: str | None, timeout_s: float, env: Mapping[str, str] | None = None
    ) -> None:
        self.run, self.undo_command, self.timeout_s = run, undo, timeout_s
        self.env = {**os.environ, **(env or {})}

    def apply(self) -> None:
        run_command(self.run, self.timeout_s, self.env)

    def undo(self) -> None:
        if self.undo_command is not None:
            run_command(self.undo_command, self.timeout_s, self.env)


def run_command(command: str, timeout_s: float, env: Mapping[str, str]) -> str:
    """Run ``command`` with ``sh -c``; return its output, raise :class:`FaultError` on failure."""
    process = subprocess.Popen(
        ["/bin/sh", "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=dict(env),
    )
    try:
        out, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise FaultError(f"{command!r} did not finish within {timeout_s:g} s and was killed") from None
    text = out.decode(errors="replace").strip()
    if process.returncode != 0:
        raise FaultError(f"{command!r} exited with code {process.returncode}: {text[-300:]}")
    return text
