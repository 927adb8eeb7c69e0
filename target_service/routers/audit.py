"""The tenant's audit log, readable by its admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from target_service.auth import Action, Principal
from target_service.db.models import AuditEvent
from target_service.dependencies import TenantDB, require
from target_service.pagination import AuditCursor, fetch_page
from target_service.routers._responses import AUTH, errors
from target_service.schemas import AuditOut, AuditPage

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage, operation_id="listAudit", responses=errors(*AUTH, 422))
async def list_audit(
    principal: Annotated[Principal, Depends(require(Action.READ_AUDIT))],
    session: TenantDB,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: AuditCursor = None,
) -> AuditPage:
    query = select(AuditEvent).where(AuditEvent.tenant_id == principal.tenant_id)
    rows, next_cursor = await fetch_page(
        session, query, AuditEvent.at, AuditEvent.id, cursor, limit, key_type=int
    )
    return AuditPage(items=[AuditOut.model_validate(e) for e in rows], next_cursor=next_cursor)
