"""Import a k6 ``--out json=FILE`` result (JSON lines) as a run record.

k6 writes one ``Point`` per metric per request, with float milliseconds (not rounded), so
latencies are exact: each ``http_req_duration`` point becomes an ``http`` sample and each
``ws_connecting`` point a ``ws_connect`` sample. ``ok`` comes from the point's
``expected_response`` tag (k6 sets it from its expected-status rule), else ``status < 400``.
The sample's ``name`` is ``METHOD NAME`` (k6's ``name`` tag defaults to the URL).

What is approximate: k6 stamps a point when the request ends, so ``ts`` is taken as
``time - duration``; ``intended_ts`` equals ``ts`` (k6's VUs are a closed model unless an
arrival-rate executor was used, and its JSON does not say when a request was due).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import numpy as np

from foundation.errors import SourceError
from foundation.layout import RunLayout
from slo.importers._record import write_imported_record

__all__ = ["K6_KINDS", "import_k6_json", "looks_like_k6"]

K6_KINDS: Final = {"http_req_duration": "http", "ws_connecting": "ws_connect"}


def looks_like_k6(first_line: str) -> bool:
    """Whether a line is a k6 JSON-output record (``{"type": "Metric"|"Point", ...}``)."""
    try:
        data = json.loads(first_line)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("type") in ("Metric", "Point") and "metric" in data


def import_k6_json(path: Path, out_dir: Path) -> RunLayout:
    """Convert the k6 JSON lines at ``path`` into a run record at ``out_dir``."""
    ts, lat, ok, status, kind, name = [], [], [], [], [], []
    try:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                point = _point(line, path, number)
                if point is None:
                    continue
                t, value, tags, k = point
                code = _int(tags.get("status"))
                expected = tags.get("expected_response")
                good = expected == "true" if expected is not None else 0 < code < 400
                ts.append(t - value / 1000.0)
                lat.append(value)
                ok.append(good)
                status.append(code)
                kind.append(k)
                name.append(f"{tags.get('method', '')} {tags.get('name', '')}".strip())
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    if not ts:
        raise SourceError(
            f"{path} has no http_req_duration or ws_connecting points; "
            "was it written with k6 run --out json=FILE?"
        )
    return write_imported_record(
        out_dir, run_id=f"k6-{path.stem}", source=path, ts=np.array(ts),
        latency_ms=np.array(lat), ok=np.array(ok, dtype=np.bool_),
        status=np.array(status, dtype=np.int32), kind=kind, name=name,
        approximate=False,
        approximate_reason="",
    )


def _point(line: str, path: Path, number: int) -> tuple[float, float, dict[str, Any], str] | None:
    line = line.strip()
    if not line:
        return None
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise SourceError(f"{path}:{number}: not JSON ({exc}); is this a k6 --out json file?") \
            from exc
    if data.get("type") != "Point" or data.get("metric") not in K6_KINDS:
        return None
    body = data.get("data") or {}
    try:
        when = datetime.fromisoformat(_trim_nanos(str(body["time"]))).timestamp()
        value = float(body["value"])
    except (KeyError, ValueError) as exc:
        raise SourceError(f"{path}:{number}: a k6 point lacks time or value ({exc})") from exc
    return when, value, dict(body.get("tags") or {}), K6_KINDS[data["metric"]]


def _trim_nanos(text: str) -> str:
    """k6 writes nanoseconds (``...:00.123456789Z``); Python parses at most microseconds."""
    text = text.replace("Z", "+00:00")
    if "." not in text:
        return text
    head, _, rest = text.partition(".")
    digits = "".join(c for c in rest if c.isdigit())
    zone = rest[len(digits):]
    return f"{head}.{digits[:6]}{zone}"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
