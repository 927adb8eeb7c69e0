"""Golden files for the Markdown and JUnit reports of a fixed run record.

The record (tests/reports/builders.py, variant ``mixed``) has fixed timestamps and values,
so the output is byte-stable. After an intended change, regenerate and review the diff::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/reports/test_golden.py
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from reports.render import render_all

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        pytest.skip(f"regenerated {path}")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from its golden file; if the change is intended, rerun with "
        "UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize(("variant", "fmt", "golden"), [
    ("mixed", "md", "mixed.md"), ("mixed", "junit", "mixed.junit.xml"),
    ("faults", "md", "faults.md"), ("faults", "junit", "faults.junit.xml"),
])
def test_golden(record: Callable[[str], Path], tmp_path: Path, variant: str, fmt: str,
                golden: str) -> None:
    out = render_all(record(variant), formats=[fmt], out_dir=tmp_path)[fmt]
    _check(golden, out.read_text(encoding="utf-8"))


def test_faults_in_every_format(record: Callable[[str], Path], tmp_path: Path) -> None:
    """The fault table says the same in Markdown, JUnit and JSON (rows from verdict.json)."""
    out = render_all(record("faults"), out_dir=tmp_path)
    md = out["md"].read_text(encoding="utf-8")
    assert "## Faults and recovery" in md
    assert "| kill #2 | kill | 40.0 - 40.0 | ✅ recovered in 3.2 s | 3.2 s |" in md
    restart = ("replacement ready after 3.1 s (noticed 0.2 s, spawned 1.2 s; boot 0.6 s, "
               "import 0.8 s, lifespan 0.3 s, listen 0.2 s)")  # run.json faults[1].restart
    assert restart in md
    assert "database outage #3 | database | 85.0 - 95.0 | ❌ not recovered" in md
    suites = {s.get("name"): s for s in ET.parse(out["junit"]).getroot().findall("testsuite")}
    faults = suites["faults"]
    assert (faults.get("tests"), faults.get("failures")) == ("3", "1")
    failed = next(c for c in faults if c.find("failure") is not None)
    assert failed.get("name") == "database outage #3"
    data = json.loads(out["json"].read_text(encoding="utf-8"))
    assert [f["summary"] for f in data["faults"]] == [
        "recovered in 0.0 s", "recovered in 3.2 s", "not recovered"]
    assert data["verdict"]["faults"][1]["health_recovery_s"] == 3.2
    assert [f["note"] for f in data["faults"]][1].endswith(restart)
    claims = {c["id"]: c for c in data["readiness"]["claims"]}
    assert claims[9]["status"] == "failed" and "database outage #3" in claims[9]["evidence"]
    assert claims[8]["status"] == "passed"  # storm fault + read-back and retry checks all ok


def test_rendering_is_deterministic(record: Callable[[str], Path], tmp_path: Path) -> None:
    a = render_all(record("mixed"), out_dir=tmp_path / "a")
    b = render_all(record("mixed"), out_dir=tmp_path / "b")
    for fmt in a:
        assert a[fmt].read_bytes() == b[fmt].read_bytes(), fmt


def test_junit_structure(record: Callable[[str], Path], tmp_path: Path) -> None:
    """One case per objective and per claim; counts add up; failures carry value and threshold."""
    path = render_all(record("mixed"), formats=["junit"], out_dir=tmp_path)["junit"]
    root = ET.parse(path).getroot()
    slo, claims = root.findall("testsuite")
    assert len(slo.findall("testcase")) == 9 and len(claims.findall("testcase")) == 13
    for suite in (root, slo, claims):
        cases = suite.iter("testcase")
        outcomes = [("failure" if c.find("failure") is not None else
                     "skipped" if c.find("skipped") is not None else "pass") for c in cases]
        assert int(suite.get("tests") or 0) == len(outcomes)
        assert int(suite.get("failures") or 0) == outcomes.count("failure")
        assert int(suite.get("skipped") or 0) == outcomes.count("skipped")
    spike = next(c for c in claims if "spike" in (c.get("name") or ""))
    failure = spike.find("failure")
    assert failure is not None
    message = failure.get("message") or ""
    assert "6 5xx" in message and "threshold 3x spike: no 5xx" in message
    unverified = next(c for c in claims if (c.get("name") or "").startswith("claim 13"))
    skipped = unverified.find("skipped")
    assert skipped is not None and "not verified" in (skipped.get("message") or "")
