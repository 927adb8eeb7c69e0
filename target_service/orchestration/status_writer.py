"""Group commit of run status changes.

Every run changes status twice after it is stored (``running``, then its end). Written one
transaction each, those writes dominated the executor's cost: a transaction through
SQLAlchemy's async layer costs milliseconds of CPU on SQLite, where the statement itself
costs microseconds. Changes that arrive within ``max_delay_s`` of each other are written in
one transaction as two ``executemany`` statements, so the cost is paid per batch.

A run's end is only published to clients after its batch committed (``finished`` awaits
it): whoever is told "done" can read the run as done. ``running`` is informational and not
awaited. Writes go through a system session with the tenant in every WHERE clause, because
one batch holds many tenants' runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, update

from target_service.db.engine import Database
from target_service.db.models import Run
from target_service.errors import DatabaseUnavailable

__all__ = ["Finished", "StatusWriter"]

log = logging.getLogger(__name__)
_runs = cast(Table, Run.__table__)

_SET_RUNNING = (
    update(_runs)
    .where(
        _runs.c.id == bindparam("b_id"),
        _runs.c.tenant_id == bindparam("b_tenant"),
        _runs.c.status == "queued",
    )
    .values(status="running", started_at=bindparam("b_at"), updated_at=bindparam("b_at"))
)
_SET_FINISHED = (
    update(_runs)
    .where(_runs.c.id == bindparam("b_id"), _runs.c.tenant_id == bindparam("b_tenant"))
    .values(
        status=bindparam("b_status"),
        reason=bindparam("b_reason"),
        output=bindparam("b_output"),
        tokens=bindparam("b_tokens"),
        attempts=bindparam("b_attempts"),
        finished_at=bindparam("b_at"),
        updated_at=bindparam("b_at"),
    )
)


@dataclass(frozen=True, slots=True)
class Finished:
    run_id: str
    tenant_id: str
    status: str
    reason: str | None
    output: str
    tokens: int
    attempts: int
    at: float


@dataclass(slots=True)
class _Pending:
    running: list[dict[str, object]]
    finished: list[dict[str, object]]
    waiters: list[asyncio.Future[None]]


class StatusWriter:
    """Batches status updates; start it before use and stop it after the last update."""

    def __init__(self, db: Database, *, max_delay_s: float = 0.02, max_batch: int = 1000) -> None:
        self._db = db
        self._max_delay_s = max_delay_s
        self._max_batch = max_batch
        self._pending = _Pending([], [], [])
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def running(self, run_id: str, tenant_id: str, at: float) -> None:
        self._pending.running.append({"b_id": run_id, "b_tenant": tenant_id, "b_at": at})
        self._wake.set()

    async def finished(self, change: Finished) -> None:
        """Queue the run's end and wait until it is committed (raises DatabaseUnavailable)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.finished.append(
            {
                "b_id": change.run_id,
                "b_tenant": change.tenant_id,
                "b_status": change.status,
                "b_reason": change.reason,
                "b_output": change.output,
                "b_tokens": change.tokens,
                "b_attempts": change.attempts,
                "b_at": change.at,
            }
        )
        self._pending.waiters.append(waiter)
        self._wake.set()
        await waiter

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Write whatever is pending, then stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._flush()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if len(self._pending.running) + len(self._pending.finished) < self._max_batch:
                await asyncio.sleep(self._max_delay_s)  # let a batch gather
            await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, _Pending([], [], [])
        if not (batch.running or batch.finished):
            return
        try:
            async with self._db.system_session() as session:
                if batch.running:
                    await session.execute(_SET_RUNNING, batch.running)
                if batch.finished:
                    await session.execute(_SET_FINISHED, batch.finished)
        except Exception as exc:
            error = (
                exc
                if isinstance(exc, DatabaseUnavailable)
                else DatabaseUnavailable(f"could not store run status: {type(exc).__name__}")
            )
            if not isinstance(exc, DatabaseUnavailable):
                log.exception("run status batch failed")
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        for waiter in batch.waiters:
            if not waiter.done():
                waiter.set_result(None)
