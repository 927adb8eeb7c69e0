"""What the comparison needs from one run, already loaded (built by :mod:`slo.compare.load`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slo.compare.model import OperationKey, RunSummary
from slo.compare.operations import OperationSamples
from slo.verdict import Verdict

__all__ = ["RunData"]


@dataclass(frozen=True, slots=True)
class RunData:
    """One run, ready to compare: identity, scenario, window and per-operation samples.

    ``window_start`` is when judging starts (load start + warm-up); ``window_seconds`` the
    whole seconds from there to the last sample (the basis of throughput).

    Example::

        run = load_run("runs/20261126-0600-ab12")
        run.operations[OperationKey("http", "GET /healthz")].latency_sorted
    """

    summary: RunSummary
    window_start: float
    window_seconds: int
    operations: Mapping[OperationKey, OperationSamples]
    scenario: Mapping[str, Any] = field(default_factory=dict)
    verdict: Verdict | None = None
