"""Release comparison: did the candidate regress against the baseline, with what confidence?

Pure, typed statistics (no clock, no network, no rendering) plus one I/O shell
(:func:`load_run`). Typical use, as ``slogate compare`` does it::

    baseline, candidate = load_run(base_dir), load_run(cand_dir)
    mismatches = find_mismatches(baseline.scenario, candidate.scenario, ...)
    comparison = compare_runs(baseline, candidate, CompareSettings(p95_tolerance=0.10))
    write_comparison(comparison, cand_dir / "comparison.json")

The methods and why they were chosen are in ``docs/compare.md``.
"""

from slo.compare.bootstrap import PercentileDifference, bootstrap_percentile, percentile_difference
from slo.compare.classify import classify, family_confidence
from slo.compare.compare import compare_objectives, compare_runs, outcome_of
from slo.compare.compatibility import find_mismatches, planned_duration_s
from slo.compare.inputs import RunData
from slo.compare.load import load_run, slo_objectives
from slo.compare.mannwhitney import (
    MannWhitneyResult,
    ShiftEstimate,
    hodges_lehmann,
    kth_difference,
    mann_whitney_u,
)
from slo.compare.model import (
    METRICS,
    Change,
    CompareSettings,
    Comparison,
    Interval,
    MetricComparison,
    MetricName,
    Mismatch,
    ObjectiveComparison,
    OperationKey,
    Outcome,
    RunSummary,
)
from slo.compare.operations import (
    OBJECTIVE_KIND,
    OperationSamples,
    objective_operations,
    split_operations,
)
from slo.compare.proportions import (
    ProportionDifference,
    newcombe_interval,
    proportion_difference,
    two_proportion_p_value,
    wilson_interval,
)
from slo.compare.rates import RateDifference, per_second_counts, rate_difference
from slo.compare.record import (
    COMPARISON_SCHEMA_VERSION,
    comparison_from_dict,
    comparison_to_dict,
    read_comparison,
    write_comparison,
)

__all__ = [
    "COMPARISON_SCHEMA_VERSION",
    "METRICS",
    "OBJECTIVE_KIND",
    "Change",
    "CompareSettings",
    "Comparison",
    "Interval",
    "MannWhitneyResult",
    "MetricComparison",
    "MetricName",
    "Mismatch",
    "ObjectiveComparison",
    "OperationKey",
    "OperationSamples",
    "Outcome",
    "PercentileDifference",
    "ProportionDifference",
    "RateDifference",
    "RunData",
    "RunSummary",
    "ShiftEstimate",
    "bootstrap_percentile",
    "classify",
    "compare_objectives",
    "compare_runs",
    "comparison_from_dict",
    "comparison_to_dict",
    "family_confidence",
    "find_mismatches",
    "hodges_lehmann",
    "kth_difference",
    "load_run",
    "mann_whitney_u",
    "newcombe_interval",
    "objective_operations",
    "outcome_of",
    "per_second_counts",
    "percentile_difference",
    "planned_duration_s",
    "proportion_difference",
    "rate_difference",
    "read_comparison",
    "slo_objectives",
    "split_operations",
    "two_proportion_p_value",
    "wilson_interval",
    "write_comparison",
]
