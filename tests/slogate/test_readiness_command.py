"""``slogate readiness``: slo judges the claims once into readiness.json; reports only read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foundation.layout import RunLayout
from reports.render import render_all
from slo.claims import assess, gather_evidence, read_readiness
from slogate.cli import main
from tests.reports.builders import build_run


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.mktemp("mixed") / "run", "mixed")


def test_readiness_json_is_what_the_claims_decide_and_what_the_report_shows(
    mixed: Path, tmp_path: Path
) -> None:
    written = json.loads(RunLayout(mixed).readiness_json.read_text())
    expected = assess(gather_evidence(mixed))  # judged again, independently of the file
    assert written["schema_version"] == 1
    assert (written["decision"], written["score"]) == (expected.decision, expected.score)
    assert [c["status"] for c in written["claims"]] == [c.status.value for c in expected.claims]
    assert written["decision"] == "NO-GO" and len(written["claims"]) == 13
    report = json.loads(render_all(mixed, formats=["json"], out_dir=tmp_path)["json"].read_text())
    for key in ("decision", "go", "score", "earned", "total", "sentence"):
        assert report["readiness"][key] == written[key], key
    assert report["risks"] == written["risks"]
    assert report["capacity"] == written["capacity"]


def test_readiness_is_read_back_exactly(mixed: Path) -> None:
    record = read_readiness(mixed)
    assert record.readiness == assess(gather_evidence(mixed))


def test_exit_codes_go_no_go_and_cannot_judge(mixed: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["readiness", str(mixed)]) == 1  # NO-GO
    assert "NO-GO" in capsys.readouterr().out
    # a GO on file is a GO: the command gates on readiness.json without re-judging or rendering
    go = tmp_path / "go"
    go.mkdir()
    for name in ("run.json", "verdict.json", "readiness.json"):
        (go / name).write_bytes((mixed / name).read_bytes())
    data = json.loads((go / "readiness.json").read_text())
    (go / "readiness.json").write_text(json.dumps({**data, "go": True, "decision": "GO"}))
    assert main(["readiness", str(go), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decision"] == "GO"
    assert not list(go.glob("report.*"))
    # a complete run never evaluated cannot be judged
    (go / "verdict.json").unlink()
    (go / "readiness.json").unlink()
    assert main(["readiness", str(go)]) == 3
    assert "slogate evaluate" in capsys.readouterr().err
    # a broken readiness.json cannot be read: exit 3, naming the file
    (go / "readiness.json").write_text("{")
    assert main(["readiness", str(go)]) == 3
    assert "readiness.json" in capsys.readouterr().err
    assert main(["readiness", str(tmp_path / "missing")]) == 3


def test_a_record_without_readiness_json_is_judged_and_written(tmp_path: Path) -> None:
    run = build_run(tmp_path / "aborted", "aborted")
    RunLayout(run).readiness_json.unlink()
    assert main(["readiness", str(run)]) == 1  # aborted: NO-GO, and the file says why
    record = read_readiness(run)
    assert not record.go and "aborted" in record.readiness.sentence
    # the report of such a record still renders (slogate report asks slo to judge it first)
    RunLayout(run).readiness_json.unlink()
    assert main(["report", str(run), "--format", "md"]) == 0
    assert RunLayout(run).readiness_json.exists()


def test_reports_refuse_a_record_without_readiness(tmp_path: Path) -> None:
    from foundation.errors import RunIncompleteError

    run = build_run(tmp_path / "mixed", "mixed")
    RunLayout(run).readiness_json.unlink()
    with pytest.raises(RunIncompleteError, match="slogate readiness"):
        render_all(run, formats=["md"])
