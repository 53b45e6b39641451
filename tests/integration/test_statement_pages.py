"""A campaign's statement page (对账单) over HTTP: the brand's campaign page links to it; it
shows the completions charged, final and in hold, the escrow's movements and the check
that the two agree (or a warning when they do not); its CSV downloads with one row per
completion in the page's language; operators read it too, and a member of another
organisation finds nothing."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from urllib.parse import unquote
from uuid import UUID

import httpx
import pytest
from sqlalchemy import update

from tests.factories import create_org, register
from tests.integration.conftest import make_settings
from tests.integration.test_campaign_pages import browser_of
from tests.integration.test_pages_http import sign_in
from tests.lifecycle_world import World, build_world, follow_on_sandbox, live_campaign
from tests.lifecycle_world import window_nearly_over as long_running
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.work import service as work
from xingdong.work.models import Assignment

PRICE = 100


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(hold_hours=24), workers=3)
    yield built
    await built.db.dispose()


@pytest.fixture
async def owner(client: httpx.AsyncClient, world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_of(client, world.owner) as http:
        yield http


@asynccontextmanager
async def browser_signed_in(
    client: httpx.AsyncClient, phone: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own, signed in with this phone number."""
    app = client.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await sign_in(http, phone)).status_code == 303
        yield http


async def claim_and_do(world: World, worker: Person, campaign_id: UUID) -> UUID:
    """``worker`` takes a unit and follows the brand: approved at once on the sandbox."""
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=worker, campaign_id=campaign_id, settings=world.settings)
    async with world.db.sessionmaker() as s:
        handle = (await identity.platform_accounts(s, person=worker))[0].handle
    await follow_on_sandbox(handle, world.db)
    async with world.db.session_scope() as s:
        done = await work.submit(
            s, person=worker, assignment_id=taken.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings, now=taken.claimed_at + timedelta(seconds=60),
        )  # fmt: skip
    assert done.status == "approved"
    return taken.id


async def release(world: World, *assignment_ids: UUID) -> None:
    """The hold of these completions ends, and the hold job settles them."""
    async with world.db.session_scope() as s:
        await s.execute(
            update(Assignment)
            .where(Assignment.id.in_(assignment_ids))
            .values(hold_until=utcnow() - timedelta(seconds=1))
        )
    async with world.db.session_scope() as s:
        await work.settle_holds(s)


async def two_final_one_in_hold(world: World) -> tuple[Campaign, list[UUID]]:
    """Three completions at ¥1.00: two past their hold (final), the third still in it."""
    campaign = await live_campaign(world, quantity=5, unit_price=PRICE, **long_running())
    done = [await claim_and_do(world, worker, campaign.id) for worker in world.workers]
    await release(world, *done[:2])
    return campaign, done


def data(page: str, name: str, key: str | None = None) -> str:
    """The value of the ``data-<name>`` attribute (on the element marked ``key``)."""
    scope = page
    if key is not None:
        start = page.index(key)
        scope = page[start : page.index(">", start)]
    match = re.search(rf'data-{name}="([^"]*)"', scope)
    assert match, f"no data-{name} in {scope[:200]}"
    return html.unescape(match.group(1))


