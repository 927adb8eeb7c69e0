"""The SRE tables, checked against pandas group-bys and an independent nearest-rank."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa
import pytest

from reports.aggregate import DIST_PCTS, aggregate
from slo.samples import Categorical, SampleColumns

T0 = 1_700_000_000.0


def nearest_rank(values: np.ndarray, p: float) -> float:
    ordered = np.sort(values)
    return float(ordered[max(1, math.ceil(Fraction(repr(p)) * len(ordered) / 100)) - 1])


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 40_000
    kinds = np.array(["http", "ws_message", "ws_first_token"])
    names = np.array(["GET /a", "POST /b", "GET /c/{id}", "prompt"])
    k = rng.integers(0, 3, n)
    ts = T0 + np.sort(rng.uniform(0, 300, n))
    return pd.DataFrame({
        "ts": ts,
        "intended_ts": ts - rng.exponential(0.02, n) * (k == 0),
        "latency_ms": rng.lognormal(3, 1, n),
        "kind": kinds[k],
        "name": np.where(k == 0, names[rng.integers(0, 3, n)], "prompt"),
        "tier": np.array(["starter", "team", "enterprise"])[rng.integers(0, 3, n)],
        "ok": rng.random(n) > 0.02,
        "status": np.where(rng.random(n) > 0.5, 503, 0).astype(np.int32),
        "error": np.where(rng.random(n) > 0.5, "timeout", "reset"),
    })


@pytest.fixture(scope="module")
def result(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # two chunks with different dictionaries, as two worker parts give
    half = table.num_rows // 2
    table = pa.concat_tables([table.slice(0, half), table.slice(half)])
    cols = SampleColumns.from_arrow(table)
    return aggregate(cols, Categorical.from_arrow(table.column("error")), t0=T0, span_s=300.0)


def test_routes_match_pandas(frame: pd.DataFrame, result) -> None:  # type: ignore[no-untyped-def]
    corrected = frame.latency_ms + (frame.ts - frame.intended_ts).clip(lower=0) * 1000
    frame = frame.assign(corrected=corrected)
    rows = {(r.kind, r.name): r for r in result.routes}
    groups = frame.groupby(["kind", "name"])
    assert set(rows) == set(groups.groups)
    for key, g in groups:
        r = rows[key]
        assert r.count == len(g)
        assert r.errors == int((~g.ok).sum())
        assert r.rps == pytest.approx(len(g) / 300.0)
        for attr, p in (("p50", 50), ("p95", 95), ("p99", 99)):
            assert getattr(r, attr) == nearest_rank(g.latency_ms.to_numpy(), p), (key, attr)
        assert r.max == g.latency_ms.max()
        assert r.p99_c == nearest_rank(g.corrected.to_numpy(), 99)
        assert r.p95_c == pytest.approx(np.percentile(g.corrected, 95, method="inverted_cdf"))


def test_distributions_per_kind(frame: pd.DataFrame, result) -> None:  # type: ignore[no-untyped-def]
    dists = {d.kind: d for d in result.distributions}
    assert set(dists) == set(frame.kind)
    for kind, g in frame.groupby("kind"):
        d = dists[kind]
        assert d.count == len(g)
        assert list(d.raw) == [nearest_rank(g.latency_ms.to_numpy(), p) for p in DIST_PCTS]
    # only http was scheduled late, so only it shows coordinated omission
    assert dists["http"].corrected[3] > dists["http"].raw[3]
    assert dists["ws_message"].corrected == dists["ws_message"].raw


def test_tiers_match_pandas(frame: pd.DataFrame, result) -> None:  # type: ignore[no-untyped-def]
    rows = {(t.tier, t.kind): t for t in result.tiers}
    for key, g in frame.groupby(["tier", "kind"]):
        assert rows[key].count == len(g)
        assert rows[key].p95 == nearest_rank(g.latency_ms.to_numpy(), 95)


def test_series_per_bucket(frame: pd.DataFrame, result) -> None:  # type: ignore[no-untyped-def]
    assert result.bucket_s == 2.0  # 300 s in at most 150 buckets
    bucket = ((frame.ts - T0) // 2).astype(int)
    http = {s.kind: s for s in result.series}["http"]
    g = frame[frame.kind == "http"].groupby(bucket[frame.kind == "http"])
    for b, part in list(g)[:20]:
        assert http.rps[b] == pytest.approx(len(part) / 2.0)
        # chart percentiles come from 1 % log bins: within half a bin of the exact value
        assert http.p95[b] == pytest.approx(nearest_rank(part.latency_ms.to_numpy(), 95),
                                            rel=0.0051)
        assert http.p50[b] == pytest.approx(nearest_rank(part.latency_ms.to_numpy(), 50),
                                            rel=0.0051)
        assert http.errors_per_s[b] == pytest.approx((~part.ok).sum() / 2.0)


def test_failures_grouped_by_error_and_status(frame: pd.DataFrame, result) -> None:  # type: ignore[no-untyped-def]
    failed = frame[~frame.ok]
    expected = failed.groupby(["error", "status"]).size().sort_values(ascending=False)
    got = {(f.error, f.status): f for f in result.failures}
    assert {k: f.count for k, f in got.items()} == expected.to_dict()
    assert result.failed == len(failed)
    for (err, status), f in got.items():
        part = failed[(failed.error == err) & (failed.status == status)]
        top = part.name.value_counts()
        assert f.names[0] == (top.index[0], int(top.iloc[0]))
        assert f.first_s == pytest.approx(part.ts.min() - T0)


def test_empty_run() -> None:
    table = pa.table({"ts": pa.array([], pa.float64()), "ok": pa.array([], pa.bool_()),
                      "latency_ms": pa.array([], pa.float64()), "kind": pa.array([], pa.string()),
                      "name": pa.array([], pa.string())})
    agg = aggregate(SampleColumns.from_arrow(table), None, t0=T0)
    assert agg.total == 0 and agg.routes == () and agg.series == ()


@pytest.mark.parametrize("seed", range(30))
def test_union_of_sorted_runs_equals_a_merged_sort(seed: int) -> None:
    """Percentiles over several sorted runs (routes across tiers, kinds across routes) are
    exactly those of the merged, sorted array: skewed runs, ties, one-element runs."""
    from reports.aggregate import _union_pcts

    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(int(rng.integers(2, 12))):
        size = int(rng.choice([1, 2, 5, 100, 3000]))
        scale = float(rng.choice([0.5, 10.0, 900.0]))
        values = np.round(rng.lognormal(np.log(scale), 1.0, size), int(rng.integers(0, 3)))
        runs.append(np.sort(values))
    merged = np.sort(np.concatenate(runs))
    got = _union_pcts(runs, DIST_PCTS)
    assert list(got) == [nearest_rank(merged, p) for p in DIST_PCTS]


@pytest.mark.parametrize("case", ["latencies", "with-zeros", "extremes-fall-back", "many-groups"])
def test_group_sort_packing_keeps_every_bit(case: str) -> None:
    """The packed-uint64 sort gives exactly the floats and order of a per-group sort."""
    from reports.aggregate import _group_sorted

    rng = np.random.default_rng(3)
    n, groups = 50_000, 64 if case != "many-groups" else 200
    values = rng.lognormal(3, 2, n)
    if case == "with-zeros":
        values[::7] = 0.0
    if case == "extremes-fall-back":
        values[:3] = [1e-300, 5e12, 0.0]  # outside the packable range: the other path
    key = rng.integers(0, groups, n).astype(np.int64)
    got = _group_sorted(values, key, groups)
    expected = np.concatenate([np.sort(values[key == g]) for g in range(groups)])
    assert got.dtype == np.float64
    assert np.array_equal(got.view(np.uint64), expected.view(np.uint64))
