"""A run's samples split per operation (kind x name x tier), and per SLO objective, vectorised,
inside the judged window.

Latency is compared over **successful** samples only: failed requests are often very fast
(an immediate 503) or very slow (a timeout), and the error rate is compared on its own, so
mixing them into the latency distribution would let a rise in fast errors hide a latency
regression. By default latency is the response time corrected for coordinated omission
(``latency_ms + (ts - intended_ts) x 1000``, :func:`slo.sli.corrected_latency_ms`); in a
closed-model run ``intended_ts == ts`` and the two are equal.

Objectives measured from samples become "operations" of kind ``slo`` (``slo http-p95``):
the samples their ``select`` picks, with the latency their own definition uses
(``corrected``), compared on the metrics that fit them -- latency shift, P95 and P99 for
latency and TTFT objectives, error rate for availability and error-rate objectives (each
kind says which, :attr:`slo.sli_kinds.Traits.compared_as`). A
``per`` objective is compared over all its groups pooled; the run's warm-up applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from slo.compare.model import METRICS, MetricName, OperationKey
from slo.samples import SampleColumns
from slo.sli import corrected_latency_ms
from slo.sli_kinds import traits_of
from slo.spec.model import Objective

__all__ = ["OBJECTIVE_KIND", "OperationSamples", "objective_operations", "split_operations"]

OBJECTIVE_KIND: Final = "slo"
"""``kind`` of the operation keys that stand for SLO objectives."""

FloatArray = npt.NDArray[np.float64]

_COMPARED_ON: Final[dict[str, tuple[MetricName, ...]]] = {
    "latency": ("latency", "p95", "p99"),
    "error_rate": ("error_rate",),
}
"""The metrics an objective is compared on, by what its kind says it is
(:attr:`slo.sli_kinds.Traits.compared_as`)."""


@dataclass(frozen=True, slots=True)
class OperationSamples:
    """One operation's samples in the judged window.

    ``latency_sorted``: latency (ms) of successful samples, ascending; ``ok_ts``: their send
    times; ``total``/``errors``: all samples and failed ones; ``metrics``: what to compare.
    """

    latency_sorted: FloatArray
    ok_ts: FloatArray
    total: int
    errors: int
    metrics: tuple[MetricName, ...] = METRICS

    @property
    def error_rate(self) -> float | None:
        return None if self.total == 0 else self.errors / self.total


def split_operations(
    cols: SampleColumns, window_start: float, *, corrected: bool = True
) -> dict[OperationKey, OperationSamples]:
    """Per-operation samples sent at or after ``window_start`` (warm-up excluded)."""
    if cols.latency_ms is None or cols.kind is None or cols.name is None:
        raise ValueError("comparison needs the latency_ms, kind and name columns")
    keep = cols.ts >= window_start
    latency = cols.latency_ms
    if corrected and cols.intended_ts is not None:
        latency = corrected_latency_ms(cols.latency_ms, cols.ts, cols.intended_ts)
    tier_codes = cols.tier.codes if cols.tier is not None else np.zeros(cols.n, dtype=np.int32)
    tiers = cols.tier.categories if cols.tier is not None else ("",)
    n_name, n_tier = max(len(cols.name.categories), 1), max(len(tiers), 1)
    ids = (cols.kind.codes.astype(np.int64) * n_name + cols.name.codes) * n_tier + tier_codes
    ids = ids[keep]
    latency, ts, ok = latency[keep], cols.ts[keep], cols.ok[keep]
    unique, inverse = np.unique(ids, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(unique.size + 1))
    result: dict[OperationKey, OperationSamples] = {}
    for g, group_id in enumerate(unique.tolist()):
        rows = order[bounds[g] : bounds[g + 1]]
        kind_code, rest = divmod(int(group_id), n_name * n_tier)
        name_code, tier_code = divmod(rest, n_tier)
        key = OperationKey(cols.kind.categories[kind_code], cols.name.categories[name_code],
                           tiers[tier_code] if tiers else "")
        good = rows[ok[rows]]
        result[key] = OperationSamples(
            latency_sorted=np.sort(latency[good]),
            ok_ts=ts[good],
            total=int(rows.size),
            errors=int(rows.size - good.size),
        )
    return result


def objective_operations(
    cols: SampleColumns, window_start: float, objectives: Sequence[Objective]
) -> dict[OperationKey, OperationSamples]:
    """One entry per objective measured from samples (see the module docstring)."""
    if cols.latency_ms is None:
        raise ValueError("comparison needs the latency_ms column")
    result: dict[OperationKey, OperationSamples] = {}
    for o in objectives:
        traits = traits_of(o)
        if traits.compared_as is None:
            continue  # server-side, timeseries and per-session SLIs have no sample selection
        rows = np.flatnonzero(cols.select(o.select, since_ts=window_start))
        latency = cols.latency_ms
        if traits.corrected and cols.intended_ts is not None:
            latency = corrected_latency_ms(cols.latency_ms, cols.ts, cols.intended_ts)
        good = rows[cols.ok[rows]]
        result[OperationKey(OBJECTIVE_KIND, o.name)] = OperationSamples(
            latency_sorted=np.sort(latency[good]), ok_ts=cols.ts[good], total=int(rows.size),
            errors=int(rows.size - good.size), metrics=_COMPARED_ON[traits.compared_as],
        )
    return result
