"""Tenants, their tokens, GDPR export and erasure."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from target_service.audit import record_audit
from target_service.auth import Action, Principal, generate_token, hash_token
from target_service.db.models import TENANT_TABLES, Agent, ApiToken, AuditEvent, Run, Tenant, new_id
from target_service.dependencies import State, require_platform_admin, require_tenant_access
from target_service.errors import NotFound
from target_service.routers._responses import AUTH, errors, links
from target_service.schemas import (
    AgentOut,
    AuditOut,
    RunOut,
    TenantCreate,
    TenantExport,
    TenantOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
)

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])

PlatformAdmin = Annotated[Principal, Depends(require_platform_admin)]


async def _tenant(session: AsyncSession, tenant_id: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id))
    if tenant is None:
        raise NotFound(f"tenant '{tenant_id}' not found")
    return tenant


_BY_ID = {"tenant_id": "$response.body#/id"}
_TENANT_LINKS = links(
    201,
    {
        "GetTenant": ("getTenant", _BY_ID),
        "CreateToken": ("createToken", _BY_ID),
        "ListTokens": ("listTokens", _BY_ID),
        "ExportTenant": ("exportTenant", _BY_ID),
        "DeleteTenant": ("deleteTenant", _BY_ID),
    },
)
_TOKEN_LINKS = links(
    201,
    {
        "RevokeToken": (
            "revokeToken",
            {"tenant_id": "$response.body#/tenant_id", "token_id": "$response.body#/id"},
        )
    },
)


@router.post(
    "",
    status_code=201,
    response_model=TenantOut,
    operation_id="createTenant",
    responses={**errors(*AUTH, 422), **_TENANT_LINKS},
)
async def create_tenant(body: TenantCreate, principal: PlatformAdmin, state: State) -> Tenant:
    tenant_id = new_id("ten")
    async with state.db.system_session() as session:
        tenant = Tenant(id=tenant_id, tenant_id=tenant_id, name=body.name, tier=body.tier.value)
        session.add(tenant)
        record_audit(session, principal, tenant_id, "tenant.create", tenant_id)
    return tenant


@router.get(
    "/{tenant_id}", response_model=TenantOut, operation_id="getTenant", responses=errors(*AUTH, 404, 422)
)
async def get_tenant(
    tenant_id: str,
    state: State,
    principal: Annotated[Principal, Depends(require_tenant_access(Action.READ))],
) -> Tenant:
    async with state.db.tenant_session(tenant_id) as session:
        return await _tenant(session, tenant_id)


@router.post(
    "/{tenant_id}/tokens",
    status_code=201,
    response_model=TokenCreated,
    operation_id="createToken",
    responses={**errors(*AUTH, 404, 422), **_TOKEN_LINKS},
)
async def create_token(
    tenant_id: str,
    body: TokenCreate,
    state: State,
    principal: Annotated[Principal, Depends(require_tenant_access(Action.MANAGE_TOKENS))],
) -> TokenCreated:
    secret = generate_token()
    async with state.db.tenant_session(tenant_id) as session:
        await _tenant(session, tenant_id)
        token = ApiToken(
            id=new_id("tok"),
            tenant_id=tenant_id,
            role=body.role.value,
            token_hash=hash_token(secret),
            created_at=time.time(),
        )
        session.add(token)
        record_audit(session, principal, tenant_id, "token.create", token.id)
    return TokenCreated(
        id=token.id,
        tenant_id=tenant_id,
        role=body.role,
        created_at=token.created_at,
        token=secret,
    )


@router.get(
    "/{tenant_id}/tokens",
    response_model=list[TokenOut],
    operation_id="listTokens",
    responses=errors(*AUTH, 404, 422),
)
async def list_tokens(
    tenant_id: str,
    state: State,
    principal: Annotated[Principal, Depends(require_tenant_access(Action.MANAGE_TOKENS))],
) -> list[ApiToken]:
    async with state.db.tenant_session(tenant_id) as session:
        await _tenant(session, tenant_id)
        rows = await session.scalars(
            select(ApiToken).where(ApiToken.tenant_id == tenant_id).order_by(ApiToken.created_at)
        )
        return list(rows)


@router.delete(
    "/{tenant_id}/tokens/{token_id}",
    status_code=204,
    operation_id="revokeToken",
    responses=errors(*AUTH, 404, 422),
)
async def revoke_token(
    tenant_id: str,
    token_id: str,
    state: State,
    principal: Annotated[Principal, Depends(require_tenant_access(Action.MANAGE_TOKENS))],
) -> Response:
    async with state.db.tenant_session(tenant_id) as session:
        result = await session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.tenant_id == tenant_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"token '{token_id}' not found")
        record_audit(session, principal, tenant_id, "token.revoke", token_id)
    state.tokens.forget_token(token_id)
    return Response(status_code=204)


@router.get(
    "/{tenant_id}/export",
    response_model=TenantExport,
    operation_id="exportTenant",
    responses=errors(*AUTH, 404, 422),
)
async def export_tenant(
    tenant_id: str,
    state: State,
    principal: Annotated[Principal, Depends(require_tenant_access(Action.EXPORT))],
) -> TenantExport:
    async with state.db.tenant_session(tenant_id) as session:
        tenant = await _tenant(session, tenant_id)

        export = TenantExport(
            tenant=TenantOut.model_validate(tenant),
            tokens=[
                TokenOut.model_validate(t)
                for t in await session.scalars(
                    select(ApiToken).where(ApiToken.tenant_id == tenant_id).order_by(ApiToken.created_at)
                )
            ],
            agents=[
                AgentOut.model_validate(a)
                for a in await session.scalars(
                    select(Agent).where(Agent.tenant_id == tenant_id).order_by(Agent.created_at)
                )
            ],
            runs=[
                RunOut.model_validate(r)
                for r in await session.scalars(
                    select(Run).where(Run.tenant_id == tenant_id).order_by(Run.created_at)
                )
            ],
            audit=[
                AuditOut.model_validate(e)
                for e in await session.scalars(
                    select(AuditEvent).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.id)
                )
            ],
            exported_at=time.time(),
        )
        record_audit(session, principal, tenant_id, "tenant.export", tenant_id)
    return export


@router.delete(
    "/{tenant_id}", status_code=204, operation_id="deleteTenant", responses=errors(*AUTH, 404, 422)
)
async def delete_tenant(tenant_id: str, principal: PlatformAdmin, state: State) -> Response:
    """Erase the tenant (GDPR Art. 17): every row of every tenant table, audit trail included.

    The erasure itself is recorded only in the server log: keeping an audit row with the
    tenant's id would be keeping data about it.
    """
    async with state.db.system_session() as session:
        await _tenant(session, tenant_id)
        for model in reversed(TENANT_TABLES):  # children before the tenant row
            await session.execute(delete(model).where(model.tenant_id == tenant_id))  # type: ignore[attr-defined]
    state.tokens.forget_tenant(tenant_id)
    return Response(status_code=204)
