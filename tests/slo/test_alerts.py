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
    pytest.param("tests/slo/golden/alerts/select.yaml", None, "select", id="select-workbook"),
    pytest.param("tests/slo/golden/alerts/select.yaml", 60.0, "select-60s", id="select-60s-run"),
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


def test_slo_without_alertable_objectives_exits_2_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slo = tmp_path / "latency.yaml"
    slo.write_text("objectives:\n  - {name: mean, sli: latency, aggregate: avg, "
                   "threshold_ms: 500}\n  - {name: drops, sli: ws_drop_rate, "
                   "threshold_percent: 1}\n")
    assert main(["alerts", str(slo), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(slo) in err and "mean: the avg latency is not a share of requests" in err
    assert "drops: the server cannot express WebSocket drops" in err
    assert not (tmp_path / "out").exists()


# ----- latency, name/tenant selection, WebSocket drops -------------------------------------

def _spec(objectives: str, cross_check: str = "") -> str:
    return f"objectives:\n{objectives}" + (f"cross_check:\n{cross_check}" if cross_check else "")


def _skipped(text: str) -> dict[str, str]:
    plan = build_rules(parse_slo(text, source="t.yaml"))
    return dict(plan.skipped)


def test_reference_buckets_are_the_targets() -> None:
    from slo.spec.model import REFERENCE_LATENCY_BUCKETS_S
    from target_service.metrics import LATENCY_BUCKETS_S

    assert REFERENCE_LATENCY_BUCKETS_S == LATENCY_BUCKETS_S


@pytest.mark.parametrize("threshold_ms", [300.0, 500.0, 1.0, 100.0, 30_000.0, 2.0736])
def test_latency_rule_reads_the_largest_bucket_at_or_below_the_threshold(
    threshold_ms: float,
) -> None:
    from target_service.metrics import LATENCY_BUCKETS_S

    # independently: the target's own bounds, filtered here
    expected = max(b for b in LATENCY_BUCKETS_S if b * 1000 <= threshold_ms + 1e-9)
    plan = build_rules(parse_slo(_spec(
        f"  - {{name: p, sli: latency, percentile: 95, threshold_ms: {threshold_ms}}}\n")))
    (o,) = plan.objectives
    text = plan.rules_yaml()
    le = re.findall(r'le=~?"([^"]+)"', text)
    assert le and all(v in (repr(expected), f"{expected:g}(\\\\.0)?") for v in le), le
    assert o.allowed_bad_ratio == pytest.approx(0.05)
    conservative = expected * 1000 < threshold_ms - 1e-9
    assert ("conservative" in text) is conservative
    # bad = all - the bucket at or below the threshold; all = the histogram's count
    assert ("slogate_http_request_duration_seconds_count{" in o.total_rate
            and "_bucket{" in o.bad_rate and o.bad_rate.startswith("(" + o.total_rate + " - "))


def test_latency_threshold_below_every_bucket_is_listed() -> None:
    why = _skipped(_spec("  - {name: p, sli: latency, percentile: 99, threshold_ms: 0.5}\n"))
    assert "no bucket at or below 0.5 ms" in why["p"]


def test_foreign_histogram_without_bounds_is_listed_never_guessed() -> None:
    why = _skipped(_spec(
        "  - {name: p, sli: latency, percentile: 95, threshold_ms: 300}\n",
        "  request_counter: http_requests\n  latency_histogram: http_seconds\n"))
    assert why["p"].startswith("the bucket bounds of http_seconds are unknown")


@pytest.mark.parametrize(("objective", "reason"), [
    pytest.param("{name: x, sli: latency, aggregate: max, threshold_ms: 9}",
                 "the max latency is not a share", id="aggregate"),
    pytest.param("{name: x, sli: latency, percentile: 5, threshold_ms: 9, comparison: '>='}",
                 "only an upper bound", id="lower-bound"),
    pytest.param("{name: x, sli: ttft, percentile: 95, threshold_ms: 900}",
                 "select.kind ['ws_first_token']", id="ttft-not-http"),
    pytest.param("{name: x, sli: ws_drop_rate, threshold_percent: 1}",
                 "4400/4401/4403/4408/4429/1013", id="ws-drops"),
    pytest.param("{name: x, sli: error_rate, threshold_percent: 1, select: {name: '*'}}",
                 "does not split into the labels", id="name-without-route"),
    pytest.param("{name: x, sli: server_latency, threshold_ms: 100}",
                 "not a share of good/total events", id="server-histogram"),
])
def test_objectives_without_rules_say_why(objective: str, reason: str) -> None:
    assert reason in _skipped(_spec(f"  - {objective}\n"))["x"]


def test_tenant_matcher_only_where_the_counter_has_a_tenant_label() -> None:
    objective = "  - {name: t, sli: availability, target: 99, select: {tenant: [acme, 't-1?']}}\n"
    plan = build_rules(parse_slo(_spec(objective)))
    assert 'tenant=~"acme|t\\\\-1."' in plan.objectives[0].total_rate
    foreign = "  request_counter: http_requests\n"
    assert "no known tenant label" in _skipped(_spec(objective, foreign))["t"]
    named = foreign + "  tenant_label: org\n"
    assert 'org=~"acme|t\\\\-1."' in build_rules(
        parse_slo(_spec(objective, named))).objectives[0].total_rate


@pytest.mark.parametrize(("name", "server_labels", "matches"), [
    pytest.param("POST /v1/runs", {"method": "POST", "route": "/v1/runs"}, True, id="exact"),
    pytest.param("POST /v1/runs", {"method": "GET", "route": "/v1/runs"}, False, id="method"),
    pytest.param("GET /v1/runs/{id}", {"method": "GET", "route": "/v1/runs/{run_id}"}, True,
                 id="param-names-differ"),
    pytest.param("GET /v1/runs/{id}", {"method": "GET", "route": "/v1/runs"}, False,
                 id="no-param"),
    pytest.param("GET /v1/*", {"method": "GET", "route": "/v1/agents/{agent_id}"}, True,
                 id="glob"),
    pytest.param("isolation: GET /v1/runs/{id}", {"method": "GET", "route": "/v1/runs/{x}"},
                 True, id="probe-label"),
])
def test_name_matchers_select_the_series_the_cross_check_names_alike(
    name: str, server_labels: dict[str, str], matches: bool
) -> None:
    """The rule's label regexes keep a server series exactly when the cross-check would
    name that series as the selected operation (operation_key of the formatted labels)."""
    from slo.sources.reconcile import glob_regex, operation_key, operation_labels

    labels = operation_labels(name, "{method} {route}")
    assert labels is not None
    kept = all(re.fullmatch(glob_regex(g), server_labels[k]) for k, g in labels.items())
    server_op = operation_key("{method} {route}".format(**server_labels))
    import fnmatch
    assert kept is matches is fnmatch.fnmatchcase(server_op, operation_key(name))


@needs_promtool
def test_promtool_unit_test_fails_when_the_latency_bucket_is_wrong(tmp_path: Path) -> None:
    """A rule reading another bucket than the one the test series (and the target) expose
    never sees the fast requests: the unit test must catch it."""
    rules, test = write_alerts(ROOT / "slo/catalog/default.yaml", tmp_path, 60.0)
    rules.write_text(rules.read_text().replace('le="0.492314"', 'le="0.590777"'))
    assert _promtool("check", "rules", rules.name, cwd=tmp_path).returncode == 0
    result = _promtool("test", "rules", test.name, cwd=tmp_path)
    assert result.returncode != 0 and "http-p95" in result.stdout + result.stderr


def test_bad_bucket_bounds_are_refused_naming_the_field() -> None:
    from foundation.errors import ConfigError

    text = _spec("  - {name: p, sli: latency, percentile: 95, threshold_ms: 300}\n",
                 "  latency_buckets: [0.1, -1]\n")
    with pytest.raises(ConfigError) as info:
        parse_slo(text, source="buckets.yaml")
    message = str(info.value)
    assert "buckets.yaml" in message and "latency_buckets" in message
    assert "positive seconds" in message
