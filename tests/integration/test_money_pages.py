"""The wallet page and the operators' money page, over HTTP."""

from __future__ import annotations

from uuid import UUID

import httpx
from sqlalchemy import text

from tests.factories import PASSWORD, register
from tests.integration.answers import csrf_from, form_id_from
from tests.integration.test_withdrawals import fund
from xingdong.core.db import Database


async def sign_in(client: httpx.AsyncClient, phone: str) -> None:
    page = await client.get("/login")
    answer = await client.post(
        "/login", data={"phone": phone, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    )
    assert answer.status_code == 303


async def test_a_worker_binds_an_account_and_withdraws_from_the_wallet_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await fund(db, user, 20_000)
    await sign_in(client, user.phone)
    page = await client.get("/wallet")
    assert 'data-available-fen="20000"' in page.text
    bad = await client.post(
        "/wallet/payout-account",
        data={
            "kind": "bank",
            "number": "12",
            "number_again": "12",
            "holder_name": "王小明",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert bad.status_code == 422
    assert 'data-error-for="number"' in bad.text
    # A card number with one digit mistyped fails its check digit; an Alipay account is a
    # mobile number or an e-mail address. Nothing is bound for good by a typo.
    for kind, typed, told in (
        ("bank", "6222 0212 3456 7890 123", "this number is not a card"),
        ("alipay", "123456", "its mobile number or its e-mail address"),
    ):
        refused = await client.post(
            "/wallet/payout-account",
            data={
                "kind": kind,
                "number": typed,
                "number_again": typed,
                "holder_name": "王小明",
                "csrf_token": csrf_from(page.text),
            },
            headers={"Accept-Language": "en"},
        )
        assert refused.status_code == 422 and told in refused.text, typed
    # The holder's name is asked (a bank pays only to it), and the number twice: a number
    # typed differently the second time binds nothing.
    account = {"kind": "alipay", "number": "user@example.com", "csrf_token": csrf_from(page.text)}
    for more, field in (
        ({"holder_name": " ", "number_again": "user@example.com"}, "holder_name"),
        ({"holder_name": "王小明", "number_again": "user@exarnple.com"}, "number_again"),
    ):
        refused = await client.post("/wallet/payout-account", data={**account, **more})
        assert refused.status_code == 422, more
        assert f'data-error-for="{field}"' in refused.text
        assert 'value="user@example.com"' not in refused.text  # the number is typed again
    assert 'value="王小明"' in refused.text  # the name is kept
    bound = await client.post(
        "/wallet/payout-account",
        data={**account, "holder_name": "王小明", "number_again": "user@example.com"},
    )
    assert bound.status_code == 303
    page = await client.get("/wallet")
    assert 'data-payout-masked="u***@example.com"' in page.text
    assert "<span data-payout-holder>王**</span>" in page.text
    form = {"amount": "50", "form_id": form_id_from(page.text), "csrf_token": csrf_from(page.text)}
    first = await client.post("/wallet/withdrawals", data=form)
    second = await client.post("/wallet/withdrawals", data=form)  # pressed twice
    assert first.status_code == second.status_code == 303
    page = await client.get("/wallet")
    assert page.text.count("data-withdrawal-status=") == 1
    assert 'data-available-fen="15000"' in page.text
    too_much = await client.post(
        "/wallet/withdrawals",
        data={
            "amount": "999",
            "form_id": form_id_from(page.text),
            "csrf_token": csrf_from(page.text),
        },
    )
    assert too_much.status_code == 409
    assert 'class="notice error"' in too_much.text


async def test_operators_see_the_money_page_and_decide(
    client: httpx.AsyncClient, db: Database
) -> None:
    worker = await register(client)
    operator = await register(client)
    await fund(db, worker, 500_000)
    await client.put(
        "/api/v1/me/payout-account",
        json={"kind": "bank", "number": "6222500011112222", "holder_name": "王小明"},
        headers=worker.auth,
    )
    big = await client.post(
        "/api/v1/me/withdrawals",
        json={"amount_fen": 300_000},
        headers={**worker.auth, "Idempotency-Key": "big"},
    )
    assert big.json()["status"] == "requested"
    await sign_in(client, operator.phone)
    assert (await client.get("/ops/money")).status_code == 403
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'operator')"),
            {"id": operator.id},
        )
    page = await client.get("/ops/money")
    assert page.status_code == 200
    assert "data-ledger-ok" in page.text
    assert f'data-review-withdrawal="{big.json()["id"]}"' in page.text
    assert 'data-total="person:available"' in page.text
    # The wallet's ¥5,000 is posted; the ¥3,000 asked for is on its way out of it.
    row = page.text.split('data-total="person:available"', 1)[1].split("</tr>", 1)[0]
    assert "¥ 5,000.00" in row and 'data-reserved-out="300000"' in row and "¥ 3,000.00" in row
    decided = await client.post(
        f"/ops/withdrawals/{big.json()['id']}",
        data={"decision": "approve", "csrf_token": csrf_from(page.text)},
    )
    assert decided.status_code == 303
    mine = (await client.get("/api/v1/me/withdrawals", headers=worker.auth)).json()["items"]
    assert mine[0]["status"] == "approved"
    assert UUID(mine[0]["id"])
