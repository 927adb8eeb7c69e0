"""Judging run directories: verdict.json format, run status, SLO file choice, import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import EXIT_GATE_FAILED, EXIT_INCOMPLETE, EXIT_OK, ConfigError, RunIncompleteError
from foundation.layout import RunLayout, RunStatus
from scenarios.record import SampleWriter
from slo import EvaluateRequest, Status, evaluate_run, read_verdict
from slo.evaluate_run import DEFAULT_SLO
from slo.verdict import verdict_from_dict, verdict_to_dict
from tests.slo.conftest import T0, samples_table

ISSUE_SLO = """\
objectives:
  - name: availability
    sli: availability
    target: 99.9
    window: 30d
  - name: p95-latency
    sli: latency
    percentile: 95
    threshold_ms: 500
    select: {kind: http}
"""

MakeRun = Callable[..., Path]


@pytest.fixture
def slo_file(tmp_path: Path) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(ISSUE_SLO)
    return path


def test_verdict_json_has_the_documented_fields(make_run: MakeRun, slo_file: Path) -> None:
    ok = np.ones(5000, dtype=bool)
    ok[:2] = False
    run = make_run([samples_table(5000, ok=ok, latency_ms=np.linspace(1, 600, 5000))])
    outcome = evaluate_run(EvaluateRequest(run, slo_file))
    data = json.loads((run / "verdict.json").read_text())
    assert data["schema_version"] == 2
    assert data["faults"] == [] and data["abort"] is None
    assert data["status"] == "fail" and outcome.exit_code == EXIT_GATE_FAILED
    assert data["cross_check"] == {}
    availability, latency = data["objectives"]
    for o in (availability, latency):
        assert {"name", "status", "value", "threshold", "events"} <= set(o)
    assert availability["status"] == "pass" and availability["events"] == 5000
    assert availability["burn_rate"] == pytest.approx((2 / 5000) / 0.001)
    assert 0 <= availability["budget_consumed"] <= 1
    assert availability["budget_consumed"] == pytest.approx(0.4 * 60 / (30 * 86400))
    assert latency["status"] == "fail" and latency["threshold"] == 500
    assert latency["value"] == pytest.approx(np.sort(np.linspace(1, 600, 5000))[4749])
    assert latency["burn_rate"] is None


def test_verdict_round_trips(make_run: MakeRun, slo_file: Path) -> None:
    run = make_run([samples_table(3000, tier=["a", "b", "c"] * 1000)])
    text = ISSUE_SLO + "  - {name: per, sli: latency, percentile: 50, threshold_ms: 9, per: tier}\n"
    slo_file.write_text(text)
    outcome = evaluate_run(EvaluateRequest(run, slo_file))
    again = read_verdict(outcome.verdict_path)
    assert again == outcome.verdict
    assert verdict_to_dict(again) == json.loads(outcome.verdict_path.read_text())


def test_unknown_verdict_schema_is_rejected_by_name() -> None:
    with pytest.raises(ConfigError, match="schema_version 99 is not supported") as info:
        verdict_from_dict({"schema_version": 99, "status": "pass", "objectives": []})
    assert info.value.field == "schema_version"


def test_version_1_verdict_is_still_read() -> None:
    """Files written before faults existed migrate to v2: no faults, no early stop."""
    old = verdict_from_dict({"schema_version": 1, "status": "pass", "objectives": []})
    assert old.schema_version == 2 and old.faults == () and old.abort is None


@pytest.mark.parametrize("status", [RunStatus.ABORTED, RunStatus.FAILED, RunStatus.RUNNING])
def test_incomplete_run_is_unjudgeable(make_run: MakeRun, slo_file: Path, status: RunStatus) -> None:
    run = make_run([samples_table(500)], status=status, reason="worker 2 crashed")
    with pytest.raises(RunIncompleteError, match="worker 2 crashed") as info:
        evaluate_run(EvaluateRequest(run, slo_file))
    assert info.value.exit_code == EXIT_INCOMPLETE
    assert not (run / "verdict.json").exists()


def test_incomplete_run_judged_on_request_never_exits_zero(
    make_run: MakeRun, slo_file: Path
) -> None:
    run = make_run([samples_table(2000)], status=RunStatus.ABORTED)
    outcome = evaluate_run(EvaluateRequest(run, slo_file, allow_incomplete=True))
    assert outcome.verdict.status is Status.PASS and outcome.verdict.run_status == "aborted"
    assert outcome.exit_code == EXIT_INCOMPLETE


def test_no_samples_is_unjudgeable(make_run: MakeRun, slo_file: Path) -> None:
    run = make_run([])
    with pytest.raises(RunIncompleteError, match="no samples"):
        evaluate_run(EvaluateRequest(run, slo_file))


def test_not_a_run_directory(tmp_path: Path, slo_file: Path) -> None:
    with pytest.raises(RunIncompleteError, match="not a run record"):
        evaluate_run(EvaluateRequest(tmp_path, slo_file))


def test_slo_file_defaults_to_run_json_then_catalog(
    make_run: MakeRun, slo_file: Path, tmp_path: Path
) -> None:
    run = make_run([samples_table(2000)], slo_path=str(slo_file))
    assert evaluate_run(EvaluateRequest(run)).slo_path == slo_file
    bare = make_run([samples_table(2000)])
    outcome = evaluate_run(EvaluateRequest(bare))
    assert outcome.slo_path == DEFAULT_SLO and outcome.verdict.slo_name == "default"
    missing = make_run([samples_table(10)], slo_path=str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match="pass --slo FILE"):
        evaluate_run(EvaluateRequest(missing))


def test_crashed_worker_stream_is_judged_with_the_parts(tmp_path: Path, slo_file: Path) -> None:
    """A worker killed before finalising leaves an Arrow stream; its samples still count."""
    from tests.slo.conftest import write_run

    run = write_run(tmp_path / "r", [samples_table(1000)])
    writer = SampleWriter(run, worker=7, chunk_rows=100)
    for i in range(250):
        writer.record(ts=T0 + 1 + i * 0.01, intended_ts=T0 + 1 + i * 0.01, latency_ms=20.0,
                      kind="http", name="GET /x", tenant="", tier="", ok=True, status=200,
                      error="", nbytes=0)
    writer.flush()  # no close(): the stream stays, like a SIGKILLed worker
    assert RunLayout(run).stream_path(7).exists()
    outcome = evaluate_run(EvaluateRequest(run, slo_file))
    assert outcome.verdict.objective("availability").events == 1250
    assert outcome.exit_code == EXIT_OK


def test_slo_room_imports_without_locust() -> None:
    code = (
        "import sys, slo, slo.evaluate_run, slo.importers, slo.sources, slogate.commands.evaluate;"
        "assert 'locust' not in sys.modules and 'gevent' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                   cwd=Path(__file__).resolve().parents[2])


def test_timeseries_file_feeds_resource_objectives(make_run: MakeRun, tmp_path: Path) -> None:
    """The runner's timeseries.parquet columns (int64 RSS with nulls where unknown)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    run = make_run([samples_table(10)], warmup_s=10.0, duration_s=120.0)
    ts = T0 + np.arange(120, dtype=np.float64)
    rss = [None if i % 17 == 0 else int(200e6 + i * 10_000) for i in range(120)]  # 0.6 MB/min
    cpu = [None if i < 3 else 50.0 + (i % 5) for i in range(120)]
    pq.write_table(pa.table({"ts": ts, "target_rss_bytes": pa.array(rss, pa.int64()),
                             "target_cpu_percent": pa.array(cpu, pa.float64())}),
                   RunLayout(run).timeseries)
    slo = tmp_path / "res.yaml"
    slo.write_text("""\
objectives:
  - {name: leak, sli: memory_slope, threshold_mb_per_min: 1}
  - {name: cpu, sli: cpu, min_percent: 45, max_percent: 60}
""")
    verdict = evaluate_run(EvaluateRequest(run, slo)).verdict
    leak, cpu_result = verdict.objectives
    assert leak.value == pytest.approx(10_000 * 60 / 1e6) and leak.status is Status.PASS
    kept = [i for i in range(10, 120) if i % 17]
    assert leak.events == len(kept)
    assert cpu_result.value == pytest.approx(np.mean([50.0 + (i % 5) for i in range(10, 120)]))


