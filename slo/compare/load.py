"""Read a run directory into :class:`~slo.compare.inputs.RunData` (the I/O shell of compare).

Only run records that finished are compared: an aborted, failed or still-``running``
record measured something other than the release (a crash, a Ctrl-C, a full disk), so it
raises :class:`~foundation.errors.RunIncompleteError` (exit 3), as does a record without
``run.json`` or without samples in its judged window.

The judged window starts at the load's start plus the run's warm-up, the same instant the
verdict and the claims judge from (:mod:`slo.timeline`: the first sample's scheduled send).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from foundation.errors import ConfigError, RunIncompleteError
from foundation.layout import RunLayout, RunStatus
from scenarios.record import read_samples
from slo.compare.inputs import RunData
from slo.compare.model import RunSummary
from slo.compare.operations import objective_operations, split_operations
from slo.measure import read_run_info
from slo.samples import SampleColumns
from slo.spec import load_slo
from slo.spec.model import Objective
from slo.timeline import first_send, run_timeline
from slo.verdict import Verdict, read_verdict

__all__ = ["COLUMNS", "load_run", "slo_objectives"]

COLUMNS: Final = ["ts", "intended_ts", "latency_ms", "kind", "name", "tier", "tenant", "ok"]
"""Sample columns a comparison reads (of the record's twelve)."""


def slo_objectives(run_dir: str | Path) -> tuple[tuple[Objective, ...], str]:
    """The objectives of the SLO file the run's ``verdict.json`` was judged with, and a note
    when there are none to compare (no verdict, or the SLO file is gone or unreadable)."""
    verdict = _verdict(Path(run_dir))
    if verdict is None or not verdict.slo:
        return (), "SLO objectives were not compared: the candidate has no verdict.json"
    try:
        return load_slo(verdict.slo).objectives, ""
    except ConfigError as exc:
        return (), f"SLO objectives were compared by status only: {exc}"


def load_run(
    run_dir: str | Path,
    *,
    corrected: bool = True,
    role: str = "run",
    objectives: Sequence[Objective] = (),
) -> RunData:
    """Load ``run_dir`` for comparison; ``role`` ("baseline"/"candidate") names it in errors.

    ``objectives`` (normally the candidate's SLO file, applied to both runs) add one
    ``slo <name>`` operation per objective measured from samples.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunIncompleteError(f"{role} {run_dir} is not a directory (give a run record directory)")
    info = read_run_info(run_dir)
    if info.status is not RunStatus.COMPLETE:
        why = f": {info.reason}" if info.reason else ""
        raise RunIncompleteError(
            f"{role} run {info.run_id} ended '{info.status.value}'{why}; only complete runs "
            "are compared (re-run it, or pick another baseline)"
        )
    cols = SampleColumns.from_arrow(read_samples(run_dir, columns=COLUMNS))
    if cols.n == 0:
        raise RunIncompleteError(f"{role} run {info.run_id} recorded no samples: nothing to compare")
    window_start = run_timeline(info, first_send(cols)).judged_from
    in_window = cols.ts >= window_start
    if not bool(np.any(in_window)):
        raise RunIncompleteError(
            f"{role} run {info.run_id} has no samples after its warm-up "
            f"({info.warmup_s:g} s): nothing to compare"
        )
    last = float(np.max(cols.ts[in_window]))
    window_seconds = max(0, math.floor(last - window_start))
    verdict = _verdict(run_dir)
    summary = RunSummary(
        path=str(run_dir), run_id=info.run_id, release=info.release, status=info.status.value,
        started_at=info.started_at, window_s=last - window_start,
        samples=int(np.count_nonzero(in_window)),
        verdict_status=None if verdict is None else verdict.status.value,
    )
    return RunData(
        summary=summary,
        window_start=window_start,
        window_seconds=window_seconds,
        operations={**split_operations(cols, window_start, corrected=corrected),
                    **objective_operations(cols, window_start, objectives)},
        scenario=dict(info.scenario),
        verdict=verdict,
    )


def _verdict(run_dir: Path) -> Verdict | None:
    path = RunLayout(run_dir).verdict_json
    return read_verdict(path) if path.exists() else None
