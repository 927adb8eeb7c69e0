"""Golden files for the Markdown and JUnit reports of a fixed run record.

The record (tests/reports/builders.py, variant ``mixed``) has fixed timestamps and values,
so the output is byte-stable. After an intended change, regenerate and review the diff::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/reports/test_golden.py
"""

from __future__ import annotations

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


@pytest.mark.parametrize(("fmt", "golden"), [("md", "mixed.md"), ("junit", "mixed.junit.xml")])
def test_golden(record: Callable[[str], Path], tmp_path: Path, fmt: str, golden: str) -> None:
    out = render_all(record("mixed"), formats=[fmt], out_dir=tmp_path)[fmt]
    _check(golden, out.read_text(encoding="utf-8"))


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
