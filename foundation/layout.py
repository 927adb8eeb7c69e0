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

from pydantic import BaseModel, ConfigDict, Field

from foundation.documents import write_text_atomic

__all__ = ["RUN_SCHEMA_VERSION", "RunInfo", "RunLayout", "RunStatus"]

RUN_SCHEMA_VERSION: Final = 1


class RunStatus(enum.StrEnum):
    """``run.json`` status. ``running`` is only ever seen in a record whose runner died."""

    RUNNING = "running"
    COMPLETE = "complete"
    ABORTED = "aborted"
    FAILED = "failed"


class RunInfo(BaseModel):
    """``run.json``: the identity and outcome of one run.

    Example::

        info = RunInfo(run_id="20261126-0600-ab12", target_url="http://127.0.0.1:8000",
                       started_at=time.time(), scenario={...})
        RunLayout(run_dir).write_info(info)
    """

    model_config = ConfigDict(extra="allow")

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
