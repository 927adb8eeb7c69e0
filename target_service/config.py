"""Service settings: read once (``get_settings``), injected everywhere else.

Every field can be set by an environment variable ``SLOGATE_<FIELD>`` (nested with ``__``,
e.g. ``SLOGATE_PROVIDER__TTFT_MEDIAN_MS=80``) or by the ``slogate target`` flags, which the
launcher turns into the same variables for its worker processes.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ProviderSettings", "Role", "Settings", "Tier", "TierQuota", "get_settings"]


class Tier(StrEnum):
    STARTER = "starter"
    TEAM = "team"
    ENTERPRISE = "enterprise"


class Role(StrEnum):
    ADMIN = "admin"
    DEVELOPER = "developer"
    VIEWER = "viewer"


class TierQuota(BaseModel):
    """What one tenant of a tier may use at once (sessions) and per second (requests)."""

    model_config = ConfigDict(frozen=True)

    max_sessions: int = Field(gt=0)
    requests_per_s: float = Field(gt=0)
    burst: int = Field(gt=0)


def _default_quotas() -> dict[Tier, TierQuota]:
    return {
        Tier.STARTER: TierQuota(max_sessions=10, requests_per_s=20, burst=40),
        Tier.TEAM: TierQuota(max_sessions=50, requests_per_s=100, burst=200),
        Tier.ENTERPRISE: TierQuota(max_sessions=500, requests_per_s=1000, burst=2000),
    }


class ProviderSettings(BaseModel):
    """The simulated LLM provider: latency shape, output length and its own rate limit.

    Time to first token and per-token delay are lognormal (median and p95 given, as a
    provider's status page would quote them); the default shape mimics a small hosted model.
    """

    model_config = ConfigDict(frozen=True)

    ttft_median_ms: float = Field(default=120.0, gt=0)
    ttft_p95_ms: float = Field(default=400.0, gt=0)
    token_median_ms: float = Field(default=6.0, gt=0)
    token_p95_ms: float = Field(default=15.0, gt=0)
    min_tokens: int = Field(default=8, ge=1)
    max_tokens: int = Field(default=40, ge=1)
    rate_limit_per_s: float = Field(default=2000.0, gt=0)
    rate_limit_burst: int = Field(default=2000, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_ms: float = Field(default=100.0, gt=0)
    backoff_cap_ms: float = Field(default=5000.0, gt=0)


class Settings(BaseSettings):
    """Everything the service reads from its environment, validated once at start."""

    model_config = SettingsConfigDict(
        env_prefix="SLOGATE_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    admin_token: str = Field(default_factory=lambda: secrets.token_urlsafe(24))
    database_url: str = "sqlite+aiosqlite:///./slogate-target.db"
    redis_url: str | None = None
    workers: int = Field(default=1, ge=1)
    quotas: dict[Tier, TierQuota] = Field(default_factory=_default_quotas)
    provider: ProviderSettings = Field(default_factory=ProviderSettings)
    run_queue_size: int = Field(default=2000, gt=0)
    run_workers: int = Field(default=200, gt=0)
    run_timeout_s: float = Field(default=120.0, gt=0)
    # 128 KiB: above the largest body the schema allows (an 8,300-character agent whose every
    # character is an astral-plane one escaped as \uXXXX\uXXXX is ~100 KB), so a request
    # valid by /openapi.json is never a 413 (tests/target_service/test_fuzz_schemathesis.py).
    max_body_bytes: int = Field(default=128 * 1024, gt=0)
    max_prompt_chars: int = Field(default=8000, gt=0)
    token_cache_ttl_s: float = Field(default=5.0, ge=0)
    metrics_tenant_label_limit: int = Field(default=20, ge=0)
    ws_idle_timeout_s: float = Field(default=300.0, gt=0)
    # With Redis: a crashed worker's sessions stop counting against quotas after this long
    # (live ones are refreshed every 2 s, so it must stay well above that). 15 s leaves seven
    # refreshes of slack yet lets the clients of a killed process back in a quarter minute.
    session_ttl_s: float = Field(default=15.0, ge=5)
    faults: str | None = None  # JSON of a FaultConfig applied at start (see faults.py)
    db_pool_size: int = Field(default=20, gt=0)
    # Set by the launcher for its workers: where each stamps its start-up phases
    # (startup_phases.py); None: not stamped (an app built in-process, tests).
    startup_phases_dir: str | None = None


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
