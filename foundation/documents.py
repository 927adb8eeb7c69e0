"""The small JSON/text documents every room writes (run.json, verdict.json, comparison.json,
capacity.json, history.json ...): written so that a reader never sees half a file, read so
that a broken one is a clear error naming it, and versioned so that an old one is migrated
or refused by name."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from foundation.errors import ConfigError

__all__ = ["Migration", "read_json", "upgrade_versioned", "write_text_atomic"]

Migration = Callable[[dict[str, Any]], dict[str, Any]]
"""Upgrades a document dict by one ``schema_version``."""


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


def upgrade_versioned(
    data: dict[str, Any],
    *,
    current: int,
    migrations: Mapping[int, Migration],
    what: str,
    source: str,
    rerun: str,
) -> dict[str, Any]:
    """``data`` upgraded to ``schema_version == current`` through ``migrations``
    (``{old_version: one-step upgrade}``); any other version is a :class:`ConfigError` naming
    the file, the field and the command (``rerun``) that writes a current one."""
    version = data.get("schema_version")
    while isinstance(version, int) and version in migrations:
        data = migrations[version](data)
        version = data.get("schema_version")
    if version != current:
        raise ConfigError(
            f"{what} schema_version {version!r} is not supported by this slogate "
            f"(it reads version {current}); {rerun}",
            path=source, field="schema_version",
        )
    return data
