"""The runner: one scenario, one target, one run record.

Typical use (what ``slogate run`` does)::

    from scenarios.runner import RunRequest, run_scenario
    from scenarios.spec import load_scenario

    outcome = run_scenario(RunRequest(load_scenario("scenarios/catalog/smoke.yaml")))
    print(outcome.status, outcome.run_dir)

Modules: ``run`` (the steps), ``safety`` (loopback rule), ``control`` (reachability and
tenant provisioning), ``target`` (embedded target, given credentials), ``plans`` (scenario
-> engine plans), ``engines`` (handles of the HTTP and swarm engines), ``monitor`` /
``timeseries`` / ``resources`` (what is sampled each second), ``disk`` (budget),
``cleanup`` (no stray processes), ``facts`` (run id, git, host), ``resolved`` (run.json's
scenario). Importing this package never imports Locust.
"""

from scenarios.runner.request import (
    ProgressCallback,
    RunOutcome,
    RunProgress,
    RunRequest,
    TargetObserver,
)
from scenarios.runner.run import run_scenario
from scenarios.runner.safety import check_target_allowed, is_loopback_host

__all__ = [
    "ProgressCallback",
    "RunOutcome",
    "RunProgress",
    "RunRequest",
    "TargetObserver",
    "check_target_allowed",
    "is_loopback_host",
    "run_scenario",
]
