"""Run history: run records kept by release label, for baselines and trends.

``slogate compare --history DIR --record RUN_DIR`` copies a judged run record into ``DIR``;
``--baseline latest-passing`` (or a label) then picks a baseline from it, and reports show
the trend of key SLIs over the last releases. Layout::

    DIR/history.json          index (schema_version 1), oldest entry first
    DIR/runs/<label>/         copy of the run record: run.json, verdict.json, server.json,
                              timeseries.parquet, comparison.json, samples/ (no reports)

Why an explicit ``--record`` and copies, not an automatic symlink: CI run directories are
temporary (a job's workspace), so the history must own real files to survive as a cache
or artifact; and only the gate knows when a run has been judged, so it records afterwards
and the entry carries the outcome (``passed``: SLO verdict pass/warn and no regression).

Disk is bounded twice: at most ``keep`` entries (default 20), and at most ``budget_bytes``
(default 2 GiB) in all; the oldest entries go first, except the newest passing one, which
is always kept so that ``latest-passing`` keeps working. Recording a label that is already
there replaces it (a re-run of the same release).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from foundation.documents import read_json, write_text_atomic
from foundation.errors import ConfigError, RunIncompleteError, UsageError
from foundation.layout import RunLayout
from slo.compare.inputs import RunData
from slo.compare.load import load_run
from slo.compare.operations import OBJECTIVE_KIND
from slo.compare.record import read_comparison
from slo.sli import percentiles

__all__ = [
    "DEFAULT_BUDGET_BYTES",
    "DEFAULT_KEEP",
    "HISTORY_SCHEMA_VERSION",
    "LATEST_PASSING",
    "History",
    "HistoryEntry",
    "SliPoint",
    "Trend",
    "TrendLine",
    "build_trend",
    "key_slis",
    "open_history",
    "record_run",
    "resolve_baseline",
]

HISTORY_SCHEMA_VERSION: Final = 1
DEFAULT_KEEP: Final = 20
DEFAULT_BUDGET_BYTES: Final = 2 * 1024**3
LATEST_PASSING: Final = "latest-passing"
_COPIED: Final = ("run.json", "verdict.json", "server.json", "timeseries.parquet", "comparison.json")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class SliPoint:
    """One key SLI of one run: value and unit (``ms``, ``%``, ``ops/s``, or an objective's)."""

    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded run. ``passed`` is ``None`` when the run had no verdict to go by."""

    label: str
    run_id: str
    directory: str  # relative to the history directory
    recorded_at: float
    started_at: float
    passed: bool | None
    verdict_status: str | None = None
    comparison_outcome: str | None = None
    bytes: int = 0
    slis: Mapping[str, SliPoint] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class History:
    """The index of a history directory (entries oldest first)."""

    root: Path
    entries: tuple[HistoryEntry, ...] = ()

    def path_of(self, entry: HistoryEntry) -> Path:
        return self.root / entry.directory

    def labels(self) -> list[str]:
        return [e.label for e in self.entries]

    def last(self, n: int) -> tuple[HistoryEntry, ...]:
        """The newest ``n`` entries, oldest first (what a trend shows)."""
        return self.entries[-n:] if n > 0 else ()


@dataclass(frozen=True, slots=True)
class TrendLine:
    """One SLI across releases; ``values`` align with :attr:`Trend.labels` (``None`` = the
    release did not measure it)."""

    name: str
    unit: str
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Trend:
    """Key SLIs over the last releases, oldest first; the last column is the candidate."""

    labels: tuple[str, ...]
    passed: tuple[bool | None, ...]
    lines: tuple[TrendLine, ...]


def build_trend(
    entries: Sequence[HistoryEntry],
    candidate_label: str,
    candidate_slis: Mapping[str, SliPoint],
    candidate_passed: bool | None = None,
) -> Trend:
    """Arrange recorded entries plus the candidate into one line per SLI.

    An entry with the candidate's label is left out (the candidate is its newer run).
    Lines are ordered as the candidate measures them; SLIs only older runs had come last.
    """
    past = [e for e in entries if e.label != candidate_label]
    names = list(candidate_slis)
    names += [n for e in past for n in e.slis if n not in names]
    lines = []
    for name in names:
        values = [e.slis[name].value if name in e.slis else None for e in past]
        point = candidate_slis.get(name)
        unit = point.unit if point else next(e.slis[name].unit for e in past if name in e.slis)
        lines.append(TrendLine(name, unit, (*values, point.value if point else None)))
    return Trend(
        labels=(*(e.label for e in past), candidate_label),
        passed=(*(e.passed for e in past), candidate_passed),
        lines=tuple(lines),
    )


def key_slis(run: RunData) -> dict[str, SliPoint]:
    """The SLIs a trend follows: P95 per sample kind, error rate and throughput overall,
    and the value of every SLO objective in the run's verdict."""
    out: dict[str, SliPoint] = {}
    operations = {k: o for k, o in run.operations.items() if k.kind != OBJECTIVE_KIND}
    for kind in sorted({key.kind for key in operations}):
        ops = [o for k, o in operations.items() if k.kind == kind and o.latency_sorted.size]
        if ops:
            values = np.concatenate([o.latency_sorted for o in ops])
            out[f"p95 {kind}"] = SliPoint(float(percentiles(values, [95.0])[0]), "ms")
    total = sum(o.total for o in operations.values())
    if total:
        errors = sum(o.errors for o in operations.values())
        out["error rate"] = SliPoint(errors / total * 100.0, "%")
    if run.window_seconds > 0:
        ok = sum(int(np.count_nonzero(o.ok_ts < run.window_start + run.window_seconds))
                 for o in operations.values())
        out["throughput"] = SliPoint(ok / run.window_seconds, "ops/s")
    if run.verdict is not None:
        for objective in run.verdict.objectives:
            if objective.value is not None:
                out[f"objective {objective.name}"] = SliPoint(float(objective.value), objective.unit)
    return out


def open_history(root: str | Path) -> History:
    """Read ``root/history.json``; a missing directory or index is an empty history."""
    root = Path(root)
    index = root / "history.json"
    if not index.exists():
        return History(root)
    data = read_json(index, "the run history")
    if data.get("schema_version") != HISTORY_SCHEMA_VERSION:
        raise ConfigError(
            f"history schema_version {data.get('schema_version')!r} is not supported (this "
            f"slogate reads version {HISTORY_SCHEMA_VERSION}); start a new --history directory",
            path=str(index), field="schema_version",
        )
    try:
        entries = tuple(
            HistoryEntry(**{**e, "slis": {k: SliPoint(**v) for k, v in e.get("slis", {}).items()}})
            for e in data["entries"]
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"malformed history index: {exc}", path=str(index)) from exc
    return History(root, entries)


def _write_index(history: History) -> None:
    history.root.mkdir(parents=True, exist_ok=True)
    index = history.root / "history.json"
    data = {"schema_version": HISTORY_SCHEMA_VERSION, "entries": [asdict(e) for e in history.entries]}
    write_text_atomic(index, json.dumps(data, indent=2) + "\n")


def resolve_baseline(history: History, spec: str, *, exclude_label: str | None = None) -> HistoryEntry:
    """The entry ``spec`` names: ``latest-passing`` or a release label.

    ``exclude_label`` (the candidate's own label) is never its own baseline.
    """
    if spec == LATEST_PASSING:
        for entry in reversed(history.entries):
            if entry.passed and entry.label != exclude_label:
                return entry
        raise RunIncompleteError(
            f"no passing run in the history {history.root} yet"
            + (f" (it holds: {', '.join(history.labels())})" if history.entries else "")
            + "; record one with 'slogate compare --history DIR --record RUN_DIR'"
        )
    for entry in reversed(history.entries):
        if entry.label == spec:
            return entry
    known = ", ".join(history.labels()) or "nothing yet"
    raise UsageError(f"release {spec!r} is not in the history {history.root} (it holds: {known})")


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _copy_record(run_dir: Path, target: Path) -> int:
    """Copy the record's data files (not rendered reports) into ``target``; returns bytes."""
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in _COPIED:
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, tmp / name)
    samples = RunLayout(run_dir).samples_dir
    if samples.is_dir():
        shutil.copytree(samples, tmp / "samples")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return _dir_bytes(target)


