"""Importers: Locust --csv (approximate) and k6 --out json (exact) into run records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import SourceError, UsageError
from scenarios.record import read_samples
from slo import EvaluateRequest, Status, evaluate_run
from slo.evaluate_run import CATALOG_DIR
from slo.importers import detect_format, import_file
from slo.importers.locust_csv import reconstruct_latencies
from slo.sli import percentiles

PCTS = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
HISTORY_HEADER = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", *PCTS,
                  "Total Request Count", "Total Failure Count", "Total Median Response Time",
                  "Total Average Response Time", "Total Min Response Time",
                  "Total Max Response Time", "Total Average Content Size"]
STATS_HEADER = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                "Average Response Time", "Min Response Time", "Max Response Time",
                "Average Content Size", "Requests/s", "Failures/s", *PCTS]
# Rounded the way Locust stores them (1 ms below 100 ms, 10 ms below 1 s).
GET_PCTS = [42, 48, 52, 55, 66, 81, 120, 170, 390, 410, 410]
POST_PCTS = [95, 110, 120, 130, 160, 190, 240, 310, 600, 620, 620]


def _csv(rows: list[list[object]]) -> str:
    return "\n".join(",".join(f'"{v}"' if isinstance(v, str) else str(v) for v in r)
                     for r in rows) + "\n"


@pytest.fixture
def locust_files(tmp_path: Path) -> Path:
    history: list[list[object]] = [list(HISTORY_HEADER)]
    total = 0
    for second in range(60):
        total = min(3000, total + 50)
        fails = total // 1000
        history.append([1_764_000_000 + second, 20, "", "Aggregated", 50.0, 0.1,
                        *GET_PCTS, total, fails, 48, 60.2, 3, 620, 512])
    (tmp_path / "run_stats_history.csv").write_text(_csv(history))
    stats: list[list[object]] = [list(STATS_HEADER),
             ["GET", "/v1/runs/{id}", 2000, 1, 48, 55.0, 3, 410, 512, 33.3, 0.0, *GET_PCTS],
             ["POST", "/v1/runs", 1000, 2, 110, 130.0, 20, 620, 700, 16.7, 0.0, *POST_PCTS],
             ["", "Aggregated", 3000, 3, 52, 80.0, 3, 620, 570, 50.0, 0.05, *GET_PCTS]]
    (tmp_path / "run_stats.csv").write_text(_csv(stats))
    return tmp_path / "run_stats_history.csv"


def test_reconstruction_reproduces_the_percentile_table() -> None:
    table = tuple(zip([50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100], GET_PCTS, strict=True))
    values = reconstruct_latencies(2000, tuple((float(p), float(v)) for p, v in table))
    assert np.all(np.diff(values) >= 0) and values.size == 2000
    for p, v in table:
        assert percentiles(values, [p])[0] == v


def test_locust_import_counts_and_percentiles(locust_files: Path, tmp_path: Path) -> None:
    assert detect_format(locust_files) == "locust"
    out = tmp_path / "imported"
    import_file(locust_files, out, "locust")
    info = json.loads((out / "run.json").read_text())
    assert info["approximate"] is True and "rounded percentiles" in info["approximate_reason"]
    samples = read_samples(out).to_pandas()
    by_name = samples.groupby("name")
    assert by_name.size().to_dict() == {"GET /v1/runs/{id}": 2000, "POST /v1/runs": 1000}
    assert (~samples["ok"]).groupby(samples["name"]).sum().to_dict() == {
        "GET /v1/runs/{id}": 1, "POST /v1/runs": 2}
    assert samples["ts"].min() >= 1_764_000_000 - 1 and samples["ts"].max() <= 1_764_000_059
    post = samples.loc[samples["name"] == "POST /v1/runs", "latency_ms"].to_numpy()
    assert percentiles(post, [95])[0] == 190  # Locust's own (rounded) p95


def test_locust_import_is_judged_and_marked_approximate(locust_files: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    import_file(locust_files, out, "locust")
    slo = tmp_path / "slo.yaml"
    slo.write_text("""\
