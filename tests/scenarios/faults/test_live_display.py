"""The run's live display names the fault in force (terminal and log line)."""

from __future__ import annotations

import io

from rich.console import Console

from scenarios.runner import RunProgress
from slogate.commands.run import _LineDisplay, _LiveDisplay


def test_the_fault_in_force_is_shown() -> None:
    p = RunProgress("running", 62.0, 300.0, operations=10, faults=("database outage #3",))
    buf = io.StringIO()
    live = _LiveDisplay(Console(file=buf, force_terminal=True, width=100))
    with live:
        live.update(p)
    assert "fault in force" in buf.getvalue() and "database outage #3" in buf.getvalue()
    log = io.StringIO()
    _LineDisplay(log).update(p)
    assert log.getvalue().rstrip().endswith("fault in force: database outage #3")
    quiet = io.StringIO()
    _LineDisplay(quiet).update(RunProgress("running", 62.0, 300.0))
    assert "fault" not in quiet.getvalue()
