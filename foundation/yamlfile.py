"""Load a YAML file into a pydantic model, reporting errors by file, line and field.

Scenario files (``scenarios/``) and SLO files (``slo/``) are both written by hand, so
both need the same thing: a validation error must point at the line a person has to fix.
PyYAML's composed node tree keeps line numbers; we walk it alongside pydantic's error
``loc`` to find the line of the offending field (or of its nearest existing parent, for a
missing field).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from foundation.errors import ConfigError

__all__ = ["FieldValueError", "format_loc", "load_yaml_model", "parse_yaml_model"]

ModelT = TypeVar("ModelT", bound=BaseModel)


class FieldValueError(ValueError):
    """Raise from a ``model_validator`` to blame a field *below* the model being validated.

    A cross-field rule ("this tier has no tenants") is checked on the whole model, so pydantic
    reports it at the model's own location; ``loc`` (relative to that model) lets the error
    name the line and field a person has to fix, e.g. ``FieldValueError(("stages", 2), msg)``.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def load_yaml_model(path: str | Path, model: type[ModelT]) -> ModelT:
    """Read ``path`` and validate it as ``model``; raise :class:`ConfigError` naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", path=str(path)) from exc
    return parse_yaml_model(text, model, source=str(path))


def parse_yaml_model(text: str, model: type[ModelT], *, source: str = "<string>") -> ModelT:
    """Validate YAML ``text`` as ``model``; ``source`` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"not valid YAML: {exc.problem}", path=source, line=line) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of fields, got {type(data).__name__}",
            path=source,
            line=1,
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, FieldValueError):
            loc += cause.loc
        line = _line_of(root, loc)
        message = _message(first)
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more error{'s' if more > 1 else ''})"
        raise ConfigError(message, path=source, line=line, field=format_loc(loc)) from exc


def format_loc(loc: tuple[Any, ...]) -> str:
    """``('http', 0, 'path')`` -> ``http[0].path``; the spelling a person finds in the file."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(error: Any) -> str:
    msg = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling against the documented fields)"
    if error["type"] == "missing":
        return "field required"
    if "input" in error and error["type"] not in ("missing",) and not isinstance(error["input"], dict | list):
        return f"{msg}, got {error['input']!r}"
    return msg


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the deepest node of ``loc`` that exists in the YAML tree."""
    node = root
    line = root.start_mark.line + 1 if root is not None else None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        key_node, node = child
        line = (key_node or node).start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: Any) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return None, node.value[part]
    return None
