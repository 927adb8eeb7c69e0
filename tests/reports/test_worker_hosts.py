"""A distributed run's report: the worker hosts and their clock offsets, in HTML (headless
Chromium), Markdown and JSON; the readiness page still prints on one page."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reports.render import render_all
from tests.reports.browser import Browser, chromium_path, pdf_pages

Record = Callable[[str], Path]

HOSTS = [
    {"index": 0, "address": "10.0.0.11", "hostname": "gen-a", "workers": [0, 1], "status": "done",
     "clock_offset_s": 0.0004, "clock_rtt_s": 0.00021, "rows": 5100},
    {"index": 1, "address": "10.0.0.12", "hostname": "gen-b", "workers": [2, 3], "status": "lost",
     "clock_offset_s": -3.21, "clock_rtt_s": 0.0009, "rows": 4800},
]


def _distributed(record: Record, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(record("mixed"), run)
    info = json.loads((run / "run.json").read_text())
    info["distributed"] = {"worker_hosts": HOSTS, "master": {"port": 5557}, "refused": []}
    (run / "run.json").write_text(json.dumps(info))
    return run


def test_markdown_and_json_list_the_hosts(record: Record, tmp_path: Path) -> None:
    out = render_all(_distributed(record, tmp_path), formats=["md", "json"], out_dir=tmp_path / "out")
    md = out["md"].read_text()
    assert "| 10.0.0.12 | gen-b | 2-3 | lost | -3210.0 ms | 0.90 ms | 4800 |" in md
    doc = json.loads(out["json"].read_text())
    assert [h["address"] for h in doc["worker_hosts"]] == ["10.0.0.11", "10.0.0.12"]
    assert doc["worker_hosts"][1]["clock_offset_ms"] == pytest.approx(-3210.0)
    plain = render_all(record("mixed"), formats=["md"], out_dir=tmp_path / "plain")["md"].read_text()
    assert "Worker hosts" not in plain


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_html_in_chromium(record: Record, tmp_path: Path) -> None:
    run = _distributed(record, tmp_path)
    with Browser(tmp_path / "profile") as browser:
        html = render_all(run, formats=["html"], out_dir=tmp_path / "out")["html"]
        log = browser.load(html.as_uri())
        assert log.console_errors == [] and log.exceptions == [] and log.requests == []
        rows = browser.evaluate(
            "[...document.querySelectorAll('#worker-hosts tbody tr')].map(r => r.innerText)")
        assert len(rows) == 2
        assert "gen-a" in rows[0] and "+0.4 ms" in rows[0]
        assert "gen-b" in rows[1] and "-3.21 s" in rows[1] and "lost" in rows[1]
        exec_html = render_all(run, formats=["html"], audience="exec", out_dir=tmp_path / "exec")["html"]
        browser.load(exec_html.as_uri())
        assert pdf_pages(browser.pdf(tmp_path / "exec.pdf")) == 1
