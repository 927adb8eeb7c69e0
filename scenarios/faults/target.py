"""``target:``: the reference target's own fault API (``PUT /v1/admin/faults``).

The configuration in force before the fault is read first and put back by ``undo``, so a
target started with ``--faults`` keeps its own baseline (usually ``{}``: no faults).
"""

from __future__ import annotations

from typing import Any

import httpx

from scenarios.faults.base import FaultError

__all__ = ["TargetFault"]

_PATH = "/v1/admin/faults"


class TargetFault:
    """Apply one ``FaultConfig`` (as JSON fields) through the admin API; undo restores."""

    def __init__(self, url: str, admin_token: str, config: dict[str, Any], timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/") + _PATH
        self.config = config
        self._headers = {"Authorization": f"Bearer {admin_token}"}
        self._timeout_s = timeout_s
        self._before: dict[str, Any] = {}

    def apply(self) -> None:
        self._before = self._call("GET", None)
        self._call("PUT", self.config)

    def undo(self) -> None:
        self._call("PUT", self._before)

    def _call(self, method: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = httpx.request(
                method, self.url, json=body, headers=self._headers, timeout=self._timeout_s
            )
        except httpx.HTTPError as exc:
            raise FaultError(f"{method} {self.url} failed: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise FaultError(
                f"{method} {self.url} answered {response.status_code}: {response.text[:200]}"
            )
        data = response.json()
        return data if isinstance(data, dict) else {}