def _passed(run_dir: Path, verdict_status: str | None) -> tuple[bool | None, str | None]:
    outcome = None
    comparison = run_dir / "comparison.json"
    if comparison.exists():
        outcome = read_comparison(comparison).outcome.value
    if verdict_status is None:
        return None, outcome
    return verdict_status in ("pass", "warn") and outcome != "regression", outcome


def _slug(label: str, taken: Sequence[str]) -> str:
    slug = _UNSAFE.sub("_", label).strip("._") or "run"
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


def record_run(
    root: str | Path,
    run_dir: str | Path,
    *,
    now: float,
    label: str | None = None,
    keep: int = DEFAULT_KEEP,
    budget_bytes: int = DEFAULT_BUDGET_BYTES,
) -> HistoryEntry:
    """Copy a complete, judged run record into the history and prune it to its bounds.

    The label defaults to the run's ``release`` (``slogate run --release``), else its run id.
    """
    if keep < 1:
        raise UsageError("--keep must be at least 1")
    run_dir = Path(run_dir)
    run = load_run(run_dir, role="recorded")  # refuses aborted or empty runs
    history = open_history(root)
    label = label or run.summary.release or run.summary.run_id
    kept = [e for e in history.entries if e.label != label]
    replaced = [e for e in history.entries if e.label == label]
    directory = "runs/" + _slug(label, [Path(e.directory).name for e in kept])
    size = _copy_record(run_dir, history.root / directory)
    if size > budget_bytes:
        shutil.rmtree(history.root / directory, ignore_errors=True)
        raise UsageError(
            f"run record {run_dir} is {size:,} bytes, more than the history budget of "
            f"{budget_bytes:,} bytes; raise --history-budget"
        )
    for old in replaced:
        if old.directory != directory:
            shutil.rmtree(history.root / old.directory, ignore_errors=True)
    passed, outcome = _passed(run_dir, run.summary.verdict_status)
    entry = HistoryEntry(
        label=label, run_id=run.summary.run_id, directory=directory, recorded_at=now,
        started_at=run.summary.started_at, passed=passed, verdict_status=run.summary.verdict_status,
        comparison_outcome=outcome, bytes=size, slis=key_slis(run),
    )
    pruned = _prune(history.root, [*kept, entry], keep, budget_bytes)
    _write_index(History(history.root, tuple(pruned)))
    return entry


def _prune(root: Path, entries: list[HistoryEntry], keep: int, budget: int) -> list[HistoryEntry]:
    """Drop the oldest entries beyond ``keep`` or ``budget``; never the newest one (just
    recorded) nor the newest passing one (the next ``latest-passing`` baseline)."""
    protected = {len(entries) - 1}
    passing = [i for i, e in enumerate(entries) if e.passed]
    if passing:
        protected.add(passing[-1])
    dropped: set[int] = set()
    for i, entry in enumerate(entries):
        left = [e for j, e in enumerate(entries) if j not in dropped]
        if len(left) <= keep and sum(e.bytes for e in left) <= budget:
            break
        if i in protected:
            continue
        dropped.add(i)
        shutil.rmtree(root / entry.directory, ignore_errors=True)
    return [e for j, e in enumerate(entries) if j not in dropped]
