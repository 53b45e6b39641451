"""The money console's tools for operators: reconciling with the providers now, and
asking for, approving and rejecting adjustments on the page, four eyes kept."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from tests.integration.answers import csrf_from
from tests.integration.conftest import make_settings
from tests.integration.test_money_pages import sign_in
from tests.lifecycle_world import World, build_world
from xingdong.identity.models import Organisation
from xingdong.ledger import service as ledger
from xingdong.ledger.deposits import org_account
from xingdong.ledger.models import Adjustment
from xingdong.ledger.reconciliation import latest_report
from xingdong.ledger.wallets import open_wallet

ENGLISH = {"Accept-Language": "en"}
FUNDS = 1_000_000


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=1, funds=FUNDS)
    yield built
    await built.db.dispose()


async def money_page(client: httpx.AsyncClient) -> str:
    page = await client.get("/ops/money", headers=ENGLISH)
    assert page.status_code == 200
    return page.text


async def test_an_operator_reconciles_now(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.operator.phone)
    csrf = csrf_from(await money_page(client))
    done = await client.post(
        "/ops/reconciliation", data={"csrf_token": csrf}, headers=ENGLISH, follow_redirects=True
    )
    assert "Reconciled: no differences." in done.text
    assert "data-reconciliation-ok" in done.text
    assert "started or settled in the last 7 days, and about those still under way" in done.text
    async with world.db.sessionmaker() as s:
        report = await latest_report(s)
    assert report is not None and report.differences == []


async def test_an_adjustment_is_asked_for_by_one_operator_and_applied_by_another(
    client: httpx.AsyncClient, world: World
) -> None:
    account = org_account(world.org_id)
    await sign_in(client, world.operator.phone)
    csrf = csrf_from(await money_page(client))
    asked = await client.post(
        "/ops/adjustments",
        data={"account_key": account, "amount": "-1,234.50", "reason": "重复充值退回 #77",
              "csrf_token": csrf},
        headers=ENGLISH, follow_redirects=True,
    )  # fmt: skip
    assert "another operator must approve it" in asked.text
    assert 'data-adjustment-amount="-123450"' in asked.text and "−¥1,234.50" in asked.text
    assert "data-own-adjustment" in asked.text and "data-approve-adjustment" not in asked.text
    async with world.db.sessionmaker() as s:
        adjustment = await s.scalar(select(Adjustment))
    assert adjustment is not None and adjustment.status == "requested"
    # The one who asked cannot approve it, even by sending the form.
    own = await client.post(
        f"/ops/adjustments/{adjustment.id}",
        data={"decision": "approve", "csrf_token": csrf},
        headers=ENGLISH,
    )
    assert own.status_code == 403 and "Another operator must approve" in own.text
    client.cookies.clear()
    await sign_in(client, world.operator2.phone)
    page = await money_page(client)
    assert "data-approve-adjustment" in page
    # The approver sees whose money it is, by name, with a link to them.
    async with world.db.sessionmaker() as s:
        org = await s.get(Organisation, world.org_id)
    assert org is not None
    assert f'<a href="/orgs/{world.org_id}" data-adjustment-holder>{org.name}</a>' in page
    assert f"Apply −¥1,234.50 to {org.name} ({account}) now?" in page
    # A form that does not say which button (cut short, or changed by hand) decides
    # nothing: it used to reject.
    for decision in ("", "approve-typo"):
        unsaid = await client.post(
            f"/ops/adjustments/{adjustment.id}",
            data={"decision": decision, "csrf_token": csrf_from(page)},
            headers=ENGLISH,
        )
        assert unsaid.status_code == 422 and "press one of its buttons" in unsaid.text
        async with world.db.sessionmaker() as s:
            kept = await s.get(Adjustment, adjustment.id)
        assert kept is not None and kept.status == "requested"
    applied = await client.post(
        f"/ops/adjustments/{adjustment.id}",
        data={"decision": "approve", "csrf_token": csrf_from(page)},
        headers=ENGLISH, follow_redirects=True,
    )  # fmt: skip
    assert "Adjustment applied." in applied.text and "data-no-adjustments" in applied.text
    async with world.db.sessionmaker() as s:
        balance = await ledger.balance(s, account)
        stored = await s.get(Adjustment, adjustment.id)
        assert (await ledger.verify(s)).problems == []
    assert balance.available == FUNDS - 123_450
    assert stored is not None and stored.status == "applied"
    assert stored.approved_by == world.operator2.id


async def test_bad_adjustments_are_refused_beside_their_field(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, world.operator.phone)
    csrf = csrf_from(await money_page(client))
    cases = [
        ({"account_key": org_account(world.org_id), "amount": "abc", "reason": "x"}, "amount_fen"),
        ({"account_key": "person:nobody:available", "amount": "5", "reason": "x"}, "account_key"),
        ({"account_key": org_account(world.org_id), "amount": "5", "reason": "长" * 201}, "reason"),
        ({"account_key": org_account(world.org_id), "amount": "5", "reason": " "}, "reason"),
    ]
    for data, field in cases:
        refused = await client.post(
            "/ops/adjustments", data={**data, "csrf_token": csrf}, headers=ENGLISH
        )
        # An account that does not exist is "not found"; the rest are fields to correct.
        expected = 404 if field == "account_key" else 422
        assert refused.status_code == expected, (field, refused.status_code)
        assert f'data-error-for="{field}"' in refused.text, field
        assert f'value="{data["amount"]}"' in refused.text  # what was typed stays
    # An empty form is told everything it lacks at once.
    empty = await client.post(
        "/ops/adjustments",
        data={"account_key": "", "amount": "", "reason": "", "csrf_token": csrf},
        headers=ENGLISH,
    )
    assert empty.status_code == 422
    for field in ("account_key", "amount_fen", "reason"):
        assert f'data-error-for="{field}"' in empty.text, field
    async with world.db.sessionmaker() as s:
        assert await s.scalar(select(Adjustment)) is None


async def test_a_worker_reads_the_reason_of_a_correction_of_their_wallet(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    account = f"person:{worker.id}:available"
    async with world.db.session_scope() as s:
        await open_wallet(s, worker.id)
    await sign_in(client, world.operator.phone)
    csrf = csrf_from(await money_page(client))
    help_text = (await client.get("/ops/money", headers=ENGLISH)).text
    assert "a worker beside the correction in their wallet" in help_text
    await client.post(
        "/ops/adjustments",
        data={"account_key": account, "amount": "3.50", "reason": "漏发的奖励补发 #12",
              "csrf_token": csrf},
    )  # fmt: skip
    client.cookies.clear()
    await sign_in(client, world.operator2.phone)
    page = await money_page(client)
    async with world.db.sessionmaker() as s:
        adjustment = await s.scalar(select(Adjustment))
    assert adjustment is not None
    await client.post(
        f"/ops/adjustments/{adjustment.id}",
        data={"decision": "approve", "csrf_token": csrf_from(page)},
    )
    client.cookies.clear()
    await sign_in(client, worker.phone)
    wallet = (await client.get("/wallet", headers=ENGLISH)).text
    row = wallet.split('data-movement="adjustment"', 1)[1].split("</tr>", 1)[0]
    assert "Correction by the platform" in row
    assert "<small data-movement-reason>漏发的奖励补发 #12</small>" in row


async def test_a_persons_page_starts_an_adjustment_of_their_wallet(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    await sign_in(client, world.operator.phone)
    page = await client.get(f"/ops/people/{worker.id}", headers=ENGLISH)
    link = page.text.split("data-adjust-wallet", 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert link == f"/ops/money?account=person%3A{worker.id}%3Aavailable#adjustments"
    money = await client.get(link.split("#", 1)[0], headers=ENGLISH)
    assert "<details open>" in money.text
    assert f'name="account_key" value="person:{worker.id}:available"' in money.text
