"""Which kind handles which objective type: the one registration of every SLI.

Lookup is by the objective's exact type, not by ``isinstance``: ``TtftObjective`` is a
``LatencyObjective`` and ``WsDropRateObjective`` an ``ErrorRateObjective`` in the spec, yet
each is its own SLI, and a subclass that was never registered must fail loudly rather than
be judged as its parent. ``tests/slo/test_sli_kinds.py`` checks that every member of the
``Objective`` union is registered, so a new objective without a kind fails a test, not a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, TypeVar, cast

from slo.sli_kinds.base import SliKind, Threshold, Traits, required_events
from slo.sli_kinds.cpu import CPU
from slo.sli_kinds.latency import LATENCY, TTFT
from slo.sli_kinds.memory_slope import MEMORY_SLOPE
from slo.sli_kinds.ratio import AVAILABILITY, ERROR_RATE
from slo.sli_kinds.server_latency import SERVER_LATENCY
from slo.sli_kinds.ws_drop_rate import WS_DROP_RATE
from slo.spec.model import (
    AvailabilityObjective,
    CpuObjective,
    ErrorRateObjective,
    LatencyObjective,
    MemorySlopeObjective,
    Objective,
    ServerLatencyObjective,
    TtftObjective,
    WsDropRateObjective,
)

__all__ = ["KINDS", "kind_of", "min_events", "threshold_text", "traits_of"]

Obj = TypeVar("Obj")


def _entry(model: type[Obj], kind: SliKind[Obj]) -> tuple[type[Any], SliKind[Any]]:
    """One registration; typed so that mypy checks the kind accepts that model."""
    return model, kind


KINDS: Final[Mapping[type[Any], SliKind[Any]]] = MappingProxyType(dict([
    _entry(LatencyObjective, LATENCY),
    _entry(TtftObjective, TTFT),
    _entry(AvailabilityObjective, AVAILABILITY),
    _entry(ErrorRateObjective, ERROR_RATE),
    _entry(WsDropRateObjective, WS_DROP_RATE),
    _entry(ServerLatencyObjective, SERVER_LATENCY),
    _entry(MemorySlopeObjective, MEMORY_SLOPE),
    _entry(CpuObjective, CPU),
]))
"""Objective model -> its kind. Add a line here for a new SLI (docs/ARCHITECTURE.md)."""


def kind_of(objective: Obj) -> SliKind[Obj]:
    """The kind that measures and describes ``objective``."""
    kind = KINDS.get(type(objective))
    if kind is None:
        raise TypeError(
            f"no SLI kind is registered for {type(objective).__name__}: add it to "
            "slo/sli_kinds/registry.py KINDS"
        )
    return cast(SliKind[Obj], kind)  # the registration pairs each model with its kind


def traits_of(objective: Objective) -> Traits:
    """What the layers around the evaluator need to know about ``objective``."""
    return kind_of(objective).traits(objective)


def min_events(objective: Objective) -> int:
    """The objective's ``min_events``, else its kind's default (a percentile ``p`` needs
    ``1 / (1 - p)`` events, never fewer than 100; timeseries objectives 10 rows)."""
    return required_events(objective, kind_of(objective).default_min_events(objective))


def threshold_text(objective: Objective) -> Threshold:
    """``(threshold, warn, unit, text)`` for display, e.g. ``(500.0, None, "ms", "<= 500 ms")``."""
    return kind_of(objective).threshold(objective)