def test_run_stopped_by_abort_on_is_judged_as_a_failed_gate(make_run: MakeRun,
                                                            slo_file: Path) -> None:
    """No --allow-incomplete needed: the stop was a judgement. Exit 1, and the verdict says
    which objective burned how fast (read back from run.json's stopped_early)."""
    reason = ("abort_on: objective 'availability' burned its error budget at 50.0x over the "
              "last 60 s (50 of 100 sends bad), at or above 14.4x")
    run = make_run([samples_table(500)], status=RunStatus.ABORTED, reason=reason,
                   stopped_early={"at": 1_764_000_030.0, "reason": reason})
    outcome = evaluate_run(EvaluateRequest(run, slo_file))
    assert outcome.exit_code == EXIT_GATE_FAILED and outcome.verdict.status.value == "fail"
    abort = outcome.verdict.abort
    assert abort is not None and (abort.objective, abort.burn_rate, abort.threshold,
                                  abort.window_s) == ("availability", 50.0, 14.4, 60.0)
    assert read_verdict(outcome.verdict_path).abort == abort


def test_judging_a_run_writes_readiness_json_beside_the_verdict(make_run: MakeRun, slo_file: Path) -> None:
    from slo.claims import assess, gather_evidence, read_readiness

    run = make_run([samples_table(5000, latency_ms=np.linspace(1, 600, 5000))])
    outcome = evaluate_run(EvaluateRequest(run, slo_file))
    data = json.loads((run / "readiness.json").read_text())
    assert data["schema_version"] == 1 and len(data["claims"]) == 13
    # the verdict failed (latency), so the readiness is NO-GO and says why
    assert data["go"] is False and "SLO gate failed" in data["sentence"]
    assert outcome.readiness is not None
    assert read_readiness(run).readiness == outcome.readiness.readiness == assess(gather_evidence(run))


