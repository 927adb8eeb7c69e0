"""Human-friendly sizes in scenario files: ``"500MB"``, ``"2GiB"``.

Scenario files are written by hand, so ``disk_budget: 500MB`` must mean 500 megabytes, and a
number alone means bytes. Parsing is strict: ``"5x"`` is an error that names the accepted
spellings, never a silent zero. (Durations have one grammar for every room:
:mod:`foundation.durations`.)
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Final

from pydantic import BeforeValidator

__all__ = ["ByteSize", "parse_bytes"]

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


ByteSize = Annotated[int, BeforeValidator(parse_bytes)]
"""A pydantic field type: bytes, written as a number or with a unit (``"500MB"``)."""
