"""Manual adjustments under the four-eyes rule, and reconciliation with the providers."""

from __future__ import annotations

from uuid import UUID

import httpx
from sqlalchemy import select, text

from tests.factories import User, create_org, register
from tests.integration.test_deposits import notify, start_deposit
from tests.integration.test_withdrawals import bind, fund, make_operator, pay_out, withdraw
from xingdong.core.db import Database
from xingdong.ledger import reconciliation
from xingdong.ledger import service as ledger
from xingdong.ledger.models import Transfer
from xingdong.ledger.wallets import available_account


async def two_operators(client: httpx.AsyncClient, db: Database) -> tuple[User, User]:
    first, second = await register(client), await register(client)
    await make_operator(db, first)
    await make_operator(db, second)
    return first, second


async def test_an_adjustment_moves_money_only_after_a_second_operator(
    client: httpx.AsyncClient, db: Database
) -> None:
    worker = await register(client)
    await fund(db, worker, 1_000)
    first, second = await two_operators(client, db)
    key = available_account(UUID(worker.id))
    asked = await client.post(
        "/api/v1/ops/adjustments",
        json={"account_key": key, "amount_fen": 250, "reason": "补发漏记的奖励"},
        headers=first.auth,
    )
    assert asked.status_code == 201, asked.text
    adjustment_id = asked.json()["id"]
    async with db.sessionmaker() as s:
        assert (await ledger.balance(s, key)).posted == 1_000  # nothing moved yet
    own = await client.post(f"/api/v1/ops/adjustments/{adjustment_id}/approve", headers=first.auth)
    assert own.status_code == 403
    assert own.json()["code"] == "own_adjustment"
    done = await client.post(
        f"/api/v1/ops/adjustments/{adjustment_id}/approve", headers=second.auth
    )
    assert done.json()["status"] == "applied"
    again = await client.post(
        f"/api/v1/ops/adjustments/{adjustment_id}/approve", headers=second.auth
    )
    assert again.status_code == 409
    async with db.sessionmaker() as s:
        assert (await ledger.balance(s, key)).posted == 1_250
        codes = (await s.execute(select(Transfer.code).order_by(Transfer.id))).scalars().all()
        assert (await ledger.verify(s)).problems == []
    assert codes == ["reward_released", "adjustment"]


