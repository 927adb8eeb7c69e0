"""Error responses shared by the routes' OpenAPI documentation."""

from __future__ import annotations

from typing import Any

from target_service.schemas import ErrorOut

__all__ = ["errors"]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error status codes, all with the ErrorOut body."""
    return {code: {"model": ErrorOut} for code in codes}


AUTH = (401, 403, 429)
