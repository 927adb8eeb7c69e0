"""``slogate alerts``: burn-rate rules from SLO files, golden files, and promtool itself.

The rules are checked three ways: against golden files (byte-stable, regenerate with
``UPDATE_GOLDEN=1`` and review the diff), against numbers computed here independently (the
Workbook's 14.4 / 6 / 1 for 30 days, 13.44 / 5.6 / 0.93 for 28 days, windows scaled as
:func:`slo.burn.scaled_windows` scales them), and by Prometheus's own ``promtool check rules``
and ``promtool test rules`` on the unit test the command writes -- which must also *fail*
when a rule is wrong.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from slo.alerts import build_rules, prom_duration
from slo.spec.load import parse_slo
from slogate.cli import main
from slogate.commands.alerts import RULES_FILE, TEST_FILE, write_alerts

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "alerts"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: Debian package prometheus (scripts/services.sh)")

CASES = [
    pytest.param("slo/catalog/default.yaml", None, "default", id="reference-workbook"),
    pytest.param("slo/catalog/default.yaml", 60.0, "default-60s", id="reference-60s-run"),
    pytest.param("tests/slo/golden/alerts/foreign.yaml", None, "foreign", id="foreign-workbook"),
    pytest.param("tests/slo/golden/alerts/foreign.yaml", 600.0, "foreign-10m",
                 id="foreign-10m-run"),
]


def _plan(source: str, duration: float | None):  # type: ignore[no-untyped-def]
    return build_rules(parse_slo((ROOT / source).read_text(), source=source),
                       duration_s=duration)


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from its golden file; if intended, rerun with UPDATE_GOLDEN=1 "
        "and review the diff")


@pytest.mark.parametrize(("source", "duration", "golden"), CASES)
def test_rules_match_their_golden_files(source: str, duration: float | None,
                                        golden: str) -> None:
    plan = _plan(source, duration)
    _check(f"{golden}.rules.yml", plan.rules_yaml())
    _check(f"{golden}.test.yml", plan.unit_test_yaml(RULES_FILE))


def _alerts(text: str) -> list[dict[str, object]]:
    return [r for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r]


@pytest.mark.parametrize(("source", "window_days", "expected"), [
    pytest.param("slo/catalog/default.yaml", 30, (14.4, 6.0, 1.0), id="30d"),
    pytest.param("tests/slo/golden/alerts/foreign.yaml", 28, (13.44, 5.6, 0.9333333),
                 id="28d"),
])
def test_thresholds_keep_the_workbooks_budget_shares(source: str, window_days: int,
                                                     expected: tuple[float, ...]) -> None:
    # share x window / long window: 2 % in 1 h, 5 % in 6 h, 10 % in 3 d
    shares = [0.02 * window_days * 24 / 1, 0.05 * window_days * 24 / 6, 0.10 * window_days / 3]
    assert shares == pytest.approx(expected)
    for alert in _alerts(_plan(source, None).rules_yaml()):
        rule = str(dict(alert["labels"])["rule"])  # type: ignore[call-overload]
        threshold = float(re.findall(r">= \(([\d.]+) \*", str(alert["expr"]))[0])
        index = ("page-1h", "page-6h", "ticket-3d").index(rule)
        assert threshold == pytest.approx(expected[index], rel=1e-6)


@pytest.mark.parametrize(("duration", "windows"), [
    # 60 s run: scale 1/60 -> 1h/5m = 60s/5s, 6h/30m = 360s->60s/30s, 3d/6h -> 60s/60s
    pytest.param(60.0, {"page-1h": ("1m", "5s"), "page-6h": ("1m", "30s"),
                        "ticket-3d": ("1m", "1m")}, id="60s"),
    # 10 min run: scale 1/6 -> 10m/50s, 60m->10m / 5m, clipped
    pytest.param(600.0, {"page-1h": ("10m", "50s"), "page-6h": ("10m", "5m"),
                         "ticket-3d": ("10m", "10m")}, id="10m"),
    pytest.param(None, {"page-1h": ("1h", "5m"), "page-6h": ("6h", "30m"),
                        "ticket-3d": ("3d", "6h")}, id="workbook"),
    # 8 s run: the 5 m short window scales to 0.67 s, raised to 4 scrape intervals
    pytest.param(8.0, {"page-1h": ("8s", "4s"), "page-6h": ("8s", "4s"),
                       "ticket-3d": ("8s", "8s")}, id="8s-floor"),
])
def test_windows_scale_as_evaluate_scales_them(duration: float | None,
                                               windows: dict[str, tuple[str, str]]) -> None:
    for alert in _alerts(_plan("slo/catalog/default.yaml", duration).rules_yaml()):
        rule = str(dict(alert["labels"])["rule"])  # type: ignore[call-overload]
        used = re.findall(r"ratio_rate(\w+)\{", str(alert["expr"]))
        assert tuple(used) == windows[rule]


def test_prom_duration() -> None:
    assert [prom_duration(s) for s in (3600, 300, 3.75, 259200, 0.0001, 90)] == [
        "1h", "5m", "3s750ms", "3d", "1ms", "1m30s"]


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


@needs_promtool
@pytest.mark.slow
@pytest.mark.parametrize(("source", "duration", "golden"), CASES)
def test_promtool_checks_and_tests_the_rules(tmp_path: Path, source: str,
                                             duration: float | None, golden: str) -> None:
    rules, test = write_alerts(ROOT / source, tmp_path, duration)
    check = _promtool("check", "rules", rules.name, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    result = _promtool("test", "rules", test.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_test_fails_when_a_rule_is_wrong(tmp_path: Path) -> None:
    """The written unit test has teeth: a page threshold 100 x too high no longer fires."""
    rules, test = write_alerts(ROOT / "slo/catalog/default.yaml", tmp_path, 60.0)
    rules.write_text(rules.read_text().replace("(14.4 * 0.005)", "(1440 * 0.005)"))
    assert _promtool("check", "rules", rules.name, cwd=tmp_path).returncode == 0
    result = _promtool("test", "rules", test.name, cwd=tmp_path)
    assert result.returncode != 0 and "page-1h" in result.stdout + result.stderr


def test_cli_writes_both_files_and_names_them(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["alerts", str(ROOT / "slo/catalog/default.yaml"), "--out", str(tmp_path),
                 "--duration", "2m"])
    assert code == 0
    assert (tmp_path / RULES_FILE).is_file() and (tmp_path / TEST_FILE).is_file()
    assert "promtool check rules" in capsys.readouterr().out
    assert "windows scaled for a run of 2m" in (tmp_path / RULES_FILE).read_text()


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--duration", "soon"], "--duration 'soon'", id="bad-duration"),
    pytest.param(["--format", "datadog"], "", id="unknown-format"),
])
def test_cli_bad_flags_exit_2(tmp_path: Path, args: list[str], message: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["alerts", str(ROOT / "slo/catalog/default.yaml"), "--out", str(tmp_path),
                 *args])
    assert code == 2 and message in capsys.readouterr().err


def test_slo_without_ratio_objectives_exits_2_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slo = tmp_path / "latency.yaml"
    slo.write_text("objectives:\n  - {name: p95, sli: latency, percentile: 95, "
                   "threshold_ms: 500}\n")
    assert main(["alerts", str(slo), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(slo) in err and "p95: a latency objective is not a ratio" in err
    assert not (tmp_path / "out").exists()
