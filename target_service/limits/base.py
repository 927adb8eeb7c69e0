"""Quota interfaces: a per-tenant request bucket and a per-tenant concurrent-session cap.

Two implementations each: in-process (one worker) and Redis (shared by every worker, so
quotas hold for the tenant as a whole, not per process).
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["RateLimiter", "SessionQuota"]


class RateLimiter(Protocol):
    async def acquire(self, key: str, rate_per_s: float, burst: int) -> float:
        """Take one token; return 0.0 if granted, else the seconds until one will be."""
        ...

    async def close(self) -> None: ...


class SessionQuota(Protocol):
    async def try_open(self, tenant_id: str, session_id: str, limit: int) -> bool:
        """Count a new session for the tenant unless it already holds ``limit``."""
        ...

    async def release(self, tenant_id: str, session_id: str) -> None: ...

    async def refresh(self, sessions: dict[str, str]) -> None:
        """Keep this worker's live sessions (session_id -> tenant_id) from expiring."""
        ...

    async def close(self) -> None: ...
