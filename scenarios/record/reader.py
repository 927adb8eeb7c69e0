"""Read a run record's samples and timeseries, whatever state its writers left it in."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from foundation.layout import RunLayout
from scenarios.record.schema import SAMPLE_SCHEMA

__all__ = ["read_samples", "read_stream", "read_timeseries"]

_PART = re.compile(r"^(part|worker)-(\d+)\.(parquet|arrows)$")


def read_stream(path: str | Path) -> pa.Table:
    """Every complete record batch of an Arrow IPC stream; a torn last batch is dropped."""
    batches: list[pa.RecordBatch] = []
    try:
        with pa.OSFile(str(path), "rb") as source:
            reader = ipc.open_stream(source)
            while True:
                try:
                    batches.append(reader.read_next_batch())
                except StopIteration:
                    break
    except (pa.ArrowInvalid, OSError, EOFError):
        # A worker killed mid-write leaves a torn batch (or an empty file): keep what is whole.
        pass
    return pa.Table.from_batches(batches, schema=SAMPLE_SCHEMA)


def read_samples(
    run_dir: str | Path,
    columns: list[str] | None = None,
    read_dictionary: list[str] | None = None,
) -> pa.Table:
    """All samples of a run: finished Parquet parts plus any live stream a crash left behind.

    A worker with both a part and a stream (crash during finalisation) is read from the part.
    ``read_dictionary`` names string columns to return dictionary-encoded (Parquet stores
    them so; decoding to strings and re-encoding costs seconds on 10 million rows).
    """
    layout = RunLayout(run_dir)
    parts: dict[int, Path] = {}
    streams: dict[int, Path] = {}
    if layout.samples_dir.is_dir():
        for path in sorted(layout.samples_dir.iterdir()):
            m = _PART.match(path.name)
            if m is None:
                continue
            (parts if m.group(3) == "parquet" else streams)[int(m.group(2))] = path
    tables = [_read_parquet(p, columns=columns, read_dictionary=read_dictionary) for p in parts.values()]
    for worker, path in streams.items():
        if worker not in parts:
            table = read_stream(path)
            table = table.select(columns) if columns else table
            for name in read_dictionary or ():
                if name in table.column_names:
                    i = table.column_names.index(name)
                    encoded = table.column(i).dictionary_encode()
                    field = pa.field(name, encoded.type, nullable=table.field(i).nullable)
                    table = table.set_column(i, field, encoded)
            tables.append(table)
    if not tables:
        schema = pa.schema([SAMPLE_SCHEMA.field(c) for c in columns]) if columns else SAMPLE_SCHEMA
        return schema.empty_table()
    return pa.concat_tables(tables)


def read_timeseries(run_dir: str | Path) -> pa.Table | None:
    """The 1 s timeseries, or ``None`` when the run recorded none."""
    path = RunLayout(run_dir).timeseries
    return _read_parquet(path) if path.exists() else None


def _read_parquet(
    path: Path, columns: list[str] | None = None, read_dictionary: list[str] | None = None
) -> pa.Table:
    """One Parquet file. ``ParquetFile.read`` rather than ``pq.read_table``: the latter goes
    through ``pyarrow.dataset``, whose import pulls in pandas (~0.5 s of CPU per process)."""
    with pq.ParquetFile(path, read_dictionary=read_dictionary) as f:
        return f.read(columns=columns)
