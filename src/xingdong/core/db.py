"""Database engine, sessions and the declarative base.

One transaction per request or job: :func:`session_scope` commits on success and rolls
back on error; services only ``flush()``. Work that is a single statement can instead run
on :meth:`Database.statement_connection`, where the statement is its own transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import DateTime, MetaData, func
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
        if self._statements is None:
            async with self._statements_lock:
                if self._statements is None:
                    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
                        libpq_url(self.url),
                        min_size=1,
                        max_size=self._statements_size,
                        kwargs={"autocommit": True},
                        open=False,
                    )
                    await pool.open(wait=True)
                    self._statements = pool
        async with self._statements.connection() as conn:
            yield conn

    async def dispose(self) -> None:
        if self._statements is not None:
            await self._statements.close()
            self._statements = None
        await self.engine.dispose()
