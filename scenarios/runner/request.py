"""What a caller hands the runner, what it gets back, and what it hears while the run goes.

Frozen dataclasses: the command line builds a :class:`RunRequest` from its flags and never
passes ``argparse`` objects further in (STYLE.md rule 20).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from foundation.layout import RunInfo, RunStatus
from scenarios.spec import LoadedScenario

__all__ = [
    "LiveCheck",
    "ProgressCallback",
    "RunOutcome",
    "RunProgress",
    "RunRequest",
    "TargetObserver",
]


@dataclass(frozen=True, slots=True)
class RunProgress:
    """A live view of the run, sent to the progress callback about twice a second.

    ``phase`` is one of ``starting`` (target start, provisioning, worker start-up),
    ``running`` and ``stopping``. Counters are cumulative since load started. Latencies so
    far are bucket bounds (within 5 %), ``None`` before any sample: ``http_p95_ms`` over HTTP
    requests, ``ws_first_token_p95_ms`` over WebSocket times to first token; ``p95_ms``
    mixes every operation (HTTP and whole WebSocket messages) and is not shown.
    """

    phase: str
    elapsed_s: float
    planned_s: float
    operations: int = 0
    errors: int = 0
    requests_per_s: float = 0.0
    p95_ms: float | None = None
    schedule_slips: int = 0
    http_users: Mapping[str, int] = field(default_factory=dict)
    ws_sessions: Mapping[str, int] = field(default_factory=dict)
    message: str = ""
    http_p95_ms: float | None = None
    ws_first_token_p95_ms: float | None = None
    faults: tuple[str, ...] = ()  # names of the scenario faults in force now

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.planned_s - self.elapsed_s)


ProgressCallback = Callable[[RunProgress], None]

LiveCheck = Callable[[Path], "str | None"]
"""Called by the run loop about once a second with the run directory while the load runs;
a returned reason stops the run early as ``aborted`` (run.json ``stopped_early``). The
runner does not judge: the caller (``slo.abort`` via the pipeline) decides."""


class TargetObserver(Protocol):
    """Watches the target around the load, e.g. its own metrics for the cross-check.

    The runner owns the target's lifetime (it may start it), so whoever needs the target
    alive before and after the load hooks in here instead of guessing when it is up.
    """

    def target_ready(self, url: str, run_dir: Path) -> None:
        """The target answers and tenants exist; the load has not started."""
        ...

    def load_finished(self) -> None:
        """Every load worker has stopped; the target is still up."""
        ...

    def close(self) -> None:
        """Always called last, also when the run failed or was interrupted."""
        ...


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Everything needed to run one scenario.

    Example::

        outcome = run_scenario(RunRequest(load_scenario("smoke.yaml"), out_dir=Path("runs/x")))

    ``out_dir`` None means ``runs/<run_id>/`` under the current directory. ``duration_s`` and
    ``target`` override the scenario (validated again). ``environ`` is where ``token_env`` /
    ``admin_token_env`` names are looked up; None means the process environment, read when
    the run starts (never at import).
    """

    scenario: LoadedScenario
    out_dir: Path | None = None
    release: str | None = None
    duration_s: float | None = None
    target: str | None = None
    allow_remote: bool = False
    progress: ProgressCallback | None = None
    environ: Mapping[str, str] | None = None
    observer: TargetObserver | None = None
    isolation_probe: bool = False  # replay two tenants' ids with every other tenant's tokens
    live_check: LiveCheck | None = None
    allowed_remote: tuple[str, ...] = ()  # --allow-remote LIST: CIDRs, IPs or host names
    expect_workers: int | None = None  # --expect-workers: overrides distributed.expect_workers
    master_bind: str | None = None  # --master-bind HOST[:PORT]: overrides distributed.bind/port


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended; ``info`` is what was written to ``run.json``."""

    run_dir: Path
    info: RunInfo

    @property
    def status(self) -> RunStatus:
        return self.info.status

    @property
    def reason(self) -> str:
        return self.info.reason

    @property
    def ok(self) -> bool:
        return self.info.status is RunStatus.COMPLETE
