"""FastAPI dependencies: who is calling, may they, and a database session scoped to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from target_service.auth import Action, Principal, is_admin_token, role_allows
from target_service.errors import Forbidden, NotFound, RateLimited, Unauthorized
from target_service.state import AppState

__all__ = [
    "CurrentPrincipal",
    "State",
    "TenantDB",
    "apply_faults",
    "authenticate",
    "get_principal",
    "get_state",
    "require",
    "require_platform_admin",
    "require_tenant_access",
]

FAULTS_ROUTE_PREFIX = "/v1/admin/faults"


def get_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.services
    return state


State = Annotated[AppState, Depends(get_state)]


async def authenticate(state: AppState, authorization: str | None) -> Principal:
    """Resolve an ``Authorization`` header to a principal, or raise 401 saying why."""
    if not authorization:
        raise Unauthorized("missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    if is_admin_token(token, state.settings.admin_token):
        return Principal(is_platform_admin=True)
    principal = await state.tokens.resolve(state.db, token)
    if principal is None:
        raise Unauthorized("invalid or revoked token")
    return principal


async def get_principal(conn: HTTPConnection, state: State) -> Principal:
    """Authenticate, then charge the tenant's request bucket (platform admin is not limited)."""
    principal = await authenticate(state, conn.headers.get("authorization"))
    conn.state.principal = principal  # read by the metrics middleware for tier/tenant labels
    if principal.tier is not None and principal.tenant_id is not None:
        quota = state.settings.quotas[principal.tier]
        wait = await state.limiter.acquire(f"tenant:{principal.tenant_id}", quota.requests_per_s, quota.burst)
        if wait > 0:
            raise RateLimited(
                f"tenant request rate above the {principal.tier.value} tier's "
                f"{quota.requests_per_s:g}/s quota",
                retry_after_s=wait,
            )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(action: Action) -> Callable[[Principal], Awaitable[Principal]]:
    """A tenant token whose role allows ``action``; the platform admin acts on tenants only
    through the tenant routes, never inside one."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.is_platform_admin:
            raise Forbidden("the platform admin token cannot act inside a tenant; use a tenant token")
        if principal.role is None or not role_allows(principal.role, action):
            role = principal.role.value if principal.role else "none"
            raise Forbidden(f"role '{role}' may not {action.value.replace('_', ' ')}")
        return principal

    return dependency


async def require_platform_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_platform_admin:
        raise Forbidden("this route needs the platform admin token")
    return principal


def require_tenant_access(action: Action) -> Callable[[str, Principal], Awaitable[Principal]]:
    """For ``/v1/tenants/{tenant_id}/...``: the platform admin, or that tenant's token with a
    role allowing ``action``. Another tenant's token gets 404: its tenants do not exist for it."""

    async def dependency(tenant_id: str, principal: CurrentPrincipal) -> Principal:
        if principal.is_platform_admin:
            return principal
        if principal.tenant_id != tenant_id:
            raise NotFound(f"tenant '{tenant_id}' not found")
        if principal.role is None or not role_allows(principal.role, action):
            role = principal.role.value if principal.role else "none"
            raise Forbidden(f"role '{role}' may not {action.value.replace('_', ' ')}")
        return principal

    return dependency


async def tenant_db(principal: CurrentPrincipal, state: State) -> AsyncIterator[AsyncSession]:
    """A transaction that sees only the caller's tenant (committed when the route returns)."""
    if principal.tenant_id is None:
        raise Forbidden("this route needs a tenant token")
    async with state.db.tenant_session(principal.tenant_id) as session:
        yield session


TenantDB = Annotated[AsyncSession, Depends(tenant_db)]


async def apply_faults(conn: HTTPConnection, state: State) -> None:
    """App-wide dependency: injected stall, latency and errors, by route template.

    The faults route itself is exempt, so a stall can always be switched off.
    """
    route = getattr(conn.scope.get("route"), "path", conn.url.path)
    if route.startswith(FAULTS_ROUTE_PREFIX):
        return
    await state.faults.before_request(route)
