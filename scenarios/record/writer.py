"""Crash-safe sample recording for one worker process.

Why an Arrow IPC stream and not Parquet while running: a Parquet file is unreadable until
its footer is written, so a killed worker would lose everything. An IPC stream is readable
up to its last complete record batch, so a crash loses at most the current chunk (at most
``chunk_rows`` rows or ``flush_interval_s`` seconds). ``close()`` then rewrites the stream as
one Parquet part per worker, the format DESIGN.md promises.

The hot path (:meth:`SampleWriter.record`) only appends to Python lists; Arrow conversion
happens once per chunk.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from foundation.layout import RunLayout
from scenarios.record.schema import SAMPLE_SCHEMA

__all__ = ["SampleColumns", "SampleRow", "SampleWriter", "finalize_stream"]

_NAMES = SAMPLE_SCHEMA.names

SampleRow = tuple[float, float, float, str, str, str, str, bool, int, str, int]
"""(ts, intended_ts, latency_ms, kind, name, tenant, tier, ok, status, error, bytes)."""


class SampleColumns:
    """Samples gathered column by column by a hot loop, for :meth:`SampleWriter.record_columns`.

    Why columns: a generator that records thousands of samples a second spends less on
    eleven ``list.append`` calls (bound once, in :attr:`appenders`) than on building a tuple
    per sample and transposing the tuples at every flush, and it leaves the garbage
    collector no new containers to track (measured for the swarm: the tuple path was about a
    third of its Python time per message). The lists are cleared, never replaced, so the
    bound appenders stay valid for the life of the object.

    Example::

        cols = SampleColumns()
        (ts, intended, latency, kind, name, tenant, tier, ok, status, error, nbytes) = cols.appenders
        ts(t0); intended(t0); latency(12.5); kind("ws_message"); ...   # one call per column
        writer.record_columns(cols)    # copies and clears
    """

    __slots__ = ("appenders", "columns")

    def __init__(self) -> None:
        self.columns: tuple[list[Any], ...] = tuple([] for _ in range(len(_NAMES) - 1))
        self.appenders: tuple[Callable[[Any], None], ...] = tuple(c.append for c in self.columns)

    def __len__(self) -> int:
        return len(self.columns[0])

    def clear(self) -> None:
        for c in self.columns:
            c.clear()


class SampleWriter:
    """Append samples for one worker; flush them in chunks to ``samples/worker-N.arrows``.

    Example::

        writer = SampleWriter(run_dir, worker=0)
        writer.record(ts=t0, intended_ts=t0, latency_ms=12.5, kind="http", name="GET /ping",
                      tenant="", tier="", ok=True, status=200, error="", nbytes=42)
        writer.close()   # -> samples/part-0.parquet

    Not thread-safe: one writer per thread or event loop.
    """

    def __init__(
        self,
        run_dir: str | Path,
        worker: int,
        *,
        chunk_rows: int = 20_000,
        flush_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.layout = RunLayout(run_dir)
        self.worker = worker
        self.chunk_rows = chunk_rows
        self.flush_interval_s = flush_interval_s
        self._clock = clock
        self._cols: list[list[object]] = [[] for _ in _NAMES]
        self._rows = 0
        self.total_rows = 0
        self._last_flush = clock()
        self.layout.samples_dir.mkdir(parents=True, exist_ok=True)
        self._sink = pa.OSFile(str(self.layout.stream_path(worker)), "wb")
        self._stream = ipc.new_stream(self._sink, SAMPLE_SCHEMA)
        self._closed = False

    def record(
        self,
        *,
        ts: float,
        intended_ts: float,
        latency_ms: float,
        kind: str,
        name: str,
        tenant: str,
        tier: str,
        ok: bool,
        status: int,
        error: str,
        nbytes: int,
    ) -> None:
        """Append one operation. Flushes when the chunk is full or older than the interval."""
        c = self._cols
        c[0].append(ts)
        c[1].append(intended_ts)
        c[2].append(latency_ms)
        c[3].append(kind)
        c[4].append(name)
        c[5].append(tenant)
        c[6].append(tier)
        c[7].append(ok)
        c[8].append(status)
        c[9].append(error)
        c[10].append(nbytes)
        c[11].append(self.worker)
        self._rows += 1
        if self._rows >= self.chunk_rows:
            self.flush()

    def record_rows(self, rows: Sequence[SampleRow]) -> None:
        """Append many samples, each a tuple in ``SAMPLE_SCHEMA`` order without ``worker``.

        For generators whose hot loop is cheaper appending one tuple per sample to a list of
        their own than calling :meth:`record` (keyword binding and twelve appends each time).
        Same flushing rule as :meth:`record`.
        """
        if not rows:
            return
        cols = self._cols
        for col, values in zip(cols, zip(*rows, strict=True), strict=False):
            col.extend(values)
        cols[11].extend(itertools.repeat(self.worker, len(rows)))
        self._rows += len(rows)
        if self._rows >= self.chunk_rows:
            self.flush()

    def record_columns(self, cols: SampleColumns) -> None:
        """Append every sample in ``cols`` (columns in ``SAMPLE_SCHEMA`` order without
        ``worker``, all of one length), then clear it. Same flushing rule as :meth:`record`."""
        n = len(cols)
        if not n:
            return
        if any(len(c) != n for c in cols.columns):
            raise ValueError("SampleColumns with columns of different lengths")
        mine = self._cols
        for col, values in zip(mine, cols.columns, strict=False):
            col.extend(values)
        mine[11].extend(itertools.repeat(self.worker, n))
        cols.clear()
        self._rows += n
        if self._rows >= self.chunk_rows:
            self.flush()

    def maybe_flush(self) -> None:
        """Flush if the oldest unflushed sample is older than the interval; call it on a timer."""
        if self._rows and self._clock() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write the pending chunk as one record batch and push it to the OS."""
        self._last_flush = self._clock()
        if not self._rows or self._closed:
            return
        batch = pa.record_batch(
            [pa.array(col, type=f.type) for col, f in zip(self._cols, SAMPLE_SCHEMA, strict=True)],
            schema=SAMPLE_SCHEMA,
        )
        self._stream.write_batch(batch)
        self._sink.flush()
        self.total_rows += self._rows
        self._cols = [[] for _ in _NAMES]
        self._rows = 0

    def close(self) -> Path:
        """Flush, end the stream and rewrite it as ``samples/part-N.parquet``."""
        if not self._closed:
            self.flush()
            self._stream.close()
            self._sink.close()
            self._closed = True
        return finalize_stream(self.layout, self.worker)


def finalize_stream(layout: RunLayout, worker: int) -> Path:
    """Rewrite a worker's IPC stream as Parquet, keeping every complete batch.

    Used by :meth:`SampleWriter.close` and by the runner for a worker that crashed (its
    stream may end in a torn batch, which is dropped). Removes the stream afterwards.
    """
    from scenarios.record.reader import read_stream  # local: reader imports schema only

    stream = layout.stream_path(worker)
    part = layout.part_path(worker)
    if not stream.exists():
        return part
    table = read_stream(stream)
    tmp = part.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(part)
    stream.unlink()
    return part
