"""Tables and series for the SRE detail, from millions of samples in a few array passes.

Describing, not judging: counts, rates and percentiles per route, per tier, per second; no
thresholds here. Percentiles are **nearest-rank**, the same definition as the verdict
(:func:`slo.sli.percentiles`), so a route's p95 here and an objective's p95 agree.

How it stays fast (10 million samples: see benchmarks/report_10m.py):

- string columns arrive dictionary-encoded (:class:`slo.samples.Categorical`): a group is an
  integer code; combined groups (kind x name, tier x kind, kind x second) are built as
  ``a * n_b + b`` and compacted with a ``bincount`` lookup table, never ``np.unique``
  (which sorts) and never Python per sample;
- the per-second chart series use a log-binned histogram (one ``bincount``); the tables use
  one stable argsort per grouping, on ``uint16`` keys when there are fewer than 65,536
  groups (numpy then uses a radix sort, O(n)), then one ``np.partition`` per group slice.
  Route groups are numbered kind-major, so every kind is a contiguous run of route groups
  and per-kind distributions reuse the route sort.

Tables cover every sample of the run, warm-up included (the objectives say when they
exclude it).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from slo.samples import Categorical, SampleColumns
from slo.sli import FloatArray, corrected_latency_ms, nearest_rank

__all__ = [
    "DIST_PCTS",
    "Aggregates",
    "Distribution",
    "FailureGroup",
    "KindSeries",
    "RouteRow",
    "TierRow",
    "aggregate",
]

TABLE_PCTS: Final = (50.0, 95.0, 99.0, 100.0)
DIST_PCTS: Final = (50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0)
SERIES_PCTS: Final = (50.0, 95.0, 99.0)
MAX_BUCKETS: Final = 150
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class RouteRow:
    """One operation (kind, name). Latencies in ms; ``*_c`` corrected for coordinated omission."""

    kind: str
    name: str
    count: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    p95_c: float
    p99_c: float

    @property
    def error_pct(self) -> float:
        return 100.0 * self.errors / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class TierRow:
    tier: str
    kind: str
    count: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float

    @property
    def error_pct(self) -> float:
        return 100.0 * self.errors / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class Distribution:
    """Percentiles ``pcts`` of one kind's latency, raw and corrected (``latency_ms +
    (ts - intended_ts) x 1000``): the gap between the two is coordinated omission."""

    kind: str
    count: int
    pcts: tuple[float, ...]
    raw: tuple[float, ...]
    corrected: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Failed samples with the same error text and status; ``names`` the top operations."""

    error: str
    status: int
    count: int
    names: tuple[tuple[str, int], ...]
    first_s: float
    last_s: float


@dataclass(frozen=True, slots=True)
class KindSeries:
    """Per-bucket rate, errors and percentiles of one kind; ``None`` where nothing completed."""

    kind: str
    rps: tuple[float, ...]
    errors_per_s: tuple[float, ...]
    p50: tuple[float | None, ...]
    p95: tuple[float | None, ...]
    p99: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Aggregates:
    """Everything the SRE detail shows from the samples. ``t0`` is the series' time origin."""

    total: int
    failed: int
    span_s: float
    routes: tuple[RouteRow, ...]
    tiers: tuple[TierRow, ...]
    distributions: tuple[Distribution, ...]
    failures: tuple[FailureGroup, ...]
    t0: float
    bucket_s: float
    series: tuple[KindSeries, ...]


def aggregate(
    cols: SampleColumns, errors: Categorical | None, *, t0: float, span_s: float | None = None
) -> Aggregates:
    """All tables and series. ``t0``: the run's load start (series time origin)."""
    n = cols.n
    if n == 0 or cols.latency_ms is None or cols.kind is None or cols.name is None:
        return Aggregates(n, 0, 0.0, (), (), (), (), t0, 1.0, ())
    span = span_s if span_s and span_s > 0 else max(1e-9, float(np.ptp(cols.ts)))
    raw = cols.latency_ms
    failed = ~cols.ok
    # The series and the tables read the same arrays and write nothing shared; numpy's
    # sorts, gathers and ufuncs release the GIL, so on two cores they overlap.
    with ThreadPoolExecutor(max_workers=1) as pool:
        series = pool.submit(_series, cols, raw, failed, t0)
        corrected = (raw if cols.intended_ts is None
                     else corrected_latency_ms(raw, cols.ts, cols.intended_ts))
        routes, tiers, dists = _tables(cols, raw, corrected, failed, span)
        failures = _failures(cols, errors, failed, t0)
        return Aggregates(
            total=n,
            failed=int(np.count_nonzero(failed)),
            span_s=span,
            routes=routes,
            tiers=tiers,
            distributions=dists,
            failures=failures,
            t0=t0,
            bucket_s=_bucket(cols, t0),
            series=series.result(),
        )


