"""The one interface every kind of SLI implements, and the small types it answers with.

An objective's type (``LatencyObjective``, ``CpuObjective``, ...) is validated at the trust
boundary (:mod:`slo.spec.model`); what to *do* with it lives in one module per kind under
:mod:`slo.sli_kinds`, behind :class:`SliKind`. The layers that used to ask
``isinstance(objective, ...)`` -- the evaluator, the judge's thresholds and minimums, the
sample loader, the recovery windows, the claims and the release comparison -- now ask the
objective's kind (:func:`slo.sli_kinds.kind_of`), so a new SLI is one module plus one line of
registration (docs/ARCHITECTURE.md, "Add an SLI").

Example::

    kind = kind_of(objective)
    kind.traits(objective).source      # "samples" | "server" | "timeseries"
    kind.evaluate(objective, measurements).status
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from slo.measurements import Measurements
from slo.samples import BoolArray, SampleColumns
from slo.spec.model import Objective
from slo.verdict import ObjectiveResult

__all__ = [
    "EPS",
    "SliKind",
    "Source",
    "Threshold",
    "Traits",
    "WindowTest",
    "judged_from",
    "required_events",
]

EPS = 1e-9
"""Tolerance of the window arithmetic (a share of ``n`` compared with a count)."""

Source = Literal["samples", "server", "timeseries"]
"""Where an SLI's value comes from: the run's samples, ``server.json``, or the 1 s timeseries."""

O_contra = TypeVar("O_contra", contravariant=True)


@dataclass(frozen=True, slots=True)
class Traits:
    """What the layers around the evaluator need to know about one objective.

    ``source``: a run without samples cannot judge a ``samples`` objective (exit 3).
    ``sample_kinds``: the sample kinds it judges (``None``: whatever its ``select`` allows);
    the claims match objectives to claims by them. ``columns``: sample columns it reads
    beyond ``ts``/``ok``/``latency_ms``/``kind`` and those its ``select``/``per`` name.
    ``corrected``: it judges latency corrected for coordinated omission. ``metric``: the
    server histogram it reads. ``compared_as``: how a release comparison treats its samples
    (``None``: not compared). ``per_phase``: judged again before/during/after each fault.
    """

    source: Source
    sample_kinds: tuple[str, ...] | None = None
    columns: tuple[str, ...] = ()
    corrected: bool = False
    metric: str | None = None
    compared_as: Literal["latency", "error_rate"] | None = None
    per_phase: bool = False


class Threshold(NamedTuple):
    """An objective's levels for display: ``Threshold(500.0, None, "ms", "<= 500 ms")``."""

    value: float | None
    warn: float | None
    unit: str
    text: str

    @classmethod
    def of(cls, value: float, warn: float | None, unit: str, comparison: str) -> Threshold:
        """The usual text: ``"<= 500 ms"``, ``">= 99.9 % (warn 99.95)"``."""
        text = f"{comparison} {value:g} {unit}"
        if warn is not None:
            text += f" (warn {warn:g})"
        return cls(value, warn, unit, text)


@dataclass(frozen=True, slots=True)
class WindowTest:
    """One objective as per-event bad flags (``ts`` sorted) and its tolerance, for the
    recovery windows of :mod:`slo.recovery`.

    ``share``: a window is within when ``bad <= share x n``; ``rank``: when
    ``n - bad >= ceil(rank x n)`` (nearest-rank percentile).
    """

    name: str
    ts: npt.NDArray[np.float64]
    bad: BoolArray
    share: float | None = None
    rank: float | None = None
    allowed_bad_ratio: float | None = None

    @classmethod
    def of(cls, name: str, ts: npt.NDArray[np.float64], mask: BoolArray, bad: BoolArray, *,
           share: float | None = None, rank: float | None = None,
           allowed: float | None = None) -> WindowTest:
        """The events under ``mask``, sorted by send time (windows are binary searches)."""
        t = ts[mask]
        b = bad[mask]
        order = np.argsort(t, kind="stable")
        return cls(name, t[order], b[order], share, rank, allowed)

    def allowed(self, n: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Bad events tolerated in windows of ``n`` events."""
        if self.rank is not None:
            return np.asarray(n - np.ceil(self.rank * n - EPS), dtype=np.float64)
        return np.asarray((self.share or 0.0) * n + EPS, dtype=np.float64)


class SliKind(Protocol[O_contra]):
    """How one kind of objective is measured, judged and described to the other layers.

    Every method is pure. ``default_min_events`` applies only when the objective sets no
    ``min_events`` (:func:`slo.sli_kinds.min_events` applies that rule once).
    """

    def traits(self, o: O_contra) -> Traits:
        """What measure, claims, comparison and recovery need to know (:class:`Traits`)."""
        ...

    def threshold(self, o: O_contra) -> Threshold:
        """Fail and warn levels, unit and display text."""
        ...

    def default_min_events(self, o: O_contra) -> int:
        """Events (or timeseries rows) needed before the value can be judged at all."""
        ...

    def evaluate(self, o: O_contra, m: Measurements) -> ObjectiveResult:
        """The objective's result over ``m``."""
        ...

    def window_test(self, o: O_contra, cols: SampleColumns) -> WindowTest | None:
        """Per-event bad flags for fault recovery; ``None`` when the SLI has no per-event
        meaning (server histograms, resources, avg/min latency)."""
        ...


def judged_from(o: Objective, m: Measurements) -> float:
    """Send time from which ``o`` is judged: load start plus its warm-up (else the run's)."""
    warmup = o.warmup_s if o.warmup_s is not None else m.facts.warmup_s
    return m.facts.started_at + warmup


def required_events(o: Objective, default: int) -> int:
    """``o.min_events`` when the SLO file sets it, else the kind's ``default`` (the one rule;
    docs/slo.md, "min_events")."""
    return o.min_events if o.min_events is not None else default
