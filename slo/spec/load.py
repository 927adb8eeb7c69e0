"""Read an SLO file of any supported format into one :class:`SloSpec`.

Formats, told apart by their top-level keys:

- native (``objectives:`` and/or k6-style ``thresholds:``) -> :class:`slo.spec.file.SloFile`
- OpenSLO (``apiVersion: openslo/v1``, ``kind: SLO``) -> :class:`slo.spec.openslo.OpenSloDocument`

Every error is a :class:`~foundation.errors.ConfigError` naming file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from foundation.errors import ConfigError
from foundation.yamlfile import parse_yaml_model
from slo.spec.file import SloFile
from slo.spec.model import CrossCheckConfig, Objective
from slo.spec.openslo import OpenSloDocument

__all__ = ["SloSpec", "load_slo", "parse_slo"]


@dataclass(frozen=True, slots=True)
class SloSpec:
    """What an SLO file asks for, whatever its format.

    Example::

        spec = load_slo("slo/catalog/default.yaml")
        [o.name for o in spec.objectives]
    """

    source: str
    format: Literal["native", "openslo"]
    name: str
    objectives: tuple[Objective, ...]
    cross_check: CrossCheckConfig = field(default_factory=CrossCheckConfig)


def load_slo(path: str | Path) -> SloSpec:
    """Read and validate the SLO file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read SLO file: {exc.strerror}; check the path given to --slo",
            path=str(path),
        ) from exc
    return parse_slo(text, source=str(path))


def parse_slo(text: str, *, source: str = "<string>") -> SloSpec:
    """Validate SLO ``text``; ``source`` names it in error messages."""
    try:
        head = yaml.safe_load(text)
    except yaml.YAMLError:
        head = None  # parse_yaml_model reports the syntax error with its line
    if isinstance(head, dict) and ("apiVersion" in head or "kind" in head):
        doc = parse_yaml_model(text, OpenSloDocument, source=source)
        return SloSpec(source, "openslo", doc.metadata.name, tuple(doc.to_objectives()))
    spec = parse_yaml_model(text, SloFile, source=source)
    name = spec.name or Path(source).stem
    return SloSpec(source, "native", name, tuple(spec.all_objectives()), spec.cross_check)
