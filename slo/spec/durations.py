"""Durations as people write them in SLO files: ``30d``, ``1h30m``, ``500ms``, or seconds.

SLO windows are long (``30d``) and warm-ups short (``30s``), so both need one spelling.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BeforeValidator

__all__ = ["Duration", "format_duration", "parse_duration"]

_UNITS: Final[dict[str, float]] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(value: object) -> float:
    """Seconds in ``value``: a non-negative number, or a string like ``30d``/``1h30m``/``250ms``.

    >>> parse_duration("1h30m")
    5400.0
    """
    if isinstance(value, bool):
        raise ValueError(f"a duration must be a number of seconds or like '30s', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        pos, seconds = 0, 0.0
        for m in _PART.finditer(text):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
        if pos != len(text) or not text:
            try:
                seconds = float(text)
            except ValueError:
                raise ValueError(
                    f"not a duration: {value!r}; write e.g. '30s', '5m', '1h30m', '30d' "
                    "or a number of seconds"
                ) from None
    else:
        raise ValueError(f"a duration must be a number of seconds or like '30s', got {value!r}")
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"a duration must not be negative, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """Shortest exact spelling in the largest whole units (``2592000`` -> ``30d``)."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A pydantic field type: seconds, accepting the spellings of :func:`parse_duration`."""
