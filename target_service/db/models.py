"""Tables of the reference service. Every row that belongs to a tenant carries ``tenant_id``.

That one column is what makes isolation checkable: application queries filter on it, the
PostgreSQL row-level-security policy (``db/engine.py``) filters on it again, and GDPR deletion
(``routers/tenants.py``) proves nothing is left by counting it in every table.
Times are epoch seconds (float): portable across SQLite and PostgreSQL and cheap to sort.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "TENANT_TABLES",
    "Agent",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Run",
    "Tenant",
    "new_id",
]


def new_id(prefix: str) -> str:
    """Opaque, unguessable ids: guessing another tenant's run id must not be a way in."""
    return f"{prefix}_{uuid.uuid4().hex}"


def _now() -> float:
    return time.time()


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"

    # seq orders tenants by creation for every worker alike (metrics label cap, see metrics.py)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    # RLS policies compare tenant_id on every table, this one included
    tenant_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[float] = mapped_column(Float, default=_now)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[float] = mapped_column(Float, default=_now)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(100))
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float, default=_now)
    updated_at: Mapped[float] = mapped_column(Float, default=_now)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_tenant_created", "tenant_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    prompt: Mapped[str] = mapped_column(Text)
    max_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(10), default="http")  # http | ws
    status: Mapped[str] = mapped_column(String(20), default="queued")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    output: Mapped[str] = mapped_column(Text, default="")
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float, default=_now)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float, default=_now)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_tenant_at", "tenant_id", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # platform-level events (fault changes) have no tenant; they are never shown to tenants
    tenant_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(60))  # token id, or "platform-admin"
    action: Mapped[str] = mapped_column(String(60))  # e.g. "run.create"
    target: Mapped[str] = mapped_column(String(80), default="")
    at: Mapped[float] = mapped_column(Float, default=_now)


TENANT_TABLES: tuple[type[Base], ...] = (Tenant, ApiToken, Agent, Run, AuditEvent)
"""Every table that holds tenant data, each with a ``tenant_id`` column (GDPR, RLS)."""
