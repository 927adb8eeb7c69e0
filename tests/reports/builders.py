"""Deterministic run records for report tests: fixed timestamps, arithmetic values, no RNG.

``build_run(run_dir, variant)`` writes run.json, samples (one Parquet part per worker),
timeseries.parquet, server.json, verdict.json and readiness.json exactly as the runner and
evaluator would.
The verdict is written by hand (not evaluated) so that the goldens change only when the
report changes, not when the evaluator's wording does.

Variants:

- ``mixed``: the golden record. Passes, failures and not-verified claims side by side:
  1020 sessions held, a 3x spike with 5xx inside it, isolation probes refused, no
  durability checks, enterprise tenants below quota. Decision: NO-GO.
- ``insufficient``: a complete run whose verdict is ``insufficient_data``.
- ``aborted``: an aborted run without verdict.json.
- ``all_fail``: evidence that contradicts every one of the 13 claims.
- ``faults``: ``mixed`` plus a fault timeline in run.json (a provider 429 storm at 20-30 s,
  a kill at 40 s, a database outage at 85-95 s that never recovered), the health probe's
  recovery samples, read-back checks, and the verdict's fault results.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from foundation.layout import RunInfo, RunLayout, RunStatus
from scenarios.record import SAMPLE_SCHEMA
from slo._types import Status
from slo.budget import RunBudget
from slo.claims import write_run_readiness
from slo.fault_results import FaultBudget, FaultResult, PhaseObjective, PhaseResult
from slo.server import CounterDelta, ServerRecord, write_server_record
from slo.verdict import GroupResult, ObjectiveResult, Verdict, write_verdict

Variant = Literal["mixed", "insufficient", "aborted", "all_fail", "faults"]

T0 = 1_764_136_800.0  # 2025-11-26 06:00:00 UTC
LOAD = T0 + 2.0  # load starts 2 s after the run (provisioning)
WINDOW = 30 * 86400.0


@dataclass
class Rows:
    """Columns being built; ``add`` appends a batch of samples."""

    cols: dict[str, list[Any]] = field(default_factory=lambda: {f.name: [] for f in SAMPLE_SCHEMA})

    def add(self, t: Any, latency: Any, kind: str, name: Any, *, tier: Any = "", ok: Any = True,
            status: Any = 200, error: Any = "", delay: Any = 0.0, worker: int = 0,
            tenant: Any = "") -> None:
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        n = t.size

        def full(v: Any) -> list[Any]:
            return list(np.broadcast_to(np.asarray(v), (n,)).tolist())

        intended = LOAD + t
        self.cols["intended_ts"] += intended.tolist()
        self.cols["ts"] += (intended + np.broadcast_to(delay, (n,))).tolist()
        self.cols["latency_ms"] += full(np.asarray(latency, dtype=np.float64))
        self.cols["kind"] += [kind] * n
        self.cols["name"] += full(name)
        self.cols["tenant"] += full(tenant)
        self.cols["tier"] += full(tier)
        self.cols["ok"] += full(ok)
        self.cols["status"] += full(status)
        self.cols["error"] += full(error)
        self.cols["bytes"] += [100] * n
        self.cols["worker"] += [worker] * n

    def table(self, worker: int) -> pa.Table:
        mask = np.asarray(self.cols["worker"]) == worker
        arrays = [pa.array(np.asarray(self.cols[f.name], dtype=object)[mask].tolist(), type=f.type)
                  for f in SAMPLE_SCHEMA]
        return pa.Table.from_arrays(arrays, schema=SAMPLE_SCHEMA)


HTTP_NAMES = ("POST /v1/runs", "GET /v1/runs/{id}", "GET /v1/runs", "GET /v1/agents")
TIERS = ("starter", "team", "enterprise")


def _http(rows: Rows, *, spike_5xx_every: int, fail_all: bool = False) -> None:
    """Open-model HTTP: ramp 0->20/s over 10 s, 20/s, 60/s in [55, 70), 20/s to 120 s."""
    times: list[float] = []
    for sec in range(120):
        rate = 2 * sec if sec < 10 else 60 if 55 <= sec < 70 else 20
        times += [sec + k / rate for k in range(rate)] if rate else []
    t = np.asarray(times)
    i = np.arange(t.size)
    in_spike = (t >= 55) & (t < 70)
    latency = 20.0 + (i * 37 % 100) * 2.0
    latency = np.where(i % 3 == 2, latency * 2.2, latency)  # enterprise-ish tail
    status = np.full(t.size, 200)
    if spike_5xx_every:
        status = np.where(in_spike & (i % spike_5xx_every == 0), 503, status)
        status = np.where(in_spike & (i % 300 == 1), 429, status)
    if fail_all:
        status = np.where(i % 20 == 0, 500, status)
    ok = status < 400
    error = np.where(status == 503, "upstream unavailable",
                     np.where(status == 429, "rate limited", np.where(ok, "", "internal error")))
    names = np.asarray(HTTP_NAMES)[i % 4]
    tiers = np.asarray(TIERS)[i % 3]
    rows.add(t, latency, "http", names, tier=tiers, ok=ok, status=status, error=error,
             delay=np.where(in_spike, 0.05, 0.0))


def _sessions(rows: Rows, per_tenant: dict[str, int], *, drops: int) -> int:
    """ws_connect for every planned session (worker 1), prompts, and ``drops`` closes."""
    s = 0
    for tier, n in per_tenant.items():
        for tenant in range(2):
            for _ in range(n):
                rows.add(s / 200.0, 15.0 + s % 7, "ws_connect", "session", tier=tier, worker=1,
                         tenant=f"{tier}-{tenant}")
                for start in (20.0, 60.0):
                    t = start + s % 30
                    rows.add(t, 300.0 + (s % 50) * 4, "ws_first_token", "prompt", tier=tier,
                             worker=1)
                    rows.add(t, 1200.0 + (s % 70) * 10, "ws_message", "prompt", tier=tier,
                             worker=1)
                s += 1
    for d in range(drops):
        rows.add(80.0 + d, 0.0, "ws_close", "session", tier="team", ok=False, status=1011,
                 error="server error", worker=1)
    return s


def _timeseries(path: Path, per_tier: dict[str, int], *, held: dict[str, int],
                cap: dict[str, int], rows: int, cpu: float, rss_per_s: float,
                generator_cpu: float) -> None:
    """Sessions ramp up at 200/s, never above ``cap``, and fall to ``held`` from t = 80 s."""
    t = np.arange(rows, dtype=np.float64)
    cols: dict[str, Any] = {"ts": LOAD + t + 1, "elapsed_s": t + 1}
    total = np.zeros(rows)
    for tier, n in per_tier.items():
        planned = 2 * n
        level = np.minimum(planned, (t + 1) * 200 * planned / max(1, sum(per_tier.values()) * 2))
        level = np.minimum(level, cap[tier])
        level = np.where(t >= 80, np.minimum(level, held[tier]), level)
        cols[f"ws_sessions_{tier}"] = level.astype(np.int64)
        total += level
    cols["ws_sessions"] = total.astype(np.int64)
    cols["http_users"] = np.zeros(rows, dtype=np.int64)
    cols["operations_per_s"] = np.full(rows, 40.0)
    cols["errors_per_s"] = np.zeros(rows)
    cols["target_cpu_percent"] = cpu + (t % 7)
    cols["target_rss_bytes"] = (200e6 + t * rss_per_s).astype(np.int64)
    cols["generator_cpu_percent"] = generator_cpu + (t % 5)
    cols["generator_rss_bytes"] = np.full(rows, 80_000_000, dtype=np.int64)
    pq.write_table(pa.table(cols), path)


def _objective(name: str, sli: str, status: Status, value: float | None, threshold: float,
               text: str, unit: str, events: int, **kw: Any) -> ObjectiveResult:
    comparison = kw.pop("comparison", "<=")
    return ObjectiveResult(name=name, sli=sli, status=status, value=value, threshold=threshold,
                           threshold_text=text, unit=unit, events=events, comparison=comparison,
                           **kw)


def _ratio(name: str, value: float, bad: int, total: int, status: Status) -> ObjectiveResult:
    allowed = 0.005
    rate = (bad / total) / allowed
    return _objective(
        name, "availability", status, value, 99.5, ">= 99.5 %", "%", total, comparison=">=",
        statistic="availability", burn_rate=rate, budget_consumed=min(1.0, rate * 110 / WINDOW),
        window_s=WINDOW,
        budget=RunBudget(total, bad, allowed, allowed * total, bad / (allowed * total),
                         allowed * total - bad),
    )


def _mixed_verdict(run_id: str, http_total: int, http_bad: int) -> Verdict:
    p, w, i = Status.PASS, Status.WARN, Status.INSUFFICIENT_DATA
    avail = round(100.0 * (http_total - http_bad) / http_total, 4)
    objectives = (
        _ratio("http-availability", avail, http_bad, http_total, p),
        _objective("http-p95", "latency", p, 409.0, 500.0, "<= 500 ms", "ms", http_total,
                   statistic="p95 corrected"),
        _objective("http-p95-per-tier", "latency", w, 418.0, 500.0, "<= 500 ms", "ms", http_total,
                   statistic="p95", warn_threshold=300.0, per="tier", worst_group="enterprise",
                   reason="tier=enterprise: 418.0 ms crosses the warn level 300 ms",
                   groups=(GroupResult("starter", p, 216.0, 967), GroupResult("team", p, 218.0, 967),
                           GroupResult("enterprise", w, 418.0, 966,
                                       reason="418.0 ms crosses the warn level 300 ms"))),
        _objective("ws-drop-rate", "ws_drop_rate", p, 0.196, 1.0, "<= 1 %", "%", 1020,
                   statistic="drops/session"),
        _objective("ws-time-to-first-token", "ttft", p, 492.0, 1000.0, "<= 1000 ms", "ms", 2040,
                   statistic="p95"),
        _objective("ws-message-p95", "latency", p, 1880.0, 3000.0, "<= 3000 ms", "ms", 2040,
                   statistic="p95"),
        _objective("db-query-p95", "server_latency", i, None, 100.0, "<= 100 ms", "ms", 0,
                   statistic="p95", optional=True, approximate=True,
                   reason="server.json has no histogram slogate_db_query_duration_seconds"),
        _objective("cpu-headroom", "cpu", p, 53.0, 60.0, "45-60 %", "%", 110, statistic="mean"),
        _objective("memory-leak", "memory_slope", p, 0.6, 5.0, "<= 5 MB/min", "MB/min", 110,
                   statistic="slope"),
    )
    return Verdict(status=w, objectives=objectives, run_id=run_id, slo="slo-golden.yaml",
                   slo_name="golden", evaluated_from=LOAD + 10, evaluated_to=LOAD + 120)


FAULTS = [
    {"index": 0, "name": "provider 429 storm", "action": "target",
     "spec": {"at": 20.0, "for": 10.0, "target": {"provider": "rate_limit_storm"}},
     "planned_at": 20.0, "planned_for": 10.0, "started_at": LOAD + 20.1,
     "ended_at": LOAD + 30.1, "status": "done", "error": ""},
    {"index": 1, "name": "kill #2", "action": "kill", "spec": {"at": 40.0, "kill": {}},
     "planned_at": 40.0, "planned_for": None, "started_at": LOAD + 40.0,
     "ended_at": LOAD + 40.0, "status": "done", "error": "",
     "restart": {"killed_pid": 41, "pid": 57, "noticed_s": 0.2, "spawned_s": 1.2, "booted_s": 1.8,
                 "app_created_s": 2.6, "lifespan_started_s": 2.9, "ready_s": 3.1}},
    {"index": 2, "name": "database outage #3", "action": "database",
     "spec": {"at": 85.0, "for": 10.0, "database": "outage"}, "planned_at": 85.0,
     "planned_for": 10.0, "started_at": LOAD + 85.0, "ended_at": LOAD + 95.0,
     "status": "done", "error": ""},
]


def _phase(name: str, a: float, b: float, status: Status, value: float) -> PhaseResult:
    return PhaseResult(name, LOAD + a, LOAD + b, status, (
        PhaseObjective("http-availability", status, value, int((b - a) * 20)),))


def _fault_results() -> tuple[FaultResult, ...]:
    p, f = Status.PASS, Status.FAIL
    return (
        FaultResult(0, "provider 429 storm", "target", "", "done", LOAD + 20.1, LOAD + 30.1,
                    True, 0.0, True, 0.0, None, None, 89.9, 10.0, "",
                    (FaultBudget("http-availability", 0, 11.5, 0.0),),
                    (_phase("before", 10, 20.1, p, 100.0), _phase("during", 20.1, 30.1, p, 100.0),
                     _phase("after", 30.1, 40, p, 100.0))),
        FaultResult(1, "kill #2", "kill", "api", "done", LOAD + 40.0, LOAD + 40.0, True, 3.2,
                    True, 1.4, True, 3.2, 80.0, 10.0, "",
                    (FaultBudget("http-availability", 4, 11.5, 4 / 11.5),),
                    (_phase("before", 30.1, 40, p, 100.0), _phase("during", 40, 43.2, f, 93.75),
                     _phase("after", 43.2, 85, p, 100.0))),
        FaultResult(2, "database outage #3", "database", "database", "done", LOAD + 85.0,
                    LOAD + 95.0, False, None, False, None, False, 25.0, 25.0, 10.0,
                    "the objectives were not met over a full window before the run ended; "
                    "the health probe never answered again",
                    (FaultBudget("http-availability", 30, 11.5, 30 / 11.5),),
                    (_phase("before", 43.2, 85, p, 100.0), _phase("during", 85, 95, f, 0.0),
                     _phase("after", 95, 120, f, 80.0))),
    )


def _fail_verdict(run_id: str) -> Verdict:
    f = Status.FAIL
    objectives = (
        _ratio("http-availability", 97.0, 87, 2900, f),
        _objective("http-p95", "latency", f, 2400.0, 500.0, "<= 500 ms", "ms", 2900,
                   statistic="p95 corrected"),
        _objective("ws-drop-rate", "ws_drop_rate", f, 12.0, 1.0, "<= 1 %", "%", 1120,
                   statistic="drops/session"),
        _objective("ws-message-p95", "latency", f, 9100.0, 3000.0, "<= 3000 ms", "ms", 2040,
                   statistic="p95"),
        _objective("db-query-p95", "server_latency", f, 250.0, 100.0, "<= 100 ms", "ms", 5000,
                   statistic="p95", approximate=True),
        _objective("cpu-headroom", "cpu", f, 85.0, 60.0, "45-60 %", "%", 390, statistic="mean"),
        _objective("memory-leak", "memory_slope", f, 30.0, 5.0, "<= 5 MB/min", "MB/min", 390,
                   statistic="slope"),
    )
    return Verdict(status=f, objectives=objectives, run_id=run_id, slo="slo-golden.yaml",
                   slo_name="golden")


def _insufficient_verdict(run_id: str) -> Verdict:
    i = Status.INSUFFICIENT_DATA
    why = "3 events, needs at least 20"
    objectives = (
        _objective("http-availability", "availability", i, None, 99.5, ">= 99.5 %", "%", 3,
                   comparison=">=", statistic="availability", reason=why),
        _objective("http-p95", "latency", i, None, 500.0, "<= 500 ms", "ms", 3, statistic="p95",
                   reason=why),
    )
    return Verdict(status=i, objectives=objectives, run_id=run_id, slo="slo-golden.yaml",
                   slo_name="golden")


def _scenario(per_tenant: dict[str, int]) -> dict[str, Any]:
    groups = [{"name": f"{tier}-{k}", "tier": tier, "tenant": f"{tier}-{k}", "sessions": n}
              for tier, n in per_tenant.items() for k in range(2)]
    return {
        "name": "golden-capacity",
        "target": "embedded",
        "load": {"model": "open", "rate": None, "arrival": "constant"},
        "stages": [
            {"kind": "ramp", "duration": 10.0, "to": 20.0},
            {"kind": "steady", "duration": 30.0, "level": 20.0},
            {"kind": "spike", "duration": 45.0, "factor": 3.0, "hold": 15.0},
            {"kind": "steady", "duration": 35.0, "level": 20.0},
        ],
        "websocket": {"sessions_per_tenant": per_tenant},
        "resolved": {"planned_duration_s": 120.0, "websocket": {
            "sessions": sum(g["sessions"] for g in groups), "groups": groups}},
    }


def build_run(run_dir: Path, variant: Variant = "mixed") -> Path:
    """Write a complete run record for ``variant`` into ``run_dir``; returns ``run_dir``."""
    layout = RunLayout(run_dir)
    layout.samples_dir.mkdir(parents=True, exist_ok=True)
    fail = variant == "all_fail"
    per_tenant = ({"starter": 10, "team": 50, "enterprise": 500} if fail
                  else {"starter": 10, "team": 50, "enterprise": 450})
    rows = Rows()
    run_id = f"20251126-060000-{variant}"
    if variant != "insufficient":
        _http(rows, spike_5xx_every=5 if fail else 150, fail_all=fail)
        _sessions(rows, per_tenant, drops=2)
        health_ok = np.arange(60) % 4 != 0 if fail else True
        rows.add(np.arange(0, 120, 2.0), 3.0 + np.arange(60) % 5, "http", "GET /healthz",
                 ok=health_ok, status=np.where(health_ok, 200, 503))
        # probes and checks use kind "check": they stay out of the HTTP objectives, and
        # ok means "the expected outcome happened" (here: refused)
        iso_status = 200 if fail else 404
        rows.add(30.0 + np.arange(10), 8.0, "check", "isolation: GET /v1/runs/{id}",
                 ok=not fail, status=iso_status)
        rows.add(31.5 + np.arange(10), 9.0, "check", "isolation: POST /v1/agents", status=403)
        if variant == "faults":
            rows.add(40.0, 3200.0, "check", "recovery: kill #2")
            rows.add(95.0, 25_000.0, "check", "recovery: database outage #3", ok=False,
                     error="not recovered")
            rows.add(np.full(6, 118.0), 40.0, "check", ["durability: POST /v1/runs read back",
                     "durability: every run ended", "retry: no run failed on provider 429s"] * 2)
        else:
            rows.add(100.0, 120_000.0 if fail else 42_000.0, "check", "recovery: api-process")
        if fail:
            rows.add(101.0, 200_000.0, "check", "recovery: database failover")
            rows.add(110.0 + np.arange(5), 12.0, "check", "durability: run readback",
                     ok=np.arange(5) != 2)
    else:
        rows.add(np.asarray([20.0, 40.0, 60.0]), 30.0, "http", "GET /v1/agents")
    for worker in sorted(set(rows.cols["worker"])):
        pq.write_table(rows.table(worker), layout.part_path(worker))
    cap = {t: 2 * n for t, n in per_tenant.items()}
    if fail:
        cap = {"starter": 20, "team": 80, "enterprise": 500}
    held = {**cap, "team": cap["team"] - 2}
    if variant != "insufficient":
        _timeseries(layout.timeseries, per_tenant, held=held, cap=cap, rows=400 if fail else 120,
                    cpu=80.0 if fail else 50.0, rss_per_s=5e5 if fail else 1e4,
                    generator_cpu=195.0 if fail else 60.0)
    ended = LOAD + (400.0 if fail else 120.0)
    status = {"aborted": RunStatus.ABORTED}.get(variant, RunStatus.COMPLETE)
    info = RunInfo(
        run_id=run_id, release="v1.4.0-rc1", git_sha="0123456789abcdef0123456789abcdef01234567",
        scenario=_scenario(per_tenant), scenario_path="scenarios/catalog/golden.yaml",
        target_url="http://127.0.0.1:8431", started_at=T0,
        ended_at=LOAD + 80.0 if variant == "aborted" else ended, harness_version="0.1.0",
        host={"hostname": "ci-runner", "platform": "Linux-6.1-x86_64", "python": "3.11.2",
              "cpu_count": 2, "memory_bytes": 8 * 1024**3},
        status=status,
        reason="interrupted (Ctrl-C); samples so far are kept" if variant == "aborted" else "",
        warmup_s=10.0, workers=2,
        provisioning={"tenants": 6, "per_tier": {"starter": 2, "team": 2, "enterprise": 2},
                      "total_s": 1.9, "per_tenant_median_s": 0.31,
                      "per_tenant_max_s": 150.0 if fail else 0.42},
        load_started_at=LOAD,
        **({"faults": FAULTS} if variant == "faults" else {}),
    )
    layout.write_info(info)
    if variant in ("mixed", "all_fail", "faults"):
        rl = 12.0
        write_server_record(ServerRecord(
            source="scrape", url="http://127.0.0.1:8431/metrics", start=LOAD, end=ended,
            counters=[
                CounterDelta(name="slogate_provider_calls_total", labels={"outcome": "ok"},
                             start=0, end=900, delta=900),
                CounterDelta(name="slogate_provider_calls_total",
                             labels={"outcome": "rate_limited"}, start=0, end=rl, delta=rl),
                CounterDelta(name="slogate_runs_total", labels={"tier": "team", "status": "succeeded"},
                             start=0, end=300, delta=300),
                CounterDelta(name="slogate_runs_total", labels={"tier": "team", "status": "failed"},
                             start=0, end=5 if fail else 0, delta=5 if fail else 0),
            ],
        ), layout.server_json)
    if variant in ("mixed", "faults"):
        http = [s for s, k in zip(rows.cols["ok"], rows.cols["kind"], strict=True) if k == "http"]
        verdict = _mixed_verdict(run_id, len(http), http.count(False))
        if variant == "faults":
            verdict = replace(verdict, faults=_fault_results())
        write_verdict(verdict, layout.verdict_json)
    elif variant == "all_fail":
        write_verdict(_fail_verdict(run_id), layout.verdict_json)
    elif variant == "insufficient":
        write_verdict(_insufficient_verdict(run_id), layout.verdict_json)
    write_run_readiness(run_dir)  # as slo does whenever a run is judged
    return run_dir
