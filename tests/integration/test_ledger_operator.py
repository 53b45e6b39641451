"""Operators check the ledger from the command line and the API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.factories import register
from xingdong.cli import app
from xingdong.core.db import Database, libpq_url
from xingdong.core.settings import get_settings
from xingdong.ledger import service as ledger
from xingdong.ledger.service import AccountSpec, TransferRequest

runner = CliRunner()


async def some_money(db: Database) -> None:
    async with db.session_scope() as s:
        await ledger.open_account(s, AccountSpec("external:deposits"))
        await ledger.open_account(s, AccountSpec("org:x:available", no_overdraft=True))
        await ledger.transfer(
            s, TransferRequest("d1", "external:deposits", "org:x:available", 500, "deposit")
        )


@pytest.fixture
def cli_env(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XINGDONG_DATABASE_URL", clean_db)
    get_settings.cache_clear()
    yield clean_db
    get_settings.cache_clear()


def test_ledger_verify_command_passes_then_reports_tampering(cli_env: str) -> None:
    async def seed() -> None:
        database = Database(cli_env, pool_size=1)
        await some_money(database)
        await database.dispose()

    # The command runs its own event loop, so this test runs outside the suite's one.
    asyncio.run(seed())
    ok = runner.invoke(app, ["ledger", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "2 accounts, 1 transfers" in ok.output
    assert "ledger OK" in ok.output
    with psycopg.connect(libpq_url(cli_env), autocommit=True) as conn:
        conn.execute(
            "UPDATE ledger_accounts SET credits_posted = 400 WHERE key = 'org:x:available'"
        )
    bad = runner.invoke(app, ["ledger", "verify"])
    assert bad.exit_code == 1
    assert "CNY: balances sum to -100, not 0" in bad.output


async def test_ledger_verify_api_is_for_operators(client: httpx.AsyncClient, db: Database) -> None:
    await some_money(db)
    user = await register(client)
    refused = await client.get("/api/v1/ops/ledger/verify", headers=user.auth)
    assert refused.status_code == 403
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'operator')"),
            {"id": user.id},
        )
    report = await client.get("/api/v1/ops/ledger/verify", headers=user.auth)
    assert report.status_code == 200
    assert report.json() == {"ok": True, "accounts": 2, "transfers": 1, "problems": []}
