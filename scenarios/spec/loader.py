"""Load a scenario file, apply command-line overrides, and find the shipped catalog.

Relative paths inside a scenario (``slo:``) are relative to the scenario file, not to the
directory slogate happens to run in, so a scenario and its SLO file travel together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from foundation.errors import ConfigError, UsageError
from foundation.yamlfile import format_loc, load_yaml_model, parse_yaml_model
from scenarios.spec.models import Scenario

__all__ = [
    "CATALOG_DIR",
    "LoadedScenario",
    "catalog_files",
    "default_scenario_path",
    "load_scenario",
    "parse_scenario",
]

CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog"
"""The scenarios shipped with slogate (``scenarios/catalog/*.yaml``)."""


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    """A validated scenario and where it came from.

    ``slo_path`` is the ``slo:`` field resolved against the scenario file's directory.
    """

    scenario: Scenario
    path: Path | None
    slo_path: Path | None

    def with_overrides(
        self, *, duration_s: float | None = None, target: str | None = None
    ) -> LoadedScenario:
        """The same scenario with ``--duration`` / ``--target`` applied, validated again.

        Re-validation matters: ``--duration 5s`` on a scenario with ``warmup: 10s`` must be
        refused exactly like the same mistake in the file.
        """
        if duration_s is None and target is None:
            return self
        data: dict[str, Any] = self.scenario.model_dump(by_alias=True, exclude_unset=True)
        if duration_s is not None:
            data["duration"] = duration_s
        if target is not None:
            data["target"] = target
        return self.replaced(data, "the command-line overrides do not fit")

    def replaced(self, data: dict[str, Any], misfit: str) -> LoadedScenario:
        """This scenario's file with its fields replaced by ``data``, validated again; a misfit
        is a usage error led by ``misfit`` (the flags, not the file, are wrong)."""
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise UsageError(
                f"{misfit} the scenario: "
                f"{format_loc(tuple(first['loc']))}: {first['msg']}"
            ) from exc
        return LoadedScenario(scenario, self.path, self.slo_path)


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file; :class:`ConfigError` names file, line and field.

    A bare name that is not a file but names a shipped scenario (``readiness``) loads
    ``scenarios/catalog/<name>.yaml``, so ``slogate run readiness`` works from anywhere.
    """
    path = Path(path)
    shipped = CATALOG_DIR / f"{path.name}.yaml"
    if not path.is_file() and path.parent == Path(".") and not path.suffix and shipped.is_file():
        path = shipped
    if not path.is_file():
        raise ConfigError("no such scenario file", path=str(path))
    scenario = load_yaml_model(path, Scenario)
    return LoadedScenario(scenario, path, _slo_path(scenario, path.parent))


def parse_scenario(
    text: str, *, source: str = "<string>", base_dir: Path | None = None
) -> LoadedScenario:
    """Validate scenario YAML given as text (tests, embedded examples)."""
    scenario = parse_yaml_model(text, Scenario, source=source)
    return LoadedScenario(scenario, None, _slo_path(scenario, base_dir or Path.cwd()))


def _slo_path(scenario: Scenario, base: Path) -> Path | None:
    if scenario.slo is None:
        return None
    slo = Path(scenario.slo)
    return slo if slo.is_absolute() else (base / slo).resolve()


def default_scenario_path() -> Path:
    """The scenario ``slogate run`` uses when given none: the catalog's smoke test."""
    return CATALOG_DIR / "smoke.yaml"


def catalog_files() -> list[Path]:
    """Every shipped scenario, sorted by name."""
    return sorted(CATALOG_DIR.glob("*.yaml"))
