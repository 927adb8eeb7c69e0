# ruff: noqa: E501  (golden table and exposition text are kept verbatim)
"""``slogate evaluate``: exit codes, the printed table (golden), JSON output, imports."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from slo import read_verdict
from slogate.cli import main
from slogate.commands.evaluate import render_table
from tests.slo.conftest import samples_table, write_run

SLO = """\
objectives:
  - name: availability
    sli: availability
    target: 99.9
    window: 30d
  - name: p95-latency
    sli: latency
    percentile: 95
    threshold_ms: 500
    warn_ms: {warn}
    select: {{kind: http}}
  - name: p95-per-tier
    sli: latency
    percentile: 95
    threshold_ms: 500
    per: tier
"""


def _run(tmp_path: Path, latency: float = 100.0, bad: int = 0, **kwargs: Any) -> Path:
    n = 3000
    ok = np.ones(n, dtype=bool)
    ok[:bad] = False
    tiers = ["team", "starter", "enterprise"] * (n // 3)
    lat = np.full(n, latency) + np.arange(n) % 10
    return write_run(tmp_path / "run", [samples_table(n, ok=ok, tier=tiers, latency_ms=lat)],
                     **kwargs)


def _slo(tmp_path: Path, warn: float = 400) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(SLO.format(warn=warn))
    return path


def test_pass_exits_0_and_writes_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(tmp_path)
    assert main(["evaluate", str(run), "--slo", str(_slo(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "exit 0" in out and str(run / "verdict.json") in out
    assert read_verdict(run / "verdict.json").status.value == "pass"


def test_warn_exits_0_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(tmp_path)
    assert main(["evaluate", str(run), "--slo", str(_slo(tmp_path, warn=50))]) == 0
    out = capsys.readouterr().out
    assert "WARN" in out and "the gate still passes" in out


def test_fail_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(tmp_path, bad=10)
    assert main(["evaluate", str(run), "--slo", str(_slo(tmp_path))]) == 1
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--slo", "{bad}"], "bad.yaml:3: objectives[0].sli", id="bad_slo_file"),
        pytest.param(["--slo", "{missing}"], "cannot read SLO file", id="missing_slo_file"),
        pytest.param(["--prometheus", "local"], "--prometheus local", id="prometheus_local"),
        pytest.param(["--prometheus", "9090"], "takes a URL", id="prometheus_not_url"),
        pytest.param(["--bogus"], "unrecognized arguments", id="unknown_flag"),
    ],
)
def test_usage_and_slo_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    run = _run(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("objectives:\n  - name: x\n    sli: nope\n")
    args = [a.format(bad=bad, missing=tmp_path / "missing.yaml") for a in args]
    assert main(["evaluate", str(run), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3


def test_aborted_run_exits_3_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from foundation.layout import RunStatus

    run = _run(tmp_path, status=RunStatus.ABORTED, reason="Ctrl-C")
    assert main(["evaluate", str(run), "--slo", str(_slo(tmp_path))]) == 3
    err = capsys.readouterr().err
    assert "status 'aborted' (Ctrl-C)" in err and "--allow-incomplete" in err
    assert len(err.strip().splitlines()) == 1


def test_not_enough_data_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", [samples_table(50)])
    assert main(["evaluate", str(run), "--slo", str(_slo(tmp_path))]) == 3
    assert "NO DATA" in capsys.readouterr().out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(tmp_path)
    assert main(["evaluate", str(run), "--slo", str(_slo(tmp_path)), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 2 and data["status"] == "pass"
    assert [o["name"] for o in data["objectives"]] == ["availability", "p95-latency", "p95-per-tier"]


def test_default_slo_is_the_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(tmp_path)
    main(["evaluate", str(run)])
    assert "slo/catalog/default.yaml" in capsys.readouterr().out.replace("\n", "")


def test_import_is_detected_from_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = []
    for i in range(200):
        tags = {"method": "GET", "name": "/x", "status": "200", "expected_response": "true"}
        lines.append(json.dumps({"type": "Point", "metric": "http_req_duration", "data": {
            "time": f"2026-11-26T06:00:{i // 10:02d}.{i % 10}00Z", "value": 12.5, "tags": tags}}))
    result = tmp_path / "k6.json"
    result.write_text("\n".join(lines))
    assert main(["evaluate", str(result)]) == 0
    captured = capsys.readouterr()
    assert "imported k6 result" in captured.err
    assert (tmp_path / "k6.json.run" / "verdict.json").exists()
    assert "http.yaml" in captured.out.replace("\n", "")


GOLDEN = """\
SLO verdict: slo
┏━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ objective         ┃ statistic    ┃    value ┃ threshold            ┃ events ┃ status ┃ budget / note                          ┃
┡━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ availability      │ availability │ 99.933 % │ >= 99.9 %            │  3,000 │ PASS   │ burn 0.67x, 0.0015 % of the 30d budget │
│ p95-latency       │ p95          │ 109.0 ms │ <= 500 ms (warn 400) │  3,000 │ PASS   │                                        │
│ p95-per-tier      │ p95          │ 109.0 ms │ <= 500 ms            │  3,000 │ PASS   │                                        │
│   tier=team       │              │ 109.0 ms │                      │  1,000 │ PASS   │                                        │
│   tier=starter    │              │ 109.0 ms │                      │  1,000 │ PASS   │                                        │
│   tier=enterprise │              │ 109.0 ms │                      │  1,000 │ PASS   │                                        │
└───────────────────┴──────────────┴──────────┴──────────────────────┴────────┴────────┴────────────────────────────────────────┘
"""


def test_table_golden(tmp_path: Path) -> None:
    from slo import EvaluateRequest, evaluate_run

    run = _run(tmp_path, bad=2)
    verdict = evaluate_run(EvaluateRequest(run, _slo(tmp_path))).verdict
    buffer = io.StringIO()
    Console(file=buffer, width=140, color_system=None, force_terminal=False).print(
        render_table(verdict)
    )
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    assert text == GOLDEN


def test_faults_are_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run with a fault in run.json: the terminal shows "recovered in X s" and the budget."""
    from foundation.layout import RunLayout

    run = _run(tmp_path)
    layout = RunLayout(run)
    info = layout.read_info()
    info = info.with_facts(faults=[{"index": 0, "name": "kill #1", "action": "kill",
                                    "started_at": info.started_at + 5,
                                    "ended_at": info.started_at + 5, "status": "done"}])
    layout.write_info(info)
    main(["evaluate", str(run), "--slo", str(_slo(tmp_path))])
    out = capsys.readouterr().out
    assert "Faults and recovery" in out and "kill #1" in out and "recovered in 0.0 s" in out
