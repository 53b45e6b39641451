"""The personal feed on the live platform: dispatch places the live campaigns for each
person with a reason line, a person can hide a task or a brand (and show it again), and
every item shown is logged as an exposure."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from tests.integration.answers import csrf_from
from tests.integration.conftest import make_settings
from tests.integration.work_support import bearer, browse_as
from tests.lifecycle_world import World, add_worker, live_campaign
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.settings import Settings
from xingdong.dispatch.delivery import campaign_delivery
from xingdong.dispatch.exposures import ExposureLog
from xingdong.dispatch.facts import facts_of_person
from xingdong.dispatch.live import drain_exposures
from xingdong.dispatch.models import ShownFeed
from xingdong.identity import service as identity
from xingdong.ledger import service as ledger
from xingdong.ledger.deposits import DEPOSITS_ACCOUNT, open_org_account, org_account
from xingdong.work import service as work
from xingdong.work.models import HOLDS_UNIT, Assignment


async def another_brand(world: World, name: str) -> World:
    """The same world seen from a second brand of the same owner, with its own money."""
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        org = await identity.create_organisation(s, actor=owner, kind="brand", name=name)
        await open_org_account(s, org.id)
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                f"fund-{org.id}", DEPOSITS_ACCOUNT, org_account(org.id), 1_000_000, "deposit"
            ),
        )
    return dataclasses.replace(world, org_id=org.id)


async def feed(client: httpx.AsyncClient, auth: dict[str, str], query: str = "") -> dict:  # type: ignore[type-arg]
    response = await client.get("/api/v1/tasks" + query, headers=auth)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def ids(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["campaign_id"] for item in body["items"]]


async def test_the_feed_says_why_each_task_is_there_and_logs_what_it_showed(
    client: httpx.AsyncClient, world: World
) -> None:
    for_her = await live_campaign(world, title="美妆新品", interests=["美妆"])
    other = await another_brand(world, "数码品牌")
    not_for_her = await live_campaign(other, title="数码开箱", interests=["数码"])
    anyone = await live_campaign(
        await another_brand(world, "大众品牌"), title="关注大众品牌", interests=["美妆", "数码"]
    )
    auth = await bearer(world, world.workers[0])  # interested in 美妆, in 浙江
    body = await feed(client, auth)
    shown = ids(body)
    assert set(shown) == {str(for_her.id), str(anyone.id)}
    assert str(not_for_her.id) not in shown
    why = {item["campaign_id"]: item["why"] for item in body["items"]}
    assert why[str(for_her.id)]["code"] in {"interest_match", "new_this_hour"}
    assert why[str(for_her.id)]["message"]
    english = await feed(client, {**auth, "Accept-Language": "en"})
    # English throughout, interests and regions by their English names.
    assert all(item["why"]["message"].isascii() for item in english["items"])

    await drain_exposures(client.app.state.runtime.db)  # type: ignore[attr-defined]
    async with world.db.sessionmaker() as s:
        rows = (await s.scalars(select(ShownFeed).order_by(ShownFeed.id))).all()
    assert len(rows) == 2  # one row a feed
    first_feed = rows[0]
    assert [str(c) for c in first_feed.campaign_ids] == shown
    assert first_feed.reasons == [item["why"]["code"] for item in body["items"]]
    assert {r.person_id for r in rows} == {world.workers[0].id}


async def test_a_task_about_an_interest_of_the_person_says_so_untargeted(
    client: httpx.AsyncClient, world: World
) -> None:
    now = utcnow()
    about_beauty = await live_campaign(
        world, title="关注美妆号", interests=[], regions=["浙江"], category="美妆",
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1),
    )  # fmt: skip
    auth = await bearer(world, world.workers[0])  # interested in 美妆, in 浙江
    item = (await feed(client, {**auth, "Accept-Language": "en"}))["items"][0]
    assert item["campaign_id"] == str(about_beauty.id)
    # The brand targeted a region, not an interest: the category is what matched.
    assert item["why"]["code"] == "interest_match"
    assert "Beauty" in item["why"]["message"]


async def test_hiding_a_task_or_a_brand_and_showing_it_again(
    client: httpx.AsyncClient, world: World
) -> None:
    mine = await live_campaign(world, title="主品牌任务")
    other_brand = await another_brand(world, "第二品牌")
    theirs = await live_campaign(other_brand, title="第二品牌任务")
    auth = await bearer(world, world.workers[0])
    assert set(ids(await feed(client, auth))) == {str(mine.id), str(theirs.id)}

    hidden = await client.post(
        "/api/v1/feed/hidden", headers=auth, json={"kind": "campaign", "ref": str(mine.id)}
    )
    assert hidden.status_code == 204
    assert ids(await feed(client, auth)) == [str(theirs.id)]
    again = await client.post(
        "/api/v1/feed/hidden", headers=auth, json={"kind": "campaign", "ref": str(mine.id)}
    )
    assert again.status_code == 204  # hiding twice changes nothing
    brand = await client.post(
        "/api/v1/feed/hidden",
        headers=auth,
        json={"kind": "brand", "ref": str(other_brand.org_id)},
    )
    assert brand.status_code == 204
    empty = await feed(client, auth)
    assert empty["items"] == []
    assert [r["code"] for r in empty["reasons"]] == ["all_hidden"]
    listed = (await client.get("/api/v1/feed/hidden", headers=auth)).json()
    assert {(h["kind"], h["name"]) for h in listed} == {
        ("campaign", "主品牌任务"),
        ("brand", "第二品牌"),
    }
    # Another person's feed is untouched.
    other_auth = await bearer(world, world.workers[1])
    assert len(ids(await feed(client, other_auth))) == 2

    bad_kind = await client.post(
        "/api/v1/feed/hidden", headers=auth, json={"kind": "person", "ref": str(mine.id)}
    )
    assert bad_kind.status_code == 422
    assert bad_kind.headers["content-type"].startswith("application/problem+json")
    shown_again = await client.delete(f"/api/v1/feed/hidden/campaign/{mine.id}", headers=auth)
    assert shown_again.status_code == 204
    assert ids(await feed(client, auth)) == [str(mine.id)]


async def test_the_task_center_page_hides_and_lists_what_was_hidden(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, title="页面里的任务")
    await browse_as(client, world, world.workers[0])
    page = await client.get("/tasks?type=follow")
    assert f'data-task="{campaign.id}"' in page.text
    assert "data-feed-reason=" in page.text
    # Hidden from the feed filtered by type: back to the same filter.
    form = page.text.split(f'data-hide-task="{campaign.id}">', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="type" value="follow">' in form
    token = csrf_from(page.text)
    hide = await client.post(
        "/feed/hidden",
        data={"csrf_token": token, "kind": "campaign", "ref": str(campaign.id), "type": "follow"},
    )
    assert hide.status_code == 303
    assert hide.headers["location"].startswith("/tasks?type=follow&done=")
    told = await client.get(hide.headers["location"])
    assert "“我隐藏的内容”" in told.text  # where to show it again
    after = await client.get("/tasks")
    assert f'data-task="{campaign.id}"' not in after.text
    assert 'data-reason="all_hidden"' in after.text
    listed = await client.get("/feed/hidden")
    assert f'data-hidden="campaign:{campaign.id}"' in listed.text
    bad = await client.post(
        "/feed/hidden", data={"csrf_token": token, "kind": "campaign", "ref": "nonsense"}
    )
    assert bad.status_code == 422
    # A filter that is no task type leads back to the whole feed, not to an odd address.
    odd = await client.post(
        "/feed/hidden",
        data={"csrf_token": token, "kind": "campaign", "ref": str(campaign.id), "type": "x//y"},
    )
    assert odd.headers["location"].startswith("/tasks?done=")
    unhide = await client.post(
        "/feed/hidden/remove",
        data={"csrf_token": token, "kind": "campaign", "ref": str(campaign.id)},
    )
    assert unhide.status_code == 303
    assert f'data-task="{campaign.id}"' in (await client.get("/tasks")).text


async def test_novices_see_onboarding_tasks_first_with_a_reason(
    client: httpx.AsyncClient, world: World
) -> None:
    newcomer = await add_worker(world, handle="brand_new_creator", followers=12)
    onboarding = await live_campaign(
        await another_brand(world, "新手品牌"), title="新手任务", tiers=["novice"]
    )
    for_everyone = await live_campaign(world, title="普通任务")
    body = await feed(client, await bearer(world, newcomer))
    assert ids(body)[0] == str(onboarding.id)
    assert body["items"][0]["why"]["code"] == "novice_task"
    assert str(for_everyone.id) in ids(body)
    seasoned = await add_worker(world, handle="big_creator", followers=500_000)
    assert str(onboarding.id) not in ids(await feed(client, await bearer(world, seasoned)))


def test_dispatch_weights_are_checked_at_start_up() -> None:
    assert make_settings(dispatch_weights={"novice_boost": 0.3}).dispatch_weights == {
        "novice_boost": 0.3
    }
    with pytest.raises(ValidationError, match="novelty: There is no such weight"):
        make_settings(dispatch_weights={"novelty": 1.0})
    with pytest.raises(ValidationError, match="value: Enter 0 or more"):
        make_settings(dispatch_weights={"value": -1.0})
    with pytest.raises(ValidationError, match="prior_strength: Enter a number above 0"):
        make_settings(dispatch_weights={"prior_strength": 0})


async def test_a_brand_sees_delivery_against_the_plan_and_why_it_is_slow(
    client: httpx.AsyncClient, world: World
) -> None:
    now = utcnow()
    slow = await live_campaign(
        world, title="西藏限定", regions=["西藏"], quantity=50, unit_price=20,
        pacing_per_hour=1, starts_at=now - timedelta(days=2), ends_at=now + timedelta(days=2),
    )  # fmt: skip
    for n in range(2):
        await live_campaign(
            await another_brand(world, f"同类品牌{n}"), title=f"同类任务{n}", unit_price=200
        )
    on_track = await live_campaign(await another_brand(world, "准时品牌"), quantity=5)
    async with world.db.sessionmaker() as s:
        slow_row = await s.get(Campaign, slow.id)
        assert slow_row is not None
        delivery = await campaign_delivery(s, campaign=slow_row, now=now)
    assert 0.45 < delivery.planned_now < 0.55  # half of an even plan
    assert delivery.actual_now == 0
    assert delivery.planned[0] == 0 and delivery.planned[-1] == pytest.approx(1)
    # Nobody lives in 西藏 on this platform: not "few", nobody.
    assert [code for code, _params in delivery.slow] == [
        "targeting_empty",
        "price_low",
        "pacing_cap",
    ]
    assert dict(delivery.slow)["pacing_cap"] == {"cap": 1, "possible": 48, "left": 50}
    assert dict(delivery.slow)["targeting_empty"] == {
        "left": 50,
        # The region and the draft's own interest are set, but only the region leaves
        # out someone the interest alone would let in: that is what to widen.
        "limits": "regions",
    }

    await browse_as(client, world, world.owner)
    page = await client.get(f"/campaigns/{slow.id}")
    assert page.status_code == 200
    assert "data-delivery" in page.text
    # The chart says when its window starts and ends.
    scale = page.text.split("data-chart-window>", 1)[1].split("</div>", 1)[0]
    assert scale.count("<time datetime=") == 2 and "北京时间" in scale, scale
    for code in ("targeting_empty", "price_low", "pacing_cap"):
        assert f'data-slow-reason="{code}"' in page.text
    # What the hints ask for is a click away.
    actions = page.text.split("data-slow-actions>", 1)[1].split("</p>", 1)[0]
    assert f"/campaigns/new?copy={slow.id}" in actions and f"/campaigns/{slow.id}/close" in actions
    hint = page.text.split('data-slow-reason="price_low">', 1)[1].split("<", 1)[0]
    assert "0.16" in hint and "1.60" in hint, hint  # the reward and what others pay
    listed = await client.get(f"/orgs/{world.org_id}/campaigns?lang=en")
    row = listed.text.split(f'data-campaign="{slow.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-pace="behind"' in row and "Behind plan" in row
    fine = await client.get(f"/campaigns/{on_track.id}")
    assert "data-delivery" in fine.text
    assert "data-slow" not in fine.text  # it just started: nothing planned yet
    assert "data-ahead hidden" in fine.text

    # The same through the API, for the brand's own tools.
    owner = {**await bearer(world, world.owner), "Accept-Language": "en"}
    answer = await client.get(f"/api/v1/campaigns/{slow.id}/delivery", headers=owner)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert 0.45 < body["planned_share"] < 0.55
    assert (body["taken_share"], body["held_share"], body["ahead"]) == (0, 0, False)
    assert (body["shown"], body["taken_per_100_shown"]) == (0, None)
    assert [reason["code"] for reason in body["slow"]] == [
        "targeting_empty",
        "price_low",
        "pacing_cap",
    ]
    assert "(¥1.60)" in body["slow"][1]["message"]
    # The hint names what this campaign narrows, and only that.
    assert body["slow"][0]["message"].startswith("Nobody on the platform matches")
    assert "a new campaign that widens the regions can reach people" in body["slow"][0]["message"]
    assert len(body["points"]) == 25
    assert body["points"][0]["planned_share"] == 0 and body["points"][-1]["planned_share"] == 1
    assert body["points"][0]["taken_share"] == 0 and body["points"][-1]["taken_share"] is None
    stranger = await bearer(world, world.workers[0])
    refused = await client.get(f"/api/v1/campaigns/{slow.id}/delivery", headers=stranger)
    assert refused.status_code == 404, refused.text  # not told it exists


async def test_a_campaign_for_one_creator_tier_counts_that_tier_and_says_so(
    world: World,
) -> None:
    now = utcnow()
    for followers in (50, 5_000, 500_000):
        await add_worker(world, handle=f"tier_{followers}", followers=followers)
    # No interests (the test draft has one): only what each test sets narrows it.
    window = {
        "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=1), "interests": [],
    }  # fmt: skip
    for_heads = await live_campaign(
        world, title="头部达人任务", tiers=["head"], quantity=3, **window
    )
    for_new = await live_campaign(
        world, title="新人任务", tiers=["novice"], regions=["浙江"], quantity=1, **window
    )
    adults = await live_campaign(
        world, title="成年人任务", min_age=18, max_age=60, quantity=30, **window
    )
    async with world.db.sessionmaker() as s:
        heads = await campaign_delivery(s, campaign=for_heads, now=now)
        new = await campaign_delivery(s, campaign=for_new, now=now)
        for_adults = await campaign_delivery(s, campaign=adults, now=now)
    # One head creator for three units: too few, and the tier is what narrows it.
    assert dict(heads.slow)["targeting_narrow"] == {"audience": 1, "left": 3, "limits": "tiers"}
    assert heads.slow_texts("zh_CN")[0][1].endswith("新建一个放宽创作者层级的活动可触达更多人。")
    # The world's three workers (500 followers) and the 50-follower one: novices in 浙江,
    # enough for one unit.
    assert "targeting_narrow" not in dict(new.slow)
    # Six adults bound on the platform for thirty units, and every one of them is in the
    # age range: widening it would reach no one more, so it is not what to change.
    assert "targeting_narrow" not in dict(for_adults.slow)
    assert [code for code, _ in for_adults.slow] == ["behind_plan"]


async def test_the_units_taken_are_drawn_up_to_now_and_a_campaign_ahead_says_it_is_held_back(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    now = utcnow()
    # A week's window begun an hour ago: the first of its 24 drawn points is its start.
    early = await live_campaign(
        world, quantity=5, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=7)
    )
    worker = await add_worker(world, handle="early_bird")
    async with world.db.session_scope() as s:
        await work.claim(s, person=worker, campaign_id=early.id, settings=settings, now=now)
    async with world.db.sessionmaker() as s:
        row = await s.get(Campaign, early.id)
        assert row is not None
        delivery = await campaign_delivery(s, campaign=row, now=now)
    assert 0 < delivery.now_share < 1 / 24
    assert delivery.actual_now == pytest.approx(0.2)
    assert delivery.planned_now < 0.02
    # The line reaches now, one unit up; before, it had no point but the start.
    assert delivery.taken_line == [(0.0, 0.0), (delivery.now_share, 0.2)]
    assert delivery.ahead
    assert delivery.slow == []
    await browse_as(client, world, world.owner)
    page = await client.get(f"/campaigns/{early.id}")
    assert "data-ahead>" in page.text  # shown, not hidden
    listed = await client.get(f"/orgs/{world.org_id}/campaigns")
    listed_row = listed.text.split(f'data-campaign="{early.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-pace="ahead"' in listed_row and "超前于计划" in listed_row
    now_line = page.text.split("data-now", 1)[1].split(">", 1)[0]
    assert "hidden" not in now_line and 'x1="0"' not in now_line, now_line
    drawn = page.text.split('data-actual points="', 1)[1].split('"', 1)[0].split()
    assert len(drawn) == 2 and drawn[0] == "0.0,120.0" and drawn[1].endswith(",96.0"), drawn

    # Four feeds showed it (the log counts them as it writes): one taken in four.
    log = ExposureLog(world.db)
    for n in range(4):
        log.add(str(worker.id), now + timedelta(seconds=n), [(str(early.id), "recommended")])
    await log.drain()
    page = await client.get(f"/campaigns/{early.id}?lang=en")
    assert 'task feeds: <span data-delivery="shown">4</span>.' in page.text
    assert 'showings: <span data-delivery="taken_per_100_shown">25.0</span>.' in page.text
    refreshed = (await client.get(f"/campaigns/{early.id}/progress")).json()["delivery"]
    assert (refreshed["shown"], refreshed["taken_per_100_shown"]) == ("4", "25.0")
    token = await bearer(world, world.owner)
    api = (await client.get(f"/api/v1/campaigns/{early.id}/delivery", headers=token)).json()
    assert (api["shown"], api["taken_per_100_shown"]) == (4, 25.0)
    assert (api["held_share"], api["ahead"], api["slow"]) == (0.2, True, [])

    # Closed, its curves end where it closed, a day later seen: no line at now.
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        await campaigns.close_campaign(s, actor=owner, campaign_id=early.id, now=now)
    async with world.db.sessionmaker() as s:
        row = await s.get(Campaign, early.id)
        assert row is not None and row.closed_at is not None
        later = await campaign_delivery(s, campaign=row, now=now + timedelta(days=1))
    assert later.closed and later.now_x is None
    assert later.taken_line[-1][0] < 2 / 24 * 1 / 7  # an hour or so into the week, not a day


async def test_a_rejected_hand_in_gives_its_unit_back_on_the_chart_and_the_list(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    now = utcnow()
    # Nearly over: its plan lets every unit go now.
    manual = await live_campaign(
        world, quantity=4, review_policy="manual",
        starts_at=now - timedelta(days=2), ends_at=now + timedelta(hours=1),
    )  # fmt: skip
    kept, refused = world.workers[:2]
    reviewer = await world.actor(world.reviewer)
    async with world.db.session_scope() as s:
        await work.claim(s, person=kept, campaign_id=manual.id, settings=settings, now=now)
        taken = await work.claim(
            s, person=refused, campaign_id=manual.id, settings=settings, now=now
        )
    async with world.db.session_scope() as s:
        await work.submit(
            s, person=refused, assignment_id=taken.id,
            evidence=work.Evidence(link="https://sandbox.example/proof", note="已关注"),
            settings=settings, now=now + timedelta(seconds=60),
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await work.review(
            s, actor=reviewer, assignment_id=taken.id, approve=False, reason="action_not_done",
            note=None, settings=settings, now=now + timedelta(seconds=90),
        )  # fmt: skip
    async with world.db.sessionmaker() as s:
        row = await s.get(Campaign, manual.id)
        assert row is not None
        delivery = await campaign_delivery(s, campaign=row, now=now + timedelta(minutes=2))
        counted = await s.scalar(
            select(func.count()).where(Assignment.campaign_id == manual.id, HOLDS_UNIT)
        )
    # One unit held of four: the rejected claim is not drawn as taken.
    assert delivery.actual_now == pytest.approx(0.25) == delivery.committed_now
    assert delivery.taken_line[-1][1] == pytest.approx(0.25)
    assert counted == 1 == row.units_open + row.units_done
    # The brand reads why, on the page and in the API.
    await browse_as(client, world, world.owner)
    page = await client.get(f"/campaigns/{manual.id}?lang=en")
    shown = page.text.split(f'data-completion="{taken.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-rejected-reason="action_not_done"' in shown
    assert "The action is not there" in shown
    token = await bearer(world, world.owner)
    listed = await client.get(f"/api/v1/campaigns/{manual.id}/assignments", headers=token)
    assert [c["rejected_reason"] for c in listed.json()["items"]] == ["action_not_done"]


async def test_an_onboarding_task_done_in_an_ended_campaign_still_counts(world: World) -> None:
    """The feed keeps an onboarding task near the top only until a novice has done one,
    in any campaign: one that has ended since counts too (the index forgets it)."""
    newcomer = await add_worker(world, handle="returning_newbie", followers=12)
    onboarding = await live_campaign(
        await another_brand(world, "新手品牌"), title="新手任务", tiers=["novice"]
    )

    async def onboarded() -> bool:
        async with world.db.sessionmaker() as s:
            facts = await facts_of_person(s, person=newcomer, settings=world.settings, now=utcnow())
        return facts.onboarded

    assert await onboarded() is False
    async with world.db.session_scope() as s:
        claimed = await work.claim(
            s, person=newcomer, campaign_id=onboarding.id, settings=world.settings
        )
    async with world.db.session_scope() as s:
        await work.submit(
            s, person=newcomer, assignment_id=claimed.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings, now=claimed.claimed_at + timedelta(minutes=1),
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await campaigns.close_campaign(s, actor=None, campaign_id=onboarding.id)
    assert await onboarded() is True


async def test_the_exposure_log_is_forgotten_after_its_retention_and_the_counts_stay(
    world: World,
) -> None:
    from xingdong.dispatch.exposures import prune_exposures
    from xingdong.dispatch.models import CampaignShowings

    now = utcnow()
    shown = await live_campaign(world, quantity=5)
    worker = await add_worker(world, handle="long_ago")
    log = ExposureLog(world.db)
    for days_ago in (120, 91, 89, 1):
        log.add(str(worker.id), now - timedelta(days=days_ago), [(str(shown.id), "recommended")])
    await log.drain()
    assert await prune_exposures(world.db, days=90, now=now) == 2
    assert await prune_exposures(world.db, days=90, now=now) == 0
    async with world.db.sessionmaker() as s:
        left = (await s.scalars(select(ShownFeed.shown_at).order_by(ShownFeed.shown_at))).all()
        counted = await s.scalar(
            select(func.sum(CampaignShowings.shown)).where(CampaignShowings.campaign_id == shown.id)
        )
    assert left == [now - timedelta(days=89), now - timedelta(days=1)]
    assert counted == 4  # what the brand and CPM billing read is not the log


def test_the_history_learned_at_start_must_be_within_the_kept_log() -> None:
    assert make_settings(dispatch_history_days=30, dispatch_exposure_retention_days=30)
    with pytest.raises(ValidationError, match="cannot be more than"):
        make_settings(dispatch_history_days=31, dispatch_exposure_retention_days=30)
