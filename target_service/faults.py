"""Fault injection: off by default, set at start (``--faults JSON``) or at runtime
(``PUT /v1/admin/faults``, platform admin only).

Each fault is made to look to clients exactly like the real failure: injected latency and
stalls are real waits inside the request; the error rate answers the same 500 body an
unhandled crash would; a database outage raises the same error the real driver failure is
mapped to (503 ``database_unavailable``); a provider outage or 429 storm is seen by the
executor as the provider's own answers, so retries, backoff and run failure are exercised.

With Redis, the configuration is stored under one key and every worker polls it twice a
second, so one PUT changes all workers.

This module is the one place a fault is applied: :meth:`FaultState.before_request` (stall,
absolute latency, injected 500s; the app-wide dependency calls it) and
:class:`RelativeLatencyMiddleware` (latency relative to the request's own time). The
database and the provider read :attr:`FaultState.database_down` / ``provider_mode``, wired
in :mod:`target_service.state`.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from target_service.distributions import lognormal_params
from target_service.errors import InjectedError
from target_service.middleware import route_template

__all__ = ["FaultConfig", "FaultState", "LatencyFault", "RelativeLatencyMiddleware"]

FAULTS_KEY = "slogate:faults"


class LatencyFault(BaseModel):
    """Extra latency for routes whose template matches ``route`` (a glob, ``*`` = all)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    route: str = Field(default="*", max_length=200)
    distribution: Literal["fixed", "uniform", "exponential", "lognormal"] = "fixed"
    ms: float = Field(default=0.0, ge=0, le=600_000, description="fixed value, or mean/median")
    max_ms: float | None = Field(
        default=None, ge=0, le=600_000, description="upper bound (uniform) or p95 (lognormal)"
    )
    relative: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description="extra latency as a share of the request's own time (0.3 = +30 %)",
    )


class FaultConfig(BaseModel):
    """The whole fault configuration; the empty config means no faults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency: list[LatencyFault] = Field(default_factory=list, max_length=50)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_route: str = Field(default="*", max_length=200)
    stall_s: float = Field(default=0.0, ge=0, le=600)
    provider: Literal["ok", "outage", "rate_limit_storm"] = "ok"
    database_down: bool = False


class FaultState:
    """The faults in force in this process, with the random draws they need."""

    def __init__(self, config: FaultConfig | None = None, rng: random.Random | None = None) -> None:
        self.config = config or FaultConfig()
        self._rng = rng or random.Random()

    def set(self, config: FaultConfig) -> None:
        self.config = config

    @property
    def database_down(self) -> bool:
        return self.config.database_down

    @property
    def provider_mode(self) -> str:
        return self.config.provider

    def extra_latency_s(self, route: str) -> float:
        """Seconds to add before handling a request to ``route`` (absolute faults only)."""
        total = 0.0
        for fault in self.config.latency:
            if fnmatch.fnmatchcase(route, fault.route):
                total += self._draw_ms(fault)
        return total / 1000.0

    def relative_latency(self, route: str) -> float:
        """Share of the request's own duration to add after handling it."""
        return sum(f.relative for f in self.config.latency if fnmatch.fnmatchcase(route, f.route))

    async def before_request(self, route: str) -> None:
        """Apply the faults in force before a request to ``route`` is handled: wait out the
        stall and the injected latency, then fail it with the error rate's 500."""
        delay = self.config.stall_s + self.extra_latency_s(route)
        if delay > 0:
            await asyncio.sleep(delay)
        if self.should_fail(route):
            raise InjectedError("internal server error")

    def should_fail(self, route: str) -> bool:
        rate = self.config.error_rate
        return (
            rate > 0 and fnmatch.fnmatchcase(route, self.config.error_route) and (self._rng.random() < rate)
        )

    def _draw_ms(self, fault: LatencyFault) -> float:
        if fault.distribution == "fixed":
            return fault.ms
        if fault.distribution == "uniform":
            return self._rng.uniform(fault.ms, fault.max_ms if fault.max_ms is not None else fault.ms)
        if fault.distribution == "exponential":
            return self._rng.expovariate(1.0 / fault.ms) if fault.ms > 0 else 0.0
        # lognormal from median (ms) and p95 (max_ms)
        mu, sigma = lognormal_params(fault.ms, fault.max_ms or fault.ms)
        return self._rng.lognormvariate(mu, sigma)


class RelativeLatencyMiddleware:
    """Delays the response by a share of the request's own time (fault ``relative``), the
    way a slower release would: +30 % means every response takes 1.3x as long."""

    def __init__(self, app: ASGIApp, faults: FaultState) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.faults.config.latency:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def delayed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                share = self.faults.relative_latency(route_template(scope))
                if share > 0:
                    await asyncio.sleep((time.perf_counter() - started) * share)
            await send(message)

        await self.app(scope, receive, delayed_send)
