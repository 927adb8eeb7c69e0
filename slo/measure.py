"""Build :class:`~slo.measurements.Measurements` from a run directory (the I/O shell).

Reads only through the run record's own reader (``scenarios.record``) and only the sample
columns the objectives need (plus ``intended_ts``, for the one load start of
:mod:`slo.timeline`, and any the caller keeps for the claims), so evaluating a
10-million-sample run reads a handful of columns, not all twelve, and reads them once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

from foundation.errors import RunIncompleteError
from foundation.layout import RunInfo, RunLayout
from scenarios.record import read_samples, read_timeseries
from slo.measurements import Measurements, RunFacts, Timeseries
from slo.samples import CATEGORICAL, SampleColumns
from slo.server import ServerRecord, read_server_record
from slo.sli_kinds import traits_of
from slo.spec.model import Objective
from slo.timeline import first_send_in_table, run_timeline

__all__ = ["TIME_COLUMNS", "columns_needed", "load_measurements", "read_run_info"]

TIME_COLUMNS: Final = ("ts", "t", "time", "timestamp")
"""Names accepted for the time column of ``timeseries.parquet`` (first present wins)."""


def read_run_info(run_dir: str | Path) -> RunInfo:
    """``run.json`` of ``run_dir``; a missing or malformed one makes the run unjudgeable."""
    layout = RunLayout(run_dir)
    if not layout.run_json.exists():
        raise RunIncompleteError(
            f"{layout.run_json} does not exist: {run_dir} is not a run record "
            "(give the directory 'slogate run' wrote, or import a file with --import-*)"
        )
    try:
        return layout.read_info()
    except (OSError, ValidationError, ValueError) as exc:
        raise RunIncompleteError(f"{layout.run_json} is unreadable: {exc}") from exc


def columns_needed(objectives: Iterable[Objective]) -> list[str]:
    """Sample columns the objectives read: always ts/ok/latency_ms/kind, then those their
    ``select``/``per`` name and their kinds ask for (:attr:`slo.sli_kinds.Traits.columns`)."""
    cols = ["ts", "ok", "latency_ms", "kind"]
    for o in objectives:
        wanted = [c for c in CATEGORICAL if o.select.patterns(c) is not None]
        if o.per is not None:
            wanted.append(o.per)
        wanted += traits_of(o).columns
        cols += [c for c in wanted if c not in cols]
    return cols


def load_measurements(
    run_dir: str | Path, objectives: Iterable[Objective], info: RunInfo | None = None,
    *, keep: Iterable[str] = (),
) -> Measurements:
    """Everything the objectives need from ``run_dir``.

    ``keep``: more sample columns to read in the same pass and keep in
    ``Measurements.samples`` -- :func:`slo.evaluate_run.evaluate_run` asks for the claims'
    columns so the samples are read once for the verdict and the readiness claims.
    """
    objectives = list(objectives)
    info = info if info is not None else read_run_info(run_dir)
    columns = columns_needed(objectives)
    if info.faults and "name" not in columns:
        columns.append("name")  # the health probe's ``recovery: <fault>`` samples, by name
    columns += [c for c in keep if c not in columns]
    strings = [c for c in columns if c in CATEGORICAL]
    extra_cols = [] if "intended_ts" in columns else ["intended_ts"]  # for the load start only
    table = read_samples(run_dir, columns=columns + extra_cols, read_dictionary=strings)
    timeline = run_timeline(info, first_send_in_table(table))
    samples = SampleColumns.from_arrow(table.drop_columns(extra_cols) if extra_cols else table)
    del table  # numpy copies made; let Arrow buffers go before evaluating
    layout = RunLayout(run_dir)
    server = read_server_record(layout.server_json) if layout.server_json.exists() else None
    facts = RunFacts(
        run_id=info.run_id,
        started_at=timeline.load_start,
        ended_at=info.ended_at,
        warmup_s=info.warmup_s,
        status=str(info.status),
        approximate=info.approximate,
        approximate_reason=info.approximate_reason,
    )
    return Measurements(
        facts, samples, _timeseries(read_timeseries(run_dir)), server, _cross_check(server),
        faults=timeline.faults,
    )


def _timeseries(table: pa.Table | None) -> Timeseries | None:
    if table is None or table.num_rows == 0:
        return None
    name = next((c for c in TIME_COLUMNS if c in table.column_names), None)
    if name is None:
        return None
    t_col = table.column(name)
    if pa.types.is_timestamp(t_col.type):
        t_col = t_col.cast(pa.timestamp("us")).cast(pa.int64())
        t = np.asarray(t_col.to_numpy(), dtype=np.float64) / 1e6
    else:
        t = np.asarray(t_col.to_numpy(), dtype=np.float64)
    columns = {}
    for field in table.schema:
        if field.name == name:
            continue
        if pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
            values = table.column(field.name).to_numpy(zero_copy_only=False)
            columns[field.name] = np.asarray(values, dtype=np.float64)
    return Timeseries(t, columns)


def _cross_check(server: ServerRecord | None) -> dict[str, object]:
    if server is None:
        return {}
    return {
        "source": server.source,
        "url": server.url,
        "reconciliation": server.reconciliation,
        "quantiles": server.quantiles,
        "findings": server.findings,
    }
