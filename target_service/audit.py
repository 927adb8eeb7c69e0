"""Audit trail of mutating operations: who, which tenant, what, when."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from target_service.auth import Principal
from target_service.db.models import AuditEvent

__all__ = ["record_audit"]


def record_audit(
    session: AsyncSession, principal: Principal, tenant_id: str | None, action: str, target: str
) -> None:
    """Add an audit row in the caller's transaction: it commits or rolls back with the change."""
    session.add(AuditEvent(tenant_id=tenant_id, actor=principal.actor, action=action, target=target))
