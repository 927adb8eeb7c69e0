"""The ``slo`` room: SLO files, exact SLIs, error budgets, burn rates, verdicts, cross-checks.

Public entry points (see docs/slo.md)::

    from slo import EvaluateRequest, evaluate_run          # judge a run directory
    from slo import load_slo, evaluate, load_measurements  # or step by step
    from slo import Verdict, Status, read_verdict

Never imports ``locust`` (it monkey-patches the process with gevent on import).
"""

from slo._types import Status
from slo.evaluate import evaluate
from slo.evaluate_run import EvaluateOutcome, EvaluateRequest, evaluate_run, exit_code_for
from slo.measure import load_measurements
from slo.measurements import Measurements, RunFacts, Timeseries
from slo.spec import SloSpec, load_slo, parse_slo
from slo.verdict import ObjectiveResult, Verdict, read_verdict, write_verdict

__all__ = [
    "EvaluateOutcome",
    "EvaluateRequest",
    "Measurements",
    "ObjectiveResult",
    "RunFacts",
    "SloSpec",
    "Status",
    "Timeseries",
    "Verdict",
    "evaluate",
    "evaluate_run",
    "exit_code_for",
    "load_measurements",
    "load_slo",
    "parse_slo",
    "read_verdict",
    "write_verdict",
]