async def test_bad_adjustments_are_refused(client: httpx.AsyncClient, db: Database) -> None:
    worker = await register(client)
    first, second = await two_operators(client, db)
    # Each refusal for its own reason: the worker's wallet has no account yet, so a zero
    # amount let through would be refused as an unknown account (404) all the same.
    for body, status, code in (
        (
            {"account_key": "person:nobody:available", "amount_fen": 5, "reason": "x"},
            404,
            "unknown_account",
        ),
        (
            {"account_key": available_account(UUID(worker.id)), "amount_fen": 0, "reason": "x"},
            422,
            "validation_failed",
        ),
    ):
        response = await client.post("/api/v1/ops/adjustments", json=body, headers=first.auth)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    await fund(db, worker, 100)
    key = available_account(UUID(worker.id))
    no_reason = await client.post(
        "/api/v1/ops/adjustments",
        json={"account_key": key, "amount_fen": -50, "reason": " "},
        headers=first.auth,
    )
    assert no_reason.status_code == 422
    worker_try = await client.post(
        "/api/v1/ops/adjustments",
        json={"account_key": key, "amount_fen": 50, "reason": "自己加钱"},
        headers=worker.auth,
    )
    assert worker_try.status_code == 403
    # Below zero is refused when asked, for a wallet and for the platform's own accounts.
    overdraw = await client.post(
        "/api/v1/ops/adjustments",
        json={"account_key": key, "amount_fen": -500, "reason": "追回"},
        headers=first.auth,
    )
    assert overdraw.status_code == 409
    assert overdraw.json()["code"] == "insufficient_funds"
    # The platform's account must exist, or the answer is "no such account" (404) whatever
    # the overdraft rule does.
    async with db.session_scope() as s:
        await ledger.open_account(s, ledger.AccountSpec("platform:revenue"))
    revenue = await client.post(
        "/api/v1/ops/adjustments",
        json={"account_key": "platform:revenue", "amount_fen": -1_000_000, "reason": "错账"},
        headers=first.auth,
    )
    assert revenue.status_code == 409, revenue.text
    assert revenue.json()["code"] == "insufficient_funds"
    # A typo of a few zeros is refused, not applied.
    huge = await client.post(
        "/api/v1/ops/adjustments",
        json={"account_key": key, "amount_fen": 1_000_000_000_000, "reason": "补发"},
        headers=first.auth,
    )
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "amount_fen"
    # Asked within what it held, then the balance moves before the second operator: the
    # approval checks again.
    ok = await client.post(
        "/api/v1/ops/adjustments",
        json={"account_key": key, "amount_fen": -80, "reason": "追回"},
        headers=first.auth,
    )
    assert ok.status_code == 201, ok.text
    async with db.session_scope() as s:
        await ledger.open_account(s, ledger.AccountSpec("platform:revenue"))
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                "spent-meanwhile", key, "platform:revenue", 50, "withdrawal_fee"
            ),
        )
    refused = await client.post(
        f"/api/v1/ops/adjustments/{ok.json()['id']}/approve", headers=second.auth
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_funds"
    async with db.sessionmaker() as s:
        assert (await ledger.balance(s, key)).posted == 50


async def test_reconciliation_finds_what_the_ledger_and_providers_disagree_on(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    operator = await register(client)
    await make_operator(db, operator)
    org_id = await create_org(client, owner)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    # A normal deposit: the provider recorded it and the notice arrived.
    normal = (await start_deposit(client, owner, org_id, 1_000, "a")).json()
    await runtime.payments.record_payment(order_id=normal["id"], amount=1_000, status="paid")
    await notify(client, normal["id"], 1_000)
    # The payer paid but the notice never arrived.
    lost = (await start_deposit(client, owner, org_id, 2_000, "b")).json()
    await runtime.payments.record_payment(order_id=lost["id"], amount=2_000, status="paid")
    # A normal withdrawal, and one the provider paid but we never settled.
    worker = await register(client)
    await fund(db, worker, 50_000)
    await bind(client, worker)
    paid = (await withdraw(client, worker, 2_000, "w1")).json()
    await pay_out(client, paid["id"])
    stuck = (await withdraw(client, worker, 3_000, "w2")).json()
    await runtime.payouts.pay(
        payout_id=stuck["id"], account_number="6222500011112222", holder_name=None, amount=2_900
    )
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE ledger_withdrawals SET status = 'processing' WHERE id = :id"),
            {"id": stuck["id"]},
        )
    report = await client.post("/api/v1/ops/reconciliation", headers=operator.auth)
    assert report.status_code == 201
    kinds = sorted((d["kind"], d["id"]) for d in report.json()["differences"])
    assert kinds == sorted(
        [("deposit_not_credited", lost["id"]), ("payout_not_settled", stuck["id"])]
    )
    assert report.json()["checked"] == 4
    refused = await client.post("/api/v1/ops/reconciliation", headers=owner.auth)
    assert refused.status_code == 403


async def test_reconciliation_asks_about_recent_rows_and_those_under_way_only(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    # A month-old top-up the ledger says was paid, whose payment the provider has lost,
    # and a month-old one that still waits, paid at the provider (its notice lost).
    settled = (await start_deposit(client, owner, org_id, 1_000, "old-settled")).json()
    await notify(client, settled["id"], 1_000)
    waiting = (await start_deposit(client, owner, org_id, 2_000, "old-waiting")).json()
    await runtime.payments.record_payment(order_id=waiting["id"], amount=2_000, status="paid")
    recent = (await start_deposit(client, owner, org_id, 3_000, "recent")).json()
    await runtime.payments.record_payment(order_id=recent["id"], amount=3_000, status="paid")
    await notify(client, recent["id"], 3_000)
    # Started a month ago and paid today (after an old tab was used), with no payment at
    # the provider: settled of late, so compared, and found to differ.
    late = (await start_deposit(client, owner, org_id, 4_000, "paid-late")).json()
    await notify(client, late["id"], 4_000)
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE ledger_deposits SET created_at = now() - interval '30 days'"
                 " WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": [settled["id"], waiting["id"], late["id"]]},
        )  # fmt: skip
        await s.execute(
            text("UPDATE ledger_deposits SET paid_at = now() - interval '30 days' WHERE id = :id"),
            {"id": settled["id"]},
        )

    async def differences(days: int | None) -> tuple[int, list[tuple[str, str]]]:
        async with db.session_scope() as s:
            report = await reconciliation.reconcile(
                s, payments=runtime.payments, payouts=runtime.payouts, days=days
            )
        return report.checked, sorted((d["kind"], d["id"]) for d in report.differences)

    # The last week: the recent one (in agreement), the one paid of late and the one
    # still under way; the month-old one settled a month ago is not asked about again.
    assert await differences(7) == (
        3,
        sorted([("deposit_not_credited", waiting["id"]), ("deposit_without_payment", late["id"])]),
    )
    # Everything ever made (the command's --all): the month-old one is asked about too.
    assert await differences(None) == (
        4,
        sorted(
            [
                ("deposit_not_credited", waiting["id"]),
                ("deposit_without_payment", late["id"]),
                ("deposit_without_payment", settled["id"]),
            ]
        ),
    )
