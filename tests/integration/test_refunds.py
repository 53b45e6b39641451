"""Refunds of top-ups through the sandbox payment provider."""

from __future__ import annotations

from uuid import UUID

import httpx
from sqlalchemy import select, text

from tests.factories import User, add_member, create_org, register
from tests.integration.test_deposits import balance, notify, start_deposit
from xingdong.core.db import Database
from xingdong.ledger import refunds
from xingdong.ledger import service as ledger
from xingdong.ledger.models import Refund


async def paid_top_up(client: httpx.AsyncClient, owner: User, org_id: str, amount: int) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    deposit = (await start_deposit(client, owner, org_id, amount, f"top-{amount}")).json()
    await runtime.payments.record_payment(order_id=deposit["id"], amount=amount, status="paid")
    assert (await notify(client, deposit["id"], amount)).status_code == 200
    deposit_id: str = deposit["id"]
    return deposit_id


async def ask(
    client: httpx.AsyncClient, owner: User, org_id: str, deposit_id: str, amount: int, key: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/orgs/{org_id}/deposits/{deposit_id}/refunds",
        json={"amount_fen": amount},
        headers={**owner.auth, "Idempotency-Key": key},
    )


async def run(client: httpx.AsyncClient, refund_id: str) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return await refunds.execute_refund(runtime.db, runtime.payments, UUID(refund_id))


async def test_a_refund_reserves_then_gives_money_back_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    deposit_id = await paid_top_up(client, owner, org_id, 10_000)
    asked = await ask(client, owner, org_id, deposit_id, 4_000, "r1")
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "requested"
    assert await balance(client, owner, org_id) == 6_000  # reserved at once
    retry = await ask(client, owner, org_id, deposit_id, 4_000, "r1")
    assert retry.json()["id"] == asked.json()["id"]
    assert await run(client, asked.json()["id"]) == "refunded"
    assert await run(client, asked.json()["id"]) == "refunded"
    assert await balance(client, owner, org_id) == 6_000
    too_much = await ask(client, owner, org_id, deposit_id, 6_001, "r2")
    assert too_much.status_code == 409
    assert too_much.json()["code"] == "not_refundable"
    assert too_much.json()["left"] == 6_000
    async with db.sessionmaker() as s:
        assert (await ledger.verify(s)).problems == []


async def test_a_refund_the_provider_refuses_returns_the_money(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    deposit_id = await paid_top_up(client, owner, org_id, 5_000)
    async with db.session_scope() as s:  # the provider lost track of the payment
        await s.execute(text("DELETE FROM sandbox_payments"))
    asked = (await ask(client, owner, org_id, deposit_id, 5_000, "r")).json()
    assert await run(client, asked["id"]) == "failed"
    assert await balance(client, owner, org_id) == 5_000
    async with db.sessionmaker() as s:
        assert (await s.execute(select(Refund.status))).scalar_one() == "failed"


async def test_refunds_need_money_left_and_an_owner(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    member = await register(client)
    org_id = await create_org(client, owner)
    await add_member(client, org_id, owner, member)
    deposit_id = await paid_top_up(client, owner, org_id, 3_000)
    assert (await ask(client, member, org_id, deposit_id, 100, "m")).status_code == 403
    # Money already spent cannot be refunded.
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.session_scope() as s:
        await ledger.open_account(s, ledger.AccountSpec("campaign:x:escrow"))
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                "spend", f"org:{org_id}:available", "campaign:x:escrow", 2_500, "fund"
            ),
        )
    spent = await ask(client, owner, org_id, deposit_id, 1_000, "s")
    assert spent.status_code == 409
    assert spent.json()["code"] == "insufficient_funds"
    assert await balance(client, owner, org_id) == 500


async def test_a_top_up_reads_with_its_refunds_and_an_unpaid_one_says_why_it_cannot(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    deposit_id = await paid_top_up(client, owner, org_id, 10_000)
    asked = (await ask(client, owner, org_id, deposit_id, 4_000, "r1")).json()
    assert asked["amount_fen"] == asked["amount"] == 4_000
    read = await client.get(f"/api/v1/orgs/{org_id}/deposits/{deposit_id}", headers=owner.auth)
    body = read.json()
    assert (body["amount_fen"], body["refundable_fen"]) == (10_000, 6_000)
    assert [(r["id"], r["amount_fen"], r["status"]) for r in body["refunds"]] == [
        (asked["id"], 4_000, "requested")
    ]
    unpaid = (await start_deposit(client, owner, org_id, 5_000, "never-paid")).json()
    refused = await client.post(
        f"/api/v1/orgs/{org_id}/deposits/{unpaid['id']}/refunds",
        json={"amount_fen": 100},
        headers={**owner.auth, "Idempotency-Key": "u", "Accept-Language": "en"},
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_refundable"
    assert refused.json()["detail"] == (
        "Only a paid top-up can be refunded; this one was never paid."
    )
    listed = await client.get(f"/api/v1/orgs/{org_id}/deposits/{unpaid['id']}", headers=owner.auth)
    assert (listed.json()["refunds"], listed.json()["refundable_fen"]) == ([], 0)
