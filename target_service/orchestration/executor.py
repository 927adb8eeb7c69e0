"""Run execution: a bounded queue, a pool of worker tasks, retries, and a guaranteed end.

The promise: every accepted run ends ``succeeded`` or ``failed`` with a reason, never lost
and never ``running`` forever.
- The queue is bounded; when it is full the API sheds load with 429 ``queue_full`` instead of
  accepting work it cannot do in time.
- Provider 429s and outages are retried with exponential backoff and full jitter
  (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015: sleep = U(0, min(cap,
  base * 2**attempt))), never sooner than the provider's Retry-After, bounded by
  ``max_attempts`` and by the run's deadline.
- Each run has a deadline (``run_timeout_s`` after creation); past it, it fails "timed out".
- Stopping the service fails whatever is queued or in flight with a reason.
- Every process bumps ``updated_at`` of the runs it holds every ``HEARTBEAT_S``; a sweeper
  fails runs nobody has touched for ``ABANDONED_AFTER_S`` (their worker process died: a
  crash, the OOM killer, a kill fault), so they end within seconds of the death instead of
  after the longest run time. A process that saw the database fail recently does not sweep
  (the owners' heartbeats failed too; they get ``ABANDONED_AFTER_S`` to catch up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass

from sqlalchemy import update

from target_service.config import ProviderSettings
from target_service.db.engine import Database
from target_service.db.models import Run
from target_service.errors import DatabaseUnavailable, QueueFull
from target_service.metrics import ServiceMetrics
from target_service.orchestration.events import EventBus
from target_service.orchestration.provider import ProviderError, SimulatedProvider
from target_service.orchestration.status_writer import Finished, StatusWriter

__all__ = ["RunExecutor", "RunJob", "RunSlot", "backoff_s"]

log = logging.getLogger(__name__)
_FINAL = ("succeeded", "failed")
HEARTBEAT_S = 2.0
ABANDONED_AFTER_S = 15.0


@dataclass(frozen=True, slots=True)
class RunJob:
    run_id: str
    tenant_id: str
    tier: str
    prompt: str
    max_tokens: int | None
    deadline: float  # epoch seconds


class RunSlot:
    """A reserved place in the run queue: ``submit`` it after the run is committed, or
    ``release`` it if storing the run failed."""

    def __init__(self, executor: RunExecutor) -> None:
        self._executor: RunExecutor | None = executor

    def submit(self, job: RunJob) -> None:
        if self._executor is not None:
            self._executor._enqueue(job)
            self._executor = None

    def release(self) -> None:
        if self._executor is not None:
            self._executor._reserved -= 1
            self._executor = None


def backoff_s(attempt: int, base_ms: float, cap_ms: float, rng: random.Random) -> float:
    """Full-jitter backoff for retry number ``attempt`` (0-based), in seconds."""
    return rng.uniform(0.0, min(cap_ms, base_ms * (2.0**attempt))) / 1000.0


class RunExecutor:
    """Owns the run queue and its worker tasks for one service process."""

    def __init__(
        self,
        db: Database,
        provider: SimulatedProvider,
        bus: EventBus,
        metrics: ServiceMetrics,
        provider_settings: ProviderSettings,
        *,
        queue_size: int,
        workers: int,
        run_timeout_s: float,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._provider = provider
        self._bus = bus
        self._metrics = metrics
        self._ps = provider_settings
        # Unbounded queue, bounded by reservations (see reserve()).
        self._queue: asyncio.Queue[RunJob] = asyncio.Queue()
        self._capacity = queue_size
        self._reserved = 0
        self._n_workers = workers
        self.run_timeout_s = run_timeout_s
        self._rng = rng or random.Random()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: dict[str, RunJob] = {}
        self._status = StatusWriter(db)
        self._db_failed_at = time.monotonic()  # start-up counts: owners may still be catching up

    def is_local(self, run_id: str) -> bool:
        """True while the run is queued or executing in this process."""
        return run_id in self._in_flight

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def reserve(self) -> RunSlot:
        """Claim a queue place before storing a run, so a stored run always gets executed.

        Raises QueueFull (429) when queued plus reserved runs reach the queue size: the API
        sheds load instead of accepting work it cannot do in time.
        """
        if self._queue.qsize() + self._reserved >= self._capacity:
            raise QueueFull("the run queue is full; retry later", retry_after_s=1.0)
        self._reserved += 1
        return RunSlot(self)

    def _enqueue(self, job: RunJob) -> None:
        self._reserved -= 1
        self._in_flight[job.run_id] = job
        self._queue.put_nowait(job)
        self._metrics.queue_depth.set(self._queue.qsize())

    async def start(self) -> None:
        await self._status.start()
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self._n_workers)]
        self._tasks.append(asyncio.create_task(self._sweeper()))
        self._tasks.append(asyncio.create_task(self._heartbeat()))

    async def stop(self) -> None:
        """Cancel the workers, then fail every run this process still held, with a reason."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        reason = "service stopped before the run finished"
        await asyncio.gather(
            *(self._finish(job, "failed", reason, "", 0) for job in list(self._in_flight.values())),
            return_exceptions=True,  # DatabaseUnavailable: the sweeper fails them later
        )
        self._in_flight.clear()
        await self._status.stop()

    async def _worker(self) -> None:
        while True:
            job = await self._queue.get()
            self._metrics.queue_depth.set(self._queue.qsize())
            try:
                await self._execute(job)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not kill the worker; the run still gets an end
                log.exception("run %s crashed", job.run_id)
                with contextlib.suppress(Exception):
                    await self._finish(job, "failed", "internal error while executing", "", 0)
            finally:
                self._queue.task_done()

    async def _execute(self, job: RunJob) -> None:
        remaining = job.deadline - time.time()
        if remaining <= 0:
            await self._finish(job, "failed", "timed out in the queue", "", 0)
            return
        self._set_running(job)
        tokens: list[str] = []
        attempts = 0
        try:
            async with asyncio.timeout(remaining):
                while True:
                    attempts += 1
                    try:
                        async for token in self._provider.stream(job.prompt, job.max_tokens):
                            await self._bus.publish(
                                job.run_id,
                                {"type": "token", "run_id": job.run_id, "index": len(tokens), "text": token},
                            )
                            tokens.append(token)
                        self._metrics.provider_calls.labels("ok").inc()
                        break
                    except ProviderError as exc:
                        outcome = "rate_limited" if exc.retry_after_s is not None else "unavailable"
                        self._metrics.provider_calls.labels(outcome).inc()
                        if tokens or attempts >= self._ps.max_attempts:
                            reason = f"provider failed after {attempts} attempt(s): {exc}"
                            await self._finish(job, "failed", reason, "".join(tokens), attempts)
                            return
                        delay = backoff_s(
                            attempts - 1,
                            self._ps.backoff_base_ms,
                            self._ps.backoff_cap_ms,
                            self._rng,
                        )
                        await asyncio.sleep(max(delay, exc.retry_after_s or 0.0))
        except TimeoutError:
            await self._finish(job, "failed", "timed out", "".join(tokens), attempts)
            return
        await self._finish(job, "succeeded", None, "".join(tokens), attempts)

    def _set_running(self, job: RunJob) -> None:
        self._status.running(job.run_id, job.tenant_id, time.time())

    async def _finish(self, job: RunJob, status: str, reason: str | None, output: str, attempts: int) -> None:
        tokens = output.count(" ")
        change = Finished(job.run_id, job.tenant_id, status, reason, output, tokens, attempts, time.time())
        try:
            # A database outage must not strand the run: keep trying (backing off to 2 s)
            # for as long as a run may live; after that the sweeper fails it.
            give_up = time.monotonic() + self.run_timeout_s
            delay = 0.25
            while True:
                try:
                    await self._status.finished(change)
                    break
                except DatabaseUnavailable:
                    if time.monotonic() + delay > give_up:
                        raise
                    await asyncio.sleep(delay)
                    delay = min(2.0, delay * 2)
        finally:
            self._in_flight.pop(job.run_id, None)
            self._metrics.runs.labels(job.tier, status).inc()
            await self._bus.publish(
                job.run_id,
                {"type": "done", "run_id": job.run_id, "status": status, "reason": reason, "tokens": tokens},
            )

    async def _heartbeat(self) -> None:
        """Mark the runs this process holds as alive (one statement per beat)."""
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            held = list(self._in_flight)
            if not held:
                continue
            try:
                async with self._db.system_session() as session:
                    await session.execute(
                        update(Run)
                        .where(Run.id.in_(held), Run.status.not_in(_FINAL))
                        .values(updated_at=time.time())
                    )
            except DatabaseUnavailable:
                self._db_failed_at = time.monotonic()

    async def _sweeper(self) -> None:
        """Fail runs abandoned by a dead worker process (no heartbeat for ABANDONED_AFTER_S)."""
        while True:
            await asyncio.sleep(5.0)
            if time.monotonic() - self._db_failed_at < ABANDONED_AFTER_S + HEARTBEAT_S:
                continue  # the owners' heartbeats may have failed too: give them time
            cutoff = time.time() - ABANDONED_AFTER_S
            try:
                async with self._db.system_session() as session:
                    await session.execute(
                        update(Run)
                        .where(Run.status.not_in(_FINAL), Run.updated_at < cutoff)
                        .values(
                            status="failed",
                            reason="abandoned: its worker process stopped",
                            finished_at=time.time(),
                            updated_at=time.time(),
                        )
                    )
            except DatabaseUnavailable:
                self._db_failed_at = time.monotonic()
