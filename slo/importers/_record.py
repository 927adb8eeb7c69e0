"""Write an imported result as a run record (run.json + one Parquet part), vectorised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from foundation.layout import RunInfo, RunLayout, RunStatus
from scenarios.record import SAMPLE_SCHEMA

__all__ = ["write_imported_record"]


def write_imported_record(
    out_dir: Path,
    *,
    run_id: str,
    source: Path,
    ts: npt.NDArray[np.float64],
    latency_ms: npt.NDArray[np.float64],
    ok: npt.NDArray[np.bool_],
    status: npt.NDArray[np.int32],
    kind: list[str] | npt.NDArray[Any],
    name: list[str] | npt.NDArray[Any],
    approximate: bool,
    approximate_reason: str,
    target_url: str = "",
) -> RunLayout:
    """Samples as part 0 plus a complete ``run.json`` carrying the import's provenance.

    ``intended_ts`` equals ``ts`` (imports come from closed-model tools, DESIGN.md), tenant and
    tier are empty, errors are ``"imported failure"`` for failed samples.
    """
    layout = RunLayout(out_dir)
    layout.samples_dir.mkdir(parents=True, exist_ok=True)
    n = int(ts.shape[0])
    table = pa.table(
        {
            "ts": pa.array(ts, pa.float64()),
            "intended_ts": pa.array(ts, pa.float64()),
            "latency_ms": pa.array(latency_ms, pa.float64()),
            "kind": pa.array(kind, pa.string()),
            "name": pa.array(name, pa.string()),
            "tenant": pa.array([""] * n, pa.string()),
            "tier": pa.array([""] * n, pa.string()),
            "ok": pa.array(ok, pa.bool_()),
            "status": pa.array(status, pa.int32()),
            "error": pa.array(np.where(ok, "", "imported failure"), pa.string()),
            "bytes": pa.array(np.zeros(n, dtype=np.int64), pa.int64()),
            "worker": pa.array(np.zeros(n, dtype=np.int32), pa.int32()),
        },
        schema=SAMPLE_SCHEMA,
    )
    pq.write_table(table, layout.part_path(0), compression="zstd")
    started = float(np.min(ts)) if n else 0.0
    ended = float(np.max(ts)) if n else 0.0
    info = RunInfo(
        run_id=run_id,
        target_url=target_url or "unknown (imported)",
        started_at=started,
        ended_at=ended,
        status=RunStatus.COMPLETE,
        reason=f"imported from {source}",
        approximate=approximate,
        approximate_reason=approximate_reason,
        imported_from=str(source),
    )
    layout.write_info(info)
    return layout
