"""StreamTail reads only what was appended since the last call, and never a torn batch."""

from __future__ import annotations

from pathlib import Path

from foundation.layout import RunLayout
from scenarios.record import SampleWriter, StreamTail


def _record(writer: SampleWriter, ts: float) -> None:
    writer.record(ts=ts, intended_ts=ts, latency_ms=1.0, kind="http", name="GET /x", tenant="",
                  tier="", ok=True, status=200, error="", nbytes=0)


def test_reads_each_flushed_batch_once(tmp_path: Path) -> None:
    tail = StreamTail(tmp_path)
    assert tail.read_new() is None  # no samples directory yet
    a, b = SampleWriter(tmp_path, 0), SampleWriter(tmp_path, 1)
    for i in range(3):
        _record(a, float(i))
    a.flush()
    first = tail.read_new(["ts"])
    assert first is not None and first.column("ts").to_pylist() == [0.0, 1.0, 2.0]
    assert tail.read_new() is None  # nothing new
    _record(a, 3.0)
    _record(b, 10.0)
    a.flush()
    b.flush()
    second = tail.read_new(["ts"])
    assert second is not None and sorted(second.column("ts").to_pylist()) == [3.0, 10.0]
    assert tail.rows == 5
    a.close()
    b.close()
    assert tail.read_new() is None  # finalised into Parquet: the live streams are gone


def test_a_torn_batch_waits_for_the_next_call(tmp_path: Path) -> None:
    writer = SampleWriter(tmp_path, 0)
    for i in range(4):
        _record(writer, float(i))
    writer.flush()
    stream = RunLayout(tmp_path).stream_path(0)
    whole = stream.read_bytes()
    writer.flush()
    tail = StreamTail(tmp_path)
    _record(writer, 9.0)
    writer.flush()
    full = stream.read_bytes()
    stream.write_bytes(full[: len(whole) + 40])  # the second batch only partly written
    got = tail.read_new(["ts"])
    assert got is not None and got.num_rows == 4
    stream.write_bytes(full)  # the rest arrives
    later = tail.read_new(["ts"])
    assert later is not None and later.column("ts").to_pylist() == [9.0]
    writer.close()
