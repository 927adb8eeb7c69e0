"""Fault injection: off by default, set at start (``--faults JSON``) or at runtime
(``PUT /v1/admin/faults``, platform admin only).

Each fault is made to look to clients exactly like the real failure: injected latency and
stalls are real waits inside the request; the error rate answers the same 500 body an
unhandled crash would; a database outage raises the same error the real driver failure is
mapped to (503 ``database_unavailable``); a provider outage or 429 storm is seen by the
executor as the provider's own answers, so retries, backoff and run failure are exercised.

With Redis, the configuration is stored under one key and every worker polls it twice a
second, so one PUT changes all workers.
"""

from __future__ import annotations

import fnmatch
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from target_service.distributions import lognormal_params

__all__ = ["FaultConfig", "FaultState", "LatencyFault"]

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
