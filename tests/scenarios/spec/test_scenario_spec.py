"""Scenario files: parsing, validation errors (file, line, field), units, stage expansion."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from foundation.durations import parse_duration
from foundation.errors import ConfigError, UsageError
from scenarios.spec import (
    LevelStep,
    StageModel,
    catalog_files,
    default_scenario_path,
    expand_stages,
    fit_to_duration,
    level_at,
    load_scenario,
    parse_bytes,
    parse_scenario,
)

GENERIC = """\
target: http://127.0.0.1:9000
duration: 30s
load:
  model: open
  rate: 50
http:
  - name: ping
    method: GET
    path: /ping
"""


def test_generic_scenario_parses_exactly_as_written() -> None:
    s = parse_scenario(GENERIC).scenario
    assert s.target == "http://127.0.0.1:9000"
    assert s.duration == 30.0
    assert s.load.model == "open"
    assert s.load.rate == 50.0
    assert s.load.arrival == "constant"
    assert len(s.http) == 1
    ping = s.http[0]
    assert (ping.name, ping.method, ping.path, ping.weight) == ("ping", "GET", "/ping", 1.0)
    assert s.has_http_load() and not s.is_reference_target()
    # no stages: duration + load.rate is one steady stage
    assert expand_stages(s.stages, default_level=50.0, duration_s=30.0) == (LevelStep(30.0, 50.0),)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param(30, 30.0, id="int"),
        pytest.param(2.5, 2.5, id="float"),
        pytest.param("30s", 30.0, id="seconds"),
        pytest.param("2m", 120.0, id="minutes"),
        pytest.param("1h30m", 5400.0, id="hours-minutes"),
        pytest.param("1m30s", 90.0, id="minutes-seconds"),
        pytest.param("250ms", 0.25, id="milliseconds"),
        pytest.param(" 45 ", 45.0, id="string-number"),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "2 minutes", "1m1m", "s", "-3", True, None, "inf"])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "n"),
    [(1024, 1024), ("500MB", 500_000_000), ("2GiB", 2 * 1024**3), ("1.5 kib", 1536)],
)
def test_parse_bytes(text: object, n: int) -> None:
    assert parse_bytes(text) == n


# Bad files -> the line and the field the message must name.
BAD_FILES = [
    pytest.param(
        "target: http://127.0.0.1:9000\nduraton: 30s\nload: {model: open, rate: 5}\n"
        "http: [{name: a, path: /}]\n",
        2, "duraton", "unknown field", id="typo",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\nload:\n  model: open\n  rate: fast\n"
        "http: [{name: a, path: /}]\n",
        5, "load.rate", "fast", id="rate-not-number",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 2 minutes\nload: {model: open, rate: 5}\n"
        "http: [{name: a, path: /}]\n",
        2, "duration", "expected a duration", id="bad-duration",
    ),
    pytest.param(
        "target: ftp://127.0.0.1\nduration: 30s\nload: {model: open, rate: 5}\n"
        "http: [{name: a, path: /}]\n",
        1, "target", "http", id="bad-target",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\nload: {model: open, rate: 5}\nhttp:\n"
        "  - name: a\n    path: /\n  - name: b\n    path: nope\n",
        8, "http[1].path", "must start with '/'", id="relative-path",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\nload: {model: open, rate: 5}\nhttp:\n"
        "  - name: a\n    method: FETCH\n    path: /\n",
        6, "http[0].method", "method must be one of", id="bad-method",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\nload:\n  model: closed\n  rate: 5\n"
        "http: [{name: a, path: /}]\n",
        5, "load.rate", "closed model has no rate", id="rate-in-closed-model",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nload: {model: closed}\nstages:\n  - kind: steady\n"
        "    duration: 10s\n    level: 5\n  - kind: ramp\n    duration: 10s\n    level: 9\n"
        "http: [{name: a, path: /}]\n",
        9, "stages[1].level", "ramp stage does not take level", id="ramp-with-level",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nload: {model: closed}\nstages:\n  - kind: steady\n"
        "    duration: 10s\n    level: 2.5\nhttp: [{name: a, path: /}]\n",
        6, "stages[0].level", "whole users", id="fractional-users",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nstages:\n  - kind: step\n    duration: 10s\n"
        "http: [{name: a, path: /}]\n",
        3, "stages[0]", "needs 'to'", id="step-without-to",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nstages:\n  - kind: spike\n    duration: 10s\n"
        "    level: 3\n    hold: 20s\nhttp: [{name: a, path: /}]\n",
        6, "stages[0].hold", "shorter", id="spike-hold-too-long",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\nwarmup: 30s\n"
        "load: {model: open, rate: 5}\nhttp: [{name: a, path: /}]\n",
        3, "warmup", "shorter", id="warmup-too-long",
    ),
    pytest.param(
        "target: embedded\nduration: 30s\ntenants:\n  starter: 1\nwebsocket:\n"
        "  sessions_per_tenant:\n    starter: 5\n    team: 5\n",
        8, "websocket.sessions_per_tenant.team", "no tenants", id="sessions-for-missing-tier",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\nload: {model: open}\n"
        "http: [{name: a, path: /}]\n",
        3, "load", "no rate", id="open-without-rate",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\n",
        1, "(top level)", "generates no load", id="no-load",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\ncredentials:\n  - tenant: a\n"
        "    tier: team\nwebsocket: {sessions_per_tenant: {team: 2}}\n",
        4, "credentials[0]", "exactly one of token or token_env", id="credential-without-token",
    ),
    pytest.param(
        "target: http://127.0.0.1:9000\nduration: 30s\nload: [1, 2\n",
        4, None, "not valid YAML", id="broken-yaml",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "fragment"), BAD_FILES)
def test_bad_scenario_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None, fragment: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert fragment in str(err)
    assert str(err).startswith(f"{path}:{line}: ")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")


def test_slo_path_is_relative_to_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "s.yaml"
    path.write_text(GENERIC + "slo: ../slo/beta.yaml\n")
    assert load_scenario(path).slo_path == (tmp_path / "slo" / "beta.yaml").resolve()


def test_overrides_are_validated_again() -> None:
    loaded = parse_scenario(GENERIC + "warmup: 10s\n")
    assert loaded.with_overrides(duration_s=12).scenario.duration == 12
    assert loaded.with_overrides(target="http://[::1]:8000").scenario.target == "http://[::1]:8000"
    with pytest.raises(UsageError, match="warmup"):
        loaded.with_overrides(duration_s=5)
    with pytest.raises(UsageError, match="target"):
        loaded.with_overrides(target="nonsense")


def _stages(text: str) -> list[StageModel]:
    return list(parse_scenario("target: http://127.0.0.1:1\nhttp: [{name: a, path: /}]\n"
                               "load: {model: open}\nstages:\n" + textwrap.indent(text, "  "))
                .scenario.stages)


def test_stage_kinds_expand_to_documented_levels() -> None:
    stages = _stages(
        "- {kind: ramp, duration: 10s, to: 20}\n"
        "- {kind: steady, duration: 20s, level: 20}\n"
        "- {kind: step, duration: 30s, to: 50, steps: 3}\n"
        "- {kind: spike, duration: 30s, factor: 3, hold: 10s}\n"
        "- {kind: soak, duration: 1m, level: 5}\n"
    )
    assert expand_stages(stages, default_level=None, duration_s=None) == (
        LevelStep(10, 20, ramp=True),
        LevelStep(20, 20),
        LevelStep(10, 30), LevelStep(10, 40), LevelStep(10, 50),
        LevelStep(10, 50), LevelStep(10, 150), LevelStep(10, 50),
        LevelStep(60, 5),
    )


def test_step_from_and_spike_defaults() -> None:
    stages = _stages(
        "- {kind: step, duration: 40s, from: 10, to: 40, steps: 3}\n"
        "- {kind: spike, duration: 30s}\n"
    )
    steps = expand_stages(stages, default_level=None, duration_s=None)
    assert [s.level for s in steps] == [20, 30, 40, 40, 120, 40]
    assert [s.duration_s for s in steps] == pytest.approx([40 / 3] * 3 + [10, 10, 10])


def test_fit_cuts_a_ramp_where_it_had_got_to() -> None:
    steps = (LevelStep(10, 100, ramp=True), LevelStep(10, 100))
    assert fit_to_duration(steps, 5) == (LevelStep(5, 50, ramp=True),)
    assert fit_to_duration(steps, 15) == (LevelStep(10, 100, ramp=True), LevelStep(5, 100))
    assert fit_to_duration(steps, 30) == (*steps, LevelStep(10, 100))
    # the cut schedule is exactly the first seconds of the uncut one
    cut = fit_to_duration(steps, 7)
    for t in (0.0, 3.0, 6.9):
        assert level_at(cut, t) == pytest.approx(level_at(steps, t))


def test_duration_with_stages_fits_them() -> None:
    s = parse_scenario(
        "target: http://127.0.0.1:1\nhttp: [{name: a, path: /}]\nload: {model: open}\n"
        "duration: 15s\nstages:\n  - {kind: ramp, duration: 10s, to: 10}\n"
    ).scenario
    assert s.total_duration() == 15
    steps = expand_stages(s.stages, default_level=None, duration_s=s.total_duration())
    assert steps == (LevelStep(10, 10, ramp=True), LevelStep(5, 10))


@pytest.mark.parametrize("path", catalog_files(), ids=lambda p: p.name)
def test_every_catalog_scenario_loads(path: Path) -> None:
    s = load_scenario(path).scenario
    assert s.total_duration() > 0
    assert s.has_http_load() or s.websocket is not None


def test_smoke_is_the_default_and_meets_its_promises() -> None:
    s = load_scenario(default_scenario_path()).scenario
    assert s.target == "embedded"
    assert s.tenants is not None
    counts = s.tenants.counts()
    assert set(counts) == {"starter", "team", "enterprise"}
    assert s.websocket is not None
    per = s.websocket.sessions_per_tenant
    quota = {"starter": 10, "team": 50, "enterprise": 500}
    assert all(per[t] <= quota[t] for t in per)
    assert sum(per[t] * counts[t] for t in per) >= 1000
    assert s.has_http_load()
    assert s.total_duration() <= 60
