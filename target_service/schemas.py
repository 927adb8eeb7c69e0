"""Request and response bodies. Requests forbid unknown fields and bound every size, so a
malformed or oversized request is a 4xx that says what was wrong, never a 5xx."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from target_service.config import Role, Tier

__all__ = [
    "AgentCreate",
    "AgentOut",
    "AgentPage",
    "AgentUpdate",
    "AuditOut",
    "AuditPage",
    "ErrorOut",
    "RunCreate",
    "RunOut",
    "RunPage",
    "TenantCreate",
    "TenantExport",
    "TenantOut",
    "TokenCreate",
    "TokenCreated",
    "TokenOut",
]

RunStatus = Literal["queued", "running", "succeeded", "failed"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FieldError(BaseModel):
    loc: list[str] = Field(description="where: body/query/path, then the field names")
    msg: str
    type: str


class ErrorOut(BaseModel):
    error: str = Field(description="machine-readable code, e.g. rate_limited")
    detail: str = Field(description="what was wrong and how to fix it")
    retry_after: float | None = Field(default=None, description="seconds to wait (429, 503), exact")
    errors: list[FieldError] | None = Field(
        default=None, description="422 invalid_request: every field at fault"
    )


class TenantCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    tier: Tier


class TenantOut(_Out):
    id: str
    name: str
    tier: Tier
    created_at: float


class TokenCreate(_In):
    role: Role


class TokenOut(_Out):
    id: str
    tenant_id: str
    role: Role
    created_at: float
    revoked_at: float | None = None


class TokenCreated(TokenOut):
    token: str = Field(description="the bearer token; shown once, stored only as a hash")


class AgentCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    model: str = Field(default="sim-small", min_length=1, max_length=100)
    system_prompt: str = Field(default="", max_length=8000)


class AgentUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    model: str | None = Field(default=None, min_length=1, max_length=100)
    system_prompt: str | None = Field(default=None, max_length=8000)


class AgentOut(_Out):
    id: str
    tenant_id: str
    name: str
    model: str
    system_prompt: str
    created_at: float
    updated_at: float


class AgentPage(BaseModel):
    items: list[AgentOut]
    next_cursor: str | None = None


class RunCreate(_In):
    prompt: str = Field(min_length=1, max_length=8000)
    agent_id: str | None = Field(default=None, max_length=40)
    max_tokens: int | None = Field(default=None, ge=1, le=4096)


class RunOut(_Out):
    id: str
    tenant_id: str
    agent_id: str | None
    status: RunStatus
    reason: str | None
    prompt: str
    output: str
    tokens: int
    attempts: int
    source: str
    created_at: float
    started_at: float | None
    finished_at: float | None


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")


class AuditOut(_Out):
    id: int
    tenant_id: str | None
    actor: str
    action: str
    target: str
    at: float


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None = None


class TenantExport(BaseModel):
    """Everything held about one tenant (GDPR Art. 15/20): token secrets are never stored."""

    tenant: TenantOut
    tokens: list[TokenOut]
    agents: list[AgentOut]
    runs: list[RunOut]
    audit: list[AuditOut]
    exported_at: float
    format_version: int = 1
    extra: dict[str, Any] = Field(default_factory=dict)
