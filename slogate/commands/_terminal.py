"""What several commands share at the terminal: a positive ``--duration``-style flag, and the
rich ``Live`` region their progress displays redraw (``run`` and ``capacity``)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console, RenderableType
from rich.live import Live

from foundation.durations import parse_duration
from foundation.errors import UsageError

__all__ = ["LiveRegion", "positive_duration"]


def positive_duration(flag: str, text: str | None) -> float | None:
    """Seconds in a duration flag (``None`` when not given); a usage error names the flag."""
    if text is None:
        return None
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{flag} {text!r}: {exc}") from exc
    if value <= 0:
        raise UsageError(f"{flag} must be more than 0 seconds")
    return value


class LiveRegion:
    """A region of the terminal redrawn twice a second; displays subclass it and ``show``."""

    def __init__(self, console: Console) -> None:
        self._live = Live(console=console, refresh_per_second=2, transient=False)

    def __enter__(self) -> Self:
        self._live.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._live.__exit__(exc_type, exc, tb)

    def show(self, renderable: RenderableType) -> None:
        self._live.update(renderable)
