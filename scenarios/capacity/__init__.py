"""Capacity search, the scenario side: the search strategy and the knee (pure), and the
scenario of one step at a level. Judging a step is :mod:`slo.capacity`; the wiring is
:mod:`slogate.capacity`. User doc: docs/capacity.md.
"""

from scenarios.capacity.knee import knee
from scenarios.capacity.levels import VARY, HoldPolicy, Vary, event_rate, scenario_at_level
from scenarios.capacity.search import (
    Conclusion,
    Done,
    Outcome,
    Probe,
    SearchConfig,
    StepResult,
    bracket,
    decide,
)

__all__ = [
    "VARY",
    "Conclusion",
    "Done",
    "HoldPolicy",
    "Outcome",
    "Probe",
    "SearchConfig",
    "StepResult",
    "Vary",
    "bracket",
    "decide",
    "event_rate",
    "knee",
    "scenario_at_level",
]
