"""Quotas shared by every worker through Redis, atomic via Lua scripts.

Session counts live in a sorted set per tenant (member = session id, score = expiry time).
Workers refresh their live sessions' expiry every few seconds, so a crashed worker's
sessions stop counting after ``ttl_s`` instead of leaking quota forever.
Redis's own clock (``TIME``) is used inside the scripts so workers need not agree on time.
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis

__all__ = ["RedisRateLimiter", "RedisSessionQuota"]

_BUCKET = """
local key, rate, burst = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""

_OPEN = """
local key, member, limit, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now + ttl, member)
redis.call('EXPIRE', key, math.ceil(ttl) + 5)
return 1
"""

_REFRESH = """
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + ttl, ARGV[i + 1])
  redis.call('EXPIRE', key, math.ceil(ttl) + 5)
end
return #KEYS
"""


class RedisRateLimiter:
    def __init__(self, client: Redis, prefix: str = "slogate:rl:") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_BUCKET)

    async def acquire(self, key: str, rate_per_s: float, burst: int) -> float:
        result: Any = await self._script(keys=[self._prefix + key], args=[rate_per_s, burst])
        return float(result)

    async def close(self) -> None:
        return None  # the shared client is closed by its owner


class RedisSessionQuota:
    def __init__(self, client: Redis, prefix: str = "slogate:ws:", ttl_s: float = 30.0) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl_s = ttl_s
        self._open = client.register_script(_OPEN)
        self._refresh = client.register_script(_REFRESH)

    async def try_open(self, tenant_id: str, session_id: str, limit: int) -> bool:
        result = await self._open(keys=[self._prefix + tenant_id], args=[session_id, limit, self._ttl_s])
        return bool(int(cast(int, result)))

    async def release(self, tenant_id: str, session_id: str) -> None:
        await self._client.zrem(self._prefix + tenant_id, session_id)

    async def refresh(self, sessions: dict[str, str]) -> None:
        if not sessions:
            return
        keys = [self._prefix + tenant for tenant in sessions.values()]
        await self._refresh(keys=keys, args=[self._ttl_s, *sessions.keys()])

    async def close(self) -> None:
        return None
