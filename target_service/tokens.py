"""Resolve bearer tokens to principals, with a short-lived cache.

Every request carries a token; looking it up in the database each time would make auth
the hottest query. Entries live ``ttl_s`` seconds (default 5), which bounds how long a
revoked token or a deleted tenant stays usable on *other* workers; the worker that
revokes or deletes drops its own entries at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

from target_service.auth import Principal, hash_token
from target_service.config import Role, Tier
from target_service.db.engine import Database
from target_service.db.models import ApiToken, Tenant

__all__ = ["TokenCache"]


class TokenCache:
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    async def resolve(self, db: Database, token: str) -> Principal | None:
        """The principal for a tenant token, or None if unknown or revoked."""
        digest = hash_token(token)
        now = self._clock()
        hit = self._entries.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = await _lookup(db, digest)
        if len(self._entries) > 100_000:  # bound memory under token-guessing traffic
            self._entries.clear()
        self._entries[digest] = (now + self._ttl_s, principal)
        return principal

    def forget_tenant(self, tenant_id: str) -> None:
        self._entries = {
            k: v for k, v in self._entries.items() if v[1] is None or v[1].tenant_id != tenant_id
        }

    def forget_token(self, token_id: str) -> None:
        self._entries = {k: v for k, v in self._entries.items() if v[1] is None or v[1].token_id != token_id}


async def _lookup(db: Database, digest: str) -> Principal | None:
    # System scope: the tenant is what we are trying to find out.
    async with db.system_session() as session:
        row = (
            await session.execute(
                select(ApiToken.id, ApiToken.role, Tenant.id, Tenant.seq, Tenant.tier)
                .join(Tenant, Tenant.id == ApiToken.tenant_id)
                .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
            )
        ).first()
    if row is None:
        return None
    token_id, role, tenant_id, seq, tier = row
    return Principal(
        is_platform_admin=False,
        tenant_id=tenant_id,
        tenant_seq=seq,
        tier=Tier(tier),
        role=Role(role),
        token_id=token_id,
    )
