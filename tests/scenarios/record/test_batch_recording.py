"""The batch paths (``record_rows``, ``record_columns``) write exactly what ``record`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.record import SampleColumns, SampleWriter, read_samples
from scenarios.record.writer import SampleRow

ROWS: list[SampleRow] = [
    (1.5, 1.25, 3.0, "ws_message", "g", "t1", "team", True, 0, "", 120),
    (2.5, 2.5, 0.0, "ws_close", "g", "t1", "team", False, 4429, "session quota exceeded", 0),
    (3.5, 3.0, 7.5, "ws_connect", "h", "", "", False, 403, "http_403", 0),
]


def test_record_rows_equals_record(tmp_path: Path) -> None:
    one, many = tmp_path / "one", tmp_path / "many"
    w = SampleWriter(one, worker=4)
    for ts, it, lat, kind, name, tenant, tier, ok, status, error, nbytes in ROWS:
        w.record(ts=ts, intended_ts=it, latency_ms=lat, kind=kind, name=name, tenant=tenant,
                 tier=tier, ok=ok, status=status, error=error, nbytes=nbytes)  # fmt: skip
    w.close()
    w = SampleWriter(many, worker=4)
    w.record_rows(ROWS[:2])
    w.record_rows([])
    w.record_rows(ROWS[2:])
    w.close()
    assert read_samples(many).to_pylist() == read_samples(one).to_pylist()
    assert [r["worker"] for r in read_samples(many).to_pylist()] == [4, 4, 4]


def test_record_rows_flushes_full_chunks(tmp_path: Path) -> None:
    w = SampleWriter(tmp_path, worker=0, chunk_rows=2)
    w.record_rows(ROWS)  # more than a chunk: flushed at once, before close
    assert w.total_rows == 3
    w.close()
    assert read_samples(tmp_path).num_rows == 3


def test_record_columns_equals_record_and_clears_the_columns(tmp_path: Path) -> None:
    one, cols_dir = tmp_path / "one", tmp_path / "cols"
    w = SampleWriter(one, worker=4)
    w.record_rows(ROWS)
    w.close()
    cols = SampleColumns()
    appenders = cols.appenders
    w = SampleWriter(cols_dir, worker=4)
    for i, row in enumerate(ROWS):
        for append, value in zip(appenders, row, strict=True):
            append(value)
        if i == 0:
            w.record_columns(cols)  # hand over mid-way: the same appenders keep working
            assert len(cols) == 0 and w.total_rows == 0  # taken, not yet flushed
    assert len(cols) == 2
    w.record_columns(cols)
    w.record_columns(cols)  # empty: nothing happens
    w.close()
    assert read_samples(cols_dir).to_pylist() == read_samples(one).to_pylist()


def test_record_columns_refuses_ragged_columns(tmp_path: Path) -> None:
    cols = SampleColumns()
    for append, value in zip(cols.appenders, ROWS[0], strict=True):
        append(value)
    cols.appenders[0](9.0)  # one ts too many
    w = SampleWriter(tmp_path, worker=0)
    with pytest.raises(ValueError, match="different lengths"):
        w.record_columns(cols)
    w.close()
    assert read_samples(tmp_path).num_rows == 0
