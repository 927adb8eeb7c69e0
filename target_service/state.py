"""Per-process services, built once in the app's lifespan and hung on ``app.state.services``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field

from redis.asyncio import Redis

from target_service.config import Settings
from target_service.db.engine import Database
from target_service.faults import FAULTS_KEY, FaultConfig, FaultState
from target_service.gcwatch import GcWatch
from target_service.limits.base import RateLimiter, SessionQuota
from target_service.limits.memory import MemoryRateLimiter, MemorySessionQuota
from target_service.limits.redis import RedisRateLimiter, RedisSessionQuota
from target_service.metrics import ServiceMetrics
from target_service.orchestration.events import EventBus
from target_service.orchestration.executor import RunExecutor
from target_service.orchestration.provider import SimulatedProvider
from target_service.tokens import TokenCache

__all__ = ["AppState", "build_state"]

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    metrics: ServiceMetrics
    db: Database
    faults: FaultState
    limiter: RateLimiter
    quota: SessionQuota
    bus: EventBus
    executor: RunExecutor
    tokens: TokenCache
    redis: Redis | None = None
    gc: GcWatch = field(init=False)
    live_sessions: dict[str, str] = field(default_factory=dict)  # session id -> tenant id
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gc = GcWatch(self.metrics)

    async def start(self) -> None:
        await self.db.create_schema()
        if self.redis is not None:
            await self._load_faults()
        await self.executor.start()
        self._tasks.append(asyncio.create_task(self._housekeeping()))
        self.gc.start()

    async def stop(self) -> None:
        self.gc.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.executor.stop()
        await self.limiter.close()
        await self.quota.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()

    async def save_faults(self, config: FaultConfig) -> None:
        """Apply a fault configuration here and, with Redis, in every worker."""
        self.faults.set(config)
        if self.redis is not None:
            await self.redis.set(FAULTS_KEY, config.model_dump_json())

    async def _load_faults(self) -> None:
        assert self.redis is not None
        raw = await self.redis.get(FAULTS_KEY)
        if raw is not None:
            self.faults.set(FaultConfig.model_validate_json(raw))

    async def _housekeeping(self) -> None:
        """Once a second: process gauges; every 2 s session quota refresh; faults from Redis."""
        tick = 0
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.5
            await asyncio.sleep(0.5)
            self.metrics.loop_lag.observe(max(0.0, loop.time() - due))
            tick += 1
            try:
                if self.redis is not None:
                    await self._load_faults()
                if tick % 2 == 0:
                    self.metrics.sample_process()
                if tick % 4 == 0:
                    await self.quota.refresh(dict(self.live_sessions))
            except Exception:  # housekeeping must survive a Redis blip
                log.warning("housekeeping step failed", exc_info=True)


def build_state(settings: Settings, *, rng: random.Random | None = None) -> AppState:
    """Wire the services for one process from its settings (no I/O until ``start``)."""
    metrics = ServiceMetrics(tenant_label_limit=settings.metrics_tenant_label_limit)
    faults = FaultState(FaultConfig.model_validate_json(settings.faults) if settings.faults else None)
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        on_query=lambda op, s: metrics.db_duration.labels(op).observe(s),
        is_down=lambda: faults.database_down,
    )
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    limiter: RateLimiter
    quota: SessionQuota
    if redis is not None:
        limiter, quota = RedisRateLimiter(redis), RedisSessionQuota(redis, ttl_s=settings.session_ttl_s)
    else:
        limiter, quota = MemoryRateLimiter(), MemorySessionQuota()
    bus = EventBus(redis)
    provider = SimulatedProvider(settings.provider, limiter, mode=lambda: faults.provider_mode, rng=rng)
    executor = RunExecutor(
        db,
        provider,
        bus,
        metrics,
        settings.provider,
        queue_size=settings.run_queue_size,
        workers=settings.run_workers,
        run_timeout_s=settings.run_timeout_s,
        rng=rng,
    )
    with contextlib.suppress(Exception):
        metrics.sample_process()
    return AppState(
        settings=settings,
        metrics=metrics,
        db=db,
        faults=faults,
        limiter=limiter,
        quota=quota,
        bus=bus,
        executor=executor,
        tokens=TokenCache(settings.token_cache_ttl_s),
        redis=redis,
    )