objectives:
  - {name: post-p95, sli: latency, percentile: 95, threshold_ms: 200,
     select: {name: "POST /v1/runs"}}
  - {name: availability, sli: availability, target: 99.5}
  - {name: ttft, sli: ttft, percentile: 95, threshold_ms: 800}
""")
    outcome = evaluate_run(EvaluateRequest(out, slo))
    verdict = outcome.verdict
    assert verdict.approximate and verdict.approximate_reason
    assert verdict.objective("post-p95").value == 190 and verdict.objective("post-p95").approximate
    assert verdict.objective("availability").value == pytest.approx(100 * 2997 / 3000)
    assert verdict.objective("ttft").status is Status.INSUFFICIENT_DATA  # Locust has no WS
    assert verdict.status is Status.INSUFFICIENT_DATA and outcome.exit_code == 3


def test_locust_history_without_stats_file(locust_files: Path, tmp_path: Path) -> None:
    (locust_files.parent / "run_stats.csv").unlink()
    out = tmp_path / "imported"
    import_file(locust_files, out, "locust")
    samples = read_samples(out).to_pandas()
    assert set(samples["name"]) == {"Aggregated"} and len(samples) == 3000
    reason = json.loads((out / "run.json").read_text())["approximate_reason"]
    assert "aggregate only" in reason


def _k6_lines() -> list[str]:
    lines = [json.dumps({"type": "Metric", "metric": "http_req_duration",
                         "data": {"name": "http_req_duration", "type": "trend"}})]
    rng = np.random.default_rng(2)
    durations = rng.lognormal(3, 0.5, 500)
    for i, d in enumerate(durations):
        status = 500 if i % 100 == 0 else 200
        tags = {"method": "GET", "name": "http://127.0.0.1:8000/v1/agents", "status": str(status),
                "expected_response": "true" if status == 200 else "false"}
        stamp = f"2026-11-26T06:00:{i // 10:02d}.{(i % 10) * 100_000_000:09d}Z"
        lines.append(json.dumps({"type": "Point", "metric": "http_req_duration",
                                 "data": {"time": stamp, "value": float(d), "tags": tags}}))
        lines.append(json.dumps({"type": "Point", "metric": "http_reqs",
                                 "data": {"time": stamp, "value": 1, "tags": tags}}))
    return lines


def test_k6_import_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "k6.json"
    path.write_text("\n".join(_k6_lines()) + "\n")
    assert detect_format(path) == "k6"
    out = tmp_path / "imported"
    import_file(path, out, "k6")
    samples = read_samples(out).to_pandas()
    durations = np.random.default_rng(2).lognormal(3, 0.5, 500)
    assert len(samples) == 500
    assert np.allclose(np.sort(samples["latency_ms"]), np.sort(durations))
    assert int((~samples["ok"]).sum()) == 5 and set(samples["status"]) == {200, 500}
    assert set(samples["name"]) == {"GET http://127.0.0.1:8000/v1/agents"}
    info = json.loads((out / "run.json").read_text())
    assert info["approximate"] is False
    outcome = evaluate_run(EvaluateRequest(out, CATALOG_DIR / "http.yaml"))
    p95 = outcome.verdict.objective("http-p95")
    assert p95.value == pytest.approx(np.quantile(durations, 0.95, method="inverted_cdf"))
    assert outcome.verdict.objective("http-availability").value == pytest.approx(99.0)


@pytest.mark.parametrize(
    ("content", "error"),
    [pytest.param("hello\n", UsageError, id="unknown_format"),
     pytest.param('{"type": "Metric", "metric": "vus"}\n', SourceError, id="k6_without_points")],
)
def test_bad_import_files(tmp_path: Path, content: str, error: type[Exception]) -> None:
    path = tmp_path / "result.json"
    path.write_text(content)
    with pytest.raises(error):
        import_file(path, tmp_path / "out", detect_format(path))
