"""The campaigns API over HTTP: brands create, fund, run and close campaigns and contest
completions; operators approve campaigns and decide disputes. Bad input and wrong callers
are refused and change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select

from tests.brand_world import bearer, campaign_body, create_draft, member, org_balance
from tests.integration.answers import problem
from tests.integration.conftest import make_settings
from tests.integration.work_support import browse_as
from tests.lifecycle_world import (
    BRAND_HANDLE,
    World,
    build_world,
    follow_on_sandbox,
    live_campaign,
    window_nearly_over,
)
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.identity import service as identity
from xingdong.platforms.sandbox import service as sandbox
from xingdong.work import service as work
from xingdong.work.models import Assignment, Dispute

FUNDS = 100_000


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    # After the client: the world's runtime is then the one the platform connector uses.
    built = await build_world(clean_db, make_settings(), workers=2, funds=FUNDS)
    yield built
    await built.db.dispose()


@pytest.fixture
async def owner(world: World) -> dict[str, str]:
    return await bearer(world, world.owner)


@pytest.fixture
async def operator(world: World) -> dict[str, str]:
    return await bearer(world, world.operator)


async def count_campaigns(world: World) -> int:
    async with world.db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Campaign)) or 0)


async def campaign_status(world: World, campaign_id: object) -> str:
    async with world.db.sessionmaker() as s:
        row = await s.get(Campaign, campaign_id)
        assert row is not None
        return row.status


# --- create, read, list ------------------------------------------------------------------


async def test_a_member_creates_a_draft_with_its_target_resolved(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    response = await client.post(
        f"/api/v1/orgs/{world.org_id}/campaigns", json=campaign_body(), headers=owner
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "draft"
    assert created["target"] == {
        "kind": "account",
        "ref": "brand_official",
        "title": "品牌官方号",
        "url": created["target"]["url"],
        "price_fen": None,
    }
    assert (created["unit_price_fen"], created["reward_fen"], created["fee_fen"]) == (100, 80, 20)
    assert created["compliance"] == []
    assert created["category"] is None  # not said
    assert created["progress"] == {
        "units_planned": 5,
        "units_open": 0,
        "units_done": 0,
        "units_left": 5,
        "budget_fen": 500,
        "spent_fen": 0,
        "reserved_fen": 0,
        "escrow_fen": 0,
        "percent_done": 0,
        "returned_fen": 0,
    }
    read = await client.get(f"/api/v1/campaigns/{created['id']}", headers=owner)
    assert read.status_code == 200
    assert read.json() == created
    # Nothing is paid for a draft.
    assert await org_balance(client, world.org_id, owner) == FUNDS


async def test_a_campaign_says_what_it_is_about(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    response = await client.post(
        f"/api/v1/orgs/{world.org_id}/campaigns",
        json=campaign_body(category="母婴"),
        headers=owner,
    )
    assert response.status_code == 201, response.text
    assert response.json()["category"] == "母婴"
    # Kept apart from the targeting, which it does not change.
    assert response.json()["targeting"]["interests"] == ["美妆"]
    read = await client.get(f"/api/v1/campaigns/{response.json()['id']}", headers=owner)
    assert read.json()["category"] == "母婴"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target": "@nobody_here"}, "target"),
        ({"quantity": 0}, "quantity"),
        ({"unit_price_fen": 5}, "unit_price_fen"),
        (
            {
                "starts_at": (utcnow() - timedelta(days=3)).isoformat(),
                "ends_at": (utcnow() - timedelta(days=1)).isoformat(),
            },
            "ends_at",
        ),
        ({"task_type": "buy_followers"}, "task_type"),
        ({"regions": ["火星"]}, "regions"),
        ({"quantity": 3, "per_person_limit": 5}, "per_person_limit"),
        ({"category": "化妆品"}, "category"),
        ({"min_stay_seconds": -5}, "min_stay_seconds"),
        ({"title": "限时\r\n福利"}, "title"),
        ({"min_watch_seconds": -5}, "min_watch_seconds"),
    ],
    ids=["unknown-target", "quantity-0", "price-below-minimum", "window-in-the-past",
         "unknown-task-type", "unknown-region", "limit-above-quantity", "unknown-category",
         "negative-stay", "negative-watch", "title-with-line-break"],
)  # fmt: skip
async def test_bad_drafts_are_refused_beside_their_field(
    client: httpx.AsyncClient,
    world: World,
    owner: dict[str, str],
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(
        f"/api/v1/orgs/{world.org_id}/campaigns",
        json=campaign_body(**overrides),
        headers={**owner, "Accept-Language": "en"},
    )
    body = problem(response, 422, "campaign_invalid")
    assert [e["field"] for e in body["errors"]] == [field]
    if field == "unit_price_fen":
        assert "¥0.10" in body["errors"][0]["message"]  # the minimum, named
    assert await count_campaigns(world) == 0


async def test_a_platform_not_connected_is_named_beside_its_field(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    response = await client.post(
        f"/api/v1/orgs/{world.org_id}/campaigns",
        json=campaign_body(platform="douyin"),
        headers={**owner, "Accept-Language": "en"},
    )
    body = problem(response, 422, "unknown_platform")
    assert body["detail"] == "Supported platforms: sandbox."
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        ("platform", "Choose a supported platform.")
    ]
    assert await count_campaigns(world) == 0


async def test_a_campaign_ends_within_the_longest_window_from_now(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    now = utcnow()
    ten_years = campaign_body(ends_at=(now + timedelta(days=3650)).isoformat())
    response = await client.post(
        f"/api/v1/orgs/{world.org_id}/campaigns",
        json=ten_years,
        headers={**owner, "Accept-Language": "en"},
    )
    body = problem(response, 422, "campaign_invalid")
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        ("ends_at", "A campaign ends at most 180 days from now.")
    ]
    assert body["max_days"] == 180 and "min_yuan" not in body
    assert await count_campaigns(world) == 0
    # A start long past counts from now (approval moves it there): the end is what counts.
    long_running = campaign_body(
        starts_at=(now - timedelta(days=400)).isoformat(),
        ends_at=(now + timedelta(days=179)).isoformat(),
    )
    made = await client.post(
        f"/api/v1/orgs/{world.org_id}/campaigns", json=long_running, headers=owner
    )
    assert made.status_code == 201, made.text


async def test_a_body_with_unknown_fields_or_naive_times_is_refused(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    url = f"/api/v1/orgs/{world.org_id}/campaigns"
    extra = await client.post(url, json=campaign_body(bonus=1), headers=owner)
    problem(extra, 422, "validation_failed")
    naive = await client.post(url, json=campaign_body(ends_at="2030-01-01T00:00:00"), headers=owner)
    problem(naive, 422, "validation_failed")
    # Money and counts are JSON numbers: a string, a float or a boolean is not read as one.
    for wrong in ("200", 200.0, True):
        typed = await client.post(url, json=campaign_body(unit_price_fen=wrong), headers=owner)
        problem(typed, 422, "validation_failed")
        assert [e["field"] for e in typed.json()["errors"]] == ["unit_price_fen"], wrong
    quantity = await client.post(url, json=campaign_body(quantity="5"), headers=owner)
    assert [e["field"] for e in quantity.json()["errors"]] == ["quantity"]
    assert await count_campaigns(world) == 0


async def test_times_come_back_in_utc_and_a_past_end_is_called_past(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    china = timezone(timedelta(hours=8))
    starts = (utcnow() + timedelta(days=1)).astimezone(china).replace(microsecond=0)
    ends = starts + timedelta(days=3)
    made = await create_draft(
        client, world, owner, starts_at=starts.isoformat(), ends_at=ends.isoformat()
    )
    read = (await client.get(f"/api/v1/campaigns/{made['id']}", headers=owner)).json()
    assert made["starts_at"] == read["starts_at"] and made["ends_at"] == read["ends_at"]
    assert made["starts_at"].endswith("Z")
    assert datetime.fromisoformat(made["starts_at"]) == starts
    past = await client.post(
        f"/api/v1/orgs/{world.org_id}/campaigns",
        json=campaign_body(ends_at="2020-01-01T00:00:00+08:00"),
        headers={**owner, "Accept-Language": "en"},
    )
    errors = problem(past, 422, "campaign_invalid")["errors"]
    assert [e["message"] for e in errors if e["field"] == "ends_at"] == ["The end is in the past."]


async def test_a_draft_made_with_a_key_is_made_once(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    url = f"/api/v1/orgs/{world.org_id}/campaigns"
    body = campaign_body()
    keyed = {**owner, "Idempotency-Key": "draft-1"}
    # Sent twice at once (a client that retried too soon): one draft.
    first, second = await asyncio.gather(
        client.post(url, json=body, headers=keyed), client.post(url, json=body, headers=keyed)
    )
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json()["id"] == second.json()["id"]
    assert await count_campaigns(world) == 1
    problem(
        await client.post(url, json={**body, "title": "另一个"}, headers=keyed),
        409,
        "idempotency_key_reused",
    )
    submit = await client.post(f"/api/v1/campaigns/{first.json()['id']}/submit", headers=keyed)
    assert problem(submit, 409, "idempotency_key_reused")["used_for"] == "draft"
    assert await campaign_status(world, first.json()["id"]) == "draft"
    # Without a key, as before: each request makes a draft.
    await client.post(url, json=body, headers=owner)
    assert await count_campaigns(world) == 2


async def test_a_target_of_another_kind_is_named_as_such(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    async with world.db.session_scope() as s:
        brand = await sandbox.get_account(s, handle=BRAND_HANDLE)
        video = await sandbox.create_video(s, account=brand, title="新品")
    url = f"/api/v1/orgs/{world.org_id}/campaigns"
    # A follow needs an account: the video's id is not "missing", it is the wrong kind.
    wrong = await client.post(
        url,
        json=campaign_body(target=str(video.id)),
        headers={**owner, "Accept-Language": "en"},
    )
    body = problem(wrong, 422, "campaign_invalid")
    assert (body["target_kind"], body["needed_kind"]) == ("video", "account")
    assert body["errors"][0]["field"] == "target"
    assert "not an account" in body["errors"][0]["message"]
    missing = await client.post(url, json=campaign_body(target=str(uuid4())), headers=owner)
    assert "target_kind" not in problem(missing, 422, "campaign_invalid")
    assert await count_campaigns(world) == 0


async def test_outsiders_see_nothing_and_create_nothing(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    draft = await create_draft(client, world, owner)
    stranger = await bearer(world, world.workers[0])
    problem(
        await client.post(
            f"/api/v1/orgs/{world.org_id}/campaigns", json=campaign_body(), headers=stranger
        ),
        404,
        "not_found",
    )
    # Another organisation's campaign answers as one that does not exist, code and all.
    theirs = await client.get(f"/api/v1/campaigns/{draft['id']}", headers=stranger)
    problem(theirs, 404, "campaign_not_found")
    missing = await client.get(f"/api/v1/campaigns/{uuid4()}", headers=stranger)
    problem(missing, 404, "campaign_not_found")
    assert (theirs.json()["title"], theirs.json()["detail"]) == (
        missing.json()["title"],
        missing.json()["detail"],
    )
    problem(
        await client.get(f"/api/v1/orgs/{world.org_id}/campaigns", headers=stranger),
        404,
        "not_found",
    )
    problem(
        await client.post(
            f"/api/v1/campaigns/{draft['id']}/submit",
            headers={**stranger, "Idempotency-Key": "k1"},
        ),
        404,
        "campaign_not_found",
    )
    problem(await client.get(f"/api/v1/orgs/{world.org_id}/campaigns"), 401, "not_authenticated")
    assert await count_campaigns(world) == 1
    assert await campaign_status(world, draft["id"]) == "draft"


async def test_operators_read_any_campaign(
    client: httpx.AsyncClient, world: World, owner: dict[str, str], operator: dict[str, str]
) -> None:
    draft = await create_draft(client, world, owner)
    read = await client.get(f"/api/v1/campaigns/{draft['id']}", headers=operator)
    assert read.status_code == 200
    assert read.json()["title"] == draft["title"]


async def test_the_list_filters_by_status_searches_titles_and_pages(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    titles = ["春季新品关注", "夏日关注活动", "秋季关注活动"]
    ids = [(await create_draft(client, world, owner, title=t))["id"] for t in titles]
    submitted = await client.post(
        f"/api/v1/campaigns/{ids[0]}/submit", headers={**owner, "Idempotency-Key": "list-1"}
    )
    assert submitted.status_code == 200, submitted.text
    url = f"/api/v1/orgs/{world.org_id}/campaigns"

    everything = (await client.get(url, headers=owner)).json()
    assert [c["title"] for c in everything["items"]] == list(reversed(titles))
    assert everything["next_cursor"] is None

    drafts = (await client.get(url, params={"status": "draft"}, headers=owner)).json()
    assert [c["title"] for c in drafts["items"]] == ["秋季关注活动", "夏日关注活动"]
    pending = (await client.get(url, params={"status": "pending_approval"}, headers=owner)).json()
    assert [c["id"] for c in pending["items"]] == [ids[0]]
    found = (await client.get(url, params={"q": "活动"}, headers=owner)).json()
    assert {c["title"] for c in found["items"]} == {"夏日关注活动", "秋季关注活动"}
    assert (await client.get(url, params={"q": "100%"}, headers=owner)).json()["items"] == []

    first = (await client.get(url, params={"limit": 2}, headers=owner)).json()
    assert len(first["items"]) == 2
    rest = (
        await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=owner)
    ).json()
    assert [c["id"] for c in first["items"] + rest["items"]] == list(reversed(ids))
    assert rest["next_cursor"] is None

    problem(
        await client.get(url, params={"status": "gone"}, headers=owner), 422, "validation_failed"
    )
    bad = await client.get(url, params={"cursor": "%%%"}, headers=owner)
    assert [e["field"] for e in problem(bad, 422, "validation_failed")["errors"]] == ["cursor"]


# --- submit: money into escrow -----------------------------------------------------------


async def test_submitting_funds_the_escrow_once_per_key(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    draft = await create_draft(client, world, owner)
    url = f"/api/v1/campaigns/{draft['id']}/submit"

    missing = await client.post(url, headers=owner)
    body = problem(missing, 422, "validation_failed")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert await campaign_status(world, draft["id"]) == "draft"
    assert await org_balance(client, world.org_id, owner) == FUNDS

    keyed = {**owner, "Idempotency-Key": "submit-once"}
    first = await client.post(url, headers=keyed)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending_approval"
    assert first.json()["progress"]["escrow_fen"] == 500
    assert await org_balance(client, world.org_id, owner) == FUNDS - 500

    again = await client.post(url, headers=keyed)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await org_balance(client, world.org_id, owner) == FUNDS - 500

    # A new key is a new request: the campaign is no longer a draft.
    problem(
        await client.post(url, headers={**owner, "Idempotency-Key": "another"}),
        409,
        "campaign_state",
    )
    # The same key for another campaign is a mistake, not a replay.
    other = await create_draft(client, world, owner, title="另一个活动")
    reused = await client.post(f"/api/v1/campaigns/{other['id']}/submit", headers=keyed)
    problem(reused, 409, "idempotency_key_reused")
    assert await campaign_status(world, other["id"]) == "draft"
    assert await org_balance(client, world.org_id, owner) == FUNDS - 500


async def test_a_budget_beyond_the_balance_says_what_is_missing(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    draft = await create_draft(client, world, owner, quantity=2000, unit_price_fen=100)
    response = await client.post(
        f"/api/v1/campaigns/{draft['id']}/submit",
        headers={**owner, "Idempotency-Key": "too-big", "Accept-Language": "en"},
    )
    body = problem(response, 409, "insufficient_funds")
    assert body["available_fen"] == FUNDS
    assert body["needed_fen"] == 200_000
    assert body["needed_yuan"] == "2,000.00"
    assert body["top_up"] == f"/orgs/{world.org_id}#balance"
    assert "¥1,000.00" in body["detail"] and "¥2,000.00" in body["detail"]
    assert await campaign_status(world, draft["id"]) == "draft"
    assert await org_balance(client, world.org_id, owner) == FUNDS


async def test_a_campaign_the_compliance_check_blocks_lists_its_findings(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    draft = await create_draft(client, world, owner, brief="全网最低价，快来关注")
    assert [f["code"] for f in draft["compliance"]] == ["absolute_claim"]
    response = await client.post(
        f"/api/v1/campaigns/{draft['id']}/submit",
        headers={**owner, "Idempotency-Key": "blocked", "Accept-Language": "en"},
    )
    body = problem(response, 422, "compliance_blocked")
    (finding,) = body["findings"]
    assert finding["code"] == "absolute_claim"
    assert finding["excerpt"] == "全网最低"
    assert finding["message"].startswith("“全网最低” is an absolute claim")
    assert body["errors"] == [{"field": "brief", "code": "invalid", "message": finding["message"]}]
    assert await campaign_status(world, draft["id"]) == "draft"
    assert await org_balance(client, world.org_id, owner) == FUNDS


async def test_a_member_who_is_not_an_owner_cannot_move_money(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    colleague = await bearer(world, await member(world))
    draft = await create_draft(client, world, colleague)
    assert draft["status"] == "draft"
    for action in ("submit", "close"):
        response = await client.post(
            f"/api/v1/campaigns/{draft['id']}/{action}",
            headers={**colleague, "Idempotency-Key": f"member-{action}"},
        )
        problem(response, 403, "forbidden")
    assert await campaign_status(world, draft["id"]) == "draft"
    assert await org_balance(client, world.org_id, owner) == FUNDS


# --- operators: approval -----------------------------------------------------------------


async def test_operators_approve_or_reject_what_waits(
    client: httpx.AsyncClient, world: World, owner: dict[str, str], operator: dict[str, str]
) -> None:
    first = await create_draft(client, world, owner, title="早春活动")
    second = await create_draft(
        client, world, owner, title="晚秋活动", brief="本季最美的口红，欢迎关注"
    )
    for n, campaign in enumerate((first, second)):
        submitted = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/submit",
            headers={**owner, "Idempotency-Key": f"ops-{n}"},
        )
        assert submitted.status_code == 200, submitted.text

    problem(await client.get("/api/v1/ops/campaigns", headers=owner), 403, "forbidden")
    queue = (await client.get("/api/v1/ops/campaigns", headers=operator)).json()
    assert [c["title"] for c in queue["items"]] == ["早春活动", "晚秋活动"]
    assert [f["severity"] for f in queue["items"][1]["compliance"]] == ["review"]

    decision = f"/api/v1/ops/campaigns/{first['id']}/decision"
    problem(
        await client.post(decision, json={"approve": True, "note": ""}, headers=owner),
        403,
        "forbidden",
    )
    no_reason = await client.post(decision, json={"approve": False, "note": " "}, headers=operator)
    assert [e["field"] for e in problem(no_reason, 422, "campaign_invalid")["errors"]] == ["note"]
    assert await campaign_status(world, first["id"]) == "pending_approval"

    approved = await client.post(decision, json={"approve": True, "note": "可以"}, headers=operator)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "live"
    assert approved.json()["decision_note"] == "可以"
    twice = await client.post(decision, json={"approve": False, "note": "晚了"}, headers=operator)
    problem(twice, 409, "campaign_state")

    rejected = await client.post(
        f"/api/v1/ops/campaigns/{second['id']}/decision",
        json={"approve": False, "note": "“最”是绝对化用语"},
        headers=operator,
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["progress"]["escrow_fen"] == 0
    # The rejected campaign's escrow is back; the approved one's is still held.
    assert await org_balance(client, world.org_id, owner) == FUNDS - 500
    live = (await client.get("/api/v1/ops/campaigns?status=live", headers=operator)).json()
    assert [c["id"] for c in live["items"]] == [first["id"]]


# --- pause, resume, close ----------------------------------------------------------------


async def test_pause_resume_and_close_return_the_unused_escrow(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    campaign = await live_campaign(world)
    base = f"/api/v1/campaigns/{campaign.id}"
    assert await org_balance(client, world.org_id, owner) == FUNDS - 500

    paused = await client.post(f"{base}/pause", headers=owner)
    assert paused.json()["status"] == "paused"
    problem(await client.post(f"{base}/pause", headers=owner), 409, "campaign_state")
    resumed = await client.post(f"{base}/resume", headers=owner)
    assert resumed.json()["status"] == "live"

    problem(await client.post(f"{base}/close", headers=owner), 422, "validation_failed")
    assert await campaign_status(world, campaign.id) == "live"

    keyed = {**owner, "Idempotency-Key": "close-1"}
    closed = await client.post(f"{base}/close", headers=keyed)
    assert closed.status_code == 200, closed.text
    assert closed.json()["returned_fen"] == 500
    assert closed.json()["campaign"]["status"] == "closed"
    assert closed.json()["campaign"]["progress"]["escrow_fen"] == 0
    assert await org_balance(client, world.org_id, owner) == FUNDS

    again = await client.post(f"{base}/close", headers=keyed)
    assert again.status_code == 200
    assert again.json() == closed.json()
    problem(
        await client.post(f"{base}/close", headers={**owner, "Idempotency-Key": "close-2"}),
        409,
        "campaign_state",
    )
    problem(await client.post(f"{base}/resume", headers=owner), 409, "campaign_state")
    assert await org_balance(client, world.org_id, owner) == FUNDS


async def test_closing_keeps_what_handed_in_work_reserved(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        assignment = await work.claim(
            s, person=worker, campaign_id=campaign.id, settings=world.settings
        )
    async with world.db.session_scope() as s:
        await work.submit(
            s, person=worker, assignment_id=assignment.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"), settings=world.settings,
            now=assignment.claimed_at + timedelta(seconds=60),
        )  # fmt: skip
    closed = await client.post(
        f"/api/v1/campaigns/{campaign.id}/close", headers={**owner, "Idempotency-Key": "c"}
    )
    assert closed.json()["returned_fen"] == 400
    progress = closed.json()["campaign"]["progress"]
    assert (progress["units_open"], progress["reserved_fen"], progress["escrow_fen"]) == (
        1,
        100,
        100,
    )


# --- completions, contests, disputes -----------------------------------------------------


async def approved_completion(world: World) -> tuple[Campaign, Assignment]:
    # Tests take other units of it at once.
    campaign = await live_campaign(world, **window_nearly_over())
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        assignment = await work.claim(
            s, person=worker, campaign_id=campaign.id, settings=world.settings
        )
    async with world.db.sessionmaker() as s:
        (account,) = await identity.platform_accounts(s, person=worker)
    await follow_on_sandbox(account.handle, world.db)
    async with world.db.session_scope() as s:
        done = await work.submit(
            s, person=worker, assignment_id=assignment.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"), settings=world.settings,
            now=assignment.claimed_at + timedelta(seconds=60),
        )  # fmt: skip
    assert done.status == "approved"
    return campaign, done


async def test_the_brand_sees_completions_without_knowing_the_worker(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    campaign, done = await approved_completion(world)
    # An open claim by someone else is not a completion.
    async with world.db.session_scope() as s:
        open_claim = await work.claim(
            s, person=world.workers[1], campaign_id=campaign.id, settings=world.settings
        )
    response = await client.get(f"/api/v1/campaigns/{campaign.id}/assignments", headers=owner)
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert item["id"] == str(done.id)
    assert item["status"] == "approved"
    assert item["verified_by_platform"] is True
    assert item["can_contest"] is True
    assert item["approved_at"] is not None and item["submitted_at"] is not None
    assert item["worker"].startswith("W-") and len(item["worker"]) == 10
    assert str(world.workers[0].id) not in response.text
    assert done.actor_handle not in response.text

    # One completion, as the list shows it (what a webhook names can be read again).
    base = f"/api/v1/campaigns/{campaign.id}/assignments"
    one = await client.get(f"{base}/{done.id}", headers=owner)
    assert one.status_code == 200, one.text
    assert one.json() == item
    problem(await client.get(f"{base}/{open_claim.id}", headers=owner), 404, "assignment_not_found")
    problem(await client.get(f"{base}/{uuid4()}", headers=owner), 404, "assignment_not_found")

    by_status = await client.get(
        f"/api/v1/campaigns/{campaign.id}/assignments?status=rejected", headers=owner
    )
    assert by_status.json()["items"] == []
    stranger = await bearer(world, world.workers[1])
    for path in (base, f"{base}/{done.id}"):
        problem(await client.get(path, headers=stranger), 404, "campaign_not_found")


async def test_a_contest_goes_to_an_operator_who_decides_it(
    client: httpx.AsyncClient, world: World, owner: dict[str, str], operator: dict[str, str]
) -> None:
    campaign, done = await approved_completion(world)
    contest = f"/api/v1/campaigns/{campaign.id}/assignments/{done.id}/contest"

    colleague = await bearer(world, await member(world))
    problem(
        await client.post(contest, json={"reason": "可疑"}, headers=colleague), 403, "forbidden"
    )
    other = await live_campaign(world, title="另一个活动")
    problem(
        await client.post(
            f"/api/v1/campaigns/{other.id}/assignments/{done.id}/contest",
            json={"reason": "可疑"},
            headers=owner,
        ),
        404,
        "assignment_not_found",
    )
    no_reason = await client.post(contest, json={"reason": "  "}, headers=owner)
    problem(no_reason, 422, "evidence_required")

    raised = await client.post(contest, json={"reason": "这是小号刷的"}, headers=owner)
    assert raised.status_code == 201, raised.text
    assert (raised.json()["kind"], raised.json()["status"]) == ("contest", "open")
    problem(
        await client.post(contest, json={"reason": "再一次"}, headers=owner),
        409,
        "assignment_state",
    )

    problem(await client.get("/api/v1/ops/disputes", headers=owner), 403, "forbidden")
    cases = (await client.get("/api/v1/ops/disputes", headers=operator)).json()
    (case,) = cases["items"]
    assert case["id"] == raised.json()["id"]
    assert case["campaign"]["id"] == str(campaign.id)
    assert case["work"]["status_before"] == "approved"
    assert case["work"]["verification"]["status"] == "verified"

    decision = f"/api/v1/ops/disputes/{case['id']}/decision"
    problem(
        await client.post(decision, json={"uphold": True, "note": "x"}, headers=owner),
        403,
        "forbidden",
    )
    upheld = await client.post(
        decision, json={"uphold": True, "note": "账号异常"}, headers=operator
    )
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld"
    problem(
        await client.post(decision, json={"uphold": False, "note": "再看"}, headers=operator),
        409,
        "assignment_state",
    )
    async with world.db.sessionmaker() as s:
        row = await s.get(Assignment, done.id)
        assert row is not None and row.status == "clawed_back"
    decided = (await client.get("/api/v1/ops/disputes?status=upheld", headers=operator)).json()
    assert [c["id"] for c in decided["items"]] == [case["id"]]
    assert (await client.get("/api/v1/ops/disputes", headers=operator)).json()["items"] == []


async def test_a_draft_is_deleted_by_its_author_or_an_owner_and_nothing_else_is(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    colleague = await member(world)
    theirs = await bearer(world, colleague)
    other = await bearer(world, await member(world))
    made_by_member = await create_draft(client, world, theirs, title="同事的草稿")
    made_by_owner = await create_draft(client, world, owner, title="所有者的草稿")
    # Another plain member may not delete a colleague's draft, nor the owner's.
    for draft in (made_by_member, made_by_owner):
        refused = await client.delete(f"/api/v1/campaigns/{draft['id']}", headers=other)
        problem(refused, 403, "forbidden")
    gone = await client.delete(f"/api/v1/campaigns/{made_by_member['id']}", headers=theirs)
    assert gone.status_code == 204, gone.text
    problem(
        await client.get(f"/api/v1/campaigns/{made_by_member['id']}", headers=owner),
        404,
        "campaign_not_found",
    )
    assert (
        await client.delete(f"/api/v1/campaigns/{made_by_owner['id']}", headers=owner)
    ).status_code == 204
    # A campaign that was ever funded is kept: it is closed, not deleted.
    funded = await create_draft(client, world, owner, title="已提交")
    submitted = await client.post(
        f"/api/v1/campaigns/{funded['id']}/submit",
        headers={**owner, "Idempotency-Key": "delete-funded"},
    )
    assert submitted.status_code == 200, submitted.text
    problem(
        await client.delete(f"/api/v1/campaigns/{funded['id']}", headers=owner),
        409,
        "campaign_state",
    )
    assert await count_campaigns(world) == 1
    assert await org_balance(client, world.org_id, owner) == FUNDS - 500


async def test_a_decided_contest_shows_its_outcome_and_cannot_be_raised_again(
    client: httpx.AsyncClient, world: World, owner: dict[str, str], operator: dict[str, str]
) -> None:
    campaign, done = await approved_completion(world)
    one = f"/api/v1/campaigns/{campaign.id}/assignments/{done.id}"
    assert (await client.get(one, headers=owner)).json()["contest"] is None
    raised = await client.post(f"{one}/contest", json={"reason": "像是小号"}, headers=owner)
    assert raised.status_code == 201, raised.text
    dismissed = await client.post(
        f"/api/v1/ops/disputes/{raised.json()['id']}/decision",
        json={"uphold": False, "note": "平台确认关注仍在"},
        headers=operator,
    )
    assert dismissed.status_code == 200, dismissed.text
    read = (await client.get(one, headers=owner)).json()
    assert read["status"] == "approved" and read["can_contest"] is False
    assert read["contest"]["status"] == "dismissed"
    assert read["contest"]["decision_note"] == "平台确认关注仍在"
    await browse_as(client, world, world.owner)
    page = await client.get(f"/campaigns/{campaign.id}?lang=en")
    row = page.text.split(f'data-completion="{done.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-contest-outcome="dismissed"' in row
    # What the platform saw at the hand-in, before anyone contests.
    assert 'data-platform-check="verified"' in row and "Follow found" in row
    assert "the completion stands" in row and "平台确认关注仍在" in row
    assert "data-contest-form" not in row


async def test_a_completion_past_its_hold_cannot_be_contested(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    campaign, done = await approved_completion(world)
    assert done.hold_until is not None
    async with world.db.session_scope() as s:
        await work.settle_holds(s, now=done.hold_until + timedelta(seconds=1))
    listed = (
        await client.get(f"/api/v1/campaigns/{campaign.id}/assignments", headers=owner)
    ).json()
    assert [(i["status"], i["can_contest"]) for i in listed["items"]] == [("released", False)]
    response = await client.post(
        f"/api/v1/campaigns/{campaign.id}/assignments/{done.id}/contest",
        json={"reason": "太晚"},
        headers=owner,
    )
    assert response.status_code == 409
    async with world.db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Dispute)) == 0


async def test_a_worker_cannot_be_found_through_two_campaigns(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    """One worker's hand-ins to two campaigns of a brand: the brand reads two pseudonyms,
    each the same at every reading. Read through the API, where a pseudonym made of
    anything but the campaign would show, not by calling the function that makes it."""
    worker = world.workers[0]
    shown: list[str] = []
    for n, title in enumerate(("关注品牌官方账号", "第二期：关注品牌官方账号")):
        campaign = await live_campaign(world, title=title, **window_nearly_over())
        async with world.db.session_scope() as s:
            claimed = await work.claim(
                s, person=worker, campaign_id=campaign.id, settings=world.settings
            )
        async with world.db.session_scope() as s:
            done = await work.submit(
                s, person=worker, assignment_id=claimed.id,
                evidence=work.Evidence(link=f"https://sandbox.example/proof/{n}"),
                settings=world.settings, now=claimed.claimed_at + timedelta(seconds=60),
            )  # fmt: skip
        url = f"/api/v1/campaigns/{campaign.id}/assignments"
        (item,) = (await client.get(url, headers=owner)).json()["items"]
        again = (await client.get(f"{url}/{done.id}", headers=owner)).json()
        assert item["worker"] == again["worker"]
        shown.append(item["worker"])
    first, second = shown
    assert first.startswith("W-") and second.startswith("W-")
    assert first != second
