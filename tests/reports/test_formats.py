"""Each format says plainly what happened: insufficient data, aborted, every claim failed;
HTML is self-contained and escaped; Markdown stays under GitHub's limit; JSON is versioned."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from foundation.errors import RunIncompleteError
from foundation.layout import RunLayout
from reports.load import load_report_data
from reports.markdown import LIMIT, render_markdown
from reports.render import render_all
from scenarios.record import SAMPLE_SCHEMA, read_samples

Record = Callable[[str], Path]


def render(record: Record, variant: str, tmp_path: Path, audience: str = "sre") -> dict[str, str]:
    paths = render_all(record(variant), audience=audience, out_dir=tmp_path)  # type: ignore[arg-type]
    return {fmt: p.read_text(encoding="utf-8") for fmt, p in paths.items()}


@pytest.mark.parametrize(("variant", "words"), [
    pytest.param("insufficient", ["NO-GO", "insufficient data", "INSUFFICIENT DATA"],
                 id="insufficient-data"),
    pytest.param("aborted", ["NO-GO", "the run was aborted", "ABORTED", "NOT JUDGED"],
                 id="aborted"),
    pytest.param("all_fail", ["NO-GO", "every readiness claim failed (13 of 13)"],
                 id="every-claim-failed"),
])
def test_reports_say_so_plainly(record: Record, tmp_path: Path, variant: str,
                                words: list[str]) -> None:
    out = render(record, variant, tmp_path)
    first_line = out["md"].splitlines()[0]
    assert "NO-GO" in first_line
    text = re.sub(r"<[^>]+>", " ", out["html"])  # what a reader sees, roughly
    for fmt, body in (("md", out["md"]), ("html", text)):
        for w in words:
            assert w in body, f"{fmt} does not say {w!r}"
    data = json.loads(out["json"])
    assert data["readiness"]["decision"] == "NO-GO"


def test_every_claim_failed_in_all_formats(record: Record, tmp_path: Path) -> None:
    out = render(record, "all_fail", tmp_path)
    claims = json.loads(out["json"])["readiness"]["claims"]
    assert [c["status"] for c in claims] == ["failed"] * 13
    suite = ET.fromstring(out["junit"]).findall("testsuite")[1]
    assert suite.get("failures") == "13"
    assert out["md"].count("❌ failed") == 13


def test_aborted_run_without_verdict_is_rendered_not_judged(record: Record, tmp_path: Path) -> None:
    out = render(record, "aborted", tmp_path)
    junit = ET.fromstring(out["junit"])
    verdict_case = next(c for c in junit.iter("testcase") if c.get("name") == "verdict")
    assert verdict_case.find("failure") is not None
    assert json.loads(out["json"])["verdict"] is None


def test_complete_run_without_verdict_is_refused(record: Record, tmp_path: Path) -> None:
    run = shutil.copytree(record("mixed"), tmp_path / "run")
    RunLayout(run).verdict_json.unlink()
    with pytest.raises(RunIncompleteError, match="slogate evaluate"):
        render_all(run)


def test_html_is_self_contained(record: Record, tmp_path: Path) -> None:
    html = render(record, "mixed", tmp_path)["html"]
    assert "<script" not in html.lower()  # readable with JavaScript off: there is none
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "@import" not in html and "url(" not in html  # no fonts, no remote CSS
    assert html.count("<svg") >= 6
    assert 'id="claim-7"' in html and 'href="#claim-7"' in html  # claims link to evidence


def test_exec_audience_is_the_summary_only(record: Record, tmp_path: Path) -> None:
    out = render(record, "mixed", tmp_path, audience="exec")
    assert "SRE detail" not in out["html"] and "<svg" not in out["html"]
    assert "## Per route" not in out["md"] and "## Readiness claims" in out["md"]


def test_names_from_the_record_are_escaped(record: Record, tmp_path: Path) -> None:
    """A foreign target's operation names reach the page as text, never as markup."""
    run = shutil.copytree(record("mixed"), tmp_path / "run")
    layout = RunLayout(run)
    evil = read_samples(run).slice(0, 3)
    names = pa.array(["<script>alert(1)</script>", "a|b", "<img src=x onerror=y>"])
    evil = evil.set_column(evil.column_names.index("name"), "name", names)
    evil = evil.set_column(evil.column_names.index("ok"), "ok", pa.array([False] * 3))
    pq.write_table(evil.cast(SAMPLE_SCHEMA), layout.part_path(7))
    out = render_all(run, formats=["html", "md"], out_dir=tmp_path / "out")
    html = out["html"].read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html
    md = out["md"].read_text(encoding="utf-8")
    assert "a\\|b" in md and "<script>" not in md


def test_markdown_truncates_under_the_limit(record: Record) -> None:
    data = load_report_data(record("mixed"))
    full = render_markdown(data)
    assert len(full) < LIMIT and "Truncated" not in full
    short = render_markdown(data, limit=7000)
    assert len(short) <= 7000
    assert "Truncated" in short and "report.html" in short
    assert "## Readiness claims" in short and "## Run" in short  # the summary is never cut
    assert short.startswith(full.splitlines()[0])


def test_json_is_versioned_and_complete(record: Record, tmp_path: Path) -> None:
    data = json.loads(render(record, "mixed", tmp_path)["json"])
    assert data["schema_version"] == 1
    r = data["readiness"]
    assert (r["decision"], r["earned"], r["total"]) == ("NO-GO", 12, 27)
    assert r["score"] == pytest.approx(100 * 12 / 27)
    assert "not verified earns 0" in r["rule"]
    assert {c["status"] for c in r["claims"]} == {"passed", "failed", "not_verified"}
    assert data["verdict"]["schema_version"] == 2
    routes = {(x["kind"], x["name"]): x for x in data["samples"]["routes"]}
    assert routes[("http", "GET /healthz")]["count"] == 60
    assert [c["tier"] for c in data["capacity"]] == ["starter", "team", "enterprise"]


def test_run_stopped_by_abort_on_says_why_in_every_format(record: Record, tmp_path: Path) -> None:
    from dataclasses import replace as dc_replace

    from slo._types import Status
    from slo.fault_results import AbortResult
    from slo.verdict import read_verdict, write_verdict

    run = Path(shutil.copytree(record("mixed"), tmp_path / "run"))
    layout = RunLayout(run)
    reason = ("abort_on: objective 'http-availability' burned its error budget at 30.0x over "
              "the last 60 s (90 of 600 sends bad), at or above 14.4x")
    info = layout.read_info()
    info = info.model_copy(update={"status": info.status.__class__("aborted"), "reason": reason})
    layout.write_info(info)
    verdict = read_verdict(layout.verdict_json)
    write_verdict(dc_replace(verdict, status=Status.FAIL, abort=AbortResult(
        "http-availability", reason, info.started_at + 50, 30.0, 14.4, 60.0)), layout.verdict_json)
    out = render_all(run, out_dir=tmp_path / "out")
    assert reason in unescape(out["html"].read_text(encoding="utf-8"))
    assert reason in out["md"].read_text(encoding="utf-8")
    slo_suite = ET.parse(out["junit"]).getroot().findall("testsuite")[0]
    case = next(c for c in slo_suite if c.get("name") == "abort_on")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "abort_on"
    data = json.loads(out["json"].read_text(encoding="utf-8"))
    assert data["stopped_early"] == f"Stopped early by abort_on: {reason}"
    assert data["verdict"]["abort"]["burn_rate"] == 30.0
    assert data["readiness"]["decision"] == "NO-GO"
