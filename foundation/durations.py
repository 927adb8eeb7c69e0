"""The one duration grammar of slogate: ``30``, ``"30s"``, ``"1h30m"``, ``"250ms"``, ``"30d"``.

Scenario files (``duration: 2m``) and SLO files (``window: 30d``, ``warmup: 30s``) are both
written by hand and both mean the same thing by a duration, so both read it here. A number
alone means seconds. Units are ``ms``, ``s``, ``m``, ``h``, ``d`` and ``w`` (case-insensitive),
combined largest-first or in any order, each at most once. Parsing is strict: ``"2 minutes"``,
``"5x"`` or ``"1m1m"`` is an error naming the accepted spellings, never a silent zero.
"""

from __future__ import annotations

import math
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
_EXPECTED: Final = (
    "expected a duration such as 30, '30s', '2m', '1h30m', '250ms' or '30d' "
    "(units: ms, s, m, h, d, w; each at most once) or a number of seconds"
)


def parse_duration(value: object) -> float:
    """Seconds in ``value``: a non-negative number, or a string like ``30d``/``1h30m``/``250ms``.

    >>> parse_duration("1h30m")
    5400.0

    Raises ValueError (which pydantic reports with the field's line) for anything else,
    including negative or non-finite numbers and a unit written twice.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        # bool is an int, but "duration: yes" is a mistake
        raise ValueError(f"not a duration: {value!r}; {_EXPECTED}")
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_units(text, value)
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def _parse_units(text: str, value: str) -> float:
    pos, total = 0, 0.0
    seen: set[str] = set()
    for m in _PART.finditer(text):
        if m.start() != pos or m.group(2) in seen:
            break
        seen.add(m.group(2))
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {value!r}; {_EXPECTED}")
    return total


def format_duration(seconds: float) -> str:
    """Shortest exact spelling in the largest whole units (``2592000`` -> ``30d``)."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A pydantic field type: seconds, accepting the spellings of :func:`parse_duration`."""
