"""Helpers to build real run records (run.json + Parquet samples) for SLO tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from foundation.layout import RunInfo, RunLayout, RunStatus
from scenarios.record import SAMPLE_SCHEMA

T0 = 1_764_000_000.0


def samples_table(n: int, **columns: Any) -> pa.Table:
    """A samples table of ``n`` rows; unspecified columns get neutral defaults."""
    defaults: dict[str, Any] = {
        "ts": T0 + np.linspace(0, 60, n, endpoint=False),
        "latency_ms": np.full(n, 10.0),
        "kind": ["http"] * n,
        "name": ["GET /x"] * n,
        "tenant": [""] * n,
        "tier": [""] * n,
        "ok": np.ones(n, dtype=bool),
        "status": np.full(n, 200, dtype=np.int32),
        "error": [""] * n,
        "bytes": np.zeros(n, dtype=np.int64),
        "worker": np.zeros(n, dtype=np.int32),
    }
    defaults.update(columns)
    if "intended_ts" not in defaults:
        defaults["intended_ts"] = defaults["ts"]
    arrays = [pa.array(defaults[f.name], type=f.type) for f in SAMPLE_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SAMPLE_SCHEMA)


def write_run(
    run_dir: Path,
    tables: list[pa.Table],
    *,
    status: RunStatus = RunStatus.COMPLETE,
    warmup_s: float = 0.0,
    duration_s: float = 60.0,
    **info: Any,
) -> Path:
    layout = RunLayout(run_dir)
    layout.samples_dir.mkdir(parents=True, exist_ok=True)
    for worker, table in enumerate(tables):
        pq.write_table(table, layout.part_path(worker))
    layout.write_info(
        RunInfo(
            run_id=info.pop("run_id", "test-run"), target_url="http://127.0.0.1:1",
            started_at=T0, ended_at=T0 + duration_s, status=status, warmup_s=warmup_s, **info,
        )
    )
    return run_dir


@pytest.fixture
def make_run(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(tables: list[pa.Table], **kwargs: Any) -> Path:
        return write_run(tmp_path / f"run{next(counter)}", tables, **kwargs)

    return make
