"""Fixtures for tests that talk to the app over HTTP (in-process ASGI) and to the database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.app import create_app
from xingdong.core.db import Database, libpq_url
from xingdong.core.settings import Settings, get_settings
from xingdong.dispatch.live import drain_exposures

RISK_RULES_SIMULATED_CLOCK = Path(__file__).with_name("risk_rules_simulated_clock.json")


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "secret_key": "test-secret-key-0123456789",
        "sms_reveal_codes": True,
        "run_worker_in_process": False,
        "log_json": False,
        "log_level": "WARNING",
        # Tests change campaigns between two feed requests; the feed reads them each time.
        "dispatch_sync_seconds": 0,
        # Lifecycle tests move claims into the past in the database to stand for a person's
        # time; the risk engine saw the claim at the real moment, so its speed check is
        # off here (tests/integration/test_risk_live.py runs the real rules).
        "risk_rules_file": RISK_RULES_SIMULATED_CLOCK,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
async def client(clean_db: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database_url=clean_db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http
    await drain_exposures(app.state.runtime.db)
    await app.state.runtime.db.dispose()


@pytest.fixture
async def db(clean_db: str) -> AsyncIterator[Database]:
    database = Database(clean_db, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker() as s:
        yield s


@pytest.fixture
def empty_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own, never migrated, that the commands run against."""
    name = f"xingdong_test_empty_{os.getpid()}"
    parts = urlsplit(database_url)
    fresh = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    monkeypatch.setenv("XINGDONG_DATABASE_URL", fresh)
    get_settings.cache_clear()
    try:
        yield fresh
    finally:
        get_settings.cache_clear()
        with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
            conn.execute(drop)
