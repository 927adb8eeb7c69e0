"""Scenario files: pydantic models, loading with file/line/field errors, and load profiles.

Typical use::

    loaded = load_scenario("scenarios/catalog/smoke.yaml").with_overrides(duration_s=20)
    steps = expand_stages(loaded.scenario.stages, default_level=..., duration_s=...)

Turning a scenario into the engines' plans lives in :mod:`scenarios.runner.plans`, next to
the engines it feeds, so this package imports neither Locust nor the swarm.
"""

from scenarios.spec.faults import ExecAction, FaultModel, KillAction
from scenarios.spec.loader import (
    CATALOG_DIR,
    LoadedScenario,
    catalog_files,
    default_scenario_path,
    load_scenario,
    parse_scenario,
)
from scenarios.spec.models import (
    REFERENCE_TIERS,
    Credential,
    DistributedSpec,
    EmbeddedOptions,
    Limits,
    LoadSpec,
    RequestModel,
    Scenario,
    StageModel,
    TenantMix,
    WebSocketSpec,
)
from scenarios.spec.profile import LevelStep, expand_stages, fit_to_duration, level_at
from scenarios.spec.units import ByteSize, parse_bytes

__all__ = [
    "CATALOG_DIR",
    "REFERENCE_TIERS",
    "ByteSize",
    "Credential",
    "DistributedSpec",
    "EmbeddedOptions",
    "ExecAction",
    "FaultModel",
    "KillAction",
    "LevelStep",
    "Limits",
    "LoadSpec",
    "LoadedScenario",
    "RequestModel",
    "Scenario",
    "StageModel",
    "TenantMix",
    "WebSocketSpec",
    "catalog_files",
    "default_scenario_path",
    "expand_stages",
    "fit_to_duration",
    "level_at",
    "load_scenario",
    "parse_bytes",
    "parse_scenario",
]
