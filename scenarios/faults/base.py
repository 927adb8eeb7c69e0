"""What every fault action is, and what it may use of the run.

A fault action is two calls: :meth:`FaultAction.apply` makes the failure happen now,
:meth:`FaultAction.undo` ends it (a no-op for actions that are not undone, such as a kill).
Both raise :class:`FaultError` with one sentence when they could not do their job; the
timeline records it as the fault's ``error`` and goes on with the run.
"""

from __future__ import annotations

from typing import Protocol

from foundation.errors import HarnessError

__all__ = ["FaultAction", "FaultError"]


class FaultError(HarnessError):
    """A fault could not be applied or undone; the message says what happened."""


class FaultAction(Protocol):
    """One fault of the timeline (see the module docstring)."""

    def apply(self) -> None:
        """Make the failure happen; return once it is in effect."""
        ...

    def undo(self) -> None:
        """End the failure; safe to call once after :meth:`apply` succeeded."""
        ...
