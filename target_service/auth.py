"""Bearer tokens, principals, and what each role may do.

Tokens are random (``sgt_`` + 32 url-safe bytes) and stored only as SHA-256 digests, so a
database dump does not hand out credentials; SHA-256 (not a slow KDF) is right here because
the secret has 256 bits of entropy and is checked on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from target_service.config import Role, Tier

__all__ = [
    "Action",
    "Principal",
    "generate_token",
    "hash_token",
    "is_admin_token",
    "role_allows",
]

TOKEN_PREFIX = "sgt_"


class Action(StrEnum):
    READ = "read"  # runs, agents
    RUN = "run"  # create runs, open sessions that send prompts
    WRITE_AGENTS = "write_agents"
    MANAGE_TOKENS = "manage_tokens"
    READ_AUDIT = "read_audit"
    EXPORT = "export"


_ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.DEVELOPER: frozenset({Action.READ, Action.RUN, Action.WRITE_AGENTS}),
    Role.ADMIN: frozenset(Action),
}


def role_allows(role: Role, action: Action) -> bool:
    """Viewers read, developers run and edit agents, tenant admins do everything in-tenant."""
    return action in _ROLE_ACTIONS[role]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the platform admin, or one token of one tenant."""

    is_platform_admin: bool
    tenant_id: str | None = None
    tenant_seq: int | None = None
    tier: Tier | None = None
    role: Role | None = None
    token_id: str | None = None

    @property
    def actor(self) -> str:
        return "platform-admin" if self.is_platform_admin else (self.token_id or "unknown")


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_admin_token(presented: str, admin_token: str) -> bool:
    """Constant-time comparison, so the admin token cannot be guessed byte by byte."""
    return hmac.compare_digest(presented.encode("utf-8"), admin_token.encode("utf-8"))