def test_judging_a_run_reads_its_samples_once(
    make_run: MakeRun, slo_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verdict and the readiness claims share one read of the samples (a 10-million-sample
    run paid for two: BENCHMARKS.md, "Evaluate"). The real reader is wrapped to count calls."""
    import scenarios.record
    import slo.claims.gather
    import slo.measure
    from slo.claims import assess, gather_evidence

    run = make_run([samples_table(2000, tier=["team"] * 1000 + ["starter"] * 1000,
                                  ok=np.arange(2000) % 50 != 0)])
    calls: list[list[str] | None] = []

    def counted(run_dir: object, columns: list[str] | None = None, **kw: object) -> object:
        calls.append(columns)
        return scenarios.record.read_samples(run_dir, columns=columns, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(slo.measure, "read_samples", counted)
    monkeypatch.setattr(slo.claims.gather, "read_samples", counted)
    outcome = evaluate_run(EvaluateRequest(run, slo_file))
    assert len(calls) == 1 and set(slo.claims.gather.CLAIM_COLUMNS) <= set(calls[0] or [])
    monkeypatch.undo()
    assert outcome.readiness is not None
    assert outcome.readiness.readiness == assess(gather_evidence(run))  # read alone, same claims


def test_claims_refuse_handed_samples_without_their_columns(make_run: MakeRun) -> None:
    from slo.claims import gather_evidence
    from slo.samples import SampleColumns

    run = make_run([samples_table(10)])
    thin = SampleColumns.from_arrow(samples_table(10).select(["ts", "ok", "latency_ms"]))
    with pytest.raises(ValueError, match=r"lack the columns.*'intended_ts'"):
        gather_evidence(run, samples=thin)
