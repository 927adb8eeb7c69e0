"""``database: outage``: the run's own PostgreSQL stopped like a crash, started after ``for``.

``pg_ctl stop -m immediate`` drops every connection without a checkpoint, so the target sees
exactly what a database crash looks like; ``undo`` starts the same data directory again
(crash recovery replays the WAL) and returns once the server accepts connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.faults.base import FaultError

if TYPE_CHECKING:
    from target_service.owned_postgres import OwnedPostgres

__all__ = ["DatabaseOutage"]


class DatabaseOutage:
    """Immediate stop of the owned PostgreSQL; ``undo`` starts it again."""

    def __init__(self, database: OwnedPostgres) -> None:
        self.database = database

    def apply(self) -> None:
        from target_service.owned_postgres import OwnedPostgresError

        try:
            self.database.stop_immediate()
        except OwnedPostgresError as exc:
            raise FaultError(f"the owned PostgreSQL did not stop: {exc}") from exc

    def undo(self) -> None:
        from target_service.owned_postgres import OwnedPostgresError

        try:
            self.database.start()
        except OwnedPostgresError as exc:
            raise FaultError(f"the owned PostgreSQL did not start again: {exc}") from exc