def _combine(a: npt.NDArray[np.int32], b: npt.NDArray[np.int32], nb: int) -> tuple[IntArray, IntArray]:
    """Codes of the (a, b) pairs present, numbered in (a, b) order; and the present pairs."""
    pair = a.astype(np.int64) * nb + b
    present = np.flatnonzero(np.bincount(pair))
    lut = np.full(int(present[-1]) + 1 if present.size else 1, -1, dtype=np.int64)
    lut[present] = np.arange(present.size)
    return lut[pair], present


def _sort(keys: IntArray, n_groups: int) -> tuple[npt.NDArray[np.intp], IntArray]:
    """Stable order by group, and each group's ``[bounds[g], bounds[g+1])`` slice."""
    small = keys.astype(np.uint16) if n_groups <= np.iinfo(np.uint16).max else keys
    order = np.argsort(small, kind="stable")
    counts = np.bincount(keys, minlength=n_groups)
    return order, np.concatenate([[0], np.cumsum(counts)])


_GROUP_SHIFT: Final = 58  # group id in the top 6 bits of a packed sample
_LOW: Final = (1 << _GROUP_SHIFT) - 1
_EXP_BASE: Final = 1023 - 32  # packed exponent slot 1..63 = 2^-31 .. 2^32 ms; slot 0 = 0.0
_PACK_MIN: Final = 2.0**-31
_PACK_MAX: Final = 2.0**32


def _group_sorted(values: FloatArray, key: IntArray, n_groups: int,
                  shifted: npt.NDArray[np.uint64] | None = None) -> FloatArray:
    """``values`` ordered by group, and by value inside each group.

    Fast path (<= 64 groups, every value 0.0 or in [2^-31, 2^32) ms -- any real latency):
    a positive double is ``exponent << 52 | mantissa``; subtracting ``_EXP_BASE << 52``
    turns the exponent into a 6-bit slot, which leaves the top 6 bits for the group. One
    ``np.sort`` of those packed ``uint64`` (SIMD, sequential memory) replaces a random-order
    gather; adding the base back restores every bit, so the floats are exact. Otherwise: a
    stable argsort by group, a gather, and a sort of each group's slice. ``shifted`` is
    ``key << 58`` as ``uint64``, computed once by the caller for several arrays.
    """
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    has_zero = lo == 0.0
    smallest = float(np.min(values, where=values > 0, initial=np.inf)) if has_zero else lo
    if n_groups <= 1 << (64 - _GROUP_SHIFT) and lo >= 0.0 and hi < _PACK_MAX and (
            smallest >= _PACK_MIN):
        base = np.uint64(_EXP_BASE << 52)
        packed = values.view(np.uint64) - base
        if has_zero:
            packed[values == 0.0] = 0  # slot 0 (the subtraction wrapped around)
        packed |= shifted if shifted is not None else key.astype(np.uint64) << np.uint64(
            _GROUP_SHIFT)
        packed.sort()
        packed &= np.uint64(_LOW)
        zeros = packed == 0 if has_zero else None
        packed += base
        if zeros is not None:
            packed[zeros] = 0
        return packed.view(np.float64)
    order, bounds = _sort(key, n_groups)
    result = values[order]
    for g in range(n_groups):
        result[bounds[g]:bounds[g + 1]].sort()
    return result


def _union_pcts(runs: Sequence[FloatArray], pcts: Sequence[float]) -> tuple[float, ...]:
    """Exact nearest-rank percentiles of the union of sorted ``runs``, without merging them.

    For rank ``k`` of ``n`` (``q = k / n``) the answer lies between the smallest of the
    runs' own elements at index ``floor(q n_i) - 1`` and the largest at ``ceil(q n_i) - 1``
    (otherwise fewer, or more, than ``k`` elements would lie below it). Only the elements
    in that bracket are gathered and sorted -- near the percentile they are few -- and the
    answer is the one at rank ``k`` minus the elements below the bracket. Indices are
    widened by one against floating-point rounding of ``q n_i``, which keeps the bracket
    valid.
    """
    runs = [r for r in runs if r.size]
    n = sum(r.size for r in runs)
    ranks = [nearest_rank(p, n) for p in pcts]
    if len(runs) == 1:
        return tuple(float(runs[0][k - 1]) for k in ranks)
    out = []
    for k in ranks:
        q = k / n
        lo = min(r[max(0, int(q * r.size) - 2)] for r in runs)
        hi = max(r[min(r.size - 1, int(np.ceil(q * r.size)))] for r in runs)
        starts = [int(r.searchsorted(lo, side="left")) for r in runs]
        ends = [int(r.searchsorted(hi, side="right")) for r in runs]
        cand = np.concatenate([r[a:b] for r, a, b in zip(runs, starts, ends, strict=True)])
        cand.sort()
        out.append(float(cand[k - sum(starts) - 1]))
    return tuple(out)


