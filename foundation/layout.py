"""The run record's layout and run.json: the file names every room reads, written down once.

A run directory is shared by every room (the runner writes it, ``slo`` judges it, ``reports``
renders it), so the paths inside it and the ``run.json`` contract sit in the bottom room.
The sample columns, which only the record's own writer and reader touch, stay in
:mod:`scenarios.record.schema`. The format is documented for users in README.md ("Run record").
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from foundation.documents import write_text_atomic

__all__ = [
    "RUN_SCHEMA_VERSION",
    "FaultRecord",
    "RunInfo",
    "RunLayout",
    "RunStatus",
    "StoppedEarly",
    "WorkerRestart",
]

RUN_SCHEMA_VERSION: Final = 1


class RunStatus(enum.StrEnum):
    """``run.json`` status. ``running`` is only ever seen in a record whose runner died."""

    RUNNING = "running"
    COMPLETE = "complete"
    ABORTED = "aborted"
    FAILED = "failed"


class StoppedEarly(BaseModel):
    """run.json ``stopped_early``: when and why ``abort_on`` stopped the load."""

    model_config = ConfigDict(frozen=True, extra="allow")

    at: float | None = None  # epoch seconds
    reason: str = ""


class WorkerRestart(BaseModel):
    """run.json ``faults[].restart`` of a ``kill``: the killed worker's replacement, phase by phase.

    Every ``*_s`` is seconds from the kill signal to the moment the supervisor or the new
    worker stamped that phase (target_service/startup_phases.py); None: not reached before
    the run ended. ``noticed_s``: the supervisor saw the death; ``spawned_s``: the
    replacement started (after the restart delay); ``booted_s``: its interpreter is up;
    ``app_created_s``: the app imported and built; ``lifespan_started_s``: database schema,
    Redis and executor up; ``ready_s``: it answered the supervisor's ping "started".

    Example::

        WorkerRestart(killed_pid=41, pid=57, noticed_s=0.1, spawned_s=1.2, booted_s=1.9,
                      app_created_s=3.0, lifespan_started_s=3.3, ready_s=3.4).summary()
        # 'replacement ready after 3.4 s (noticed 0.1 s, spawned 1.2 s; boot 0.7 s, ...)'
    """

    model_config = ConfigDict(frozen=True)

    killed_pid: int
    pid: int | None = None
    noticed_s: float | None = None
    spawned_s: float | None = None
    booted_s: float | None = None
    app_created_s: float | None = None
    lifespan_started_s: float | None = None
    ready_s: float | None = None

    def steps(self) -> dict[str, float | None]:
        """Seconds spent in each step of the replacement's start-up (None: not reached)."""
        marks = (self.spawned_s, self.booted_s, self.app_created_s, self.lifespan_started_s,
                 self.ready_s)
        names = ("boot", "import", "lifespan", "listen")
        return {n: None if a is None or b is None else b - a
                for n, a, b in zip(names, marks, marks[1:], strict=False)}

    def summary(self) -> str:
        """One line for a report: when the replacement was ready and where the time went."""
        if self.pid is None:
            return f"no replacement of worker {self.killed_pid} started before the run ended"
        head = ("replacement not ready when the run ended" if self.ready_s is None
                else f"replacement ready after {self.ready_s:.1f} s")
        known = [f"noticed {self.noticed_s:.1f} s"] if self.noticed_s is not None else []
        if self.spawned_s is not None:
            known.append(f"spawned {self.spawned_s:.1f} s")
        steps = [f"{k} {v:.1f} s" for k, v in self.steps().items() if v is not None]
        inner = ", ".join(known) + ("; " + ", ".join(steps) if steps else "")
        return f"{head} ({inner})" if inner else head


