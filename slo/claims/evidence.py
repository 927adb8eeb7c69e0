"""What a run record holds that can prove or refute a readiness claim: frozen, I/O-free facts.

:mod:`slo.claims.facts` computes these from arrays and dicts (pure), :mod:`slo.claims.gather`
reads them from a run directory (the shell), and :mod:`slo.claims.judge` turns them into
claim results. Absence is explicit: ``None`` means "the record cannot say", never zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slo.capacity.result import CapacityResult
from slo.faults import FaultWindow
from slo.verdict import ObjectiveResult, Verdict

__all__ = [
    "CheckFacts",
    "Evidence",
    "HealthFacts",
    "ObjectiveScope",
    "ProbeFacts",
    "RecoveryFacts",
    "RunContext",
    "SampleFacts",
    "ScenarioFacts",
    "ServerFacts",
    "SpikeFacts",
    "SpikeWindow",
    "TierPlan",
    "TimeseriesFacts",
]


@dataclass(frozen=True, slots=True)
class ObjectiveScope:
    """What an objective selected, from the SLO file (the verdict does not repeat it).

    ``known`` False: the SLO file could not be read, so the scope is guessed from the
    objective's name and SLI. ``kinds`` None with ``known``: the objective selects every kind.
    """

    known: bool = False
    kinds: tuple[str, ...] | None = None
    tiers: tuple[str, ...] | None = None
    corrected: bool = False
    metric: str | None = None


@dataclass(frozen=True, slots=True)
class RunContext:
    """run.json facts the claims need. ``load_s`` is the span the load ran for."""

    run_id: str
    status: str
    reason: str = ""
    started_at: float = 0.0
    ended_at: float | None = None
    load_started_at: float | None = None
    warmup_s: float = 0.0
    cpu_count: int | None = None
    workers: int = 0
    schedule_slips: int = 0
    provisioning_tenants: int = 0
    provisioning_max_s: float | None = None

    @property
    def load_start(self) -> float:
        return self.load_started_at if self.load_started_at is not None else self.started_at

    @property
    def load_s(self) -> float | None:
        return None if self.ended_at is None else max(0.0, self.ended_at - self.load_start)

    @property
    def judged_s(self) -> float | None:
        """Seconds of load after warm-up (what "sustained" objectives were judged over)."""
        load = self.load_s
        return None if load is None else max(0.0, load - self.warmup_s)


@dataclass(frozen=True, slots=True)
class TierPlan:
    """WebSocket sessions the scenario planned for one tier."""

    tier: str
    tenants: int
    sessions_per_tenant: int

    @property
    def sessions(self) -> int:
        return self.tenants * self.sessions_per_tenant


@dataclass(frozen=True, slots=True)
class SpikeWindow:
    """Where the spike of a ``spike`` stage lies, in seconds from the load start."""

    start_s: float
    end_s: float
    factor: float
    base_start_s: float  # the steady span before the spike, for the baseline rate


@dataclass(frozen=True, slots=True)
class ScenarioFacts:
    """The scenario as run (``RunInfo.scenario``), reduced to what claims look at."""

    name: str = ""
    planned_sessions: int = 0
    tiers: tuple[TierPlan, ...] = ()
    spike: SpikeWindow | None = None
    load_model: str = ""


@dataclass(frozen=True, slots=True)
class TimeseriesFacts:
    """The 1 s timeseries, summarised. Sessions "held" = the highest level kept for
    ``hold_s`` consecutive seconds (a level touched for one tick was not held)."""

    rows: int
    hold_s: float
    sessions_held: int | None = None
    sessions_held_per_tier: Mapping[str, int] = field(default_factory=dict)
    generator_cpu_p90: float | None = None
    generator_saturated_share: float | None = None  # share of load seconds near its ceiling
    generator_ceiling: float | None = None
    host_saturated_share: float | None = None  # generator + target near all cores
    target_cpu_mean: float | None = None
    rss_slope_mb_min: float | None = None


@dataclass(frozen=True, slots=True)
class ProbeFacts:
    """Cross-tenant probes: ``refused`` (401/403/404), ``leaked`` (2xx/3xx), the rest
    ``inconclusive`` (transport errors, 5xx, 429: they prove nothing either way)."""

    total: int = 0
    refused: int = 0
    leaked: int = 0
    inconclusive: int = 0
    reads: int = 0
    writes: int = 0


@dataclass(frozen=True, slots=True)
class HealthFacts:
    """Health-check samples sent during the load window (after warm-up)."""

    total: int = 0
    ok: int = 0
    p99_ms: float | None = None


@dataclass(frozen=True, slots=True)
class RecoveryFacts:
    """One recovery measurement: how long the component took to answer again."""

    name: str
    component: str  # "api" or "database"
    seconds: float
    ok: bool


@dataclass(frozen=True, slots=True)
class CheckFacts:
    """Pass/fail check samples (e.g. read-backs of acknowledged writes)."""

    total: int = 0
    ok: int = 0


@dataclass(frozen=True, slots=True)
class SpikeFacts:
    """HTTP traffic in the spike window, and the rate before it (sends per second)."""

    baseline_rps: float | None
    peak_rps: float | None
    requests: int
    server_errors: int  # 5xx
    transport_errors: int  # status 0: timeouts, resets
    shed_429: int


@dataclass(frozen=True, slots=True)
class SampleFacts:
    """Per-sample evidence, computed in one vectorised pass."""

    total: int = 0
    isolation: ProbeFacts = ProbeFacts()
    health: HealthFacts = HealthFacts()
    recovery: tuple[RecoveryFacts, ...] = ()
    durability: CheckFacts = CheckFacts()
    retry: CheckFacts = CheckFacts()  # 'retry: ...' checks: no run failed on provider 429s
    provisioning_max_s: float | None = None
    provisioning_count: int = 0
    spike: SpikeFacts | None = None
    http_rps_per_tier: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """Counters from ``server.json`` (deltas over the run window); None when absent."""

    source: str
    provider_calls: float | None = None
    provider_rate_limited: float | None = None
    runs_succeeded: float | None = None
    runs_failed: float | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the claims are judged on. ``verdict`` None: the run was never judged."""

    run: RunContext
    verdict: Verdict | None
    scopes: Mapping[str, ObjectiveScope] = field(default_factory=dict)
    scenario: ScenarioFacts = ScenarioFacts()
    timeseries: TimeseriesFacts | None = None
    samples: SampleFacts = SampleFacts()
    server: ServerFacts | None = None
    faults: tuple[FaultWindow, ...] = ()  # run.json ``faults``, as the runner recorded them
    capacity: tuple[CapacityResult, ...] = ()
    """Capacity searches given to the report (``slogate report --capacity``): claim 5."""

    @property
    def objectives(self) -> tuple[ObjectiveResult, ...]:
        return () if self.verdict is None else self.verdict.objectives

    def scope(self, name: str) -> ObjectiveScope:
        return self.scopes.get(name, ObjectiveScope())
