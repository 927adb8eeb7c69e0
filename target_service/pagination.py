"""Keyset pagination (newest first): stable under concurrent inserts, unlike OFFSET."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from target_service.errors import ServiceError

__all__ = ["InvalidCursor", "decode_cursor", "encode_cursor", "fetch_page", "page_after"]


class InvalidCursor(ServiceError):
    status_code = 400
    code = "invalid_cursor"


def encode_cursor(at: float, key: Any) -> str:
    return base64.urlsafe_b64encode(f"{at!r}|{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, key = raw.split("|", 1)
        return float(at), key
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor("cursor is not one this API returned; pass next_cursor unchanged") from None


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
        at, key = decode_cursor(cursor)
        try:
            typed_key = key_type(key)
        except ValueError:
            raise InvalidCursor("cursor is not one this API returned") from None
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
