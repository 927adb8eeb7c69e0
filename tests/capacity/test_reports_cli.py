"""Capacity reports (HTML in headless Chromium, Markdown, JSON, JUnit), levels, CLI usage."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from foundation.errors import UsageError
from reports.capacity import render_capacity
from scenarios.capacity import HoldPolicy, event_rate, scenario_at_level
from scenarios.spec import CATALOG_DIR, load_scenario, parse_scenario
from slo.capacity import write_capacity
from slogate.cli import main
from slogate.commands.capacity import exit_code
from tests.capacity.builders import found_result, with_conclusion
from tests.reports.browser import Browser, chromium_path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if chromium_path() is None:
        pytest.skip("chromium is not installed")
    with Browser(tmp_path_factory.mktemp("chromium-profile")) as b:
        yield b


def test_html_report_in_chromium(tmp_path: Path, browser: Browser) -> None:
    write_capacity(found_result(), tmp_path)
    paths = render_capacity(tmp_path)
    log = browser.load(paths["html"].as_uri())
    assert log.console_errors == [] and log.exceptions == [] and log.requests == []
    text = browser.text()
    for visible in ("CAPACITY FOUND", "Holds 38.4 req/s within SLO; http-p95 breaks first at "
                    "40.4 req/s.", "Latency against offered load", "Latency against achieved "
                    "throughput", "Error rate against offered load", "confirm"):
        assert visible in text, visible
    assert browser.evaluate("document.querySelectorAll('svg.chart').length") == 3
    assert browser.evaluate("document.querySelectorAll('#steps tbody tr').length") == 8
    # three lines (p50, p95, p99) on each latency chart
    assert browser.evaluate(
        "document.querySelectorAll('#curve-offered path.line').length") == 3


def test_markdown_json_junit(tmp_path: Path) -> None:
    r = found_result()
    write_capacity(r, tmp_path)
    paths = render_capacity(tmp_path)
    md = paths["md"].read_text()
    assert md.count("\n| ") == 9 and r.sentence in md
    data = json.loads(paths["json"].read_text())
    assert data["answer"] == r.sentence and len(data["steps"]) == 8 and data["knee"] == 38.4
    suite = ET.parse(paths["junit"]).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "9" and suite.get("failures") == "0"


def test_junit_fails_on_zero_and_skips_inconclusive(tmp_path: Path) -> None:
    for conclusion, tag in (("zero", "failure"), ("inconclusive", "skipped")):
        write_capacity(with_conclusion(found_result(), conclusion=conclusion, level=None), tmp_path)
        root = ET.parse(render_capacity(tmp_path, ["junit"])["junit"]).getroot()
        answer = next(c for c in root.iter("testcase") if c.get("name") == "capacity")
        assert answer.find(tag) is not None


@pytest.mark.parametrize(("kw", "code"), [
    ({}, 0), (dict(require=50.0), 1), (dict(conclusion="zero", level=None), 1),
    (dict(conclusion="inconclusive", level=None), 3), (dict(conclusion="exhausted"), 3),
])
def test_exit_codes(kw: dict[str, object], code: int) -> None:
    assert exit_code(with_conclusion(found_result(), **kw)) == code


def test_levels_per_vary() -> None:
    loaded = load_scenario(CATALOG_DIR / "capacity.yaml")
    rate = scenario_at_level(loaded, "rate", 55.5, 12).scenario
    assert (rate.load.model, rate.load.rate, rate.duration, rate.stages) == ("open", 55.5, 15.0, ())
    users = scenario_at_level(loaded, "users", 7, 12).scenario
    assert (users.load.model, users.load.users) == ("closed", 7)
    tenants = scenario_at_level(loaded, "tenants", 3, 12, tier="enterprise", tenant_sessions=500)
    t = tenants.scenario
    assert t.tenants is not None and t.tenants.counts() == {"enterprise": 3}
    assert t.websocket is not None and t.websocket.sessions_per_tenant == {"enterprise": 500}
    assert t.load.rate == 30.0  # the scenario's 10 req/s per tenant
    sessions = scenario_at_level(loaded, "sessions", 5, 12).scenario.websocket
    assert sessions is not None and sessions.sessions_per_tenant == {"enterprise": 5}
    two_tiers = parse_scenario("duration: 10s\ntenants: {starter: 1, team: 1}\n"
                               "load: {model: open, rate: 5}\n")
    with pytest.raises(UsageError, match="needs --tier"):
        scenario_at_level(two_tiers, "sessions", 5, 12)


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--vary", "tenants", "--out", str(tmp_path)]) == 2
    assert "needs --tier" in capsys.readouterr().err
    assert main(["capacity", "--max-time", "soon", "--out", str(tmp_path)]) == 2
    assert main(["capacity", "--start", "-3"]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: embedded\nduration: 10s\nload: {model: open, rate: fast}\n")
    assert main(["capacity", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "bad.yaml:3" in capsys.readouterr().err


def test_hold_sized_from_the_known_event_rate() -> None:
    loaded = load_scenario(CATALOG_DIR / "capacity.yaml")  # open model, 10 req/s per tenant
    policy = HoldPolicy(events=200, min_s=5, max_s=60)
    assert event_rate(loaded, "rate", 50) == 50 and policy.hold_s(50) == 5  # 4.8 -> the minimum
    assert event_rate(loaded, "tenants", 2) == 20 and policy.hold_s(20) == 12  # 1.2 x 200 / 20
    assert event_rate(loaded, "users", 50) is None and policy.hold_s(None) == 5
    assert policy.hold_s(1) == 60 and policy.hold_s(20, confirm=True) == 24
