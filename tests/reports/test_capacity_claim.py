"""``slogate report --capacity DIR``: claim 5 is judged from the capacity searches given."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from slo.capacity import write_capacity
from slogate.cli import main
from tests.capacity.builders import found_result


def _claim5(report: Path) -> dict[str, object]:
    data = json.loads(report.read_text())
    return next(c for c in data["readiness"]["claims"] if c["id"] == 5)


def test_report_uses_capacity_results_for_claim_5(
    record: Callable[[str], Path], tmp_path: Path
) -> None:
    run_dir = record("mixed")
    dirs = []
    for tier in ("starter", "team", "enterprise"):
        d = tmp_path / f"cap-{tier}"
        d.mkdir()
        write_capacity(replace(found_result(), vary="tenants", tier=tier, level=2.0), d)
        dirs += ["--capacity", str(d)]
    assert main(["report", str(run_dir), "--format", "json", "--out", str(tmp_path / "a")]) == 0
    before = _claim5(tmp_path / "a" / "report.json")
    assert main(["report", str(run_dir), "--format", "json", "--out", str(tmp_path / "b"),
                 *dirs]) == 0
    after = _claim5(tmp_path / "b" / "report.json")
    assert after["status"] == "passed" != before["status"]
    assert "enterprise: 2 tenants at quota" in str(after["measured"])
