"""Capacity search, the judging side: one step's outcome (pass / fail / inconclusive, with
the generator's limits) and the search's result, ``capacity.json``. User doc: docs/capacity.md.
"""

from slo.capacity.result import (
    CAPACITY_JSON,
    CAPACITY_SCHEMA_VERSION,
    CapacityResult,
    CapacityStep,
    answer_sentence,
    read_capacity,
    unit_for,
    write_capacity,
)
from slo.capacity.step import (
    StepFacts,
    StepJudgement,
    classify_step,
    events_needed,
    step_facts,
)

__all__ = [
    "CAPACITY_JSON",
    "CAPACITY_SCHEMA_VERSION",
    "CapacityResult",
    "CapacityStep",
    "StepFacts",
    "StepJudgement",
    "answer_sentence",
    "classify_step",
    "events_needed",
    "read_capacity",
    "step_facts",
    "unit_for",
    "write_capacity",
]
