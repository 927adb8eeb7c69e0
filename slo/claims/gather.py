"""Build :class:`~slo.claims.evidence.Evidence` from a run record (the thin I/O shell).

:func:`build_evidence` is pure (already loaded parts in, evidence out) so the report
pipeline can read the samples once and share them; :func:`gather_evidence` reads a run
directory itself, for callers that only want the claims.

Example::

    ev = gather_evidence(Path("runs/r1"))
    assess(ev).sentence
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa

from foundation.errors import ConfigError
from foundation.layout import RunInfo, RunLayout
from scenarios.record import read_samples, read_timeseries
from slo.capacity.result import CapacityResult
from slo.claims.evidence import Evidence, ObjectiveScope, RunContext
from slo.claims.facts import sample_facts, scenario_facts, server_facts, timeseries_facts
from slo.measurements import Timeseries
from slo.recovery import fault_spans
from slo.samples import SampleColumns
from slo.server import ServerRecord, read_server_record
from slo.sli_kinds import traits_of
from slo.spec.load import load_slo
from slo.spec.model import Objective
from slo.timeline import RunTimeline, first_send, run_timeline
from slo.verdict import Verdict, read_verdict

__all__ = [
    "CLAIM_COLUMNS",
    "build_evidence",
    "gather_evidence",
    "load_scopes",
    "objective_scopes",
    "run_context",
    "timeseries_from_table",
]

CLAIM_COLUMNS: Final = ["ts", "intended_ts", "latency_ms", "kind", "name", "tier", "ok", "status"]
"""Sample columns the claims read."""


def run_context(info: RunInfo, timeline: RunTimeline | None = None) -> RunContext:
    """run.json facts, including the runner's extras (provisioning timings); the load start is
    ``timeline``'s (:mod:`slo.timeline`, the same as the verdict's), else the samples-free one."""
    prov = info.provisioning or {}
    timeline = timeline if timeline is not None else run_timeline(info, None)
    cpu = info.host.get("cpu_count")
    prov_max = prov.get("per_tenant_max_s")
    return RunContext(
        run_id=info.run_id,
        status=str(info.status),
        reason=info.reason,
        started_at=info.started_at,
        ended_at=info.ended_at,
        load_started_at=timeline.load_start,
        warmup_s=info.warmup_s,
        cpu_count=int(cpu) if isinstance(cpu, int) else None,
        workers=info.workers,
        schedule_slips=info.schedule_slips,
        provisioning_tenants=int(prov.get("tenants") or 0),
        provisioning_max_s=float(prov_max) if isinstance(prov_max, int | float) else None,
    )


def objective_scopes(objectives: Iterable[Objective]) -> dict[str, ObjectiveScope]:
    """What each objective of an SLO file selected, by name (its kind says which sample
    kinds, whether latency is corrected, which server metric: :mod:`slo.sli_kinds`)."""
    out: dict[str, ObjectiveScope] = {}
    for o in objectives:
        traits = traits_of(o)
        out[o.name] = ObjectiveScope(
            known=True,
            kinds=traits.sample_kinds,
            tiers=o.select.patterns("tier"),
            corrected=traits.corrected,
            metric=traits.metric,
        )
    return out


def load_scopes(run_dir: Path, verdict: Verdict | None, info: RunInfo) -> dict[str, ObjectiveScope]:
    """Scopes from the SLO file that judged the run; empty (names are guessed) if it is gone."""
    candidates = [p for p in ((verdict.slo if verdict else None), info.slo_path) if p]
    for name in candidates:
        for path in (Path(name), run_dir / name):
            if path.is_file():
                try:
                    return objective_scopes(load_slo(path).objectives)
                except ConfigError:
                    return {}
    return {}


def timeseries_from_table(table: pa.Table | None) -> Timeseries | None:
    """Numeric columns of ``timeseries.parquet`` as float arrays (nulls -> NaN), by ``ts``."""
    if table is None or table.num_rows == 0 or "ts" not in table.column_names:
        return None
    columns = {}
    for field in table.schema:
        if pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
            col = table.column(field.name).cast(pa.float64())
            columns[field.name] = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
    t = columns.pop("ts")
    return Timeseries(t, columns)


def build_evidence(
    info: RunInfo,
    verdict: Verdict | None,
    *,
    scopes: Mapping[str, ObjectiveScope] | None = None,
    samples: SampleColumns | None = None,
    timeseries: Timeseries | None = None,
    server: ServerRecord | None = None,
    capacity: tuple[CapacityResult, ...] = (),
) -> Evidence:
    """Evidence from loaded parts; nothing is read here."""
    timeline = run_timeline(info, first_send(samples))
    run = run_context(info, timeline)
    scenario = scenario_facts(info.scenario)
    ts_facts = None
    if timeseries is not None:
        ts_facts = timeseries_facts(timeseries, load_start=run.load_start, warmup_s=run.warmup_s,
                                    cpu_count=run.cpu_count, workers=run.workers)
    s_facts = None
    faults = timeline.faults
    if samples is not None:
        end = run.ended_at if run.ended_at is not None else run.load_start
        spans = (fault_spans(verdict.faults, end) if verdict is not None and verdict.faults
                 else [(f.start, f.end if f.end is not None else end)
                       for f in faults if f.start is not None])
        s_facts = sample_facts(samples, load_start=run.load_start, end=run.ended_at,
                               warmup_s=run.warmup_s, spike=scenario.spike, fault_spans=spans)
    return Evidence(
        run=run,
        verdict=verdict,
        scopes=dict(scopes or {}),
        scenario=scenario,
        timeseries=ts_facts,
        server=None if server is None else server_facts(server),
        faults=faults,
        **({"samples": s_facts} if s_facts is not None else {}),
        capacity=capacity,
    )


def gather_evidence(
    run_dir: Path, capacity: tuple[CapacityResult, ...] = (), *,
    samples: SampleColumns | None = None,
) -> Evidence:
    """Read a run directory and build its evidence (verdict optional); ``capacity`` are the
    capacity results that judge claim 5. ``samples``: the run's samples already read with at
    least :data:`CLAIM_COLUMNS` (``evaluate_run`` hands over the verdict's), else read here."""
    layout = RunLayout(run_dir)
    info = layout.read_info()
    verdict = read_verdict(layout.verdict_json) if layout.verdict_json.exists() else None
    server = read_server_record(layout.server_json) if layout.server_json.exists() else None
    if samples is None:
        samples = SampleColumns.from_arrow(read_samples(run_dir, columns=CLAIM_COLUMNS))
    else:
        _check_claim_columns(samples)
    return build_evidence(
        info, verdict, scopes=load_scopes(run_dir, verdict, info), samples=samples,
        timeseries=timeseries_from_table(read_timeseries(run_dir)), server=server,
        capacity=capacity,
    )


def _check_claim_columns(samples: SampleColumns) -> None:
    """Samples handed over must hold every claim column: a missing one would silently turn
    claims into "not verified" instead of failing the caller's mistake."""
    missing = [c for c in CLAIM_COLUMNS if getattr(samples, c) is None]
    if missing:
        raise ValueError(f"samples handed to the claims lack the columns {missing}; read "
                         "them with CLAIM_COLUMNS")
