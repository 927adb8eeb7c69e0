"""Read the samples a running run has flushed so far, incrementally (for live checks).

Workers append record batches to ``samples/worker-N.arrows`` about once a second (see
:mod:`scenarios.record.writer`). A live check that re-read every stream each second would
cost O(run length) per second; :class:`StreamTail` keeps a byte offset per stream and reads
only the bytes appended since the last call, one whole message at a time. A batch still
being written (torn at the end of the file) is left for the next call.

Example::

    tail = StreamTail(run_dir)
    while running:
        table = tail.read_new(columns=["ts", "ok", "kind"])   # None when nothing new
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
from pyarrow.lib import read_message, read_record_batch  # what pyarrow.ipc re-exports

from foundation.layout import RunLayout
from scenarios.record.schema import SAMPLE_SCHEMA

__all__ = ["StreamTail"]

_STREAM = re.compile(r"^worker-(\d+)\.arrows$")


class StreamTail:
    """New samples of every live worker stream of one run since the previous call.

    Streams that have been finalised into Parquet (the run is ending) are simply not read
    any more. Not thread-safe: one tail per caller.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.layout = RunLayout(run_dir)
        self._offsets: dict[Path, int] = {}
        self.rows = 0

    def read_new(self, columns: list[str] | None = None) -> pa.Table | None:
        """Complete record batches appended since the last call, or ``None``."""
        batches: list[pa.RecordBatch] = []
        folder = self.layout.samples_dir
        paths = sorted(p for p in folder.iterdir() if _STREAM.match(p.name)) \
            if folder.is_dir() else []
        for path in paths:
            batches.extend(self._read(path))
        if not batches:
            return None
        table = pa.Table.from_batches(batches, schema=SAMPLE_SCHEMA)
        self.rows += table.num_rows
        return table.select(columns) if columns else table

    def _read(self, path: Path) -> list[pa.RecordBatch]:
        offset = self._offsets.get(path, 0)
        try:
            with path.open("rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:  # finalised and removed between listing and reading
            return []
        reader = pa.BufferReader(pa.py_buffer(data))
        out: list[pa.RecordBatch] = []
        consumed = 0
        while True:
            try:
                message = read_message(reader)
            except (OSError, EOFError, pa.ArrowInvalid):
                break  # end of what is written so far (or a torn last message)
            if message.type == "record batch":
                out.append(read_record_batch(message, SAMPLE_SCHEMA))
            consumed = reader.tell()
        self._offsets[path] = offset + consumed
        return out
