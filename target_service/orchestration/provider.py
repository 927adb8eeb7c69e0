"""A simulated LLM provider with the behaviour that makes real ones hard to serve behind:
slow and variable time to first token, streamed tokens, and its own rate limit (HTTP 429).

Latencies are lognormal (median and p95 from :class:`ProviderSettings`), the shape that
measured LLM API latencies usually have. Faults (``outage``, ``rate_limit_storm``) are
answered here, exactly as the real provider would answer them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable

from target_service.config import ProviderSettings
from target_service.distributions import lognormal_params
from target_service.limits.base import RateLimiter

__all__ = ["ProviderError", "ProviderRateLimited", "ProviderUnavailable", "SimulatedProvider"]

_WORDS = (
    "the",
    "plan",
    "agent",
    "context",
    "result",
    "tenant",
    "signal",
    "model",
    "answer",
    "step",
    "data",
    "review",
    "summary",
    "risk",
    "metric",
    "quarter",
    "growth",
    "latency",
    "report",
    "next",
)


class ProviderError(Exception):
    """The provider did not produce a response; ``retryable`` says whether to try again."""

    retryable = True

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ProviderRateLimited(ProviderError):
    """HTTP 429 from the provider, with its Retry-After."""


class ProviderUnavailable(ProviderError):
    """HTTP 503 / connection refused from the provider."""


class SimulatedProvider:
    """Streams tokens for a prompt with realistic timing, or fails like a provider does.

    Example::

        provider = SimulatedProvider(ProviderSettings(), limiter, mode=lambda: "ok")
        async for token in provider.stream("hello", max_tokens=10):
            ...
    """

    def __init__(
        self,
        settings: ProviderSettings,
        limiter: RateLimiter,
        *,
        mode: Callable[[], str],
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._s = settings
        self._limiter = limiter
        self._mode = mode
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._ttft = lognormal_params(settings.ttft_median_ms, settings.ttft_p95_ms)
        self._token = lognormal_params(settings.token_median_ms, settings.token_p95_ms)

    async def stream(self, prompt: str, max_tokens: int | None = None) -> AsyncIterator[str]:
        mode = self._mode()
        if mode == "outage":
            await self._pause(self._rng.uniform(5.0, 30.0))  # a refused connection is quick
            raise ProviderUnavailable("provider unavailable (503)")
        if mode == "rate_limit_storm":
            await self._pause(self._rng.uniform(2.0, 10.0))
            raise ProviderRateLimited("provider rate limit exceeded (429)", retry_after_s=1.0)
        wait = await self._limiter.acquire("provider", self._s.rate_limit_per_s, self._s.rate_limit_burst)
        if wait > 0:
            raise ProviderRateLimited("provider rate limit exceeded (429)", retry_after_s=wait)
        count = self._rng.randint(self._s.min_tokens, self._s.max_tokens)
        if max_tokens is not None:
            count = max(1, min(count, max_tokens))
        await self._pause(self._rng.lognormvariate(*self._ttft))
        seed = sum(map(ord, prompt[:64]))
        for i in range(count):
            if i:
                await self._pause(self._rng.lognormvariate(*self._token))
            yield _WORDS[(seed + i * 7) % len(_WORDS)] + " "

    async def _pause(self, ms: float) -> None:
        await self._sleep(ms / 1000.0)