def _tables(cols: SampleColumns, raw: FloatArray, corrected: FloatArray,
            failed: npt.NDArray[np.bool_], span: float
            ) -> tuple[tuple[RouteRow, ...], tuple[TierRow, ...], tuple[Distribution, ...]]:
    """Per route, per tier x kind and per kind, from ONE sort by (kind, name, tier).

    Every (kind, name, tier) group is sorted in place once; a route, a kind or a tier x kind
    is then a union of sorted runs, whose percentiles :func:`_union_pcts` reads without
    merging. Cost: one radix argsort, one gather per latency array, one sort of each group.
    """
    assert cols.kind is not None and cols.name is not None
    n = cols.n
    tier = cols.tier if cols.tier is not None else Categorical(np.zeros(n, np.int32), ("",))
    n_t, n_n = max(1, len(tier.categories)), max(1, len(cols.name.categories))
    triple = cols.kind.codes.astype(np.int64) * n_n
    triple += cols.name.codes
    triple *= n_t
    triple += tier.codes
    present = np.flatnonzero(np.bincount(triple))
    lut = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    lut[present] = np.arange(present.size)
    key = lut[triple]
    del triple
    bounds = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=present.size))])
    shifted = key.astype(np.uint64) << np.uint64(_GROUP_SHIFT)
    raw_s = _group_sorted(raw, key, present.size, shifted)
    cor_s = raw_s if corrected is raw else _group_sorted(corrected, key, present.size, shifted)
    del shifted
    runs_raw = [raw_s[bounds[g]:bounds[g + 1]] for g in range(present.size)]
    runs_cor = [cor_s[bounds[g]:bounds[g + 1]] for g in range(present.size)]
    errors = np.bincount(key[failed], minlength=present.size)
    counts = np.diff(bounds)
    k_of, route_of, t_of = present // (n_n * n_t), present // n_t, present % n_t

    def pick(runs: list[FloatArray], groups: npt.NDArray[np.intp], pcts: Sequence[float]
             ) -> tuple[float, ...]:
        return _union_pcts([runs[g] for g in groups], pcts)

    routes = []
    for r in np.unique(route_of):
        gs = np.flatnonzero(route_of == r)
        count = int(counts[gs].sum())
        routes.append(RouteRow(cols.kind.categories[r // n_n], cols.name.categories[r % n_n],
                               count, int(errors[gs].sum()), count / span,
                               *pick(runs_raw, gs, TABLE_PCTS),
                               *pick(runs_cor, gs, (95.0, 99.0))))
    tiers = []
    for kt in np.unique(k_of * n_t + t_of):
        gs = np.flatnonzero(k_of * n_t + t_of == kt)
        count = int(counts[gs].sum())
        tiers.append(TierRow(tier.categories[kt % n_t] or "(none)",
                             cols.kind.categories[kt // n_t], count, int(errors[gs].sum()),
                             count / span, *pick(runs_raw, gs, TABLE_PCTS[:3])))
    dists = []
    for k in np.unique(k_of):
        gs = np.flatnonzero(k_of == k)
        dists.append(Distribution(cols.kind.categories[k], int(counts[gs].sum()), DIST_PCTS,
                                  pick(runs_raw, gs, DIST_PCTS), pick(runs_cor, gs, DIST_PCTS)))
    routes.sort(key=lambda x: (x.kind, -x.count, x.name))
    tiers.sort(key=lambda x: (x.tier not in _TIER_ORDER, _TIER_ORDER.get(x.tier, 0), x.tier,
                              x.kind))
    return tuple(routes), tuple(tiers), tuple(dists)


_TIER_ORDER: Final = {"starter": 0, "team": 1, "enterprise": 2}


def _failures(cols: SampleColumns, errors: Categorical | None, failed: npt.NDArray[np.bool_],
              t0: float, limit: int = 25) -> tuple[FailureGroup, ...]:
    idx = np.flatnonzero(failed)
    if idx.size == 0 or cols.name is None:
        return ()
    status = (cols.status[idx] if cols.status is not None
              else np.zeros(idx.size, dtype=np.int32)).astype(np.int64)
    err = errors.codes[idx] if errors is not None else np.zeros(idx.size, dtype=np.int32)
    statuses, s_code = np.unique(status, return_inverse=True)
    key, present = _combine(err, s_code.astype(np.int32), statuses.size)
    counts = np.bincount(key)
    top = sorted(range(present.size), key=lambda g: (-int(counts[g]), int(present[g])))[:limit]
    out = []
    names = cols.name
    for g in top:
        sel = idx[key == g]
        pair = int(present[g])
        ncount = np.bincount(names.codes[sel], minlength=len(names.categories))
        best = sorted(np.flatnonzero(ncount), key=lambda c: (-int(ncount[c]), names.categories[c]))
        text = errors.categories[pair // statuses.size] if errors is not None else ""
        ts = cols.ts[sel]
        out.append(FailureGroup(
            text or "(no error text)", int(statuses[pair % statuses.size]), int(sel.size),
            tuple((names.categories[c], int(ncount[c])) for c in best[:3]),
            float(np.min(ts)) - t0, float(np.max(ts)) - t0,
        ))
    return tuple(out)


def _bucket(cols: SampleColumns, t0: float) -> float:
    """Bucket width in whole seconds so that the series has at most MAX_BUCKETS points."""
    end = float(np.max(cols.ts)) - t0
    return float(max(1, int(np.ceil(max(end, 1.0) / MAX_BUCKETS))))


def _series(cols: SampleColumns, raw: FloatArray, failed: npt.NDArray[np.bool_],
            t0: float) -> tuple[KindSeries, ...]:
    """Per kind and time bucket (by send time ``ts``): rate, errors, p50/p95/p99.

    The percentiles here only draw charts, so they come from a histogram of 1 %-wide
    log-spaced latency bins (one ``bincount`` over all samples, O(n)) instead of an exact
    partition per bucket: each value is the geometric centre of the bin holding the
    nearest-rank sample, within 0.5 % of it. The tables keep exact values.
    """
    assert cols.kind is not None
    width = _bucket(cols, t0)
    rel = cols.ts - t0
    np.maximum(rel, 0.0, out=rel)
    rel *= 1.0 / width
    bucket = rel.astype(np.int32)
    n_b = int(bucket.max()) + 1
    key = cols.kind.codes.astype(np.int64) * n_b
    key += bucket
    n_g = max(1, len(cols.kind.categories)) * n_b
    counts = np.bincount(key, minlength=n_g)
    present = np.flatnonzero(counts)
    errors = np.bincount(key[failed], minlength=n_g)[present]
    p = _hist_percentiles(key, n_g, counts, raw, SERIES_PCTS)[present]
    counts = counts[present]
    out = []
    kinds = present // n_b
    for k in np.unique(kinds):
        rps, err = np.zeros(n_b), np.zeros(n_b)
        pct = np.full((n_b, len(SERIES_PCTS)), np.nan)
        groups = np.flatnonzero(kinds == k)
        b = present[groups] % n_b
        rps[b], err[b], pct[b] = counts[groups] / width, errors[groups] / width, p[groups]
        out.append(KindSeries(
            cols.kind.categories[k], tuple(float(v) for v in rps),
            tuple(float(v) for v in err), *(_opt(pct[:, i]) for i in range(3)),
        ))
    return tuple(out)


_HIST_LO: Final = 1e-2  # ms; anything faster shares the first bin
_HIST_STEP: Final = float(np.log(1.01))
_HIST_BINS: Final = int(np.ceil(np.log(1e6 / _HIST_LO) / _HIST_STEP)) + 1  # up to ~17 min


def _hist_percentiles(key: IntArray, n_groups: int, counts: IntArray, values: FloatArray,
                      pcts: Sequence[float]) -> FloatArray:
    """Nearest-rank percentiles per group from a log-binned histogram (see ``_series``)."""
    scaled = np.maximum(values, _HIST_LO).astype(np.float32)  # float32 log: half the cost
    scaled *= np.float32(1.0 / _HIST_LO)
    np.log(scaled, out=scaled)
    scaled *= np.float32(1.0 / _HIST_STEP)
    bins = np.minimum(scaled.astype(np.int64), _HIST_BINS - 1)
    bins += key * _HIST_BINS
    hist = np.bincount(bins, minlength=n_groups * _HIST_BINS)
    cum = np.cumsum(hist.reshape(n_groups, _HIST_BINS), axis=1)
    out = np.full((n_groups, len(pcts)), np.nan)
    has = counts > 0
    for i, pct in enumerate(pcts):
        rank = np.ceil(counts * (pct / 100.0) - 1e-9).clip(min=1)
        idx = np.argmax(cum >= rank[:, None], axis=1)
        out[has, i] = _HIST_LO * np.exp((idx[has] + 0.5) * _HIST_STEP)
    return out


def _opt(values: FloatArray) -> tuple[float | None, ...]:
    return tuple(None if np.isnan(v) else float(v) for v in values)
