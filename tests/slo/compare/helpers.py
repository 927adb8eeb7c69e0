"""Synthetic runs for comparison tests: real sample tables, split by the real code."""

from __future__ import annotations

import numpy as np

from slo._types import Status
from slo.compare import OperationKey, OperationSamples, RunData, RunSummary, split_operations
from slo.samples import SampleColumns
from slo.verdict import ObjectiveResult, Verdict
from tests.slo.conftest import T0, samples_table


def synthetic_run(
    rng: np.random.Generator,
    n: int = 600,
    *,
    scale: float = 1.0,
    error_rate: float = 0.0,
    seconds: int = 30,
    name: str = "GET /x",
    run_id: str = "run",
    poisson: bool = False,
    via_table: bool = False,
) -> RunData:
    """``n`` requests spread uniformly over ``seconds``, lognormal latency (median 40 ms x scale).

    ``poisson``: the number of requests is itself random (Poisson with mean ``n``), as in
    a real run, so throughput varies between runs too.
    """
    if poisson:
        n = int(rng.poisson(n))
    ts = np.sort(T0 + rng.uniform(0, seconds, n))
    latency = rng.lognormal(np.log(40.0), 0.5, n) * scale
    ok = rng.random(n) >= error_rate
    summary = RunSummary(path=f"/runs/{run_id}", run_id=run_id, release=None, status="complete",
                         started_at=T0, window_s=float(seconds), samples=n)
    if via_table:  # the way a run record is read: Arrow table -> columns -> operations
        table = samples_table(n, ts=ts, latency_ms=latency, ok=ok, name=[name] * n)
        operations = split_operations(SampleColumns.from_arrow(table), T0)
    else:  # the same result without the Arrow round trip (fast, for loops of 200 trials)
        operations = {OperationKey("http", name, ""): OperationSamples(
            np.sort(latency[ok]), ts[ok], total=n, errors=int(n - ok.sum()))}
    return RunData(summary=summary, window_start=T0, window_seconds=seconds, operations=operations)


KEY = OperationKey("http", "GET /x", "")


def verdict_with(status: Status, value: float) -> Verdict:
    """A verdict with one latency objective ``p95`` of ``status`` and ``value`` ms."""
    objective = ObjectiveResult(name="p95", sli="latency", status=status, value=value,
                                threshold=100.0, threshold_text="<= 100 ms", unit="ms", events=10)
    return Verdict(status=status, objectives=(objective,))
