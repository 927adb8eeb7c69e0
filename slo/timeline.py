"""When a run's load ran, once for every judgement: load start, warm-up, judged window, faults.

The verdict (:mod:`slo.measure`), the claims (:mod:`slo.claims.gather`) and the comparison
(:mod:`slo.compare.load`) all count warm-up and windows from the *load start*, so there is one
definition of it, here: the first operation's intended send (its actual send for records
without ``intended_ts``), never before run.json's ``started_at``. run.json's ``started_at``
is stamped before the target starts and tenants are provisioned (seconds on a busy machine),
and the runner's ``load_started_at`` when the first worker *reports*, up to a second after
its first request; counting from either would shift the warm-up by that set-up time. A
record without samples falls back to ``load_started_at``, then ``started_at``.

Example::

    t = run_timeline(info, first_send(samples))
    t.load_start, t.judged_from, t.load_s, [f.name for f in t.faults]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from foundation.layout import RunInfo
from slo.faults import FaultWindow, faults_of
from slo.samples import SampleColumns

__all__ = ["RunTimeline", "first_send", "first_send_in_table", "run_timeline"]


@dataclass(frozen=True, slots=True)
class RunTimeline:
    """The run's clock facts, in epoch seconds; ``faults`` as they happened (run.json)."""

    started_at: float
    load_start: float
    ended_at: float | None
    warmup_s: float
    faults: tuple[FaultWindow, ...] = ()

    @property
    def judged_from(self) -> float:
        """The end of the warm-up: what "sustained" objectives are judged from."""
        return self.load_start + self.warmup_s

    @property
    def load_s(self) -> float | None:
        """Seconds the load ran (None while the run has no end)."""
        return None if self.ended_at is None else max(0.0, self.ended_at - self.load_start)


def first_send(samples: SampleColumns | None) -> float | None:
    """The first operation's intended send (actual send without ``intended_ts``); None if none."""
    if samples is None or samples.n == 0:
        return None
    sent = samples.intended_ts if samples.intended_ts is not None else samples.ts
    return float(np.min(sent))


def first_send_in_table(table: pa.Table) -> float | None:
    """:func:`first_send` of an Arrow sample table, for readers that do not keep the column."""
    name = "intended_ts" if "intended_ts" in table.column_names else "ts"
    if table.num_rows == 0 or name not in table.column_names:
        return None
    return float(np.min(table.column(name).to_numpy()))


def run_timeline(info: RunInfo, first: float | None) -> RunTimeline:
    """The one :class:`RunTimeline` of a run record, ``first`` being :func:`first_send` of
    its samples (module docstring: which load start)."""
    if first is not None:
        load_start = max(info.started_at, first)
    else:
        load_start = info.load_started_at if info.load_started_at is not None else info.started_at
    return RunTimeline(started_at=info.started_at, load_start=load_start, ended_at=info.ended_at,
                       warmup_s=info.warmup_s, faults=faults_of(info))
