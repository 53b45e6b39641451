"""Database engine, sessions and the declarative base.

One transaction per request or job: :func:`session_scope` commits on success and rolls
back on error; services only ``flush()``. Work that is a single statement can instead run
on :meth:`Database.statement_connection`, where the statement is its own transaction.
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, OperationalError
from psycopg.pq import ConnStatus
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import DateTime, Executable, MetaData, func
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from xingdong.core.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    """Time-ordered UUID (v7)."""


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    """When the row was written (database clock, UTC)."""


def async_url(url: str) -> str:
    """Point a plain ``postgresql://`` URL at the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.rsplit('@', maxsplit=1)[-1]}")


def libpq_url(url: str) -> str:
    """The same URL without a SQLAlchemy driver suffix, for psycopg and procrastinate."""
    return "postgresql://" + async_url(url)[len("postgresql+psycopg://") :]


STATEMENT_POOL_WAIT_SECONDS = 2.0


async def check_idle_connection(conn: AsyncConnection[Any]) -> None:
    """Raise if a pooled connection is no longer usable, without a round trip when it is.

    An idle connection has nothing to read: the server only writes to it when it goes away
    (a termination notice, then end of file) or, rarely, to report a setting change. So only
    a readable socket needs the real check, which reads what arrived and fails if the
    connection is dead; the usual case costs one poll instead of a query to the server.
    """
    if conn.closed or conn.pgconn.status != ConnStatus.OK:
        raise OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        await AsyncConnectionPool.check_connection(conn)


DELETE_BATCH = 5_000
"""Rows a batched deletion removes per transaction."""


async def delete_in_batches(
    db: Database, statement: Executable, params: dict[str, Any], *, batch: int = DELETE_BATCH
) -> int:
    """Run ``statement`` (a DELETE of at most ``:batch`` rows, ``bindparam("batch")`` in an
    ORM statement) in its own transaction again and again until it deletes fewer; returns
    how many in all. A retention's first run may find millions
    of rows, and one statement for all of them would hold its locks for minutes."""
    deleted = 0
    while True:
        async with db.session_scope() as session:
            result = await session.execute(statement, {**params, "batch": batch})
        count = int(getattr(result, "rowcount", 0) or 0)
        deleted += count
        if count < batch:
            return deleted


class Database:
    """The engine and session factory of one process."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            async_url(url), pool_size=pool_size, max_overflow=10, pool_pre_ping=True
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._statements: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._statements_size = pool_size
        self._statements_lock = asyncio.Lock()

    @asynccontextmanager
    async def session_scope(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def statement_connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A driver connection in autocommit mode: each statement is its own transaction.

        For hot paths that are one database call (a ledger transfer is one PL/pgSQL
        function): one round trip instead of BEGIN, the call and COMMIT, and none of the
        ORM's bookkeeping. Anything that needs two statements to agree uses a session.
        """
        pool = self._statements
        if pool is None:
            # No pool yet, or it was dropped because the server went away: connect
            # directly first, which fails at once while the server is down (the caller
            # answers 503) instead of waiting out the pool's reconnection back-off.
            async with await AsyncConnection.connect(
                libpq_url(self.url), autocommit=True
            ) as direct:
                await self._start_statement_pool()
                yield direct
            return
        try:
            async with pool.connection() as conn:
                yield conn
        except PoolTimeout:
            if self._statements is pool:
                self._statements = None
                await pool.close(timeout=1)
            raise

    async def _start_statement_pool(self) -> None:
        async with self._statements_lock:
            if self._statements is None:
                pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
                    libpq_url(self.url),
                    min_size=1,
                    max_size=self._statements_size,
                    kwargs={"autocommit": True},
                    # Checked when handed out, like the engine's pre-ping: after the
                    # server restarts, a dead connection is replaced, not used.
                    check=check_idle_connection,
                    timeout=STATEMENT_POOL_WAIT_SECONDS,
                    open=False,
                )
                # Wait for the first connection: one still being made in the background
                # when a short-lived process disposes the pool would be left open.
                try:
                    await pool.open(wait=True, timeout=STATEMENT_POOL_WAIT_SECONDS)
                except PoolTimeout:
                    await pool.close(timeout=1)
                    return
                self._statements = pool

    async def dispose(self) -> None:
        if self._statements is not None:
            await self._statements.close()
            self._statements = None
        await self.engine.dispose()
