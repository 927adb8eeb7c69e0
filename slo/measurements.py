"""Everything an evaluation reads, already loaded: the pure core's only input besides the SLO.

:func:`slo.evaluate.evaluate` takes ``(objectives, Measurements)`` and touches no file, clock
or network; :mod:`slo.measure` builds a :class:`Measurements` from a run directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from slo.faults import FaultWindow
from slo.samples import SampleColumns
from slo.server import ServerRecord

__all__ = ["Measurements", "RunFacts", "Timeseries"]


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the run record says about the run as a whole.

    ``approximate`` marks records converted from sources that round (e.g. Locust's stats
    history): every objective judged from them says so.
    """

    run_id: str
    started_at: float
    ended_at: float | None
    warmup_s: float = 0.0
    status: str = "complete"
    approximate: bool = False
    approximate_reason: str = ""


@dataclass(frozen=True, slots=True)
class Timeseries:
    """The 1 s timeseries: ``t`` (epoch s) and numeric columns by name."""

    t: npt.NDArray[np.float64]
    columns: Mapping[str, npt.NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class Measurements:
    """A run's samples, timeseries and server metrics.

    Example::

        m = Measurements(RunFacts("r1", started_at=t0, ended_at=t0 + 60), samples=cols)
        verdict = evaluate(spec.objectives, m)
    """

    facts: RunFacts
    samples: SampleColumns
    timeseries: Timeseries | None = None
    server: ServerRecord | None = None
    cross_check: Mapping[str, object] = field(default_factory=dict)
    faults: tuple[FaultWindow, ...] = ()
    """run.json's ``faults`` (judged by :mod:`slo.recovery`)."""

    @property
    def quiet_since(self) -> float | None:
        """When the last fault was over; ``inf`` if one was never undone (no quiet time at
        all); ``None`` without faults. The memory slope is judged only after it (docs/slo.md)."""
        ends = [f.end if f.end is not None else float("inf") for f in self.faults if f.happened]
        return max(ends, default=None)

    @property
    def end_ts(self) -> float:
        """End of the judged span: run.json's ``ended_at``, else the last sample's send time."""
        if self.facts.ended_at is not None:
            return self.facts.ended_at
        if self.samples.n:
            return float(np.max(self.samples.ts))
        return self.facts.started_at
