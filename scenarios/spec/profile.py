"""Load-profile stages (ramp, steady, step, spike, soak) expanded into a plain level schedule.

The HTTP engine understands one primitive: hold a level (users, or arrivals per second) for
some seconds, optionally ramping linearly to it from the previous level. Every stage kind of a
scenario file is a short sequence of those, decided here once and documented in
``docs/scenarios.md``:

* ``ramp``   -> one ramping step from the previous level (0 at the start) to ``to``.
* ``steady`` -> one step at ``level``.
* ``soak``   -> one step at ``level`` (same load as steady; the name tells readers and
  reports that this is the long phase used for leak and drift checks).
* ``step``   -> ``steps`` equal steps from ``from`` (default: the previous level) to ``to``;
  the first step is already above ``from``: from 10 to 40 in 3 steps is 20, 30, 40.
* ``spike``  -> base, peak, base: ``level`` (default: the previous level) for the first half of
  the time outside the spike, ``level * factor`` (default 3x) for ``hold`` (default a third
  of the stage), then ``level`` again. Changes are instantaneous: a spike that ramped would
  not test what a spike tests.

Pure functions, no I/O: the schedule is unit-tested against hand-computed tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scenarios.spec.models import StageModel

__all__ = ["SPIKE_FACTOR", "LevelStep", "expand_stages", "fit_to_duration", "level_at", "spike_parts"]

_EPS = 1e-9
SPIKE_FACTOR = 3.0
"""A spike stage's default peak, as a multiple of its base level."""


@dataclass(frozen=True, slots=True)
class LevelStep:
    """Hold ``level`` for ``duration_s``; with ``ramp``, go linearly from the previous level."""

    duration_s: float
    level: float
    ramp: bool = False


def expand_stages(
    stages: Sequence[StageModel], *, default_level: float | None, duration_s: float | None
) -> tuple[LevelStep, ...]:
    """The level schedule of a scenario.

    With no stages, one steady step of ``default_level`` (``load.rate`` or ``load.users``) for
    ``duration_s``. With stages, their expansion; when ``duration_s`` is also given (the
    file's ``duration`` or ``--duration``), the schedule is cut or extended to it by
    :func:`fit_to_duration`.
    """
    if not stages:
        if default_level is None or duration_s is None:
            return ()
        return (LevelStep(duration_s, default_level),)
    steps: list[LevelStep] = []
    previous = 0.0
    for stage in stages:
        new = _expand_one(stage, previous)
        steps.extend(new)
        previous = new[-1].level
    if duration_s is not None:
        return fit_to_duration(steps, duration_s)
    return tuple(steps)


def _expand_one(stage: StageModel, previous: float) -> list[LevelStep]:
    d = stage.duration
    if stage.kind == "ramp":
        assert stage.to is not None  # checked by StageModel
        return [LevelStep(d, stage.to, ramp=True)]
    if stage.kind in ("steady", "soak"):
        assert stage.level is not None
        return [LevelStep(d, stage.level)]
    if stage.kind == "step":
        assert stage.to is not None
        start = previous if stage.from_ is None else stage.from_
        n = stage.steps or 1
        return [LevelStep(d / n, start + (stage.to - start) * (i + 1) / n) for i in range(n)]
    # spike
    base = previous if stage.level is None else stage.level
    side, hold, factor = spike_parts(d, stage.hold, stage.factor)
    return [LevelStep(side, base), LevelStep(hold, base * factor), LevelStep(side, base)]


def spike_parts(duration_s: float, hold_s: float | None, factor: float | None) -> tuple[float, float, float]:
    """``(side, hold, factor)`` of a spike stage: base level for ``side`` seconds, ``factor``
    times it for ``hold`` (default a third of the stage), base again for ``side``.

    The one definition of the spike's shape: the schedule above and the claims (which find
    the spike window in run.json's scenario, :mod:`slo.claims.facts`) both use it.
    """
    hold = hold_s if hold_s is not None else duration_s / 3
    return (duration_s - hold) / 2, hold, factor if factor is not None else SPIKE_FACTOR


def fit_to_duration(steps: Sequence[LevelStep], duration_s: float) -> tuple[LevelStep, ...]:
    """Cut ``steps`` at ``duration_s``, or hold the last level until then.

    A ramp cut short ends at the level it had reached, so the cut schedule is exactly the
    first ``duration_s`` seconds of the uncut one.
    """
    out: list[LevelStep] = []
    elapsed = 0.0
    previous = 0.0
    for step in steps:
        if elapsed + step.duration_s >= duration_s - _EPS:
            keep = duration_s - elapsed
            if keep > _EPS:
                level = step.level
                if step.ramp:
                    level = previous + (step.level - previous) * keep / step.duration_s
                out.append(LevelStep(keep, level, step.ramp))
            return tuple(out)
        out.append(step)
        elapsed += step.duration_s
        previous = step.level
    if duration_s - elapsed > _EPS:
        out.append(LevelStep(duration_s - elapsed, previous))
    return tuple(out)


def level_at(steps: Sequence[LevelStep], t: float) -> float:
    """The scheduled level ``t`` seconds into the run (0 after the end)."""
    start = 0.0
    previous = 0.0
    for step in steps:
        if t < start + step.duration_s:
            if step.ramp:
                return previous + (step.level - previous) * (t - start) / step.duration_s
            return step.level
        start += step.duration_s
        previous = step.level
    return 0.0
