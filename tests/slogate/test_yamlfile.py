"""The shared YAML loader must point at the line and field a person has to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from foundation.errors import EXIT_USAGE, ConfigError
from foundation.yamlfile import format_loc, load_yaml_model, parse_yaml_model


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    weight: float = 1.0


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duration: int = Field(gt=0)
    items: list[Item] = Field(default_factory=list)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        pytest.param("duration: fast\n", 1, "duration", "valid integer", id="wrong_type"),
        pytest.param("duration: 5\nitems:\n  - name: a\n  - name: b\n    weight: heavy\n",
                     5, "items[1].weight", "'heavy'", id="nested_list_field"),
        pytest.param("duration: 5\nitems:\n  - name: a\n    wieght: 2\n",
                     4, "items[0].wieght", "unknown field", id="misspelt_field"),
        pytest.param("duration: 5\nitems:\n  - weight: 2\n", 3, "items[0].name",
                     "field required", id="missing_field_points_at_parent"),
        pytest.param("duration: -1\n", 1, "duration", "greater than 0", id="constraint"),
    ],
)
def test_errors_name_line_and_field(text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml_model(text, Doc, source="scenario.yaml")
    err = info.value
    assert (err.path, err.line, err.field) == ("scenario.yaml", line, field)
    assert str(err).startswith(f"scenario.yaml:{line}: {field}: ")
    assert words in str(err)
    assert err.exit_code == EXIT_USAGE


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml_model("duration: 5\nitems: [a, b\nfoo: 1\n", Doc, source="x.yaml")
    assert info.value.line is not None and info.value.line >= 2
    assert "not valid YAML" in str(info.value)


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        parse_yaml_model("- 1\n- 2\n", Doc)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_yaml_model(tmp_path / "nope.yaml", Doc)


def test_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("duration: 3\nitems:\n  - name: ping\n")
    doc = load_yaml_model(path, Doc)
    assert doc.duration == 3 and doc.items == [Item(name="ping", weight=1.0)]


def test_format_loc() -> None:
    assert format_loc(("http", 0, "path")) == "http[0].path"
    assert format_loc(()) == "(top level)"
