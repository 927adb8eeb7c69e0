"""Judge a run directory end to end: pick the SLO file, load, evaluate, write ``verdict.json``,
then judge the readiness claims on it and write ``readiness.json``.

This is the one function the CLI (``slogate evaluate``) and ``slogate run`` call. It keeps
the pure core (:func:`slo.evaluate.evaluate`) free of files.

Example::

    outcome = evaluate_run(EvaluateRequest(run_dir=Path("runs/r1")))
    outcome.verdict.status, outcome.exit_code, outcome.verdict_path
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from foundation.errors import EXIT_GATE_FAILED, EXIT_INCOMPLETE, EXIT_OK, ConfigError, RunIncompleteError
from foundation.layout import RunLayout, RunStatus
from slo._types import Status
from slo.abort import abort_from_record
from slo.claims.gather import CLAIM_COLUMNS
from slo.claims.record import ReadinessRecord, write_run_readiness
from slo.crosscheck import cross_check_run
from slo.evaluate import evaluate
from slo.measure import load_measurements, read_run_info
from slo.sli_kinds import traits_of
from slo.sources.base import MetricsSource
from slo.spec.load import SloSpec, load_slo
from slo.verdict import Verdict, write_verdict

__all__ = [
    "CATALOG_DIR",
    "DEFAULT_SLO",
    "EvaluateOutcome",
    "EvaluateRequest",
    "evaluate_run",
    "exit_code_for",
    "resolve_slo_path",
]

CATALOG_DIR: Final = Path(__file__).resolve().parent / "catalog"
DEFAULT_SLO: Final = CATALOG_DIR / "default.yaml"

@dataclass(frozen=True, slots=True)
class EvaluateRequest:
    """What to judge. ``slo_path`` None: the run's ``slo_path``, else the default catalog."""

    run_dir: Path
    slo_path: Path | None = None
    allow_incomplete: bool = False
    default_slo: Path = DEFAULT_SLO
    source: MetricsSource | None = None
    """Cross-check against this source first (writes server.json); None: use what is there."""


@dataclass(frozen=True, slots=True)
class EvaluateOutcome:
    """The verdict, where it was written, which SLO file judged it, and the exit code;
    ``readiness`` is what was written to ``readiness.json`` (its GO / NO-GO is not the exit
    code: the gate of ``slogate evaluate`` is the verdict)."""

    verdict: Verdict
    verdict_path: Path
    slo_path: Path
    exit_code: int
    readiness: ReadinessRecord | None = None


def exit_code_for(verdict: Verdict) -> int:
    """0 pass or warn · 1 fail · 3 insufficient data (DESIGN.md exit codes).

    A run stopped by ``abort_on`` is a failed gate (1), not an incomplete run (3): it was
    stopped *because* an objective was measured burning its budget too fast, which is a
    judgement, like k6's abortOnFail exiting with its "thresholds failed" code.
    """
    if verdict.status is Status.FAIL:
        return EXIT_GATE_FAILED
    if verdict.status is Status.INSUFFICIENT_DATA:
        return EXIT_INCOMPLETE
    return EXIT_OK


def resolve_slo_path(
    run_dir: Path, given: Path | None, run_slo: str | None, default: Path = DEFAULT_SLO
) -> Path:
    """``--slo`` if given; else run.json's ``slo_path`` (as written, or relative to the run
    directory); else the default catalog file."""
    if given is not None:
        return given
    if run_slo:
        for candidate in (Path(run_slo), run_dir / run_slo):
            if candidate.exists():
                return candidate
        raise ConfigError(
            f"run.json names SLO file {run_slo!r}, which does not exist here; pass --slo FILE",
            path=str(RunLayout(run_dir).run_json), field="slo_path",
        )
    return default


def evaluate_run(request: EvaluateRequest) -> EvaluateOutcome:
    """Load the run and its SLO, judge it, write ``verdict.json`` and ``readiness.json`` into
    the run directory."""
    info = read_run_info(request.run_dir)
    slo_path = resolve_slo_path(request.run_dir, request.slo_path, info.slo_path,
                                request.default_slo)
    spec = load_slo(slo_path)
    abort = abort_from_record(info.stopped_early)
    # A run stopped by abort_on was stopped by a judgement: it is judged without the flag.
    if info.status is not RunStatus.COMPLETE and not request.allow_incomplete and abort is None:
        why = f" ({info.reason})" if info.reason else ""
        raise RunIncompleteError(
            f"run {info.run_id} has status '{info.status}'{why}, so it cannot be judged; "
            "rerun it, or pass --allow-incomplete to judge the samples it kept"
        )
    if request.source is not None:
        cross_check_run(request.run_dir, request.source, spec.cross_check)
    # One read of the samples for the verdict and the readiness claims (BENCHMARKS.md).
    measurements = load_measurements(request.run_dir, spec.objectives, info, keep=CLAIM_COLUMNS)
    _require_samples(spec, measurements.samples.n, request.run_dir)
    verdict = evaluate(spec.objectives, measurements, slo=str(slo_path), slo_name=spec.name,
                       abort=abort)
    path = write_verdict(verdict, RunLayout(request.run_dir).verdict_json)
    readiness = write_run_readiness(request.run_dir, samples=measurements.samples)
    code = exit_code_for(verdict)
    if info.status is not RunStatus.COMPLETE and code == EXIT_OK:
        code = EXIT_INCOMPLETE  # judged on request, but an incomplete run never passes the gate
    return EvaluateOutcome(verdict, path, slo_path, code, readiness)


def _require_samples(spec: SloSpec, n: int, run_dir: Path) -> None:
    if n == 0 and any(traits_of(o).source == "samples" for o in spec.objectives):
        raise RunIncompleteError(
            f"{run_dir} has no samples (samples/ is empty or missing), so nothing can be "
            "judged; check that the run's workers started and recorded"
        )
