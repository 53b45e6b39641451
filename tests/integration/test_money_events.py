"""Balance events: a paid top-up, a settled refund and an agency's payout are told to the
organisation once each (events list and webhooks), by the job that looks for what the
ledger settled."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select, text

from tests.factories import User, create_org, register
from tests.integration.conftest import make_settings
from tests.integration.test_agencies_api import fund_agency
from tests.integration.test_refunds import ask, paid_top_up, run
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.settings import Settings
from xingdong.insights import money_events
from xingdong.insights.models import Event, WebhookDelivery
from xingdong.ledger import withdrawals


@pytest.fixture
def settings() -> Settings:
    # The endpoint below is on this machine.
    return make_settings(webhook_private_targets=True)


async def announce(db: Database, **kwargs: Any) -> int:
    async with db.session_scope() as s:
        return await money_events.announce(s, **kwargs)


async def events(client: httpx.AsyncClient, owner: User, org_id: str) -> list[dict[str, Any]]:
    listed = await client.get(f"/api/v1/orgs/{org_id}/events", headers=owner.auth)
    assert listed.status_code == 200, listed.text
    return [item for item in listed.json()["items"] if item["type"].startswith("balance.")]


async def test_a_top_up_and_its_refunds_are_told_once_each(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    hook = await client.post(
        f"/api/v1/orgs/{org_id}/webhooks", headers=owner.auth,
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["balance.topped_up"]},
    )  # fmt: skip
    assert hook.status_code == 201, hook.text
    deposit_id = await paid_top_up(client, owner, org_id, 10_000)
    assert await announce(db) == 1
    assert await announce(db) == 0
    [topped] = await events(client, owner, org_id)
    assert topped["type"] == "balance.topped_up"
    assert topped["data"]["deposit_id"] == deposit_id
    assert topped["data"]["amount_fen"] == 10_000
    assert topped["data"]["provider"] == "sandbox"
    async with db.sessionmaker() as s:
        # The endpoint listening for top-ups has one delivery of it.
        deliveries = await s.scalar(select(func.count()).select_from(WebhookDelivery))
    assert deliveries == 1

    done = (await ask(client, owner, org_id, deposit_id, 4_000, "r1")).json()
    assert await announce(db) == 0  # asked, not settled
    assert await run(client, done["id"]) == "refunded"
    async with db.session_scope() as s:  # the provider lost track of the payment
        await s.execute(text("DELETE FROM sandbox_payments"))
    failed = (await ask(client, owner, org_id, deposit_id, 1_000, "r2")).json()
    assert await run(client, failed["id"]) == "failed"
    assert await announce(db) == 2
    assert await announce(db) == 0
    told = {e["type"]: e["data"] for e in await events(client, owner, org_id)}
    assert set(told) == {"balance.topped_up", "balance.refunded", "balance.refund_failed"}
    assert told["balance.refunded"]["refund_id"] == done["id"]
    assert told["balance.refunded"]["amount_fen"] == 4_000
    assert told["balance.refund_failed"]["amount_fen"] == 1_000
    async with db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


async def test_parallel_announcers_tell_each_top_up_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    for amount in (1_000, 2_000, 3_000):
        await paid_top_up(client, owner, org_id, amount)
    made = await asyncio.gather(*(announce(db) for _ in range(4)))
    assert sorted(made) == [0, 0, 0, 3]
    async with db.sessionmaker() as s:
        sources = (await s.scalars(select(Event.source).where(Event.source.is_not(None)))).all()
    assert len(sources) == len(set(sources)) == 3


async def test_what_was_settled_before_the_window_is_not_told(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    await paid_top_up(client, owner, org_id, 1_000)
    later = utcnow() + money_events.WINDOW + timedelta(minutes=1)
    assert await announce(db, now=later) == 0
    assert await announce(db) == 1


async def test_an_agencys_payouts_are_told_paid_or_failed(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner, name="星光 MCN", kind="agency")
    await fund_agency(db, org_id, 20_000)
    bound = await client.put(
        f"/api/v1/orgs/{org_id}/payout-account",
        json={"kind": "bank", "number": "6222 8000 1111 9999", "holder_name": "王小明"},
        headers=owner.auth,
    )
    assert bound.status_code == 201, bound.text
    operator = await register(client)
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'operator')"),
            {"id": operator.id},
        )

    async def payout(amount: int, key: str) -> str:
        asked = await client.post(
            f"/api/v1/orgs/{org_id}/withdrawals", json={"amount_fen": amount},
            headers={**owner.auth, "Idempotency-Key": key},
        )  # fmt: skip
        assert asked.status_code == 201, asked.text
        withdrawal_id: str = asked.json()["id"]
        return withdrawal_id

    paid = await payout(8_000, "p1")
    ok = await client.post(f"/api/v1/ops/withdrawals/{paid}/approve", headers=operator.auth)
    assert ok.status_code == 200, ok.text
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert await withdrawals.execute_payout(runtime.db, runtime.payouts, UUID(paid)) == "paid"
    refused = await payout(5_000, "p2")
    no = await client.post(
        f"/api/v1/ops/withdrawals/{refused}/reject", headers=operator.auth,
        json={"reason": "账户名与机构不符"},
    )  # fmt: skip
    assert no.status_code == 200, no.text
    assert await announce(db) == 2
    assert await announce(db) == 0
    told = {e["type"]: e["data"] for e in await events(client, owner, org_id)}
    assert told["balance.paid_out"]["withdrawal_id"] == paid
    assert (told["balance.paid_out"]["amount_fen"], told["balance.paid_out"]["fee_fen"]) == (
        8_000,
        100,
    )
    assert told["balance.payout_failed"]["status"] == "rejected"
    assert told["balance.payout_failed"]["reason"] == "账户名与机构不符"
