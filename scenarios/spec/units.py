"""Human-friendly durations and sizes in scenario files: ``"30s"``, ``"1h30m"``, ``"500MB"``.

Scenario files are written by hand, so ``duration: 2m`` must mean two minutes, and a number
alone means seconds (or bytes). Parsing is strict: ``"2 minutes"`` or ``"5x"`` is an error
that names the accepted spellings, never a silent zero.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Final

from pydantic import BeforeValidator

__all__ = ["ByteSize", "Duration", "parse_bytes", "parse_duration"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$", re.IGNORECASE)
_UNIT_B: Final = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def parse_duration(value: object) -> float:
    """Seconds from ``30``, ``2.5``, ``"30s"``, ``"2m"``, ``"1h30m"``, ``"250ms"``.

    >>> parse_duration("1h30m")
    5400.0

    Raises ValueError (which pydantic reports with the field's line) for anything else,
    including negative or non-finite numbers.
    """
    if isinstance(value, bool):  # bool is an int; "duration: yes" is a mistake
        raise ValueError("expected a duration such as 30, '30s', '2m' or '1h30m'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_units(text)
    else:
        raise ValueError("expected a duration such as 30, '30s', '2m' or '1h30m'")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("a duration must be a finite number of seconds >= 0")
    return seconds


def _parse_units(text: str) -> float:
    pos = 0
    total = 0.0
    seen: set[str] = set()
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos or m.group(2) in seen:
            break
        seen.add(m.group(2))
        total += float(m.group(1)) * _UNIT_S[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(
            "expected a duration such as 30, '30s', '2m', '1h30m' or '250ms' "
            "(units: ms, s, m, h)"
        )
    return total


def parse_bytes(value: object) -> int:
    """Bytes from ``1048576``, ``"500MB"`` (decimal) or ``"2GiB"`` (binary)."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 500MB or 2GiB")
    if isinstance(value, int):
        number, unit = float(value), "b"
    elif isinstance(value, float):
        number, unit = value, "b"
    elif isinstance(value, str) and (m := _SIZE.match(value)):
        number, unit = float(m.group(1)), (m.group(2) or "b").lower()
    else:
        raise ValueError("expected a size such as 1048576, 500MB or 2GiB")
    if not math.isfinite(number) or number < 0:
        raise ValueError("a size must be a finite number of bytes >= 0")
    return int(number * _UNIT_B[unit])


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A pydantic field type: seconds, written as a number or with units (``"1h30m"``)."""

ByteSize = Annotated[int, BeforeValidator(parse_bytes)]
"""A pydantic field type: bytes, written as a number or with a unit (``"500MB"``)."""
