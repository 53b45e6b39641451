"""The statement pool's liveness check: free for a healthy idle connection, and a
connection the server has dropped is never handed out."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from xingdong.core.db import Database, check_idle_connection, libpq_url


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every time the check falls back to asking the server."""
    calls: list[object] = []
    real = AsyncConnectionPool.check_connection

    async def counted(conn: AsyncConnection[Any]) -> None:
        calls.append(conn)
        await real(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", staticmethod(counted))
    return calls


async def test_a_healthy_idle_connection_passes_without_asking_the_server(
    clean_db: str, round_trips: list[object]
) -> None:
    async with await AsyncConnection.connect(libpq_url(clean_db), autocommit=True) as conn:
        await conn.execute("SELECT 1")
        await check_idle_connection(conn)
        assert round_trips == []


async def test_a_connection_the_server_dropped_fails_the_check(
    clean_db: str, round_trips: list[object]
) -> None:
    url = libpq_url(clean_db)
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        pid = conn.info.backend_pid
        async with await AsyncConnection.connect(url, autocommit=True) as killer:
            await killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.sleep(0.2)
        with pytest.raises(psycopg.OperationalError):
            await check_idle_connection(conn)
        assert round_trips == [conn]


async def test_a_closed_connection_fails_the_check(clean_db: str) -> None:
    conn = await AsyncConnection.connect(libpq_url(clean_db), autocommit=True)
    await conn.close()
    with pytest.raises(psycopg.OperationalError):
        await check_idle_connection(conn)


async def test_the_pool_replaces_connections_the_server_dropped(db: Database) -> None:
    async with db.statement_connection() as conn:
        await conn.execute("SELECT 1")
    async with db.statement_connection() as conn:
        first_pid = conn.info.backend_pid
    async with await AsyncConnection.connect(libpq_url(db.url), autocommit=True) as killer:
        await killer.execute("SELECT pg_terminate_backend(%s)", (first_pid,))
    await asyncio.sleep(0.2)
    async with db.statement_connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    assert row is not None
    assert row[0] != first_pid
