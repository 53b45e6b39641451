"""Wallets and withdrawals: limits, review by operators (four eyes), payouts through the
sandbox provider, failures, and a crash between the provider's answer and ours."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

import httpx
from sqlalchemy import func, select, text

from tests.factories import User, create_org, register
from xingdong.core.db import Database
from xingdong.ledger import service as ledger
from xingdong.ledger import withdrawals
from xingdong.ledger.models import Deposit, PayoutAccount, SandboxPayout, Withdrawal
from xingdong.ledger.wallets import available_account, open_wallet, pending_account


async def fund(db: Database, user: User, amount: int, tag: str = "1") -> None:
    """Money a person has earned and that has passed its hold."""
    person_id = UUID(user.id)
    async with db.session_scope() as s:
        await ledger.open_account(s, ledger.AccountSpec("external:rewards"))
        await open_wallet(s, person_id)
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                f"reward-{user.id}-{tag}",
                "external:rewards",
                available_account(person_id),
                amount,
                "reward_released",
                reference="task:demo",
            ),
        )


async def bind(client: httpx.AsyncClient, user: User, number: str = "6222500011112222") -> None:
    response = await client.put(
        "/api/v1/me/payout-account",
        json={"kind": "bank", "number": number, "holder_name": "王小明"},
        headers=user.auth,
    )
    assert response.status_code == 201, response.text
    assert response.json()["masked"] == "**** " + number[-4:]


async def withdraw(client: httpx.AsyncClient, user: User, amount: int, key: str) -> httpx.Response:
    return await client.post(
        "/api/v1/me/withdrawals",
        json={"amount_fen": amount},
        headers={**user.auth, "Idempotency-Key": key},
    )


async def wallet(client: httpx.AsyncClient, user: User) -> dict[str, object]:
    response = await client.get("/api/v1/me/wallet", headers=user.auth)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def make_operator(db: Database, user: User) -> None:
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'operator')"),
            {"id": user.id},
        )


async def pay_out(client: httpx.AsyncClient, withdrawal_id: str) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return await withdrawals.execute_payout(runtime.db, runtime.payouts, UUID(withdrawal_id))


async def sound(db: Database) -> None:
    async with db.sessionmaker() as s:
        assert (await ledger.verify(s)).problems == []


async def test_a_small_withdrawal_is_paid_with_its_fee(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await fund(db, user, 10_000)
    await bind(client, user)
    response = await withdraw(client, user, 5_000, "w1")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["fee"], body["approvals_needed"]) == ("approved", 100, 0)
    during = await wallet(client, user)
    assert (during["available_fen"], during["reserved_fen"]) == (5_000, 5_000)
    async with db.sessionmaker() as s:
        jobs = (
            (await s.execute(text("SELECT args->>'withdrawal_id' FROM procrastinate_jobs")))
            .scalars()
            .all()
        )
    assert body["id"] in jobs  # enqueued in the same transaction
    assert await pay_out(client, body["id"]) == "paid"
    assert await pay_out(client, body["id"]) == "paid"  # a retried job pays nothing more
    after = await wallet(client, user)
    assert (after["available_fen"], after["reserved_fen"]) == (5_000, 0)
    movements = after["movements"]
    assert isinstance(movements, list)
    assert [(m["code"], m["amount"], m["state"]) for m in movements] == [
        ("withdrawal_fee", -100, "settled"),
        ("withdrawal", -4_900, "settled"),
        ("reward_released", 10_000, "posted"),
    ]
    async with db.sessionmaker() as s:
        revenue = await ledger.balance(s, "platform:revenue")
        paid = (await s.execute(select(SandboxPayout.amount, SandboxPayout.holder_name))).one()
    assert revenue.posted == 100
    assert tuple(paid) == (4_900, "王小明")  # the provider is told whose account it is
    await sound(db)


async def test_a_refused_payout_gives_the_money_back(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await fund(db, user, 3_000)
    await bind(client, user, number="6222600011110000")
    body = (await withdraw(client, user, 3_000, "w1")).json()
    assert await pay_out(client, body["id"]) == "failed"
    mine = (await client.get("/api/v1/me/withdrawals", headers=user.auth)).json()["items"]
    assert mine[0]["status"] == "failed"
    assert mine[0]["failure_reason"]
    assert (await wallet(client, user))["available_fen"] == 3_000
    await sound(db)


async def test_one_key_acts_once_whatever_the_kind_of_request(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await fund(db, user, 10_000)
    await bind(client, user)
    org_id = await create_org(client, user)

    async def top_up() -> httpx.Response:
        return await client.post(
            f"/api/v1/orgs/{org_id}/deposits",
            json={"amount_fen": 5_000},
            headers={**user.auth, "Idempotency-Key": "same"},
        )

    # Sent together: whichever comes first acts, the other is refused.
    answers = await asyncio.gather(top_up(), withdraw(client, user, 2_000, "same"))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    (refused,) = [a for a in answers if a.status_code == 409]
    acted = "withdrawal" if refused is answers[0] else "top_up"
    assert (refused.json()["code"], refused.json()["used_for"]) == (
        "idempotency_key_reused",
        acted,
    )
    async with db.sessionmaker() as s:
        withdrawn = await s.scalar(select(func.count()).select_from(Withdrawal))
        topped_up = await s.scalar(select(func.count()).select_from(Deposit))
    assert (withdrawn, topped_up) == ((1, 0) if acted == "withdrawal" else (0, 1))
    # The one that acted still replays; the other kind stays refused.
    again = await (withdraw(client, user, 2_000, "same") if acted == "withdrawal" else top_up())
    assert again.status_code == 201
    other = await (top_up() if acted == "withdrawal" else withdraw(client, user, 2_000, "same"))
    assert other.status_code == 409


async def test_withdrawals_are_listed_a_page_at_a_time(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await fund(db, user, 9_000)
    await bind(client, user)
    made = [(await withdraw(client, user, 2_000, f"p{n}")).json()["id"] for n in range(3)]
    url = "/api/v1/me/withdrawals"
    first = (await client.get(url, params={"limit": 2}, headers=user.auth)).json()
    assert [w["id"] for w in first["items"]] == made[:0:-1]  # newest first
    rest = (
        await client.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=user.auth
        )
    ).json()
    assert [w["id"] for w in rest["items"]] == made[:1] and rest["next_cursor"] is None
    bad = await client.get(url, params={"cursor": "nope"}, headers=user.auth)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "cursor")


async def test_bad_withdrawals_are_refused_and_change_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await fund(db, user, 5_000)
    no_account = await withdraw(client, user, 2_000, "a")
    assert no_account.status_code == 422
    assert no_account.json()["code"] == "payout_account_required"
    await bind(client, user)
    rebind = await client.put(
        "/api/v1/me/payout-account",
        json={"kind": "bank", "number": "6222499988887777", "holder_name": "王小明"},
        headers=user.auth,
    )
    assert rebind.status_code == 409
    small = await withdraw(client, user, 999, "b")
    assert small.status_code == 422
    # Amounts people read are in yuan; the figures for programs stay in fen.
    assert (small.json()["low"], small.json()["low_yuan"]) == (1_000, "10.00")
    assert "¥10.00" in small.json()["detail"] and "分" not in small.json()["detail"]
    over = await withdraw(client, user, 6_000, "c")
    assert over.status_code == 409
    assert over.json()["code"] == "insufficient_funds"
    assert (over.json()["available"], over.json()["amount"]) == (5_000, 6_000)
    assert "¥50.00" in over.json()["detail"] and "¥60.00" in over.json()["detail"]  # fee in
    missing_key = await client.post(
        "/api/v1/me/withdrawals", json={"amount_fen": 2_000}, headers=user.auth
    )
    assert missing_key.status_code == 422
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Withdrawal))).scalar_one() == 0
    assert (await wallet(client, user))["available_fen"] == 5_000
    await sound(db)


async def test_the_daily_limit_holds_under_parallel_requests(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await fund(db, user, 2_000_000)
    await bind(client, user)
    answers = await asyncio.gather(*(withdraw(client, user, 150_000, f"p{n}") for n in range(6)))
    statuses = sorted(a.status_code for a in answers)
    # ¥5,000 a day: three of ¥1,500 fit, the other three are refused.
    assert statuses == [201, 201, 201, 409, 409, 409]
    refused = [a.json()["code"] for a in answers if a.status_code == 409]
    assert set(refused) == {"withdrawal_limit_reached"}
    limit = next(a.json() for a in answers if a.status_code == 409)
    assert "¥5,000.00" in limit["detail"] and limit["limit"] == 500_000
    assert (await wallet(client, user))["reserved_fen"] == 450_000


async def test_large_withdrawals_wait_for_two_different_operators(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    first_operator = await register(client)
    second_operator = await register(client)
    await make_operator(db, first_operator)
    await make_operator(db, second_operator)
    await make_operator(db, user)
    await fund(db, user, 2_000_000)
    await bind(client, user)
    client.app.state.runtime.settings.withdrawal_daily_limit_fen = 5_000_000  # type: ignore[attr-defined]
    body = (await withdraw(client, user, 1_200_000, "big")).json()
    assert (body["status"], body["approvals_needed"]) == ("requested", 2)
    assert body["review_reasons"] == ["large_amount"]
    queue = (await client.get("/api/v1/ops/withdrawals", headers=first_operator.auth)).json()
    assert [w["id"] for w in queue] == [body["id"]]
    own = await client.post(f"/api/v1/ops/withdrawals/{body['id']}/approve", headers=user.auth)
    assert own.status_code == 403
    assert own.json()["code"] == "own_withdrawal"
    once = await client.post(
        f"/api/v1/ops/withdrawals/{body['id']}/approve", headers=first_operator.auth
    )
    assert once.json()["status"] == "requested"
    twice = await client.post(
        f"/api/v1/ops/withdrawals/{body['id']}/approve", headers=first_operator.auth
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "already_approved"
    done = await client.post(
        f"/api/v1/ops/withdrawals/{body['id']}/approve", headers=second_operator.auth
    )
    assert done.json()["status"] == "approved"
    assert await pay_out(client, body["id"]) == "paid"
    await sound(db)


async def test_pieces_of_a_large_amount_add_up_to_the_review_thresholds(
    client: httpx.AsyncClient, db: Database
) -> None:
    """Three withdrawals of ¥1,500 in a day, each under ¥2,000: the second brings the day
    to ¥3,000 (one operator must look), the third to ¥4,500 (two must)."""
    user = await register(client)
    await fund(db, user, 700_000)
    await bind(client, user)
    answers = [(await withdraw(client, user, 150_000, f"piece-{n}")).json() for n in range(3)]
    assert [(a.get("status"), a.get("approvals_needed")) for a in answers] == [
        ("approved", 0),
        ("requested", 1),
        ("requested", 2),
    ]
    assert answers[2]["review_reasons"] == ["large_amount"]


async def test_workers_cannot_approve_and_rejection_returns_the_money(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    operator = await register(client)
    await make_operator(db, operator)
    await fund(db, user, 300_000)
    await bind(client, user)
    body = (await withdraw(client, user, 250_000, "w")).json()
    assert body["status"] == "requested"
    worker_try = await client.post(
        f"/api/v1/ops/withdrawals/{body['id']}/approve", headers=user.auth
    )
    assert worker_try.status_code == 403
    no_reason = await client.post(
        f"/api/v1/ops/withdrawals/{body['id']}/reject", json={"reason": " "}, headers=operator.auth
    )
    assert no_reason.status_code == 422
    rejected = await client.post(
        f"/api/v1/ops/withdrawals/{body['id']}/reject",
        json={"reason": "账户信息需核实"},
        headers=operator.auth,
    )
    assert rejected.json()["status"] == "rejected"
    again = await client.post(
        f"/api/v1/ops/withdrawals/{body['id']}/approve", headers=operator.auth
    )
    assert again.status_code == 409
    assert (await wallet(client, user))["available_fen"] == 300_000
    await sound(db)


async def test_a_shared_payout_account_sends_the_request_to_review(
    client: httpx.AsyncClient, db: Database
) -> None:
    first, second = await register(client), await register(client)
    for user in (first, second):
        await fund(db, user, 5_000)
        await bind(client, user, number="6222533344445555")
    body = (await withdraw(client, second, 2_000, "w")).json()
    assert body["status"] == "requested"
    assert body["review_reasons"] == ["shared_payout_account"]


async def test_a_card_typed_in_full_width_digits_is_the_same_card(
    client: httpx.AsyncClient, db: Database
) -> None:
    first, second = await register(client), await register(client)
    for user in (first, second):
        await fund(db, user, 5_000)
    await bind(client, first, number="6222533344445555")
    typed = "６２２２\u3000５３３３\u3000４４４４\u3000５５５５"  # a Chinese input method's digits
    bound = await client.put(
        "/api/v1/me/payout-account",
        json={"kind": "bank", "number": typed, "holder_name": "王小明"},
        headers=second.auth,
    )
    assert bound.status_code == 201 and bound.json()["masked"] == "**** 5555"
    async with db.sessionmaker() as s:
        stored = await s.get(PayoutAccount, UUID(second.id))
    assert stored is not None and stored.account_number == "6222533344445555"
    body = (await withdraw(client, second, 2_000, "w")).json()
    assert body["review_reasons"] == ["shared_payout_account"]


async def test_a_crash_between_the_provider_and_our_settlement_is_repaired_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    """The provider paid, then the process died before settling: the recovery job asks
    the provider, settles once, and the provider paid once."""
    user = await register(client)
    await fund(db, user, 8_000)
    await bind(client, user)
    body = (await withdraw(client, user, 8_000, "w")).json()
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    async with db.session_scope() as s:
        await s.execute(
            text(
                "UPDATE ledger_withdrawals SET status = 'processing', "
                "updated_at = now() - interval '5 minutes'"
            )
        )
    await runtime.payouts.pay(
        payout_id=body["id"], account_number="6222500011112222", holder_name="王小明", amount=7_900
    )
    # ... and here the process died. The sweeper runs:
    assert (
        await withdrawals.settle_stuck_withdrawals(
            runtime.db, runtime.payouts, older_than=timedelta(minutes=2)
        )
        == 1
    )
    assert await withdrawals.settle_stuck_withdrawals(runtime.db, runtime.payouts) == 0
    async with db.sessionmaker() as s:
        payouts = (await s.execute(select(func.count()).select_from(SandboxPayout))).scalar_one()
        status = (await s.execute(select(Withdrawal.status))).scalar_one()
        pending = await ledger.balance(s, pending_account(UUID(user.id)))
    assert payouts == 1
    assert status == "paid"
    assert pending.posted == 0
    assert (await wallet(client, user))["available_fen"] == 0
    await sound(db)
