"""Reconcile the client's samples with the server's own counters and histograms (pure).

Two questions, each answered with numbers (a disagreement is a finding, never a crash):

1. **Counts.** Per operation and status, did the server count exactly the requests the
   client recorded? Operations are matched by name with path parameters blanked
   (client ``GET /v1/runs/{id}`` = server route ``/v1/runs/{run_id}``, method ``GET``).
   Client samples with status 0 (transport errors) are listed apart: the server may never
   have seen them. Server operations the client never used (e.g. provisioning) are listed
   as ``server_only``, not as mismatches.
2. **Latency.** Per operation, the server histogram's p95/p99 (PromQL ``histogram_quantile``)
   against the client's exact nearest-rank value, judged as the physics allows. Every
   request's client time contains its server time, so every client quantile is at least
   the server's: below the bucket that holds the server's estimate -> ``client_faster``, an
   impossible result (the server over-times, or clocks/labels are wrong), always a finding.
   Inside the bucket -> ``agree``. Above it by at most the tolerance -> ``overhead`` (time
   outside the handler: connection, parsing, loopback, the generator's own scheduling -- not
   a finding); above by more -> ``client_slower``, a finding (the server under-times, or
   something outside the handler is slow).

   The upper bound is the SLO file's ``cross_check.latency_tolerance_ms`` above the
   server's bucket when set; else it is *measured* by the run on the calibration operation
   (``GET /healthz`` by default, a handler that does almost nothing, so its client time
   bounds the overhead): by the union bound, client p95 <= server p97.5 + overhead p97.5
   (p99: both at p99.5), no independence assumed. With neither, a ``client_slower`` finding
   says the tolerance is unknown (low severity in the report).
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from slo.samples import SampleColumns
from slo.server import HistogramDelta, ServerRecord
from slo.sli import histogram_quantile, percentiles
from slo.spec.model import CrossCheckConfig

__all__ = ["CrossCheck", "glob_regex", "operation_key", "operation_labels", "reconcile"]

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


def operation_labels(pattern: str, operation: str) -> dict[str, str] | None:
    """The server labels an operation name (or glob) stands for: the inverse of how the
    cross-check names a server series (``operation.format(**labels)``, then
    :func:`operation_key`). ``"POST /v1/runs"`` with ``"{method} {route}"`` ->
    ``{"method": "POST", "route": "/v1/runs"}``; ``"GET /v1/runs/{id}"`` -> route
    ``/v1/runs/{}`` (parameters blanked, as the server's are); a glob stays a glob in each
    label (:func:`glob_regex` makes it a label regex). None when the name does not split
    along the template's literal text (``"*"`` for two labels)."""
    parts = re.split(r"\{(\w+)\}", operation)
    fields = parts[1::2]
    if not fields or len(set(fields)) != len(fields):
        return None
    shape = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    match = re.fullmatch(shape, operation_key(pattern))
    return None if match is None else {f: match.group(f) for f in fields}


def glob_regex(glob: str) -> str:
    """A glob (``*``, ``?``; ``{}`` = any path parameter, as :func:`operation_key` leaves
    it) as an RE2 regex for a Prometheus label matcher (which anchors it)."""
    out = []
    for token in re.split(r"(\{\}|[*?])", glob):
        out.append({"*": ".*", "?": ".", "{}": r"\{[^}]*\}"}.get(token, re.escape(token)))
    return "".join(out)


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


TAIL_EVENTS: Final = 10
"""A quantile is compared only when at least this many requests lie above it (p95: 200
requests, p99: 1,000): a tail of two or three requests says more about them than about the
target or the harness."""
AFTER_RESPONSE_MS: Final = 1.0
AFTER_RESPONSE_SHARE: Final = 0.05
"""Slack below the server's bucket: the server's clock stops when the app returns, which may
be a little after the last byte left (dependency teardown, background work), so a client
value at most 1 ms + 5 % under the bucket is not yet impossible. A bucket is 20 % wide."""
CALIBRATION_MIN_EVENTS: Final = 20
"""Client requests (and server observations) the calibration operation needs: the smoke
scenario sends about a hundred health checks."""


def split(q: float) -> float:
    """The quantile each of two parts is taken at so that their error shares add up to ``q``'s:
    ``(1 - q1) + (1 - q2) = 1 - q`` with ``q1 = q2`` (p95 -> p97.5, p99 -> p99.5)."""
    return (1.0 + q) / 2.0


@dataclass(frozen=True, slots=True)
class _Point:
    """One operation at one quantile: the server's bucket, the client's exact value, and
    the server's bucket upper bound and the client's value at the split quantile."""

    op: str
    q: float
    estimate: float | None  # seconds
    lo_ms: float
    hi_ms: float
    hi_split_ms: float
    client_ms: float
    client_split_ms: float
    client_events: int
    server_events: float


def _quantiles(
    samples: SampleColumns, http: np.ndarray, keys: list[str], record: ServerRecord,
    config: CrossCheckConfig, findings: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    points = _points(samples, http, keys, record, config)
    overhead, source = _overhead(points, config)
    out = []
    for point in points:
        events = min(point.client_events, point.server_events)
        if events < config.min_events or events * (1.0 - point.q) < TAIL_EVENTS:
            continue  # measured for calibration only, or a tail of a handful of requests
        out.append(_judge(point, overhead.get(point.q), source, config, findings))
    return out


def _points(
    samples: SampleColumns, http: np.ndarray, keys: list[str], record: ServerRecord,
    config: CrossCheckConfig,
) -> list[_Point]:
    assert samples.latency_ms is not None
    by_op: dict[str, list[HistogramDelta]] = defaultdict(list)
    for h in record.histograms:
        op = _server_op(h.labels, config) if h.name == config.latency_histogram else None
        if op is not None:
            by_op[op].append(h)
    calibration = operation_key(config.calibration_operation or "")
    codes = samples.categorical("name").codes
    out = []
    for op, series in sorted(by_op.items()):
        need = CALIBRATION_MIN_EVENTS if op == calibration else config.min_events
        wanted = [i for i, k in enumerate(keys) if k == op]
        client = samples.latency_ms[http & np.isin(codes, wanted)]
        bounds, counts = _merge(series)
        if client.size < need or not counts or counts[-1] < need:
            continue
        for q in QUANTILES:
            estimate = histogram_quantile(q, bounds, counts)
            lo, hi = _bucket(bounds, estimate)
            _, hi_split = _bucket(bounds, histogram_quantile(split(q), bounds, counts))
            exact, exact_split = (float(v) for v in percentiles(client, [q * 100,
                                                                         split(q) * 100]))
            out.append(_Point(op, q, estimate, lo, hi, hi_split, exact, exact_split,
                              int(client.size), counts[-1]))
    return out


def _bucket(bounds: list[float], estimate: float | None) -> tuple[float, float]:
    """Bounds (ms) of the bucket holding a ``histogram_quantile`` estimate (seconds)."""
    finite = [b for b in bounds if b != float("inf")]
    hi = next((b for b in finite if estimate is not None and b >= estimate), finite[-1])
    return max([0.0, *[b for b in finite if b < hi]]) * 1000, hi * 1000


def _overhead(points: list[_Point], config: CrossCheckConfig) -> tuple[dict[float, float], str]:
    """Time outside the handler per quantile, and where it came from ("" unknown).

    Measured: the calibration operation's client value at the split quantile. Its handler
    does almost nothing, so its client time bounds the overhead from above (a client time is
    handler time plus overhead, and handler time >= 0).
    """
    if config.latency_tolerance_ms is not None:
        return dict.fromkeys(QUANTILES, config.latency_tolerance_ms), "the SLO file"
    calibration = operation_key(config.calibration_operation or "")
    gaps = {p.q: p.client_split_ms for p in points if p.op == calibration}
    return (gaps, f"measured on {config.calibration_operation}") if gaps else ({}, "")


def _judge(
    p: _Point, overhead: float | None, source: str, config: CrossCheckConfig,
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    """Lower bound: a client quantile is at least the server's (each request's client time
    contains its server time). Upper bound (measured): by the union bound,
    P(server + overhead > s + o) <= P(server > s) + P(overhead > o), so the client's q-quantile
    is at most the server's split quantile plus the overhead's split quantile. With the SLO
    file's tolerance: the server's bucket plus that tolerance."""
    lo, hi, exact = p.lo_ms, p.hi_ms, p.client_ms
    upper = None
    if overhead is not None:
        upper = (hi if config.latency_tolerance_ms is not None else p.hi_split_ms) + overhead
    if exact < lo - AFTER_RESPONSE_MS - AFTER_RESPONSE_SHARE * lo:
        verdict = "client_faster"
    elif exact < lo:
        verdict = "agree"  # within the after-response slack (constants above)
    elif exact <= hi:
        verdict = "agree"
    elif upper is not None and exact <= upper:
        verdict = "overhead"
    else:
        verdict = "client_slower"
    row = {"operation": p.op, "quantile": p.q, "server_ms": None if p.estimate is None else
           p.estimate * 1000, "bucket_ms": [lo, hi], "client_ms": exact, "verdict": verdict,
           "overhead_ms": overhead, "upper_ms": upper, "client_events": p.client_events,
           "server_events": p.server_events}
    if verdict in ("client_faster", "client_slower"):
        gap = exact - hi if verdict == "client_slower" else lo - exact
        if verdict == "client_faster":
            why = ("impossible: every request's client time contains its server time, so the "
                   "server over-times it or clocks or labels disagree")
        elif upper is None:
            why = ("no tolerance known: set cross_check.latency_tolerance_ms or send "
                   "the calibration operation")
        else:
            why = f"beyond the {upper:.1f} ms that server time plus overhead ({source}) allow"
        findings.append({
            "kind": verdict, "operation": p.op, "quantile": p.q, "client_ms": exact,
            "bucket_ms": [lo, hi], "gap_ms": gap, "upper_ms": upper, "overhead_ms": overhead,
            "tolerance_source": source or None,
            "message": f"{p.op} p{p.q * 100:g}: client {exact:.1f} ms is "
                       f"{'above' if verdict == 'client_slower' else 'below'} the server's "
                       f"bucket {lo:.1f}..{hi:.1f} ms by {gap:.1f} ms; {why}",
        })
    return row
