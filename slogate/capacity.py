"""``slogate capacity`` wired: search (scenarios) -> step runs (runner) -> judged steps (slo)
-> ``capacity.json`` -> reports.

Each step is a complete run record under ``OUT/steps/NN-LEVEL/``: the scenario at the
step's level (:func:`scenarios.capacity.scenario_at_level`) run by ``run_scenario``, judged
by ``evaluate_run`` (``verdict.json``), then classified (:func:`slo.capacity.classify_step`).
The pure search (:func:`scenarios.capacity.decide`) proposes every next level from the
judged steps. ``capacity.json`` is rewritten after every step, so an interrupted search
keeps what it learnt. Cross-checks against the target's metrics are not run per step (a
step is judged on the client's samples); ``slogate evaluate`` can re-judge any step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from foundation.errors import HarnessError
from foundation.layout import RunStatus
from reports.capacity import render_capacity
from scenarios.capacity import (
    Conclusion,
    Done,
    HoldPolicy,
    Outcome,
    Probe,
    SearchConfig,
    StepResult,
    Vary,
    bracket,
    decide,
    event_rate,
    knee,
    scenario_at_level,
)
from scenarios.runner import RunProgress, RunRequest, run_scenario
from scenarios.spec import LoadedScenario
from slo.capacity import (
    CapacityResult,
    CapacityStep,
    StepJudgement,
    classify_step,
    events_needed,
    step_facts,
    unit_for,
    write_capacity,
)
from slo.claims.catalog import SESSION_QUOTAS
from slo.evaluate_run import CATALOG_DIR, EvaluateRequest, evaluate_run
from slo.spec.load import load_slo

__all__ = ["CapacityProgress", "CapacityRequest", "run_capacity"]

_STEP_OVERHEAD_S = 15.0  # start-up and shutdown of one step, budgeted against --max-time


@dataclass(frozen=True, slots=True)
class CapacityProgress:
    """What the live display gets: the steps judged so far, the step running, its progress."""

    steps: tuple[CapacityStep, ...]
    probe: Probe | None
    run: RunProgress | None
    elapsed_s: float
    max_time_s: float
    unit: str


@dataclass(frozen=True, slots=True)
class CapacityRequest:
    """A capacity search. ``start``/``ceiling`` None: from the scenario's level (ceiling 50x)."""

    scenario: LoadedScenario
    out_dir: Path
    vary: Vary = "rate"
    tier: str | None = None
    slo_path: Path | None = None
    start: float | None = None
    ceiling: float | None = None
    max_time_s: float = 600.0
    min_hold_s: float = 10.0
    max_hold_s: float = 300.0
    events: int | None = None
    growth: float = 5.0
    precision: float = 0.12
    target: str | None = None
    allow_remote: bool = False
    formats: tuple[str, ...] = ("html", "md", "json", "junit")
    progress: Callable[[CapacityProgress], None] | None = None
    environ: Mapping[str, str] | None = None
    tenant_sessions: int | None = field(default=None)
    require: float | None = None
    floor: float | None = None


def run_capacity(request: CapacityRequest) -> tuple[CapacityResult, dict[str, Path]]:
    """Search, write ``capacity.json`` and the reports; returns the result and report paths."""
    slo_path = request.slo_path or request.scenario.slo_path or CATALOG_DIR / "capacity.yaml"
    spec = load_slo(slo_path)
    hold = HoldPolicy(request.events or events_needed(spec.objectives),
                      request.min_hold_s, max(request.min_hold_s, request.max_hold_s))
    start = request.start or _scenario_level(request)
    config = SearchConfig(start=start, ceiling=request.ceiling or start * 50,
                          growth=request.growth, precision=request.precision,
                          integer=request.vary != "rate", floor=request.floor)
    request.out_dir.mkdir(parents=True, exist_ok=True)
    search = _Search(request, config, hold, slo_path)
    result = search.run()
    reports = render_capacity(request.out_dir, request.formats)
    return result, reports


def _scenario_level(request: CapacityRequest) -> float:
    s = request.scenario.scenario
    if request.vary == "rate":
        return float(s.load.rate or 10.0)
    if request.vary == "users":
        return float(s.load.users or 10)
    if request.vary == "sessions":
        return float(max(1, (s.websocket.sessions if s.websocket else 0) or 10))
    return 1.0


