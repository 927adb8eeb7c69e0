"""Import a Locust ``--csv`` result (``PREFIX_stats_history.csv``, plus ``PREFIX_stats.csv``).

Locust keeps no per-request samples, only counts and a table of **rounded** percentiles
(``bucket_response_time`` rounds to 1 ms below 100 ms, 10 ms below 1 s, 100 ms below 10 s;
PERFORMANCE-NOTES.md). So the record this writes is marked ``approximate: true``, and its
samples are reconstructed, not observed:

- counts: per operation, requests and failures are Locust's own (exact as Locust counted);
- latencies: the k-th fastest request of an operation gets the value Locust reports for
  the smallest of its percentiles whose nearest rank is >= k. A percentile at one of
  Locust's levels (50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100) therefore equals
  Locust's (rounded) number; any other level is bounded above by the next reported one;
- send times follow the history's cumulative request count (interpolated), so the burn
  rate timeline has the run's shape; which request failed when is not known and is spread
  deterministically.

Per-operation counts and percentiles come from ``PREFIX_stats.csv`` when it sits beside the
history (whole-run values); otherwise from the history's last rows (with
``--csv-full-history`` Locust writes *windowed* percentiles there, which is said in the
record's ``approximate_reason``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from foundation.errors import SourceError
from foundation.layout import RunLayout
from slo.importers._record import write_imported_record
from slo.sli import nearest_rank

__all__ = ["LOCUST_HEADER", "import_locust_csv", "reconstruct_latencies"]

LOCUST_HEADER: Final = ("Timestamp", "User Count", "Type", "Name")
_PCT = re.compile(r"^(\d+(?:\.\d+)?)%$")
_SEED: Final = 20_240_601  # fixed: the same file always imports to the same record


@dataclass(frozen=True, slots=True)
class _Operation:
    name: str
    requests: int
    failures: int
    percentiles: tuple[tuple[float, float], ...]  # (percent, ms), ascending


def reconstruct_latencies(
    n: int, percentiles: tuple[tuple[float, float], ...]
) -> npt.NDArray[np.float64]:
    """``n`` ascending latencies whose nearest-rank percentiles reproduce the table."""
    if n == 0:
        return np.empty(0, dtype=np.float64)
    if not percentiles:
        raise SourceError("a Locust operation with requests has no percentile columns")
    ranks = np.array([nearest_rank(p, n) for p, _ in percentiles])
    values = np.array([v for _, v in percentiles], dtype=np.float64)
    values = np.maximum.accumulate(values)  # Locust's table is monotone; enforce it
    k = np.arange(1, n + 1)
    j = np.minimum(np.searchsorted(ranks, k, side="left"), len(values) - 1)
    return np.asarray(values[j], dtype=np.float64)


def import_locust_csv(history: Path, out_dir: Path) -> RunLayout:
    """Convert ``history`` (and its sibling ``_stats.csv``) into a run record at ``out_dir``."""
    rows = _read(history)
    if not rows or tuple(rows[0].keys())[:4] != LOCUST_HEADER:
        raise SourceError(
            f"{history} is not a Locust stats history (expected the header "
            f"{', '.join(LOCUST_HEADER)}, ...); pass the *_stats_history.csv file"
        )
    aggregated = [r for r in rows if r["Name"] == "Aggregated"]
    if not aggregated:
        raise SourceError(f"{history} has no 'Aggregated' rows; is it a Locust stats history?")
    times = np.array([float(r["Timestamp"]) for r in aggregated])
    cumulative = np.array([float(r["Total Request Count"]) for r in aggregated])
    operations, source_note = _operations(history, rows)
    ts, latency, ok, names = _samples(operations, times, cumulative)
    reason = (
        "imported from Locust's CSV: it keeps no per-request samples, only counts and "
        "rounded percentiles, so latencies are reconstructed from its percentile table "
        f"({source_note}) and send times from its 1 s history"
    )
    return write_imported_record(
        out_dir, run_id=f"locust-{history.stem}", source=history, ts=ts, latency_ms=latency,
        ok=ok, status=np.where(ok, 200, 0).astype(np.int32), kind=["http"] * len(names),
        name=names, approximate=True, approximate_reason=reason,
    )


def _read(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc


def _operations(history: Path, rows: list[dict[str, str]]) -> tuple[list[_Operation], str]:
    stats = history.with_name(history.name.replace("_stats_history.csv", "_stats.csv"))
    if stats != history and stats.exists():
        table = [r for r in _read(stats) if r.get("Name") != "Aggregated"]
        ops = [_op(r, "Request Count", "Failure Count") for r in table]
        return [o for o in ops if o.requests], f"whole-run values from {stats.name}"
    per_name = [r for r in rows if r["Name"] != "Aggregated"]
    if per_name:
        last: dict[tuple[str, str], dict[str, str]] = {}
        for r in per_name:
            last[(r["Type"], r["Name"])] = r
        ops = [_op(r, "Total Request Count", "Total Failure Count") for r in last.values()]
        note = "windowed percentiles of --csv-full-history rows; no _stats.csv found"
        return [o for o in ops if o.requests], note
    final = [r for r in rows if r["Name"] == "Aggregated"][-1]
    op = _op(final, "Total Request Count", "Total Failure Count")
    return ([op] if op.requests else []), "aggregate only: operations are not told apart"


def _op(row: dict[str, str], requests: str, failures: str) -> _Operation:
    pcts = []
    for column, value in row.items():
        m = _PCT.match(column or "")
        if m and value not in ("", "N/A"):
            pcts.append((float(m.group(1)), float(value)))
    name = f"{row.get('Type') or ''} {row['Name']}".strip()
    try:
        return _Operation(name, int(float(row[requests])), int(float(row[failures])),
                          tuple(sorted(pcts)))
    except (KeyError, ValueError) as exc:
        raise SourceError(f"Locust row for {name!r} lacks a number in {exc}") from exc


def _samples(
    operations: list[_Operation], times: npt.NDArray[np.float64],
    cumulative: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_], list[str]]:
    rng = np.random.default_rng(_SEED)
    latencies, oks, names = [], [], []
    for op in operations:
        latencies.append(reconstruct_latencies(op.requests, op.percentiles))
        ok = np.ones(op.requests, dtype=np.bool_)
        ok[rng.choice(op.requests, size=min(op.failures, op.requests), replace=False)] = False
        oks.append(ok)
        names += [op.name] * op.requests
    total = len(names)
    order = rng.permutation(total)
    latency = np.concatenate(latencies)[order] if latencies else np.empty(0)
    ok_all = np.concatenate(oks)[order] if oks else np.empty(0, dtype=np.bool_)
    ordered_names = [names[i] for i in order]
    # Send times: invert the history's cumulative count curve, scaled to the samples we have.
    start = times[0] - 1.0
    curve = np.concatenate(([0.0], cumulative))
    scale = curve[-1] / total if total and curve[-1] > 0 else 1.0
    ts = np.interp((np.arange(total) + 0.5) * scale, curve, np.concatenate(([start], times)))
    return ts.astype(np.float64), latency.astype(np.float64), ok_all, ordered_names
