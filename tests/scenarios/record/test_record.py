"""The run record survives crashes: whole chunks are kept, torn ones dropped, parts merged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from foundation.layout import RunInfo, RunLayout, RunStatus
from scenarios.record import SAMPLE_SCHEMA, SampleWriter, finalize_stream, read_samples


def _record(writer: SampleWriter, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        writer.record(ts=1000.0 + i, intended_ts=999.5 + i, latency_ms=float(i), kind="http",
                      name="GET /x", tenant="t1", tier="team", ok=i % 10 != 0, status=200,
                      error="", nbytes=i)


def test_close_writes_one_parquet_part_with_every_row(tmp_path: Path) -> None:
    writer = SampleWriter(tmp_path, worker=3, chunk_rows=7)
    _record(writer, 50)
    part = writer.close()
    assert part == RunLayout(tmp_path).part_path(3)
    assert not RunLayout(tmp_path).stream_path(3).exists()
    table = pq.read_table(part)
    assert table.schema.equals(SAMPLE_SCHEMA)
    assert table.column("latency_ms").to_pylist() == [float(i) for i in range(50)]
    assert set(table.column("worker").to_pylist()) == {3}


def test_unflushed_rows_are_invisible_until_a_chunk_fills(tmp_path: Path) -> None:
    writer = SampleWriter(tmp_path, worker=0, chunk_rows=10)
    _record(writer, 25)
    assert read_samples(tmp_path).num_rows == 20  # two whole chunks; 5 still in memory
    writer.flush()
    assert read_samples(tmp_path).num_rows == 25
    writer.close()


def test_maybe_flush_uses_the_injected_clock(tmp_path: Path) -> None:
    now = [0.0]
    writer = SampleWriter(tmp_path, worker=0, chunk_rows=1000, flush_interval_s=1.0,
                          clock=lambda: now[0])
    _record(writer, 3)
    writer.maybe_flush()
    assert read_samples(tmp_path).num_rows == 0
    now[0] = 1.5
    writer.maybe_flush()
    assert read_samples(tmp_path).num_rows == 3
    writer.close()


def test_torn_last_batch_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    writer = SampleWriter(tmp_path, worker=1, chunk_rows=5)
    _record(writer, 10)
    stream = RunLayout(tmp_path).stream_path(1)
    with stream.open("ab") as f:  # half a batch, as a kill mid-write leaves it
        f.write(b"\xff\xff\xff\xff\x88\x00\x00\x00garbage")
    assert read_samples(tmp_path).num_rows == 10
    finalize_stream(RunLayout(tmp_path), 1)
    assert pq.read_table(RunLayout(tmp_path).part_path(1)).num_rows == 10


def test_a_killed_writer_process_keeps_its_flushed_chunks(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal, sys
        from scenarios.record import SampleWriter
        w = SampleWriter({str(tmp_path)!r}, worker=2, chunk_rows=100)
        for i in range(1050):
            w.record(ts=1.0, intended_ts=1.0, latency_ms=1.0, kind="http", name="n",
                     tenant="", tier="", ok=True, status=200, error="", nbytes=0)
        print("ready", flush=True)
        sys.stdin.read()
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          stdin=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert read_samples(tmp_path).num_rows == 1000  # 10 whole chunks; the last 50 were in memory


def test_parts_of_several_workers_merge_exactly(tmp_path: Path) -> None:
    for worker, n in ((0, 13), (1, 29), (7, 5)):
        writer = SampleWriter(tmp_path, worker=worker, chunk_rows=4)
        _record(writer, n)
        writer.close()
    table = read_samples(tmp_path, columns=["worker", "latency_ms"])
    counts = {w: table.column("worker").to_pylist().count(w) for w in (0, 1, 7)}
    assert counts == {0: 13, 1: 29, 7: 5}
    assert table.column_names == ["worker", "latency_ms"]


def test_empty_run_reads_as_empty_table_with_schema(tmp_path: Path) -> None:
    assert read_samples(tmp_path).num_rows == 0
    assert read_samples(tmp_path, columns=["ts"]).column_names == ["ts"]


def test_run_info_round_trip(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path / "run")
    info = RunInfo(run_id="r1", target_url="http://127.0.0.1:1", started_at=5.0,
                   status=RunStatus.ABORTED, reason="Ctrl-C")
    layout.write_info(info)
    assert layout.read_info() == info
    assert not (tmp_path / "run" / "run.json.tmp").exists()


@pytest.mark.parametrize("bad", ["{", '{"run_id": 1}'])
def test_run_info_rejects_malformed_json(tmp_path: Path, bad: str) -> None:
    layout = RunLayout(tmp_path)
    layout.run_json.write_text(bad)
    with pytest.raises(ValueError):
        layout.read_info()
