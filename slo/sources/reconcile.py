"""Reconcile the client's samples with the server's own counters and histograms (pure).

Two questions, each answered with numbers (a disagreement is a finding, never a crash):

1. **Counts.** Per operation and status, did the server count exactly the requests the
   client recorded? Operations are matched by name with path parameters blanked
   (client ``GET /v1/runs/{id}`` = server route ``/v1/runs/{run_id}``, method ``GET``).
   Client samples with status 0 (transport errors) are listed apart: the server may never
   have seen them. Server operations the client never used (e.g. provisioning) are listed
   as ``server_only``, not as mismatches.
2. **Latency.** Per operation, the server histogram's p95/p99 (PromQL ``histogram_quantile``)
   against the client's exact nearest-rank value, judged against the bounds of the bucket
   that holds the server's estimate: inside the bucket -> ``agree``; above it ->
   ``client_slower`` (time spent outside the handler: network, accept queue, a saturated
   generator); below it -> ``client_faster`` (the client cannot be faster than the server
   measured: a clock or a labelling problem).
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from slo.samples import SampleColumns
from slo.server import HistogramDelta, ServerRecord
from slo.sli import histogram_quantile, percentiles
from slo.spec.model import CrossCheckConfig

__all__ = ["CrossCheck", "operation_key", "reconcile"]

_LABEL = re.compile(r"^[A-Za-z][\w-]*:\s+(?=[A-Z]+ /)")
_PARAM = re.compile(r"\{[^}]*\}")
QUANTILES = (0.95, 0.99)


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """The three lists that go into ``server.json`` and the verdict's ``cross_check``."""

    reconciliation: list[dict[str, Any]]
    quantiles: list[dict[str, Any]]
    findings: list[dict[str, Any]]


def operation_key(name: str) -> str:
    """``GET /v1/runs/{run_id}`` -> ``GET /v1/runs/{}`` (path parameters blanked).

    A label before the request (``isolation: GET /v1/runs/{id}``, the probes' naming in
    docs/reports.md) is dropped: the server counts the request under its route alone.
    """
    return _PARAM.sub("{}", _LABEL.sub("", name.strip()))


def reconcile(samples: SampleColumns, record: ServerRecord, config: CrossCheckConfig) -> CrossCheck:
    """Compare the client's HTTP samples with the server's record."""
    kind, name = samples.categorical("kind"), samples.categorical("name")
    if samples.status is None or samples.latency_ms is None:
        raise KeyError("reconcile needs the status and latency_ms columns")
    http = kind.mask(("http",))
    keys = [operation_key(n) for n in name.categories]
    client = _client_counts(name.codes[http], samples.status[http], keys)
    server = _server_counts(record, config)
    rows, findings = _count_rows(client, server)
    quantiles = _quantiles(samples, http, keys, record, config, findings)
    return CrossCheck(rows, quantiles, findings)


def _client_counts(codes: np.ndarray, status: np.ndarray, keys: list[str]) -> Counter[tuple[str, int]]:
    out: Counter[tuple[str, int]] = Counter()
    if codes.size == 0:
        return out
    pairs = np.stack([codes.astype(np.int64), status.astype(np.int64)], axis=1)
    uniq, counts = np.unique(pairs, axis=0, return_counts=True)
    for row, n in zip(uniq.tolist(), counts.tolist(), strict=True):
        out[(keys[row[0]], row[1])] += n
    return out


def _server_op(labels: dict[str, str], config: CrossCheckConfig) -> str | None:
    try:
        op = config.operation.format(**labels)
    except KeyError:
        return None
    if any(fnmatch.fnmatchcase(op, p) for p in config.ignore_operations):
        return None
    return operation_key(op)


def _server_counts(record: ServerRecord, config: CrossCheckConfig) -> Counter[tuple[str, int]]:
    out: Counter[tuple[str, int]] = Counter()
    for c in record.counters:
        op = _server_op(c.labels, config)
        if op is not None and c.name == config.request_counter:
            out[(op, int(c.labels.get(config.status_label, "0") or 0))] += round(c.delta)
    return out


