"""The brand's and the operators' campaign pages over HTTP: the list, the step-by-step
form, the campaign page with its actions, the close confirmation, contests, and the
approval and dispute queues. Errors are shown readably, and nothing changes on them."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.brand_world import member
from tests.integration.answers import csrf_from, form_id_from
from tests.integration.conftest import make_settings
from tests.integration.test_campaigns_api import approved_completion
from tests.integration.test_pages_http import sign_in
from tests.lifecycle_world import (
    BRAND_HANDLE,
    World,
    add_worker,
    balance,
    build_world,
    draft,
    live_campaign,
)
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.campaigns.schemas import CampaignSummaryOut
from xingdong.core.clock import CHINA_TIME, utcnow
from xingdong.identity.models import Person
from xingdong.ledger.deposits import org_account
from xingdong.platforms.sandbox import service as sandbox
from xingdong.work.models import Assignment, Dispute

FUNDS = 100_000


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=2, funds=FUNDS)
    yield built
    await built.db.dispose()


@asynccontextmanager
async def browser_of(client: httpx.AsyncClient, person: Person) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (cookies), signed in as ``person``."""
    app = client.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        signed = await sign_in(http, person.phone)
        assert signed.status_code == 303, signed.text
        yield http


@pytest.fixture
async def owner(client: httpx.AsyncClient, world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_of(client, world.owner) as http:
        yield http


@pytest.fixture
async def operator(client: httpx.AsyncClient, world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_of(client, world.operator) as http:
        yield http


async def create(world: World, **overrides: Any) -> Campaign:
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        return await campaigns.create_campaign(
            s, actor=owner, org_id=world.org_id, draft=draft(**overrides), settings=world.settings
        )


async def row(world: World, campaign_id: object) -> Campaign:
    async with world.db.sessionmaker() as s:
        found = await s.get(Campaign, campaign_id)
        assert found is not None
        return found


async def count(world: World, model: type[Any]) -> int:
    async with world.db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def org_available(world: World) -> int:
    return (await balance(world.db, org_account(world.org_id))).available


END_DAY = (datetime.now(CHINA_TIME) + timedelta(days=30)).date()
"""The form's end: a month ahead, at 10:00 Beijing time."""


def form_fields(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    """What the form sends for a campaign the default policy accepts."""
    fields: dict[str, str | list[str]] = {
        "platform": "sandbox",
        "task_type": "follow",
        "target": "@brand_official",
        "title": "关注品牌官方号",
        "brief": "关注我们的官方账号，了解新品动态。",
        "disclosure": "广告：本任务由品牌方赞助",
        "comment_guidance": "",
        "quantity": "4",
        "unit_price": "1.50",
        "per_person_limit": "1",
        "starts_at": "",
        "ends_at": f"{END_DAY.isoformat()}T10:00",
        "min_age": "20",
        "max_age": "",
        "interests": ["美妆", "母婴"],
        "category": "美妆",
        "pacing_per_hour": "30",
        "min_watch_seconds": "0",
        "min_stay_seconds": "0",
        "review_policy": "manual",
    }
    fields.update(overrides)
    return fields


async def post_form(
    http: httpx.AsyncClient, world: World, action: str, **overrides: str | list[str]
) -> httpx.Response:
    page = await http.get(f"/orgs/{world.org_id}/campaigns/new?lang=en")
    assert page.status_code == 200, page.text
    data = {**form_fields(**overrides), "action": action, "csrf_token": csrf_from(page.text)}
    return await http.post(f"/orgs/{world.org_id}/campaigns/new", data=data)


def start_step(html: str) -> str:
    match = re.search(r'data-start-step="(\d)"', html)
    assert match
    return match.group(1)


# --- the organisation page and the list ---------------------------------------------------


async def test_the_organisation_page_links_to_its_campaigns(
    owner: httpx.AsyncClient, world: World
) -> None:
    page = await owner.get(f"/orgs/{world.org_id}")
    assert f'href="/orgs/{world.org_id}/campaigns"' in page.text


async def test_the_list_filters_searches_and_pages(owner: httpx.AsyncClient, world: World) -> None:
    for n in range(21):
        await create(world, title=f"夏日活动 {n:02}")
    spring = await create(world, title="春季新品")
    owner_actor = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        await campaigns.submit_campaign(
            s, actor=owner_actor, campaign_id=spring.id, settings=world.settings
        )
    base = f"/orgs/{world.org_id}/campaigns"

    first = await owner.get(base)
    assert first.status_code == 200
    assert first.text.count("data-campaign=") == 20
    assert "春季新品" in first.text  # newest first
    cursor = re.search(r'cursor=([^"&]+)" rel="next"', first.text)
    assert cursor
    assert "data-first-page" not in first.text
    second = await owner.get(f"{base}?cursor={cursor.group(1)}")
    assert second.text.count("data-campaign=") == 2
    assert 'rel="next"' not in second.text
    assert re.search(r'href="\?status=" data-first-page', second.text)  # back to the start
    # A filter and a search stay on the next page's link.
    drafts = await owner.get(f"{base}?status=draft&q=夏日")
    assert drafts.text.count("data-campaign=") == 20
    link = re.search(r'href="\?([^"]+)" rel="next"', drafts.text)
    assert link and "status=draft" in link.group(1) and "q=%E5%A4%8F%E6%97%A5" in link.group(1)
    last = await owner.get(f"{base}?{html.unescape(link.group(1))}")
    assert last.text.count("data-campaign=") == 1

    pending = await owner.get(f"{base}?status=pending_approval")
    assert pending.text.count("data-campaign=") == 1 and "春季新品" in pending.text
    found = await owner.get(f"{base}?q=夏日活动 0")
    assert found.text.count("data-campaign=") == 10
    nothing = await owner.get(f"{base}?q=冬季&lang=en")
    assert "No campaign matches." in nothing.text


async def test_strangers_cannot_open_the_list_or_the_form(
    client: httpx.AsyncClient, world: World
) -> None:
    async with browser_of(client, world.workers[0]) as stranger:
        assert (await stranger.get(f"/orgs/{world.org_id}/campaigns")).status_code == 404
        assert (await stranger.get(f"/orgs/{world.org_id}/campaigns/new")).status_code == 404
        target = await stranger.get(
            f"/orgs/{world.org_id}/campaigns/target?task_type=follow&target=@brand_official"
        )
        assert target.status_code == 404


# --- the step-by-step form ---------------------------------------------------------------


async def test_the_form_has_five_steps_and_shows_the_price_split(
    owner: httpx.AsyncClient, world: World
) -> None:
    page = await owner.get(f"/orgs/{world.org_id}/campaigns/new?lang=en")
    assert page.status_code == 200
    html = page.text
    for step in ("1", "2", "3", "4"):
        assert f'<fieldset data-step="{step}">' in html
    assert "data-review-step" not in html  # the last step comes after the check
    assert 'data-fee-percent="20"' in html
    # The default price of ¥ 1.00 for 100 completions: ¥ 0.80 to the worker, ¥ 100 escrow.
    assert "<span data-reward>0.80</span>" in html
    assert "<span data-total>100.00</span>" in html
    assert 'value="浙江"' in html and 'value="美妆"' in html and 'value="novice"' in html


async def test_the_form_is_held_to_what_the_api_allows(
    owner: httpx.AsyncClient, world: World
) -> None:
    long_brief = await post_form(owner, world, "create", brief="关注" * 2_500)
    assert long_brief.status_code == 422
    assert 'data-error-for="brief"' in long_brief.text
    for typed in ("1,5", "0,50"):  # a decimal comma is no price, not ten times one
        comma = await post_form(owner, world, "create", unit_price=typed)
        assert comma.status_code == 422 and 'data-error-for="unit_price"' in comma.text
    twice = await post_form(owner, world, "create", regions=["北京", "北京"])
    assert twice.status_code == 303, twice.text
    async with world.db.sessionmaker() as s:
        made = (await s.scalars(select(Campaign))).all()
    assert [c.regions for c in made] == [["北京"]]


async def test_the_target_is_checked_on_the_platform(
    owner: httpx.AsyncClient, world: World
) -> None:
    unknown = await post_form(owner, world, "check", target="@nobody_here")
    assert unknown.status_code == 422
    assert 'data-error-for="target"' in unknown.text
    assert start_step(unknown.text) == "1"
    known = await post_form(owner, world, "check")
    assert known.status_code == 200
    assert "品牌官方号" in known.text
    assert re.search(r"<p class=\"notice ok\" data-target-found\s*>", known.text)

    by_script = await owner.get(
        f"/orgs/{world.org_id}/campaigns/target",
        params={"task_type": "follow", "target": "@brand_official"},
    )
    assert by_script.json()["found"] is True
    assert by_script.json()["title"] == "品牌官方号"
    missing = await owner.get(
        f"/orgs/{world.org_id}/campaigns/target",
        params={"task_type": "follow", "target": "@nobody_here"},
        headers={"Accept-Language": "en"},
    )
    assert missing.json() == {"found": False, "message": "Not found on the platform."}


async def shop_product(world: World) -> str:
    async with world.db.session_scope() as s:
        shop = await sandbox.get_account(s, handle=BRAND_HANDLE)
        product = await sandbox.create_product(
            s, account=shop, title="保湿精华 30ml", price_fen=12_900
        )
    return f"/sandbox/products/{product.id}"


async def test_a_purchase_task_shows_the_price_and_checks_the_reward_against_it(
    owner: httpx.AsyncClient, world: World
) -> None:
    product = await shop_product(world)
    page = await owner.get(f"/orgs/{world.org_id}/campaigns/new?lang=en")
    assert '<option value="purchase" data-target-kind="product"' in page.text
    by_script = await owner.get(
        f"/orgs/{world.org_id}/campaigns/target",
        params={"task_type": "purchase", "target": product},
    )
    assert by_script.json()["title"] == "保湿精华 30ml · ¥129.00"
    purchase = {
        "task_type": "purchase", "target": product, "title": "新品精华体验",
        "brief": "通过任务链接购买新品精华，收货后正常使用。无需好评。", "pacing_per_hour": "",
    }  # fmt: skip
    checked = await post_form(owner, world, "check", **purchase)
    assert "保湿精华 30ml · ¥129.00" in checked.text
    too_much = await post_form(owner, world, "review", **purchase, unit_price="50.00")
    assert 'data-finding="unit_price" data-severity="block"' in too_much.text
    assert "A reward of ¥40.00 is more than 30% of the product&#39;s price" in too_much.text
    # 30% of ¥129.00 is ¥38.70 to the worker: a price of ¥48.37 less the 20% fee.
    assert "the price per completion can be ¥48.37 at most" in too_much.text
    highest = await post_form(owner, world, "review", **purchase, unit_price="48.37")
    assert 'data-finding="unit_price"' not in highest.text
    created = await post_form(owner, world, "create", **purchase, unit_price="20.00")
    assert created.status_code == 303, created.text
    async with world.db.sessionmaker() as s:
        row = await s.scalar(select(Campaign).where(Campaign.task_type == "purchase"))
    assert row is not None
    assert (row.target_price_fen, row.reward, row.compliance) == (12_900, 1_600, [])
    detail = await owner.get(f"/campaigns/{row.id}?lang=en")
    assert "<span data-target-price>price ¥129.00</span>" in detail.text
    assert CampaignSummaryOut.fields_of(row)["target"].price_fen == 12_900


@pytest.mark.parametrize(
    ("overrides", "field", "step"),
    [
        ({"quantity": "0"}, "quantity", "3"),
        ({"quantity": "many"}, "quantity", "3"),
        ({"unit_price": "0.05"}, "unit_price", "3"),
        ({"unit_price": "1.234"}, "unit_price", "3"),
        ({"ends_at": "2020-01-01T10:00"}, "ends_at", "3"),
        ({"title": ""}, "title", "2"),
        ({"pacing_per_hour": "99999999999"}, "pacing_per_hour", "4"),
        ({"target": "@nobody_here"}, "target", "1"),
        ({"disclosure": "广告" * 101}, "disclosure", "2"),
        ({"category": "化妆品"}, "category", "1"),
    ],
    ids=["quantity-0", "quantity-text", "price-below-minimum", "price-fraction-of-fen",
         "window-in-the-past", "no-title", "huge-pacing", "unknown-target", "long-disclosure",
         "unknown-category"],
)  # fmt: skip
async def test_a_refused_check_opens_the_step_of_the_problem(
    owner: httpx.AsyncClient, world: World, overrides: dict[str, str], field: str, step: str
) -> None:
    response = await post_form(owner, world, "review", **overrides)
    assert response.status_code == 422
    assert f'data-error-for="{field}"' in response.text
    assert start_step(response.text) == step
    assert "关注我们的官方账号，了解新品动态。</textarea>" in response.text  # what was typed stays
    assert await count(world, Campaign) == 0


async def test_the_check_shows_findings_and_cost_before_creating(
    owner: httpx.AsyncClient, world: World
) -> None:
    response = await post_form(owner, world, "review", brief="全网最低价，快来关注")
    assert response.status_code == 200
    assert start_step(response.text) == "5"
    assert "data-review-step" in response.text
    assert 'data-finding="brief" data-severity="block"' in response.text
    assert "“全网最低” is an absolute claim" in response.text
    # It says which field the words are in (a title and a brief can share them).
    assert '<span data-finding-field="brief">Brief: what workers should do, and why</span>' in (
        response.text
    )
    assert "data-review-blocked" in response.text
    assert 'data-review-total="600"' in response.text
    assert "data-create" in response.text
    assert await count(world, Campaign) == 0

    clean = await post_form(owner, world, "review")
    assert "data-findings-clear" in clean.text
    assert "data-review-blocked" not in clean.text


async def test_the_check_says_how_many_people_the_targeting_reaches(
    owner: httpx.AsyncClient, world: World
) -> None:
    # The world's two workers have bound accounts, are about thirty and like 美妆.
    narrow = await post_form(owner, world, "review")
    assert 'data-review-audience="2"' in narrow.text
    assert "2 people on the platform match the targeting now" in narrow.text
    assert "That is few for 4 completions" in narrow.text
    await add_worker(world, handle="third_worker", interests=("母婴",))
    nobody = await post_form(owner, world, "review", interests=["汽车"], min_age="")
    assert 'data-review-audience="0"' in nobody.text and "data-review-narrow" in nobody.text
    assert "data-review-nobody" in nobody.text and "That is few" not in nobody.text
    wide = await post_form(owner, world, "review", quantity="1", min_age="", interests=[])
    assert 'data-review-audience="3"' in wide.text and "data-review-narrow" not in wide.text


async def test_the_check_warns_when_the_pacing_cap_cannot_fit_the_quantity(
    owner: httpx.AsyncClient, world: World
) -> None:
    fits = await post_form(owner, world, "review")  # 4 at 30 an hour over a month
    assert "data-review-pacing" not in fits.text
    # Ten hours at 30 an hour: at most 300 of 1,000.
    end = (datetime.now(CHINA_TIME) + timedelta(hours=10, minutes=5)).strftime("%Y-%m-%dT%H:%M")
    short = await post_form(owner, world, "review", quantity="1000", ends_at=end)
    assert short.status_code == 200, short.text
    warned = short.text.split("data-review-pacing=", 1)[1].split("</p>", 1)[0]
    assert warned.startswith(('"300"', '"301"', '"302"')), warned
    assert "of the 1,000 completions be taken before the end" in warned
    assert "1,000 ×" in short.text


async def test_creating_saves_the_draft_as_typed(owner: httpx.AsyncClient, world: World) -> None:
    response = await post_form(owner, world, "create")
    assert response.status_code == 303, response.text
    campaign_id = response.headers["location"].split("?")[0].removeprefix("/campaigns/")
    saved = await row(world, campaign_id)
    assert saved.status == "draft"
    assert (saved.quantity, saved.unit_price, saved.reward, saved.fee) == (4, 150, 120, 30)
    assert saved.ends_at == datetime(
        END_DAY.year, END_DAY.month, END_DAY.day, 2, 0, tzinfo=UTC
    )  # 10:00 Beijing time
    assert saved.interests == ["美妆", "母婴"]
    assert saved.category == "美妆"
    assert (saved.min_age, saved.max_age, saved.pacing_per_hour) == (20, None, 30)
    assert saved.review_policy == "manual"
    assert await org_available(world) == FUNDS  # a draft costs nothing
    detail = await owner.get(f"/campaigns/{campaign_id}?lang=en")
    assert "<dd data-category>Beauty</dd>" in detail.text
    unsaid = await post_form(owner, world, "create", category="")
    unsaid_id = unsaid.headers["location"].split("?")[0].removeprefix("/campaigns/")
    assert (await row(world, unsaid_id)).category is None


async def test_a_copy_starts_from_an_earlier_campaign(
    owner: httpx.AsyncClient, world: World
) -> None:
    original = await create(world, title="老活动", regions=["浙江"], category="母婴")
    page = await owner.get(f"/orgs/{world.org_id}/campaigns/new?copy={original.id}")
    assert 'value="老活动"' in page.text
    assert 'value="@brand_official"' in page.text
    assert re.search(r'value="浙江" checked', page.text)
    assert '<option value="母婴" selected>' in page.text


async def test_forms_without_the_csrf_token_are_refused(
    owner: httpx.AsyncClient, world: World
) -> None:
    response = await owner.post(
        f"/orgs/{world.org_id}/campaigns/new", data={**form_fields(), "action": "create"}
    )
    assert response.status_code == 403
    assert await count(world, Campaign) == 0


# --- the campaign page ---------------------------------------------------------------------


async def test_submitting_from_the_page_funds_once(owner: httpx.AsyncClient, world: World) -> None:
    campaign = await create(world)
    page = await owner.get(f"/campaigns/{campaign.id}?lang=en")
    assert "Submit for approval (holds ¥ 5.00)" in page.text
    data = {"csrf_token": csrf_from(page.text), "form_id": form_id_from(page.text)}
    first = await owner.post(f"/campaigns/{campaign.id}/submit", data=data)
    assert first.status_code == 303
    again = await owner.post(f"/campaigns/{campaign.id}/submit", data=data)
    assert again.status_code == 303  # the same form pressed twice: answered, not paid twice
    assert (await row(world, campaign.id)).status == "pending_approval"
    assert await org_available(world) == FUNDS - 500
    after = await owner.get(f"/campaigns/{campaign.id}?lang=en")
    assert 'data-campaign-status="pending_approval"' in after.text
    assert "data-submit-campaign" not in after.text


async def test_too_little_money_says_the_balance_and_links_to_top_up(
    owner: httpx.AsyncClient, world: World
) -> None:
    campaign = await create(world, quantity=2000)
    page = await owner.get(f"/campaigns/{campaign.id}?lang=en")
    assert "data-short-before-submit" in page.text
    response = await owner.post(
        f"/campaigns/{campaign.id}/submit?lang=en",
        data={"csrf_token": csrf_from(page.text), "form_id": "x1"},
    )
    assert response.status_code == 409
    assert "The organisation&#39;s balance is ¥1,000.00, and this needs ¥2,000.00." in response.text
    assert f'href="/orgs/{world.org_id}#balance"' in response.text
    # Said by the refusal and its notice, not a third time beside the button.
    assert "data-short-before-submit" not in response.text
    assert (await row(world, campaign.id)).status == "draft"
    assert await org_available(world) == FUNDS


async def test_a_blocked_campaign_lists_what_to_fix(owner: httpx.AsyncClient, world: World) -> None:
    campaign = await create(world, brief="全网最低价，快来关注")
    page = await owner.get(f"/campaigns/{campaign.id}?lang=en")
    response = await owner.post(
        f"/campaigns/{campaign.id}/submit?lang=en",
        data={"csrf_token": csrf_from(page.text), "form_id": "x2"},
    )
    assert response.status_code == 422
    assert "data-blocked" in response.text
    assert "“全网最低” is an absolute claim" in response.text
    assert f"/orgs/{world.org_id}/campaigns/new?copy={campaign.id}" in response.text
    assert await org_available(world) == FUNDS


async def test_a_draft_is_deleted_from_its_page_after_confirming(
    owner: httpx.AsyncClient, world: World
) -> None:
    draft = await create(world, title="不要了的草稿")
    page = await owner.get(f"/campaigns/{draft.id}?lang=en")
    assert "data-delete-draft" in page.text and "data-close" not in page.text
    assert "Delete the draft “不要了的草稿”? It cannot be brought back." in page.text
    deleted = await owner.post(
        f"/campaigns/{draft.id}/delete", data={"csrf_token": csrf_from(page.text)}
    )
    assert deleted.status_code == 303
    assert deleted.headers["location"].startswith(f"/orgs/{world.org_id}/campaigns?done=")
    listed = await owner.get(deleted.headers["location"] + "&lang=en")
    assert "The draft is deleted." in listed.text and "不要了的草稿" not in listed.text
    assert await count(world, Campaign) == 0
    live = await live_campaign(world)
    shown = await owner.get(f"/campaigns/{live.id}")
    assert "data-delete-draft" not in shown.text and "data-close" in shown.text


async def test_plain_members_see_the_campaign_without_its_buttons(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await create(world)
    async with browser_of(client, await member(world)) as colleague:
        page = await colleague.get(f"/campaigns/{campaign.id}")
        assert page.status_code == 200
        assert "data-submit-campaign" not in page.text and "data-close" not in page.text
        assert "data-owners-only" in page.text  # told why, not left looking for buttons
        forbidden = await colleague.post(
            f"/campaigns/{campaign.id}/submit",
            data={"csrf_token": csrf_from(page.text), "form_id": "m1"},
        )
        assert forbidden.status_code == 403
        assert (await colleague.get(f"/campaigns/{campaign.id}/close")).status_code == 403
    assert (await row(world, campaign.id)).status == "draft"


async def test_pause_resume_and_close_after_confirming(
    owner: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    page = await owner.get(f"/campaigns/{campaign.id}")
    token = csrf_from(page.text)
    assert 'data-progress-url="/campaigns/' in page.text
    assert "data-owners-only" not in page.text
    assert (
        await owner.post(f"/campaigns/{campaign.id}/pause", data={"csrf_token": token})
    ).status_code == 303
    assert (await row(world, campaign.id)).status == "paused"
    refused = await owner.post(
        f"/campaigns/{campaign.id}/pause?lang=en", data={"csrf_token": token}
    )
    assert refused.status_code == 409
    assert "This cannot be done now: the campaign is “Paused”." in refused.text
    assert (
        await owner.post(f"/campaigns/{campaign.id}/resume", data={"csrf_token": token})
    ).status_code == 303
    assert (await row(world, campaign.id)).status == "live"

    confirm = await owner.get(f"/campaigns/{campaign.id}/close?lang=en")
    assert confirm.status_code == 200
    assert 'data-close-returns="500"' in confirm.text
    assert (await row(world, campaign.id)).status == "live"  # looking changes nothing
    data = {"csrf_token": csrf_from(confirm.text), "form_id": form_id_from(confirm.text)}
    closed = await owner.post(f"/campaigns/{campaign.id}/close", data=data)
    assert closed.status_code == 303
    assert (await owner.post(f"/campaigns/{campaign.id}/close", data=data)).status_code == 303
    assert (await row(world, campaign.id)).status == "closed"
    assert await org_available(world) == FUNDS
    # What went back is said where the campaign is, once however many times it was closed.
    after = await owner.get(closed.headers["location"] + "&lang=en")
    assert 'data-returned="500"' in after.text
    assert "¥ 5.00 of unused budget went back to the balance" in after.text
    assert '<span class="small-amount" data-progress="returned">5.00</span>' in after.text


async def test_an_approved_campaign_that_starts_later_says_when(
    owner: httpx.AsyncClient, world: World
) -> None:
    now = utcnow()
    later = await live_campaign(
        world, starts_at=now + timedelta(hours=3), ends_at=now + timedelta(days=2)
    )
    page = await owner.get(f"/campaigns/{later.id}?lang=en")
    assert "data-not-started" in page.text and "data-starts-later" in page.text
    assert "Live: people who fit the campaign can take its tasks." not in page.text
    running = await live_campaign(world, title="已开始")
    page = await owner.get(f"/campaigns/{running.id}?lang=en")
    assert "data-not-started" not in page.text
    assert "Live: people who fit the campaign can take its tasks." in page.text


async def test_the_progress_refreshes_from_a_small_json(
    owner: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    numbers = (await owner.get(f"/campaigns/{campaign.id}/progress?lang=en")).json()
    # With what the delivery chart redraws, as the page drew it.
    delivery = numbers.pop("delivery")
    page = (await owner.get(f"/campaigns/{campaign.id}?lang=en")).text
    drawn = page.split('data-actual points="', 1)[1].split('"', 1)[0]
    assert delivery["taken_points"] == drawn
    assert delivery["taken_points"].startswith("0.0,120.0")
    assert delivery["now_x"] is not None and 0 <= delivery["now_x"] < 300  # the window is running
    assert (delivery["actual_percent"], delivery["ahead"]) == ("0", False)
    assert 'data-delivery="actual_percent">0<' in page
    assert numbers == {
        "status": "live",
        "status_label": "Live",
        "units_done": 0,
        "units_open": 0,
        "units_left": 5,
        "units_planned": 5,
        "percent_done": 0,
        "spent": "0.00",
        "budget": "5.00",
        "escrow": "5.00",
    }


async def test_a_completion_in_hold_is_contested_from_the_page(
    owner: httpx.AsyncClient, world: World
) -> None:
    campaign, done = await approved_completion(world)
    page = await owner.get(f"/campaigns/{campaign.id}?lang=en")
    assert f'data-completion="{done.id}" data-completion-status="approved"' in page.text
    assert "data-contest-form" in page.text
    assert done.actor_handle not in page.text
    url = f"/campaigns/{campaign.id}/assignments/{done.id}/contest"
    empty = await owner.post(url, data={"csrf_token": csrf_from(page.text), "reason": " "})
    assert empty.status_code == 422
    assert 'data-error-for="reason"' in empty.text
    assert await count(world, Dispute) == 0
    sent = await owner.post(url, data={"csrf_token": csrf_from(page.text), "reason": "小号刷的"})
    assert sent.status_code == 303
    async with world.db.sessionmaker() as s:
        found = await s.get(Assignment, done.id)
        assert found is not None and found.status == "disputed"


# --- operators -----------------------------------------------------------------------------


async def test_operators_approve_and_reject_on_the_queue(
    owner: httpx.AsyncClient, operator: httpx.AsyncClient, world: World
) -> None:
    owner_actor = await world.actor(world.owner)
    waiting = []
    for title, brief in (("早春活动", "欢迎关注我们"), ("晚秋活动", "本季最美的口红，欢迎关注")):
        created = await create(world, title=title, brief=brief)
        async with world.db.session_scope() as s:
            await campaigns.submit_campaign(
                s, actor=owner_actor, campaign_id=created.id, settings=world.settings
            )
        waiting.append(created)
    assert (await owner.get("/ops/campaigns")).status_code == 403

    queue = await operator.get("/ops/campaigns?lang=en")
    assert queue.status_code == 200
    assert queue.text.count("data-ops-campaign=") == 2
    assert 'data-severity="review"' in queue.text
    token = csrf_from(queue.text)
    no_note = await operator.post(
        f"/ops/campaigns/{waiting[1].id}/decision",
        data={"csrf_token": token, "decision": "reject", "note": ""},
    )
    assert no_note.status_code == 422
    assert 'data-error-for="note"' in no_note.text
    assert (await row(world, waiting[1].id)).status == "pending_approval"
    typo = await operator.post(
        f"/ops/campaigns/{waiting[1].id}/decision",
        data={"csrf_token": token, "decision": "approve-typo", "note": "写错了"},
    )
    assert typo.status_code == 422 and "press one of its buttons" in typo.text
    assert (await row(world, waiting[1].id)).status == "pending_approval"

    approved = await operator.post(
        f"/ops/campaigns/{waiting[0].id}/decision",
        data={"csrf_token": token, "decision": "approve", "note": ""},
    )
    assert approved.status_code == 303
    rejected = await operator.post(
        f"/ops/campaigns/{waiting[1].id}/decision",
        data={"csrf_token": token, "decision": "reject", "note": "“最”是绝对化用语"},
    )
    assert rejected.status_code == 303
    assert (await row(world, waiting[0].id)).status == "live"
    assert (await row(world, waiting[1].id)).status == "rejected"
    assert await org_available(world) == FUNDS - 500
    empty = await operator.get("/ops/campaigns")
    assert "data-queue-empty" in empty.text
    note = await owner.get(f"/campaigns/{waiting[1].id}")
    assert "“最”是绝对化用语" in note.text


async def test_operators_decide_disputes_on_their_page(
    owner: httpx.AsyncClient, operator: httpx.AsyncClient, world: World
) -> None:
    campaign, done = await approved_completion(world)
    page = await owner.get(f"/campaigns/{campaign.id}")
    await owner.post(
        f"/campaigns/{campaign.id}/assignments/{done.id}/contest",
        data={"csrf_token": csrf_from(page.text), "reason": "小号刷的"},
    )
    assert (await owner.get("/ops/disputes")).status_code == 403
    queue = await operator.get("/ops/disputes?lang=en")
    assert queue.text.count("data-dispute=") == 1
    assert "小号刷的" in queue.text
    assert "A brand contests an approval" in queue.text
    dispute_id = re.search(r'data-dispute="([^"]+)"', queue.text)
    assert dispute_id
    url = f"/ops/disputes/{dispute_id.group(1)}/decision"
    token = csrf_from(queue.text)
    no_note = await operator.post(url, data={"csrf_token": token, "decision": "uphold"})
    assert no_note.status_code == 422
    # A NUL in the note reaches the audit entry's JSON first; it was a 500 there.
    nul = await operator.post(
        url, data={"csrf_token": token, "decision": "dismiss", "note": "a\x00b"}
    )
    assert nul.status_code == 422 and "NUL" in nul.text
    decided = await operator.post(
        url, data={"csrf_token": token, "decision": "uphold", "note": "账号异常"}
    )
    assert decided.status_code == 303
    async with world.db.sessionmaker() as s:
        found = await s.get(Assignment, done.id)
        assert found is not None and found.status == "clawed_back"
    upheld = await operator.get("/ops/disputes?status=upheld")
    assert "账号异常" in upheld.text


async def test_pages_read_in_both_languages(owner: httpx.AsyncClient, world: World) -> None:
    campaign = await create(world)
    english = await owner.get(f"/campaigns/{campaign.id}?lang=en")
    assert "<h2>Work handed in</h2>" in english.text
    assert 'data-campaign-status="draft">Draft<' in english.text
    assert "<dd data-audience>Beauty</dd>" in english.text
    chinese = await owner.get(f"/campaigns/{campaign.id}?lang=zh_CN")
    assert '<html lang="zh-CN">' in chinese.text
    assert (await owner.get(f"/orgs/{world.org_id}/campaigns/new")).status_code == 200
    # Counts are grouped by thousands, as amounts are.
    big = await create(world, title="大活动", quantity=12_000)
    shown = await owner.get(f"/campaigns/{big.id}?lang=en")
    assert 'data-progress="units_left">12,000<' in shown.text and "/ 12,000<" in shown.text
    listed = await owner.get(f"/orgs/{world.org_id}/campaigns?lang=en")
    assert "0 / 12,000" in listed.text
    # An age range open at one end reads as such, not as an age with a dash after it.
    for ages, said in (
        ({"min_age": 18}, "Aged 18 and over"),
        ({"max_age": 30}, "Aged up to 30"),
        ({"min_age": 20, "max_age": 30}, "Age 20–30"),
    ):
        aged = await create(world, interests=[], **ages)
        shown = await owner.get(f"/campaigns/{aged.id}?lang=en")
        assert f"<dd data-audience>{said}</dd>" in shown.text


async def test_a_campaign_window_is_read_in_beijing_time() -> None:
    from xingdong.campaigns.pages import draft_from_form

    values = {k: v for k, v in form_fields().items() if isinstance(v, str)}
    window = {"starts_at": "2029-12-31T23:30", "ends_at": "2030-01-01T10:00"}
    made = draft_from_form({**values, **window}, {
        "regions": [], "interests": [], "tiers": []
    })  # fmt: skip
    assert made.starts_at.astimezone(UTC) == datetime(2029, 12, 31, 15, 30, tzinfo=UTC)
    assert made.ends_at - made.starts_at == timedelta(hours=10, minutes=30)


@pytest.mark.parametrize(
    ("typed", "message"),
    [("1e309", "This number is too large."), ("0.505", "Enter a price in yuan, like 2 or 0.50.")],
)
def test_a_price_no_campaign_can_take_is_refused_by_name(typed: str, message: str) -> None:
    from xingdong.campaigns.errors import CampaignInvalid
    from xingdong.campaigns.pages import draft_from_form

    values = {k: v for k, v in form_fields().items() if isinstance(v, str)}
    with pytest.raises(CampaignInvalid) as refused:
        draft_from_form(
            {**values, "unit_price": typed}, {"regions": [], "interests": [], "tiers": []}
        )
    assert [(f.field, f.message) for f in refused.value.fields] == [("unit_price", message)]
