"""Keyset pagination (newest first): stable under concurrent inserts, unlike OFFSET.

A cursor is opaque to clients (pass ``next_cursor`` back unchanged), but its grammar is
published in the OpenAPI schema as a ``pattern``: ``<created_at>~<key>``, where
``created_at`` is the exact decimal repr of the last row's timestamp and ``key`` its id.
Every string matching the pattern decodes, so a schema-valid cursor is never refused: one
the API did not issue is simply a position (an empty page, or rows older than it), and it can
only ever select rows of the caller's tenant. A string not matching is a 422 before any
query runs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from target_service.errors import InvalidRequest

__all__ = [
    "AUDIT_CURSOR_PATTERN",
    "CURSOR_DESCRIPTION",
    "ID_CURSOR_PATTERN",
    "AuditCursor",
    "IdCursor",
    "InvalidCursor",
    "decode_cursor",
    "encode_cursor",
    "fetch_page",
    "page_after",
]

_AT = r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,17})?"
ID_CURSOR_PATTERN = rf"^{_AT}~[a-z]{{3}}_[0-9a-f]{{32}}$"
"""Cursors of lists keyed by a prefixed UUID id (runs ``run_…``, agents ``agt_…``)."""
AUDIT_CURSOR_PATTERN = rf"^{_AT}~[0-9]{{1,9}}$"
"""Cursors of the audit log, keyed by its integer id (9 digits keep it inside a 32-bit column)."""
CURSOR_DESCRIPTION = (
    "Opaque position token: pass the previous page's `next_cursor` unchanged. Any value matching "
    "the pattern is accepted (it only selects rows older than that position, of your tenant); "
    "anything else is 422."
)


IdCursor = Annotated[
    str | None, Query(max_length=200, pattern=ID_CURSOR_PATTERN, description=CURSOR_DESCRIPTION)
]
AuditCursor = Annotated[
    str | None, Query(max_length=200, pattern=AUDIT_CURSOR_PATTERN, description=CURSOR_DESCRIPTION)
]


class InvalidCursor(InvalidRequest):
    """Defence in depth: the route's Query pattern refuses a bad cursor first (same 422)."""


def encode_cursor(at: float, key: Any) -> str:
    # repr() of a float round-trips exactly, so the keyset comparison sees the stored value.
    return f"{at!r}~{key}"


def decode_cursor(cursor: str, pattern: str = ID_CURSOR_PATTERN) -> tuple[float, str]:
    """The (timestamp, key) of a cursor; the route's Query pattern has already matched it."""
    if re.fullmatch(pattern, cursor) is None:
        raise InvalidCursor("cursor is not one this API returned; pass next_cursor unchanged")
    at, _, key = cursor.partition("~")
    return float(at), key


def page_after(
    query: Select[Any],
    at_col: InstrumentedAttribute[float],
    key_col: InstrumentedAttribute[Any],
    cursor: str | None,
    limit: int,
    *,
    key_type: type = str,
) -> Select[Any]:
    """Order newest first and start after ``cursor``; fetch one extra row to know if more exist."""
    if cursor:
        at, key = decode_cursor(cursor, AUDIT_CURSOR_PATTERN if key_type is int else ID_CURSOR_PATTERN)
        typed_key = key_type(key)
        query = query.where(or_(at_col < at, and_(at_col == at, key_col < typed_key)))
    return query.order_by(at_col.desc(), key_col.desc()).limit(limit + 1)


async def fetch_page(
    session: AsyncSession,
    query: Select[Any],
    at_col: InstrumentedAttribute[Any],
    key_col: InstrumentedAttribute[Any],
    cursor: str | None,
    limit: int,
    *,
    key_type: type = str,
) -> tuple[list[Any], str | None]:
    """One page of ``query`` (newest first) and the cursor of the next, or None at the end."""
    rows = list(await session.scalars(page_after(query, at_col, key_col, cursor, limit, key_type=key_type)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(getattr(last, at_col.key), getattr(last, key_col.key))
