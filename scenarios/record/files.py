"""The run record's small JSON/text files: written so that a reader never sees half a file,
read so that a broken one is a clear error naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slogate.errors import ConfigError

__all__ = ["read_json", "write_text_atomic"]


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    A rename within one directory is atomic on POSIX: a concurrent reader (or a process
    killed mid-write) sees the old file or the new one, never a torn one.
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def read_json(path: Path, what: str) -> Any:
    """The parsed JSON in ``path``; a missing, unreadable or malformed file is a
    :class:`ConfigError` ("cannot read <what>: ...") naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {what}: {exc}", path=str(path)) from exc
