"""An organisation's monthly account statement (机构对账单) on a real PostgreSQL: a brand's
top-ups, campaign funding and returns appear in order with the balance after each, the
sums by kind and the two balances agree with the ledger; a period's start splits history
exactly; pages of movements join up; the CSV has the opening and closing lines and the
page's language; read while money moves in parallel transactions, every statement adds
up; members, read keys and operators read it, strangers find nothing; a month badly
written or not begun is refused with a readable error."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import unquote
from uuid import UUID

import httpx
import pytest
from sqlalchemy import update

from tests.integration.conftest import make_settings
from tests.integration.test_campaign_pages import browser_of
from tests.integration.test_deposits import notify
from tests.integration.test_personal_data import token_of
from tests.lifecycle_world import World, build_world, live_campaign, unique_key
from tests.lifecycle_world import window_nearly_over as long_running
from xingdong.campaigns import service as campaigns
from xingdong.core.clock import utcnow
from xingdong.identity import service as identity
from xingdong.identity.models import Organisation
from xingdong.insights import account_statements
from xingdong.ledger import adjustments, refunds
from xingdong.ledger import service as ledger
from xingdong.ledger.account_statement import period_statement
from xingdong.ledger.deposits import DEPOSITS_ACCOUNT, org_account
from xingdong.ledger.models import Deposit

API = "/api/v1/orgs/{org}/account-statement"
ENGLISH = {"Accept-Language": "en"}
CHINESE = {"Accept-Language": "zh-CN"}


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=1, funds=500_000)
    yield built
    await built.db.dispose()


async def top_up(world: World, amount: int) -> None:
    async with world.db.session_scope() as s:
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                unique_key(), DEPOSITS_ACCOUNT, org_account(world.org_id), amount, "deposit"
            ),
        )


async def fund_and_close(world: World, quantity: int = 5, price: int = 1000) -> int:
    """A campaign funded (quantity times price out) and closed at once (all of it back)."""
    campaign = await live_campaign(world, quantity=quantity, unit_price=price, **long_running())
    async with world.db.session_scope() as s:
        _closed, returned = await campaigns.close_campaign(
            s, actor=await world.actor(world.owner), campaign_id=campaign.id
        )
    return returned


async def test_the_month_lists_each_movement_with_the_balance_after_it(
    client: httpx.AsyncClient, world: World
) -> None:
    await top_up(world, 20_000)
    returned = await fund_and_close(world)
    assert returned == 5 * 1000
    auth = {"Authorization": f"Bearer {await token_of(client, world.owner)}", **ENGLISH}
    answer = await client.get(API.format(org=world.org_id), headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["month"] == account_statements.this_month().text
    assert body["running"] is True
    assert body["account"] == f"org:{world.org_id}:available"
    # The world was funded with ¥5,000 this month: everything is in this month.
    assert body["opening_fen"] == 0
    assert [e["code"] for e in body["entries"]] == [
        "deposit", "deposit", "campaign_fund", "campaign_return",
    ]  # fmt: skip
    assert [e["amount_fen"] for e in body["entries"]] == [500_000, 20_000, -5000, 5000]
    assert [e["balance_after_fen"] for e in body["entries"]] == [
        500_000, 520_000, 515_000, 520_000,
    ]  # fmt: skip
    assert body["entries"][2]["reference_name"] == "关注品牌官方号"
    assert body["entries"][2]["label"] == "Campaign budget set aside"
    by_code = {line["code"]: line for line in body["lines"]}
    assert by_code["deposit"] == {
        "code": "deposit", "label": "Top-up", "inflow_fen": 520_000, "outflow_fen": 0, "count": 2,
    }  # fmt: skip
    async with world.db.sessionmaker() as s:
        posted = (await ledger.balance(s, org_account(world.org_id))).posted
    assert body["closing_fen"] == posted == 520_000

    previous = account_statements.this_month().previous.text
    gone = await client.get(API.format(org=world.org_id), params={"month": previous}, headers=auth)
    assert gone.status_code == 422  # before the brand was made: it had no account then
    async with world.db.session_scope() as s:
        await s.execute(
            update(Organisation)
            .where(Organisation.id == world.org_id)
            .values(created_at=utcnow() - timedelta(days=40))
        )
    empty = await client.get(API.format(org=world.org_id), params={"month": previous}, headers=auth)
    assert empty.json()["entries"] == [] and empty.json()["closing_fen"] == 0
    assert empty.json()["running"] is False


async def test_a_period_starts_exactly_where_it_says(world: World) -> None:
    for amount in (100, 200, 300, 400):
        await top_up(world, amount)
    key = org_account(world.org_id)
    async with world.db.sessionmaker() as s:
        whole = await period_statement(
            s, key, start=utcnow() - timedelta(days=1), end=utcnow() + timedelta(days=1)
        )
        third = whole.entries[3]  # the world's own funding is the first
        later = await period_statement(s, key, start=third.at, end=utcnow() + timedelta(days=1))
        pages = []
        after = 0
        while True:
            page = await period_statement(
                s, key, start=whole.entries[0].at, end=utcnow() + timedelta(days=1),
                after=after, limit=2,
            )  # fmt: skip
            pages += page.entries
            if page.next_after is None:
                break
            after = page.next_after
    assert [e.amount for e in whole.entries] == [500_000, 100, 200, 300, 400]
    assert later.opening == 500_300
    assert [e.amount for e in later.entries] == [300, 400]
    assert later.closing == whole.closing == 501_000
    assert [e.transfer_id for e in pages] == [e.transfer_id for e in whole.entries]


async def test_statements_read_while_money_moves_always_add_up(world: World) -> None:
    key = org_account(world.org_id)
    month = account_statements.this_month()
    stop = asyncio.Event()
    seen: list[tuple[int, int, int, int]] = []

    async def read() -> None:
        while not stop.is_set():
            async with world.db.sessionmaker() as s:
                st = await period_statement(s, key, start=month.start, end=month.end, limit=3)
            net = sum(f.inflow - f.outflow for f in st.flows)
            last = st.entries[-1].balance_after
            seen.append((st.opening, net, st.closing, st.entries_total))
            assert st.opening + net == st.closing
            assert sum(f.count for f in st.flows) == st.entries_total
            assert st.entries[0].balance_after == st.opening + st.entries[0].amount
            for before, after in zip(st.entries, st.entries[1:], strict=False):
                assert after.balance_after == before.balance_after + after.amount
            if st.entries_total <= len(st.entries):
                assert last == st.closing

    async def move() -> None:
        for n in range(12):
            await asyncio.gather(top_up(world, 100 + n), top_up(world, 1000 + n))
        stop.set()

    await asyncio.gather(read(), read(), move())
    totals = {entries for *_rest, entries in seen}
    assert len(totals) > 2, "the readers should have seen the money move"


async def test_who_reads_it_and_the_csv(client: httpx.AsyncClient, world: World) -> None:
    await top_up(world, 12_345)
    member = world.workers[0]
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        invited = await identity.invite_member(
            s, actor=owner, org_id=world.org_id, phone=member.phone, role="member"
        )
    async with world.db.session_scope() as s:
        await identity.answer_invitation(s, person=member, invitation_id=invited.id, accept=True)
    owner_auth = {"Authorization": f"Bearer {await token_of(client, world.owner)}"}
    made = await client.post(
        f"/api/v1/orgs/{world.org_id}/api-keys", json={"name": "财务", "access": "read"},
        headers=owner_auth,
    )  # fmt: skip
    key_auth = {"Authorization": f"Bearer {made.json()['key']}"}
    member_auth = {"Authorization": f"Bearer {await token_of(client, member)}"}
    operator_auth = {"Authorization": f"Bearer {await token_of(client, world.operator)}"}
    for auth in (key_auth, member_auth, operator_auth):
        assert (await client.get(API.format(org=world.org_id), headers=auth)).status_code == 200

    stranger = await build_stranger(client)
    hidden = await client.get(API.format(org=world.org_id), headers=stranger)
    assert hidden.status_code == 404

    for month, code in (("2026-13", "validation_failed"), ("12/2026", "validation_failed")):
        bad = await client.get(
            API.format(org=world.org_id), params={"month": month}, headers=member_auth
        )
        assert bad.status_code == 422 and bad.json()["code"] == code
    future = account_statements.this_month().following.text
    later = await client.get(
        API.format(org=world.org_id), params={"month": future}, headers={**member_auth, **ENGLISH}
    )
    assert later.status_code == 422 and "has not begun" in later.json()["detail"]
    before = await client.get(
        API.format(org=world.org_id), params={"month": "1999-01"},
        headers={**member_auth, **ENGLISH},
    )  # fmt: skip
    first = account_statements.this_month().text  # the world's brand was made just now
    assert before.status_code == 422
    assert before.json()["detail"] == (
        f"The organisation was created later: its first month is {first}."
    )
    assert before.json()["first"] == first

    csv_answer = await client.get(
        API.format(org=world.org_id) + ".csv", headers={**key_auth, **CHINESE}
    )
    assert csv_answer.status_code == 200
    assert csv_answer.headers["cache-control"] == "no-store"
    disposition = csv_answer.headers["content-disposition"]
    month = account_statements.this_month().text
    assert f'filename="account-{world.org_id}-{month}.csv"' in disposition
    # Browsers that can save it under a name in the reader's words do.
    readable = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert readable.endswith(f" {month}.csv") and "/" not in readable
    text = csv_answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][0] == "时间（UTC+8）"
    assert rows[1][1] == "期初余额" and rows[1][6] == "0.00"
    assert [r[2] for r in rows[2:-1]] == ["deposit", "deposit"]
    assert rows[3][4] == "123.45" and rows[3][6] == "5123.45"
    assert rows[-1][1] == "期末余额" and rows[-1][6] == "5123.45"


async def build_stranger(client: httpx.AsyncClient) -> dict[str, str]:
    from tests.factories import create_org, register

    other = await register(client)
    await create_org(client, other, name="别家")
    return other.auth


async def test_the_page_shows_the_month_and_refuses_a_bad_one(
    client: httpx.AsyncClient, world: World
) -> None:
    await top_up(world, 8_800)
    async with browser_of(client, world.owner) as browser:
        org_page = await browser.get(f"/orgs/{world.org_id}", headers=CHINESE)
        assert f'href="/orgs/{world.org_id}/account-statement"' in org_page.text
        page = await browser.get(f"/orgs/{world.org_id}/account-statement", headers=CHINESE)
        assert page.status_code == 200
        assert 'data-closing-fen="508800"' in page.text
        assert 'data-statement-entries="2"' in page.text
        assert "本月尚未结束" in page.text
        bad = await browser.get(
            f"/orgs/{world.org_id}/account-statement", params={"month": "2026-99"},
            headers=CHINESE,
        )  # fmt: skip
        assert bad.status_code == 422
        assert 'data-error-for="month"' in bad.text
        assert 'data-closing-fen="508800"' in bad.text
        csv_download = await browser.get(
            f"/orgs/{world.org_id}/account-statement.csv", headers=ENGLISH
        )
        assert csv_download.status_code == 200
        assert csv_download.text.removeprefix("\ufeff").startswith("Time (UTC+8),Kind,Code")


async def test_a_title_that_looks_like_a_formula_stays_text_in_the_csv(
    client: httpx.AsyncClient, world: World
) -> None:
    await top_up(world, 10_000)
    formula = '=HYPERLINK("http://example.invalid","点这里")'
    await live_campaign(world, title=formula, quantity=5, unit_price=1000, **long_running())
    owner_auth = {"Authorization": f"Bearer {await token_of(client, world.owner)}"}
    answer = await client.get(API.format(org=world.org_id) + ".csv", headers=owner_auth)
    assert answer.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(answer.text.removeprefix("\ufeff"))) for c in row]
    assert not any(c.startswith("=") for c in cells)
    assert any(c.startswith("'=HYPERLINK") for c in cells), cells


async def test_top_ups_refunds_and_corrections_are_named_as_their_payer_knows_them(
    client: httpx.AsyncClient, world: World
) -> None:
    owner_auth = {"Authorization": f"Bearer {await token_of(client, world.owner)}"}
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    started = await client.post(
        f"/api/v1/orgs/{world.org_id}/deposits", json={"amount_fen": 30_000},
        headers={**owner_auth, "Idempotency-Key": unique_key()},
    )  # fmt: skip
    deposit_id = started.json()["id"]
    await runtime.payments.record_payment(order_id=deposit_id, amount=30_000, status="paid")
    assert (await notify(client, deposit_id, 30_000)).status_code == 200
    asked = await client.post(
        f"/api/v1/orgs/{world.org_id}/deposits/{deposit_id}/refunds", json={"amount_fen": 1_000},
        headers={**owner_auth, "Idempotency-Key": unique_key()},
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    assert (
        await refunds.execute_refund(runtime.db, runtime.payments, UUID(asked.json()["id"]))
        == "refunded"
    )
    async with world.db.session_scope() as s:
        correction = await adjustments.request_adjustment(
            s, actor=await world.actor(world.operator), account_key=org_account(world.org_id),
            amount=500, reason="补偿 11 月 30 日的重复扣费",
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await adjustments.approve_adjustment(
            s, actor=await world.actor(world.operator2), adjustment_id=correction.id
        )
    async with world.db.sessionmaker() as s:
        deposit = await s.get(Deposit, UUID(deposit_id))
        assert deposit is not None and deposit.provider_txn
        number = deposit.provider_txn

    body = (await client.get(API.format(org=world.org_id), headers=owner_auth)).json()
    named = {(e["code"], e["reference_name"]) for e in body["entries"] if e["reference"]}
    assert named == {
        ("deposit", number), ("refund", number), ("adjustment", "补偿 11 月 30 日的重复扣费"),
    }  # fmt: skip
    async with browser_of(client, world.owner) as browser:
        page = await browser.get(f"/orgs/{world.org_id}/account-statement", headers=ENGLISH)
        assert page.text.count(f"Payment no. {number}") == 2  # the top-up and its refund
        assert "补偿 11 月 30 日的重复扣费" in page.text
        assert "deposit:" not in page.text and "adjustment:" not in page.text
        sheet = await browser.get(f"/orgs/{world.org_id}/account-statement.csv", headers=CHINESE)
    rows = list(csv.reader(io.StringIO(sheet.text.removeprefix("\ufeff"))))
    by_code = {row[2]: row[3] for row in rows[1:-1]}
    assert by_code["deposit"] == f"付款单号 {number}"
    assert by_code["refund"] == f"付款单号 {number}"
    assert by_code["adjustment"] == "补偿 11 月 30 日的重复扣费"
