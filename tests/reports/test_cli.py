"""``slogate report``: exit codes 0 / 2 / 3 and the files it writes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from foundation.layout import RunLayout
from slogate.cli import main

Record = Callable[[str], Path]


def test_writes_every_format_into_the_run_dir(record: Record, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    run = shutil.copytree(record("mixed"), tmp_path / "run")
    assert main(["report", str(run)]) == 0
    printed = capsys.readouterr().out
    for name in ("report.html", "report.md", "report.json", "junit.xml"):
        assert (run / name).is_file() and name in printed


def test_out_format_and_audience(record: Record, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["report", str(record("mixed")), "--format", "json,md", "--audience", "exec",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md"]
    assert json.loads((out / "report.json").read_text())["schema_version"] == 1


def test_nogo_is_not_an_exit_code(record: Record, tmp_path: Path) -> None:
    """The report renders NO-GO and exits 0: gating is 'slogate evaluate'."""
    assert main(["report", str(record("all_fail")), "--out", str(tmp_path)]) == 0


@pytest.mark.parametrize("argv", [
    pytest.param(["--format", "pdf"], id="unknown-format"),
    pytest.param(["--format", ""], id="empty-format"),
    pytest.param(["--audience", "ceo"], id="unknown-audience"),
])
def test_bad_flags_exit_2(record: Record, tmp_path: Path, argv: list[str]) -> None:
    assert main(["report", str(record("mixed")), "--out", str(tmp_path), *argv]) == 2


def test_unusable_records_exit_3(record: Record, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "missing")]) == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 3
    assert "run.json" in capsys.readouterr().err
    unjudged = shutil.copytree(record("mixed"), tmp_path / "unjudged")
    RunLayout(unjudged).verdict_json.unlink()
    assert main(["report", str(unjudged)]) == 3
    assert "slogate evaluate" in capsys.readouterr().err
    broken = shutil.copytree(record("mixed"), tmp_path / "broken")
    RunLayout(broken).verdict_json.write_text('{"schema_version": 99}')
    assert main(["report", str(broken)]) == 3
    assert "schema_version" in capsys.readouterr().err
