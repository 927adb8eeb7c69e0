"""Read a saved run record and its verdict into :class:`~reports.model.ReportData` (the shell).

Reports render from files only, never from a live run, so CI can re-render and diff them.
Policy for a missing ``verdict.json``:

- the run is ``complete``: refuse (:class:`RunIncompleteError`, exit 3) and name the fix,
  ``slogate evaluate RUN_DIR``. Judging is the verdict's job; a report that quietly judged
  would be a second, unreviewed gate.
- the run was ``aborted`` / ``failed`` / left ``running``: render anyway, saying plainly
  that it was not judged -- that report is how a reader learns what happened.

Readiness (claims, score, GO / NO-GO, risks, capacity) is judged by ``slo`` and read here
from ``readiness.json`` (:mod:`slo.claims.record`), or handed in already judged (``slogate
report --capacity``); a run without one is refused, naming ``slogate readiness RUN_DIR``.

The samples are read once, with the four string columns dictionary-encoded, and shared by
the evidence the SRE detail shows and its tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from foundation.errors import ConfigError, ReportError, RunIncompleteError
from foundation.layout import RunInfo, RunLayout, RunStatus
from reports.aggregate import aggregate
from reports.model import ReportData, identity_of, worker_hosts_of
from scenarios.record import read_samples, read_timeseries
from slo.alert_history import ALERTS_JSON, AlertRecord, read_alert_record
from slo.claims import (
    ReadinessRecord,
    build_evidence,
    load_scopes,
    read_readiness,
    timeseries_from_table,
)
from slo.measure import read_run_info
from slo.samples import Categorical, SampleColumns
from slo.server import ServerRecord, read_server_record
from slo.verdict import Verdict, read_verdict

__all__ = ["REPORT_COLUMNS", "load_report_data"]

REPORT_COLUMNS: Final = [
    "ts", "intended_ts", "latency_ms", "kind", "name", "tier", "ok", "status", "error",
]
_STRINGS: Final = ["kind", "name", "tier", "error"]


def load_report_data(run_dir: Path, judged: ReadinessRecord | None = None) -> ReportData:
    """Everything the report formats need, from ``run_dir``; ``judged`` replaces the run's
    ``readiness.json`` (``slo`` judged it with inputs from elsewhere, e.g. capacity searches)."""
    info = read_run_info(run_dir)
    layout = RunLayout(run_dir)
    verdict = _verdict(layout, info)
    judged = judged if judged is not None else _readiness(layout)
    table = read_samples(run_dir, columns=REPORT_COLUMNS, read_dictionary=_STRINGS)
    cols = SampleColumns.from_arrow(table)
    errors = Categorical.from_arrow(table.column("error"))
    del table
    timeseries = timeseries_from_table(read_timeseries(run_dir))
    server = _server(layout)
    evidence = build_evidence(
        info, verdict, scopes=load_scopes(run_dir, verdict, info), samples=cols,
        timeseries=timeseries, server=server,
    )
    run = evidence.run
    return ReportData(
        identity=identity_of(info, verdict),
        readiness=judged.readiness,
        risks=judged.risks,
        capacity=judged.capacity,
        evidence=evidence,
        aggregates=aggregate(cols, errors, t0=run.load_start, span_s=run.load_s),
        timeseries=timeseries,
        scenario=info.scenario,
        notes=_notes(info, verdict, cols.n),
        alerts=_alerts(run_dir),
        worker_hosts=worker_hosts_of(info),
    )


def _alerts(run_dir: Path) -> AlertRecord | None:
    path = run_dir / ALERTS_JSON
    if not path.exists():
        return None
    try:
        return read_alert_record(path)
    except ConfigError as exc:
        raise ReportError(str(exc)) from exc


def _verdict(layout: RunLayout, info: RunInfo) -> Verdict | None:
    if not layout.verdict_json.exists():
        if info.status is RunStatus.COMPLETE:
            raise RunIncompleteError(
                f"{layout.verdict_json} does not exist: the run was never judged; run "
                f"'slogate evaluate {layout.root}' first, then 'slogate report' again"
            )
        return None
    try:
        return read_verdict(layout.verdict_json)
    except ConfigError as exc:
        raise ReportError(f"{exc}; re-run 'slogate evaluate {layout.root}'") from exc


def _readiness(layout: RunLayout) -> ReadinessRecord:
    if not layout.readiness_json.exists():
        raise RunIncompleteError(
            f"{layout.readiness_json} does not exist: the run's readiness was never judged; run "
            f"'slogate readiness {layout.root}' first, then 'slogate report' again"
        )
    try:
        return read_readiness(layout.readiness_json)
    except ConfigError as exc:
        raise ReportError(f"{exc}; re-run 'slogate readiness {layout.root}'") from exc


def _server(layout: RunLayout) -> ServerRecord | None:
    if not layout.server_json.exists():
        return None
    try:
        return read_server_record(layout.server_json)
    except ConfigError as exc:
        raise ReportError(str(exc)) from exc


def _notes(info: RunInfo, verdict: Verdict | None, n_samples: int) -> tuple[str, ...]:
    notes = []
    if info.status is not RunStatus.COMPLETE:
        why = f": {info.reason}" if info.reason else ""
        notes.append(f"This run was {info.status.value.upper()}{why}. Its samples are partial.")
    if verdict is None:
        notes.append("This run was NOT JUDGED: there is no verdict.json, so no objective and no "
                     "claim that needs one can pass.")
    elif verdict.status.value == "insufficient_data":
        notes.append("INSUFFICIENT DATA: the verdict could not judge every objective; "
                     "those objectives and the claims that rest on them are not verified.")
    if verdict is not None and verdict.approximate:
        notes.append(f"Approximate: {verdict.approximate_reason or 'imported data that rounds'}.")
    if n_samples == 0:
        notes.append("The run recorded no samples.")
    return tuple(notes)

