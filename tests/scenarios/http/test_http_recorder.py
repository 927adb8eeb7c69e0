"""SampleRecorder: Locust request events -> run-record samples (no Locust needed here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from scenarios.http.recorder import ERROR_MAX_CHARS, SampleRecorder, short_error
from scenarios.progress import BUCKET_BOUNDS_MS, ProgressReport
from scenarios.record import SampleWriter, read_samples


@dataclass
class FakeResponse:
    status_code: int


class LocustBadStatusCode(Exception):  # same class name as Locust's, which is what matters
    pass


class CatchResponseError(Exception):
    pass


def make(tmp_path: Path) -> tuple[SampleRecorder, ProgressReport]:
    report = ProgressReport(worker=3, source="http", t=0.0)
    return SampleRecorder(SampleWriter(tmp_path, worker=3), report), report


def test_open_model_sample_keeps_both_times_and_corrects_the_live_histogram(tmp_path: Path) -> None:
    rec, report = make(tmp_path)
    rec.on_request(
        request_type="GET", name="GET /v1/runs/{id}", response_time=12.345678,
        response_length=321, response=FakeResponse(200), exception=None,
        context={"tenant": "t1", "tier": "team", "intended_ts": 1000.0}, start_time=1000.25,
        url="http://127.0.0.1/v1/runs/abc",
    )  # fmt: skip
    assert report.operations == 0 and report.latency.total == 0  # batched, not per request
    rec.close()
    (row,) = read_samples(tmp_path).to_pylist()
    assert row == {
        "ts": 1000.25, "intended_ts": 1000.0, "latency_ms": 12.345678, "kind": "http",
        "name": "GET /v1/runs/{id}", "tenant": "t1", "tier": "team", "ok": True,
        "status": 200, "error": "", "bytes": 321, "worker": 3,
    }  # fmt: skip
    # corrected = 12.35 + 250 ms late: the live p95 bucket reflects 262 ms, not 12 ms
    q = report.latency.quantile(0.5)
    corrected = 12.345678 + 250.0
    assert q is not None and corrected <= q < corrected * 1.05


def test_closed_model_without_context_is_sent_when_intended(tmp_path: Path) -> None:
    rec, report = make(tmp_path)
    rec.on_request("GET", "ping", 1.5, 4, response=FakeResponse(200), start_time=5.0)
    rec.on_request("GET", "ping", 2.5, 0, response=None, exception=OSError("reset"), start_time=6)
    rec.close()
    rows = read_samples(tmp_path).to_pylist()
    assert [r["intended_ts"] for r in rows] == [5.0, 6.0]
    assert [(r["tenant"], r["tier"]) for r in rows] == [("", ""), ("", "")]
    assert [(r["ok"], r["status"], r["error"]) for r in rows] == [
        (True, 200, ""),
        (False, 0, "OSError: reset"),
    ]
    assert (report.operations, report.errors) == (2, 1)


@pytest.mark.parametrize(
    ("exc", "status", "expected"),
    [
        pytest.param(None, 200, "", id="ok"),
        pytest.param(LocustBadStatusCode("http://x/v1/runs/abc 503"), 503, "HTTP 503", id="status"),
        pytest.param(CatchResponseError("HTTP 201 (expected [200])"), 201,
                     "HTTP 201 (expected [200])", id="catch_response"),
        pytest.param(ConnectionRefusedError(111, "refused"), 0,
                     "ConnectionRefusedError: [Errno 111] refused", id="transport"),
        pytest.param(TimeoutError(), 0, "TimeoutError", id="no_message"),
    ],
)
def test_short_error(exc: BaseException | None, status: int, expected: str) -> None:
    assert short_error(exc, status) == expected


def test_fold_bins_exactly_like_the_histogram(tmp_path: Path) -> None:
    rec, report = make(tmp_path)
    reference = ProgressReport(worker=0, source="http", t=0.0).latency
    rng = np.random.default_rng(5)
    latencies = np.concatenate([rng.lognormal(2, 2, 5000), BUCKET_BOUNDS_MS[:50], [0.0, 1e9]])
    for i, lat in enumerate(latencies):
        rec.on_request("GET", "x", float(lat), 0, response=FakeResponse(200), start_time=1.0)
        reference.add(float(lat))
        if i % 1000 == 0:
            rec.fold()  # folding in several batches adds up
    rec.close()
    assert report.latency.counts == reference.counts
    assert report.operations == len(read_samples(tmp_path)) == len(latencies)


def test_long_errors_are_trimmed() -> None:
    assert len(short_error(ValueError("x" * 1000), 0)) == ERROR_MAX_CHARS
