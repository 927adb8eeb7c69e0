"""Database engine, schema, PostgreSQL row-level security, and tenant-scoped sessions.

Isolation is enforced twice on PostgreSQL. Application queries always filter on the
caller's tenant; in addition every tenant table has a row-level-security policy comparing
``tenant_id`` with the transaction-local setting ``app.tenant_id``, so a query that forgot its
filter still sees only its own tenant's rows. Superusers and table owners bypass RLS, so the
service does its work as ``slogate_app``, a role without BYPASSRLS that every pooled
connection switches to with ``SET ROLE`` (and tables are ``FORCE``d for owners as well).
Cross-tenant work that is legitimately platform-wide (token lookup before the tenant is
known, tenant creation and deletion, the run executor's sweeper) opens a *system* session,
which sets ``app.scope = 'system'`` instead; it is never handed to tenant-scoped routes.

SQLite has no RLS: there the application filter is the only guard (documented in README).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from target_service.db.models import TENANT_TABLES, Base
from target_service.errors import DatabaseUnavailable

__all__ = ["APP_ROLE", "Database"]

APP_ROLE = "slogate_app"
_SCHEMA_LOCK_KEY = 0x510_6A7E  # advisory lock: several workers may start at once

QueryObserver = Callable[[str, float], None]


class Database:
    """One engine per process plus the session factories that scope it.

    Example::

        db = Database("sqlite+aiosqlite:///./t.db")
        await db.create_schema()
        async with db.tenant_session("ten_123") as session:
            rows = await session.execute(select(Run).where(Run.tenant_id == "ten_123"))
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        on_query: QueryObserver | None = None,
        is_down: Callable[[], bool] = lambda: False,
    ) -> None:
        self.url = url
        self.is_postgres = url.startswith("postgresql")
        kwargs: dict[str, Any] = {}
        if self.is_postgres:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=10)
        else:
            # SQLite in WAL mode: readers run beside the one writer, so a few connections let
            # reads proceed while a write commits (measured on the smoke scenario: HTTP p95
            # 536 ms with one connection, 155 ms with four); more only add writer-lock
            # contention, which SQLite resolves by sleeping in its busy handler.
            kwargs.update(connect_args={"timeout": 30}, pool_size=4, max_overflow=0, pool_timeout=30)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._is_down = is_down
        self._use_app_role = False
        if on_query is not None:
            _observe_queries(self.engine, on_query)
        if self.is_postgres:
            event.listen(self.engine.sync_engine, "connect", self._on_connect)
        else:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        if self._use_app_role:
            # On the raw asyncpg connection, outside any transaction: through the DBAPI
            # cursor the SET would run inside the adapter's implicit transaction, and the
            # first rollback on this connection (any 404 in a route) would silently turn it
            # back into the superuser, which bypasses row-level security.
            dbapi_connection.run_async(lambda raw: raw.execute(f"SET ROLE {APP_ROLE}"))

    async def create_schema(self) -> None:
        """Create tables (idempotent) and, on PostgreSQL, the RLS policies and app role."""
        async with self.engine.begin() as conn:
            if self.is_postgres:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
            await conn.run_sync(Base.metadata.create_all)
            if self.is_postgres and not await conn.run_sync(_rls_installed):
                # Only when missing: the policy DDL takes ACCESS EXCLUSIVE locks, and a worker
                # restarted beside live ones (a crash, a kill fault) must not deadlock them.
                await conn.run_sync(_install_rls)
            if self.is_postgres:
                privileged = await conn.scalar(
                    text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
        if self.is_postgres and privileged:
            # Connections opened from now on act as the unprivileged role.
            self._use_app_role = True
            await self.engine.dispose()

    async def ping(self) -> None:
        """Raise :class:`DatabaseUnavailable` unless a trivial query succeeds."""
        async with self._guard(), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @asynccontextmanager
    async def tenant_session(self, tenant_id: str) -> AsyncIterator[AsyncSession]:
        """A transaction that can only see ``tenant_id``'s rows (RLS on PostgreSQL)."""
        async with self._session(tenant_id=tenant_id, scope="tenant") as session:
            yield session

    @asynccontextmanager
    async def system_session(self) -> AsyncIterator[AsyncSession]:
        """A transaction for platform-wide work; never hand it to a tenant-scoped route."""
        async with self._session(tenant_id="", scope="system") as session:
            yield session

    @asynccontextmanager
    async def _session(self, *, tenant_id: str, scope: str) -> AsyncIterator[AsyncSession]:
        async with self._guard(), self._sessions() as session, session.begin():
            if self.is_postgres:
                await session.execute(
                    text("SELECT set_config('app.tenant_id', :t, true), set_config('app.scope', :s, true)"),
                    {"t": tenant_id, "s": scope},
                )
            yield session

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Turn every way a database can be gone into one error the API maps to 503.

        The injected fault raises the very same error, so clients see no difference.
        """
        if self._is_down():
            raise DatabaseUnavailable("the database is unavailable (injected fault)")
        try:
            yield
        except (OperationalError, PoolTimeoutError, OSError, ConnectionError) as exc:
            raise DatabaseUnavailable("the database is unavailable") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_outage(exc):
                raise DatabaseUnavailable("the database connection was lost") from exc
            raise
        except Exception as exc:
            # asyncpg errors raised while connecting (the server is starting up or shutting
            # down) reach here unwrapped by SQLAlchemy's DBAPI layer
            if _is_outage(exc):
                raise DatabaseUnavailable("the database is unavailable") from exc
            raise

    async def dispose(self) -> None:
        await self.engine.dispose()


_OUTAGE_SQLSTATES = ("08", "57P")  # connection exception; admin/crash shutdown, cannot connect now


def _is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) means the server is gone, not that a query is wrong."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, OSError | ConnectionError):
            return True
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_OUTAGE_SQLSTATES):
            return True
        if type(seen).__name__ in ("ConnectionDoesNotExistError", "InterfaceError") and (
            "connection" in str(seen).lower() and "closed" in str(seen).lower()
        ):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def _rls_installed(conn: Connection) -> bool:
    """Every tenant table has its policy and the app role exists (the schema is complete)."""
    tables = [model.__tablename__ for model in TENANT_TABLES]
    policies = conn.execute(
        text(
            "SELECT count(*) FROM pg_policies WHERE policyname = 'tenant_isolation' "
            "AND schemaname = current_schema() AND tablename = ANY(:t)"
        ),
        {"t": tables},
    ).scalar()
    role = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).scalar()
    return policies == len(tables) and role is not None


def _install_rls(conn: Connection) -> None:
    privileged = conn.execute(
        text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    if privileged:
        conn.execute(
            text(
                # Roles are cluster-wide but the advisory lock is per database: services on
                # two databases of one cluster may both try to create the role at once.
                f"DO $$ BEGIN "
                f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
                f"CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS; END IF; "
                f"EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}"))
    rule = (
        "(tenant_id = current_setting('app.tenant_id', true) "
        "OR current_setting('app.scope', true) = 'system')"
    )
    for model in TENANT_TABLES:
        table = model.__tablename__
        conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        conn.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
        conn.execute(text(f"DROP POLICY IF EXISTS tenant_isolation ON {table}"))
        conn.execute(text(f"CREATE POLICY tenant_isolation ON {table} USING {rule} WITH CHECK {rule}"))
        if privileged:
            conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}"))
    if privileged:
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while the executor writes; foreign keys enforce cascades.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _observe_queries(engine: AsyncEngine, on_query: QueryObserver) -> None:
    """Time every statement at the driver (the server-side 'database query' SLI)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(conn: Connection, *_: Any) -> None:
        conn.info.setdefault("_t0", []).append(time.perf_counter())

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        started = conn.info["_t0"].pop()
        operation = statement.lstrip().split(None, 1)[0].lower() if statement.strip() else "other"
        if operation not in ("select", "insert", "update", "delete"):
            operation = "other"
        on_query(operation, time.perf_counter() - started)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _error(context: Any) -> None:
        conn = context.connection
        if conn is not None and conn.info.get("_t0"):
            conn.info["_t0"].pop()