class _Search:
    """The loop: ask the search, run and judge a step, record it, until it is done."""

    def __init__(self, request: CapacityRequest, config: SearchConfig, hold: HoldPolicy,
                 slo_path: Path) -> None:
        self.request, self.config, self.hold, self.slo_path = request, config, hold, slo_path
        self.unit = unit_for(request.vary, request.tier)
        self.history: list[StepResult] = []
        self.steps: list[CapacityStep] = []
        self.started_at = time.time()
        self.t0 = time.monotonic()
        self.probe: Probe | None = None
        self.target = request.target or request.scenario.scenario.target

    def run(self) -> CapacityResult:
        try:
            return self._loop()
        except KeyboardInterrupt:  # Ctrl-C: keep what was learnt, say why it stopped
            lo, hi, objective = bracket(self.history)
            self._write(Done(Conclusion.INCONCLUSIVE, lo, hi, objective,
                             "the search was interrupted (Ctrl-C or SIGTERM)"))
            raise

    def _loop(self) -> CapacityResult:
        while True:
            decision = decide(self.config, self.history)
            if isinstance(decision, Done):
                return self._write(decision)
            rate = event_rate(self.request.scenario, self.request.vary, decision.level)
            hold_s = self.hold.hold_s(rate, confirm=decision.confirm)
            if self._elapsed() + hold_s + self.request.scenario.scenario.warmup + _STEP_OVERHEAD_S \
                    > self.request.max_time_s:
                return self._write(self._stopped(
                    f"the --max-time of {self.request.max_time_s:g} s would be exceeded by the "
                    f"next step ({decision.phase} at {decision.level:g})"))
            self.probe = decision
            self._notify(None)
            step, judgement = self._step(decision, hold_s)
            self.steps.append(step)
            self.history.append(StepResult(
                decision.level, Outcome(judgement.outcome),
                judgement.objective if judgement.outcome == "fail" else judgement.reason,
                confirm=decision.confirm))
            self._write(None)

    def _elapsed(self) -> float:
        return time.monotonic() - self.t0

    def _notify(self, run: RunProgress | None) -> None:
        if self.request.progress is not None:
            self.request.progress(CapacityProgress(
                tuple(self.steps), self.probe, run, self._elapsed(), self.request.max_time_s,
                self.unit))

    def _stopped(self, reason: str) -> Done:
        lo, hi, objective = bracket(self.history)
        return Done(Conclusion.EXHAUSTED, lo, hi, objective, reason)

    def _step(self, probe: Probe, hold_s: float) -> tuple[CapacityStep, StepJudgement]:
        req = self.request
        index = len(self.steps) + 1
        name = f"{index:02d}-{_level_text(probe.level)}{'-confirm' if probe.confirm else ''}"
        run_dir = req.out_dir / "steps" / name
        sessions = req.tenant_sessions
        if req.vary == "tenants" and sessions is None and req.tier is not None:
            sessions = SESSION_QUOTAS.get(req.tier)
        loaded = scenario_at_level(req.scenario, req.vary, probe.level, hold_s, tier=req.tier,
                                   tenant_sessions=sessions)
        t_step = time.monotonic()
        outcome = run_scenario(RunRequest(
            scenario=loaded, out_dir=run_dir, target=req.target, allow_remote=req.allow_remote,
            progress=self._notify, environ=req.environ))
        verdict_status, facts = None, None
        if not outcome.ok:
            judgement = StepJudgement(
                "inconclusive", None, f"the step's run was {outcome.status.value}: {outcome.reason}")
        else:
            try:
                evaluation = evaluate_run(EvaluateRequest(run_dir=run_dir, slo_path=self.slo_path))
            except HarnessError as exc:
                judgement = StepJudgement("inconclusive", None, f"the step could not be judged: {exc}")
            else:
                verdict_status = evaluation.verdict.status.value
                corrected = loaded.scenario.load.model == "open"
                facts = step_facts(run_dir, evaluation.verdict, hold_s, corrected=corrected)
                offered = probe.level if req.vary == "rate" else (
                    loaded.scenario.load.rate if corrected else None)
                judgement = classify_step(evaluation.verdict, facts, offered)
        step = CapacityStep(
            index=index, level=probe.level, phase=probe.phase, confirm=probe.confirm,
            hold_s=hold_s, run_dir=str(run_dir.relative_to(req.out_dir)),
            outcome=judgement.outcome, objective=judgement.objective, reason=judgement.reason,
            verdict_status=verdict_status, wall_s=round(time.monotonic() - t_step, 2),
            facts=facts)
        if outcome.status is RunStatus.ABORTED and "interrupted" in outcome.reason:
            self.steps.append(step)
            raise KeyboardInterrupt
        return step, judgement

    def _write(self, done: Done | None) -> CapacityResult:
        """Write capacity.json: the conclusion, or (mid-search, ``running``) what is known."""
        conclusion = "running" if done is None else done.kind.value
        if done is None:
            lo, hi, objective = bracket(self.history)
            done = Done(Conclusion.EXHAUSTED, lo, hi, objective, "the search is still running")
        points = [(s.level, s.facts.p99_ms) for s in self.steps
                  if s.facts is not None and s.outcome != "inconclusive"]
        result = CapacityResult(
            vary=self.request.vary, tier=self.request.tier, unit=self.unit,
            conclusion=conclusion, level=done.level, failed_at=done.failed_at,
            objective=done.objective, knee=knee([p[0] for p in points], [p[1] for p in points]),
            reason=done.reason, start=self.config.start, ceiling=self.config.ceiling,
            scenario=str(self.request.scenario.path or "<scenario>"), slo=str(self.slo_path),
            target=self.target, started_at=self.started_at,
            wall_s=round(self._elapsed(), 2), steps=tuple(self.steps),
            require=self.request.require,
        ).with_sentence()
        write_capacity(result, self.request.out_dir)
        return result


def _level_text(level: float) -> str:
    return f"{level:g}" if level == int(level) or level >= 100 else f"{level:.3g}"