class FaultRecord(BaseModel):
    """One entry of run.json ``faults``: a scenario fault as it happened (docs/scenarios.md).

    ``started_at``/``ended_at`` are when it took effect and was undone (epoch s; None: never);
    ``planned_at``/``planned_for`` are seconds from the load start, as the scenario planned.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    index: int | None = None
    name: str = ""
    action: str = ""
    status: str = ""
    started_at: float | None = None
    ended_at: float | None = None
    planned_at: float | None = None
    planned_for: float | None = None
    spec: dict[str, Any] = Field(default_factory=dict)
    error: str = ""
    restart: WorkerRestart | None = None  # a kill's replacement worker; absent otherwise

    @model_serializer(mode="wrap")
    def _omit_no_restart(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.restart is None:
            data.pop("restart", None)
        return data


_OMITTED_WHEN_EMPTY = ("load_started_at", "stopped_early", "faults", "isolation_probe",
                       "distributed", "provisioning", "approximate", "approximate_reason")
"""Facts only some runs have: left out of run.json unless set, as before they were typed."""


class RunInfo(BaseModel):
    """``run.json``: the identity and outcome of one run -- immutable and validated (pyperf's
    ``Run`` is the model): a changed run is a new ``RunInfo`` (``model_copy(update=...)`` for
    plain fields, :meth:`with_facts` for anything that needs validating).

    The facts the runner adds as the run goes are typed fields (``faults``, ``load_started_at``,
    ``stopped_early``, ``isolation_probe``, ``distributed``, ``provisioning``); anything else it
    adds (``read_back``, ``samples`` ...) is kept as an extra.

    Example::

        info = RunInfo(run_id="20261126-0600-ab12", target_url="http://127.0.0.1:8000",
                       started_at=time.time(), scenario={...})
        RunLayout(run_dir).write_info(info)
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    schema_version: int = RUN_SCHEMA_VERSION
    run_id: str
    release: str | None = None
    git_sha: str | None = None
    scenario: dict[str, Any] = Field(default_factory=dict)  # fully resolved scenario
    scenario_path: str | None = None
    slo_path: str | None = None
    target_url: str
    started_at: float  # epoch seconds, UTC
    ended_at: float | None = None
    harness_version: str = ""
    host: dict[str, Any] = Field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING
    reason: str = ""
    warmup_s: float = 0.0
    workers: int = 0
    disk_bytes: int | None = None
    schedule_slips: int = 0  # open model: sends the generator could not make on time
    load_started_at: float | None = None  # epoch s, when the first worker reported load
    stopped_early: StoppedEarly | None = None  # abort_on stopped the load
    faults: tuple[FaultRecord, ...] | None = None  # the fault timeline as it happened
    isolation_probe: dict[str, Any] | None = None  # scenarios/isolation: the probe's outcome
    distributed: dict[str, Any] | None = None  # worker hosts, clock offsets, rows received
    provisioning: dict[str, Any] | None = None  # tenants provisioned and how long it took
    approximate: bool = False  # imported from a source that rounds (slo/importers)
    approximate_reason: str = ""

    def with_facts(self, **facts: Any) -> RunInfo:
        """A copy with ``facts`` set (validated, typed fields parsed)."""
        return RunInfo.model_validate({**self.model_dump(), **facts})

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in _OMITTED_WHEN_EMPTY:
            if key not in self.model_fields_set:
                data.pop(key, None)
        return data


class RunLayout:
    """Paths inside one run directory; the single place that spells file names."""

    def __init__(self, run_dir: str | Path) -> None:
        self.root = Path(run_dir)

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def samples_dir(self) -> Path:
        return self.root / "samples"

    @property
    def timeseries(self) -> Path:
        return self.root / "timeseries.parquet"

    @property
    def server_json(self) -> Path:
        return self.root / "server.json"

    @property
    def verdict_json(self) -> Path:
        return self.root / "verdict.json"

    @property
    def readiness_json(self) -> Path:
        """The readiness judgement (claims, score, GO/NO-GO), written by ``slo``."""
        return self.root / "readiness.json"

    def stream_path(self, worker: int) -> Path:
        """Live, crash-safe sample stream of one worker (Arrow IPC stream)."""
        return self.samples_dir / f"worker-{worker}.arrows"

    def part_path(self, worker: int) -> Path:
        """Final Parquet part of one worker."""
        return self.samples_dir / f"part-{worker}.parquet"

    def read_info(self) -> RunInfo:
        return RunInfo.model_validate_json(self.run_json.read_text(encoding="utf-8"))

    def write_info(self, info: RunInfo) -> None:
        """Write run.json atomically, so a reader never sees half a file."""
        self.root.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.run_json, info.model_dump_json(indent=2))
