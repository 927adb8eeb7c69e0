"""In-process quotas for a single worker (no Redis)."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["MemoryRateLimiter", "MemorySessionQuota"]


class MemoryRateLimiter:
    """Token bucket per key: ``burst`` tokens, refilled at ``rate_per_s``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    async def acquire(self, key: str, rate_per_s: float, burst: int) -> float:
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate_per_s)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / rate_per_s

    async def close(self) -> None:
        self._buckets.clear()


class MemorySessionQuota:
    def __init__(self) -> None:
        self._open: dict[str, set[str]] = {}

    async def try_open(self, tenant_id: str, session_id: str, limit: int) -> bool:
        sessions = self._open.setdefault(tenant_id, set())
        if len(sessions) >= limit:
            return False
        sessions.add(session_id)
        return True

    async def release(self, tenant_id: str, session_id: str) -> None:
        self._open.get(tenant_id, set()).discard(session_id)

    async def refresh(self, sessions: dict[str, str]) -> None:
        return None  # nothing expires in-process: a dead process takes its counts with it

    async def close(self) -> None:
        self._open.clear()
