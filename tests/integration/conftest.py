"""Fixtures for tests that talk to the app over HTTP (in-process ASGI) and to the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.app import create_app
from xingdong.core.db import Database
from xingdong.core.settings import Settings
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
