"""Sample chunks between hosts: tail a worker's Arrow stream, ship it, correct and store it.

A worker host records samples exactly as a local run does (each process writes
``samples/worker-N.arrows`` in a scratch directory, flushed every second). The
:class:`StreamTailer` picks up every *complete* record batch appended since it last looked
(a torn tail waits for the next look), and falls back to the finished Parquet part when the
process has closed its stream, so nothing written is ever skipped. Batches travel as a
self-contained Arrow IPC stream (:func:`encode_chunk`, LZ4-compressed); the master
:class:`HostSink` shifts ``ts`` and ``intended_ts`` onto its own clock and appends them to
one ``samples/worker-N.arrows`` per worker host, flushed per chunk, so a master or worker
that dies loses at most the chunk in flight.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from foundation.layout import RunLayout
from scenarios.record import SAMPLE_SCHEMA

__all__ = ["HostSink", "StreamTailer", "decode_chunk", "encode_chunk", "shift_times"]

_TIME_COLUMNS = ("ts", "intended_ts")
_OPTIONS = ipc.IpcWriteOptions(compression="lz4")  # type: ignore[attr-defined]


def shift_times(batch: pa.RecordBatch, delta_s: float) -> pa.RecordBatch:
    """``batch`` with ``delta_s`` added to its ``ts`` and ``intended_ts`` columns."""
    if delta_s == 0.0:
        return batch
    columns = list(batch.columns)
    for name in _TIME_COLUMNS:
        i = batch.schema.get_field_index(name)
        columns[i] = pc.add(columns[i], pa.scalar(delta_s, pa.float64()))  # type: ignore[attr-defined]
    return pa.record_batch(columns, schema=batch.schema)


def encode_chunk(batches: list[pa.RecordBatch]) -> bytes:
    """Batches as one self-contained, LZ4-compressed Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, SAMPLE_SCHEMA, options=_OPTIONS) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return bytes(sink.getvalue())


def decode_chunk(data: bytes) -> list[pa.RecordBatch]:
    """The batches of one chunk; raises ``ValueError`` for bytes that are not a sample chunk."""
    try:
        reader = ipc.open_stream(pa.py_buffer(data))
        if not reader.schema.equals(SAMPLE_SCHEMA):
            raise ValueError(f"chunk schema differs from the sample schema: {reader.schema}")
        return list(reader)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"not an Arrow sample chunk: {exc}") from exc


class StreamTailer:
    """New complete batches of one local worker's sample stream, each time it is asked.

    Example::

        tail = StreamTailer(RunLayout(scratch), worker=3)
        while running:
            ship(tail.read_new()); sleep(0.5)
        ship(tail.read_new())   # after the process ended: the rest, from its Parquet part
    """

    def __init__(self, layout: RunLayout, worker: int) -> None:
        self.stream_path = layout.stream_path(worker)
        self.part_path = layout.part_path(worker)
        self.rows_read = 0
        self._offset = 0  # bytes of the stream consumed as whole messages
        self._pending = b""
        self._schema: pa.Schema | None = None
        self._finished = False

    def read_new(self) -> list[pa.RecordBatch]:
        """Batches appended since the last call (empty when there is nothing new)."""
        if self._finished:
            return []
        batches = self._read_stream()
        if not self.stream_path.exists() and self.part_path.exists():
            batches.extend(self._read_part_rest())
            self._finished = True
        return batches

    def _read_stream(self) -> list[pa.RecordBatch]:
        try:
            with open(self.stream_path, "rb") as f:
                f.seek(self._offset + len(self._pending))
                self._pending += f.read()
        except FileNotFoundError:
            return []
        out: list[pa.RecordBatch] = []
        reader = pa.BufferReader(pa.py_buffer(self._pending))
        used = 0
        while True:
            try:
                message = ipc.read_message(reader)  # type: ignore[attr-defined]
            except (EOFError, OSError, pa.ArrowInvalid):
                break  # end of what is written so far, or a batch still being written
            used = reader.tell()
            if message.type == "schema":
                self._schema = ipc.read_schema(message)  # type: ignore[attr-defined]
            elif message.type == "record batch" and self._schema is not None:
                batch = ipc.read_record_batch(message, self._schema)  # type: ignore[attr-defined]
                self.rows_read += batch.num_rows
                out.append(batch)
        self._offset += used
        self._pending = self._pending[used:]
        return out

    def _read_part_rest(self) -> list[pa.RecordBatch]:
        """The rows of the finished part that the stream had not shown us yet."""
        with pq.ParquetFile(self.part_path) as f:
            table = f.read()
        rest = table.slice(self.rows_read).cast(SAMPLE_SCHEMA)
        self.rows_read += rest.num_rows
        batches: list[pa.RecordBatch] = rest.combine_chunks().to_batches()
        return batches


class HostSink:
    """The master's copy of one worker host's samples: ``samples/worker-N.arrows``.

    ``N`` is the host's first worker number, so the run record has one part per worker
    host; each row keeps the ``worker`` number of the process that recorded it.
    """

    def __init__(self, layout: RunLayout, part: int, clock_offset_s: float) -> None:
        layout.samples_dir.mkdir(parents=True, exist_ok=True)
        self.path = layout.stream_path(part)
        self.correction_s = -clock_offset_s  # worker clock -> master clock
        self.rows = 0
        self.chunks = 0
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer = ipc.new_stream(self._sink, SAMPLE_SCHEMA)
        self._closed = False

    def write(self, data: bytes) -> int:
        """Store one chunk on the master's clock; returns its rows. Raises ``ValueError``."""
        batches = decode_chunk(data)
        for batch in batches:
            self._writer.write_batch(shift_times(batch, self.correction_s))
            self.rows += batch.num_rows
        self._sink.flush()
        self.chunks += 1
        return sum(b.num_rows for b in batches)

    def close(self) -> Path:
        if not self._closed:
            self._writer.close()
            self._sink.close()
            self._closed = True
        return self.path