def _count_rows(
    client: Counter[tuple[str, int]], server: Counter[tuple[str, int]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    client_ops = {op for op, _ in client}
    for op, status in sorted(set(client) | set(server)):
        c, s = client.get((op, status), 0), server.get((op, status), 0)
        if status == 0:
            category = "client_transport_error"
        elif op not in client_ops:
            category = "server_only"
        else:
            category = "match" if c == s else "mismatch"
        rows.append({"operation": op, "status": status, "client": c, "server": s,
                     "difference": s - c, "category": category})
        if category == "mismatch":
            more, fewer = ("server", "client") if s > c else ("client", "server")
            findings.append({
                "kind": "count_mismatch", "operation": op, "status": status, "client": c,
                "server": s, "difference": s - c,
                "message": f"{op} {status}: the {more} counted {abs(s - c)} more than the "
                           f"{fewer} ({s} server vs {c} client)",
            })
    comparable = [r for r in rows if r["category"] in ("match", "mismatch")]
    total_c = sum(r["client"] for r in comparable)
    total_s = sum(r["server"] for r in comparable)
    rows.append({"operation": "(all compared)", "status": None, "client": total_c,
                 "server": total_s, "difference": total_s - total_c,
                 "category": "match" if total_c == total_s else "mismatch"})
    return rows, findings


def _merge(histograms: list[HistogramDelta]) -> tuple[list[float], list[float]]:
    by_le: dict[float, float] = defaultdict(float)
    for h in histograms:
        for le, count in h.buckets:
            by_le[le] += count
    bounds = sorted(by_le)
    return bounds, [by_le[b] for b in bounds]


def _quantiles(
    samples: SampleColumns, http: np.ndarray, keys: list[str], record: ServerRecord,
    config: CrossCheckConfig, findings: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    assert samples.latency_ms is not None
    by_op: dict[str, list[HistogramDelta]] = defaultdict(list)
    for h in record.histograms:
        op = _server_op(h.labels, config) if h.name == config.latency_histogram else None
        if op is not None:
            by_op[op].append(h)
    codes = samples.categorical("name").codes
    out = []
    for op, series in sorted(by_op.items()):
        wanted = [i for i, k in enumerate(keys) if k == op]
        mask = http & np.isin(codes, wanted)
        client = samples.latency_ms[mask]
        bounds, counts = _merge(series)
        if client.size < config.min_events or not counts or counts[-1] < config.min_events:
            continue
        for q in QUANTILES:
            out.append(_compare(op, q, client, bounds, counts, findings))
    return out


def _compare(
    op: str, q: float, client: np.ndarray, bounds: list[float], counts: list[float],
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    estimate = histogram_quantile(q, bounds, counts)
    exact = float(percentiles(client, [q * 100])[0])
    finite = [b for b in bounds if b != float("inf")]
    hi_s = next((b for b in finite if estimate is not None and b >= estimate), finite[-1])
    lo_s = max([0.0, *[b for b in finite if b < hi_s]])
    lo, hi = lo_s * 1000, hi_s * 1000
    verdict = "agree" if lo <= exact <= hi else "client_slower" if exact > hi else "client_faster"
    row = {"operation": op, "quantile": q, "server_ms": None if estimate is None else
           estimate * 1000, "bucket_ms": [lo, hi], "client_ms": exact, "verdict": verdict,
           "client_events": int(client.size), "server_events": counts[-1]}
    if verdict != "agree":
        gap = exact - hi if verdict == "client_slower" else lo - exact
        findings.append({
            "kind": verdict, "operation": op, "quantile": q, "client_ms": exact,
            "bucket_ms": [lo, hi], "gap_ms": gap,
            "message": f"{op} p{q * 100:g}: client {exact:.1f} ms is "
                       f"{'above' if verdict == 'client_slower' else 'below'} the server's "
                       f"bucket {lo:.1f}..{hi:.1f} ms by {gap:.1f} ms",
        })
    return row
