"""Importers: results of other load tools turned into slogate run records.

``detect_format(path)`` tells a Locust stats-history CSV from a k6 JSON-lines file;
``import_file(path, out_dir, fmt)`` writes the run record. Locust imports are marked
``approximate`` (rounded percentiles, no per-request samples); k6 imports are exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from foundation.errors import UsageError
from foundation.layout import RunLayout
from slo.importers.k6_json import import_k6_json, looks_like_k6
from slo.importers.locust_csv import LOCUST_HEADER, import_locust_csv

__all__ = ["detect_format", "import_file", "import_k6_json", "import_locust_csv"]

Format = Literal["locust", "k6"]


def detect_format(path: Path) -> Format:
    """``locust`` or ``k6`` from the file's first line; :class:`UsageError` otherwise."""
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            first = f.readline()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    if first.replace('"', "").startswith(",".join(LOCUST_HEADER)):
        return "locust"
    if looks_like_k6(first):
        return "k6"
    raise UsageError(
        f"{path} is neither a Locust *_stats_history.csv nor a k6 --out json file; "
        "name the format with --import-locust-csv or --import-k6"
    )


def import_file(path: Path, out_dir: Path, fmt: str) -> RunLayout:
    """Write ``path`` (of format ``fmt``) as a run record at ``out_dir``."""
    if fmt == "locust":
        return import_locust_csv(path, out_dir)
    return import_k6_json(path, out_dir)
