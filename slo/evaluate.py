"""``evaluate(objectives, measurements) -> Verdict``: the pure judgement of a run.

No file, clock, network or logging here: everything comes in as :class:`Measurements`, and
the result is a frozen :class:`~slo.verdict.Verdict`. How each objective is measured is its
kind's business (one module per SLI under :mod:`slo.sli_kinds`); this module adds the faults,
the ``exclude_faults`` steady state and the overall status.

The overall status is the most severe objective status (fail > insufficient_data > warn >
pass), except that an ``optional: true`` objective without data does not make the whole
verdict ``insufficient_data``.

Example::

    verdict = evaluate(load_slo("slo.yaml").objectives, load_measurements(run_dir))
    verdict.status            # Status.PASS / WARN / FAIL / INSUFFICIENT_DATA
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from slo._types import Status, worst
from slo.fault_results import AbortResult
from slo.measurements import Measurements
from slo.recovery import RECOVERY_WINDOW_S, fault_spans, judge_faults, without_spans
from slo.sli_kinds import kind_of
from slo.spec.model import Objective
from slo.verdict import ObjectiveResult, Verdict

__all__ = ["evaluate", "evaluate_objective", "overall_status"]


def evaluate(
    objectives: Sequence[Objective],
    measurements: Measurements,
    *,
    slo: str = "",
    slo_name: str = "",
    abort: AbortResult | None = None,
    recovery_window_s: float = RECOVERY_WINDOW_S,
) -> Verdict:
    """Judge every objective against ``measurements``.

    With faults in the measurements, each is judged too (:mod:`slo.recovery`). ``abort``: the
    run was stopped by an objective's ``abort_on``; the verdict then fails whatever the
    shortened run's objectives say, because the budget was burning too fast to go on
    (docs/slo.md, "abort_on").
    """
    faults = judge_faults(objectives, measurements, measurements.faults, evaluate_objective,
                          recovery_window_s)
    spans = fault_spans(faults, measurements.end_ts)
    steady = without_spans(measurements, spans) if spans else measurements
    results = tuple(
        _steady(evaluate_objective(o, steady)) if o.exclude_faults and spans
        else evaluate_objective(o, measurements)
        for o in objectives
    )
    facts = measurements.facts
    return Verdict(
        status=Status.FAIL if abort is not None else overall_status(results),
        objectives=results,
        run_id=facts.run_id,
        slo=slo,
        slo_name=slo_name,
        run_status=facts.status,
        approximate=facts.approximate,
        approximate_reason=facts.approximate_reason,
        evaluated_from=facts.started_at + facts.warmup_s,
        evaluated_to=measurements.end_ts,
        cross_check=dict(measurements.cross_check),
        faults=faults,
        abort=abort,
    )


def _steady(result: ObjectiveResult) -> ObjectiveResult:
    """Say on the result that fault spans were left out (``exclude_faults``)."""
    return replace(result, statistic=f"{result.statistic} (fault spans excluded)".strip())


def overall_status(results: Sequence[ObjectiveResult]) -> Status:
    """Most severe status; optional objectives without data are left out."""
    counted = [
        r.status for r in results
        if not (r.optional and r.status is Status.INSUFFICIENT_DATA)
    ]
    return worst(counted)


def evaluate_objective(objective: Objective, m: Measurements) -> ObjectiveResult:
    """One objective's result, measured by its kind (:mod:`slo.sli_kinds`)."""
    return kind_of(objective).evaluate(objective, m)