def words(page: str) -> str:
    """The page's text without its tags, as read."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def movement(page: str, code: str) -> tuple[int, int, int]:
    row = f'data-movement="{code}"'
    return (
        int(data(page, "inflow-fen", row)),
        int(data(page, "outflow-fen", row)),
        int(data(page, "count", row)),
    )


def status_count(page: str, status: str) -> tuple[int, int]:
    row = f'data-completion-status="{status}"'
    return int(data(page, "count", row)), int(data(page, "amount-fen", row))


def csv_rows(answer: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


async def test_the_campaign_page_links_to_its_statement(
    owner: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    page = await owner.get(f"/campaigns/{campaign.id}?lang=zh_CN")
    assert (
        f'<a href="/campaigns/{campaign.id}/statement" data-open-statement>对账单</a>' in page.text
    )


async def test_the_statement_shows_what_was_charged_and_that_the_ledger_agrees(
    owner: httpx.AsyncClient, world: World
) -> None:
    campaign, _done = await two_final_one_in_hold(world)
    page = await owner.get(f"/campaigns/{campaign.id}/statement?lang=zh_CN")
    assert page.status_code == 200
    body = page.text
    assert f"<h1>对账单：{campaign.title}</h1>" in body
    assert 'data-campaign-status="live"' in body and "进行中" in body
    assert data(body, "unit-price-fen") == "100" and "¥ 1.00" in body
    assert data(body, "quantity") == "5"
    # Summary: three charged, two final, one in hold; the escrow keeps the two unused units.
    assert data(body, "charged-units") == "3"
    assert "已结算：2 · 保留期内：1" in body
    assert data(body, "final-fen") == "200" and data(body, "in-hold-fen") == "100"
    assert data(body, "escrow-fen") == "200" and data(body, "reserved-fen") == "0"
    assert "仍可能被提出异议" in body
    # The escrow's movements, translated, in the order money goes through a campaign.
    reward, fee = campaign.reward, campaign.fee
    assert movement(body, "campaign_fund") == (500, 0, 1)
    assert movement(body, "task_reward") == (0, 3 * reward, 3)
    assert movement(body, "task_fee") == (0, 3 * fee, 3)
    assert re.findall(r'data-movement="(\w+)"', body) == [
        "campaign_fund",
        "task_reward",
        "task_fee",
    ]
    assert "从机构余额划入" in body and "支付给用户的奖励" in body and "平台服务费" in body
    assert "¥ 5.00" in body and "¥ 3.00" in body  # the totals in and out
    assert data(body, "reconciles") == "true"
    assert "✓ 账本扣款与计费完成数相符：3 × ¥ 1.00 = ¥ 3.00。" in words(body)
    # Completions by status, what each is charged as.
    assert status_count(body, "released") == (2, 200)
    assert status_count(body, "approved") == (1, 100)
    assert re.findall(r'data-completion-status="(\w+)"', body) == ["released", "approved"]
    assert "已发放" in body and "已通过，保留期中" in body
    assert "已结算</td>" in body and "保留期内</td>" in body
    # The download and the print button (shown by its script).
    csv_link = f'href="/campaigns/{campaign.id}/statement.csv" download data-statement-csv'
    assert csv_link in body
    assert "下载 CSV（每次完成一行）" in body
    assert "hidden data-print>打印</button>" in body
    assert '<script src="/static/statement.js" defer></script>' in body


async def test_the_csv_has_one_row_per_completion_in_the_pages_language(
    owner: httpx.AsyncClient, world: World
) -> None:
    campaign, done = await two_final_one_in_hold(world)
    answer = await owner.get(f"/campaigns/{campaign.id}/statement.csv?lang=zh_CN")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="statement-{campaign.id}-')
    readable = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert readable.startswith(f"{campaign.title} ") and readable.endswith(".csv")
    assert answer.content.startswith("\ufeff".encode())
    rows = csv_rows(answer)
    assert rows[0] == [
        "完成编号",
        "用户（代号）",
        "状态",
        "领取时间（北京时间）",
        "提交时间（北京时间）",
        "通过时间（北京时间）",
        "保留期结束（北京时间）",
        "结算时间（北京时间）",
        "计费金额（分）",
        "计费",
        "状态代码",
    ]
    lines = {UUID(row[0]): row for row in rows[1:]}
    assert set(lines) == set(done)
    assert [lines[i][2] for i in done] == ["已发放", "已发放", "已通过，保留期中"]
    assert [lines[i][10] for i in done] == ["released", "released", "approved"]
    assert [lines[i][8] for i in done] == [str(PRICE)] * 3
    assert [lines[i][9] for i in done] == ["已结算", "已结算", "保留期内"]
    assert all(row[1].startswith("W-") for row in rows[1:])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[4]) for row in rows[1:])
    assert lines[done[2]][7] == ""  # not settled yet

    english = await owner.get(f"/campaigns/{campaign.id}/statement.csv?lang=en")
    assert csv_rows(english)[0][:3] == ["Completion", "Worker (pseudonym)", "Status"]
    assert {row[9] for row in csv_rows(english)[1:]} == {"final", "in hold"}


async def test_the_statement_reads_in_english(owner: httpx.AsyncClient, world: World) -> None:
    campaign, _done = await two_final_one_in_hold(world)
    body = (await owner.get(f"/campaigns/{campaign.id}/statement?lang=en")).text
    assert f"<h1>Statement: {campaign.title}</h1>" in body
    assert '<html lang="en">' in body
    assert ">Print</button>" in body
    read = words(body)
    for sentence in (
        "Completions charged",
        "final: 2 · in hold: 1",
        "Final amount",
        "Still in hold",
        "Escrow now",
        "of which reserved for work under way: ¥ 0.00",
        "Escrow movements",
        "Funded from the organisation's balance",
        "Rewards paid to workers",
        "Platform fees",
        "✓ The ledger's charges equal the completions charged: 3 × ¥ 1.00 = ¥ 3.00.",
        "Completions by status",
        "Paid out",
        "Approved, in hold",
        "Download CSV (one row per completion)",
    ):
        assert sentence in read, sentence
    assert "对账单" not in read


async def test_a_statement_that_does_not_add_up_says_so_with_both_amounts(
    owner: httpx.AsyncClient, world: World
) -> None:
    campaign, done = await two_final_one_in_hold(world)
    # As a bug that changed the work's status without moving its money would leave it.
    async with world.db.session_scope() as s:
        await s.execute(
            update(Assignment).where(Assignment.id == done[2]).values(status="rejected")
        )
    body = (await owner.get(f"/campaigns/{campaign.id}/statement?lang=en")).text
    assert data(body, "reconciles") == "false"
    assert data(body, "charged-by-ledger-fen") == "300"
    assert (
        "⚠ The ledger's charges, ¥ 3.00, differ from the completions charged: 2 × ¥ 1.00 = ¥ 2.00."
    ) in words(body)
    assert "✓" not in body
    assert status_count(body, "rejected") == (1, 0)
    assert "not charged" in body


async def test_operators_read_it_and_another_organisations_member_finds_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign, _done = await two_final_one_in_hold(world)
    async with browser_of(client, world.operator) as operator:
        seen = await operator.get(f"/campaigns/{campaign.id}/statement")
        assert seen.status_code == 200
        assert data(seen.text, "charged-units") == "3"

    stranger = await register(client, name="别家老板")
    await create_org(client, stranger, name="别家品牌")
    async with browser_signed_in(client, stranger.phone) as other:
        for path in ("/statement", "/statement.csv"):
            hidden = await other.get(f"/campaigns/{campaign.id}{path}?lang=en")
            assert hidden.status_code == 404, path
            assert "text/html" in hidden.headers["content-type"]
            assert campaign.title not in hidden.text
            assert "W-" not in hidden.text


async def test_signed_out_visitors_are_sent_to_sign_in(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    answer = await client.get(f"/campaigns/{campaign.id}/statement")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
