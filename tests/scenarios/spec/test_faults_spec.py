"""``faults:`` in scenario files: what loads, and errors naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.errors import ConfigError
from scenarios.spec import load_scenario, parse_scenario

_HEAD = """target: embedded
duration: 20s
load: {model: open, rate: 5}
tenants: {starter: 1}
embedded: {workers: 2, redis: "redis://127.0.0.1:6379/9", database: owned-postgres}
faults:
"""  # faults entries start on line 7


def test_a_full_timeline_loads_with_derived_names() -> None:
    text = _HEAD + (
        "  - {name: storm, at: 2s, for: 3s, target: {provider: rate_limit_storm}}\n"
        "  - {at: 6s, kill: {process: 1, signal: term}}\n"
        "  - {at: 8s, for: 4s, database: outage}\n"
        "  - {at: 13s, for: 2s, exec: {run: 'true', undo: 'true', timeout: 5s}}\n"
    )
    faults = parse_scenario(text).scenario.faults
    assert [f.label(i) for i, f in enumerate(faults)] == [
        "storm", "kill #2", "database outage #3", "exec #4",
    ]
    assert [f.action for f in faults] == ["target", "kill", "database", "exec"]
    assert faults[1].kill is not None and faults[1].kill.signal == "SIGTERM"
    assert faults[2].for_ == 4.0 and faults[3].exec_ is not None and faults[3].exec_.timeout == 5.0


@pytest.mark.parametrize(
    ("entry", "line", "field", "words"),
    [
        ("  - {at: 2s, for: 3s, target: {stall_s: 1}, kill: {}}\n", 7, "faults[0].kill", "exactly one"),
        ("  - {at: 2s, for: 3s}\n", 7, "faults[0]", "got none"),
        ("  - at: 2s\n    for: 3s\n    kill: {}\n", 8, "faults[0].for", "no 'for'"),
        ("  - {at: 1s, kill: {}}\n  - {at: 25s, kill: {}}\n", 8, "faults[1].at", "not within"),
        ("  - {at: 1s, kill: {process: 2}}\n", 7, "faults[0].kill.process", "0..1"),
        ("  - {at: 1s, kill: {signal: SIGNOPE}}\n", 7, "faults[0].kill.signal", "signal name"),
        ("  - {at: 1s, for: 2s, target: {stal_s: 1}}\n", 7, "faults[0].target.stal_s", "unknown field"),
        ("  - {at: 1s, target: {stall_s: 1}}\n", 7, "faults[0].target", "give 'for'"),
        ("  - {at: 1s, database: outage}\n", 7, "faults[0].database", "give 'for'"),
        ("  - {at: 1s, for: 9s, database: outage}\n  - {at: 5s, for: 2s, database: outage}\n",
         8, "faults[1].at", "in force"),
        ("  - {at: 1s, exec: {run: x, undo: y}}\n", 7, "faults[0].exec.undo", "needs 'for'"),
        ("  - {at: -1s, kill: {}}\n", 7, "faults[0].at", ""),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, entry: str, line: int, field: str, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(_HEAD + entry)
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    assert words in str(err.value)


def test_database_outage_needs_the_owned_postgres() -> None:
    text = _HEAD.replace(", database: owned-postgres", "") + "  - {at: 1s, for: 2s, database: outage}\n"
    with pytest.raises(ConfigError) as err:
        parse_scenario(text, source="s.yaml")
    assert err.value.line == 7 and err.value.field == "faults[0].database"
    assert "owned-postgres" in str(err.value)


def test_kill_needs_the_embedded_target_and_foreign_faults_need_a_health_path() -> None:
    foreign = "target: http://127.0.0.1:9\nduration: 9s\nload: {model: open, rate: 1}\n" \
        "http: [{name: p, path: /p}]\nfaults:\n"
    with pytest.raises(ConfigError) as err:
        parse_scenario(foreign + "  - {at: 1s, kill: {}}\n", source="f.yaml")
    assert err.value.line == 6 and err.value.field == "faults[0].kill" and "exec" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_scenario(foreign + "  - {at: 1s, exec: {run: 'true'}}\n", source="f.yaml")
    assert err.value.field == "faults" and "health_path" in str(err.value)
    ok = parse_scenario("health_path: /health\n" + foreign + "  - {at: 1s, exec: {run: 'true'}}\n")
    assert ok.scenario.health_path == "/health"


def test_several_embedded_workers_need_redis() -> None:
    text = "target: embedded\nduration: 5s\nload: {users: 1}\nembedded: {workers: 2}\n"
    with pytest.raises(ConfigError) as err:
        parse_scenario(text, source="w.yaml")
    assert err.value.line == 4 and err.value.field == "embedded.redis"
