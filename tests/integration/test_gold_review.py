"""Gold items in the reviewers' real queue: operators pick them (API and page), reviewers
meet them in the workbench and the review API like any other item, and their answers show
up as accuracy, without touching the source submission or any money."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from tests.integration.answers import csrf_from
from tests.integration.conftest import make_settings
from tests.integration.work_support import act_like_a_person, bearer, browse_as, work_settings
from tests.lifecycle_world import World, build_world, live_campaign, window_nearly_over
from xingdong.campaigns.models import Campaign
from xingdong.core.audit import AuditEntry
from xingdong.core.settings import Settings
from xingdong.identity.models import Person
from xingdong.work import gold
from xingdong.work import service as work
from xingdong.work.models import Assignment, GoldAnswer

TRIES = 80  # each draw shows the gold item with chance 1/2; 80 misses in a row: 1e-24


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(**work_settings(tmp_path / "evidence"), review_gold_rate=0.5)


@pytest.fixture
async def world(
    client: httpx.AsyncClient, clean_db: str, settings: Settings
) -> AsyncIterator[World]:
    built = await build_world(clean_db, settings, workers=3)
    yield built
    await built.db.dispose()


async def handed_in(world: World, campaign: Campaign, worker: Person) -> Assignment:
    async with world.db.session_scope() as s:
        claimed = await work.claim(
            s, person=worker, campaign_id=campaign.id, settings=world.settings
        )
    async with world.db.session_scope() as s:
        return await work.submit(
            s, person=worker, assignment_id=claimed.id, evidence=work.Evidence(link="https://x"),
            settings=world.settings, now=claimed.claimed_at + timedelta(seconds=40),
        )  # fmt: skip


async def verified_hand_in(world: World, campaign: Campaign, worker: Person) -> Assignment:
    """Followed on the platform and handed in after a person's while: verified, and
    nothing flagged."""
    async with world.db.session_scope() as s:
        claimed = await work.claim(
            s, person=worker, campaign_id=campaign.id, settings=world.settings
        )
    await act_like_a_person(world, claimed.id, follow=True)
    async with world.db.session_scope() as s:
        return await work.submit(
            s, person=worker, assignment_id=claimed.id, evidence=work.Evidence(link="https://x"),
            settings=world.settings,
        )  # fmt: skip


async def rejected(world: World, campaign: Campaign, worker: Person) -> Assignment:
    submitted = await handed_in(world, campaign, worker)
    reviewer = await world.actor(world.reviewer)
    async with world.db.session_scope() as s:
        return await work.review(
            s, actor=reviewer, assignment_id=submitted.id, approve=False,
            reason="action_not_done", note=None, settings=world.settings,
        )  # fmt: skip


async def source_state(world: World, assignment_id: UUID) -> tuple[str, UUID | None, str | None]:
    async with world.db.sessionmaker() as s:
        row = await s.get(Assignment, assignment_id)
        assert row is not None
        return row.status, row.reviewed_by, row.review_reason


async def test_operators_make_gold_items_and_reviewers_meet_them_in_the_api_queue(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    source = await rejected(world, campaign, world.workers[0])
    waiting = await handed_in(world, campaign, world.workers[1])
    undecided = await handed_in(world, campaign, world.workers[2])
    ops = await bearer(world, world.operator)

    # Bad input: not decided yet, an unknown reason, not an operator.
    busy = await client.post(
        "/api/v1/ops/gold-items",
        headers=ops,
        json={"assignment_id": str(undecided.id), "approve": False, "reason": "action_not_done"},
    )
    assert busy.status_code == 409
    assert busy.headers["content-type"].startswith("application/problem+json")
    unknown = await client.post(
        "/api/v1/ops/gold-items",
        headers=ops,
        json={"assignment_id": str(source.id), "approve": False, "reason": "looks_odd"},
    )
    assert unknown.status_code == 422
    reviewer2 = await bearer(world, world.reviewer2)
    refused = await client.post(
        "/api/v1/ops/gold-items",
        headers=reviewer2,
        json={"assignment_id": str(source.id), "approve": False, "reason": "action_not_done"},
    )
    assert refused.status_code == 403
    made = await client.post(
        "/api/v1/ops/gold-items",
        headers=ops,
        json={"assignment_id": str(source.id), "approve": False, "reason": "action_not_done"},
    )
    assert made.status_code == 201, made.text
    gold_id = made.json()["id"]
    assert made.json()["answered"] == 0

    seen: set[str] = set()
    for _ in range(TRIES):
        queue = await client.get("/api/v1/review/queue", headers=reviewer2)
        assert queue.status_code == 200
        seen.update(item["assignment_id"] for item in queue.json())
        if gold_id in seen:
            break
    # The real submissions are always there; the gold item joins them now and then and
    # looks like a submission of the source's campaign.
    assert {str(waiting.id), str(undecided.id), gold_id} <= seen
    gold_item = next(i for i in queue.json() if i["assignment_id"] == gold_id)
    assert gold_item["campaign_id"] == str(campaign.id)
    assert str(source.id) not in seen

    answer = await client.post(
        f"/api/v1/review/{gold_id}/decision",
        headers=reviewer2,
        json={"approve": False, "reason": "action_not_done"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "rejected"
    again = await client.post(
        f"/api/v1/review/{gold_id}/decision",
        headers=reviewer2,
        json={"approve": True, "reason": "meets_requirements"},
    )
    assert again.status_code == 409
    # Said as a decided submission is: nothing tells the item was gold.
    said = again.json()
    assert (said["code"], said["current_status"]) == ("assignment_state", "rejected")
    assert said["status_label"] and "answered" not in said["detail"]
    # Answered: never shown to that reviewer again.
    for _ in range(20):
        later = await client.get("/api/v1/review/queue", headers=reviewer2)
        assert gold_id not in {item["assignment_id"] for item in later.json()}

    assert await source_state(world, source.id) == (
        "rejected",
        world.reviewer.id,
        "action_not_done",
    )
    quality = await client.get("/api/v1/ops/review-quality", headers=ops)
    assert quality.status_code == 200
    body = quality.json()
    assert body["reviewers"] == [
        {"reviewer_id": str(world.reviewer2.id), "answered": 1, "correct": 1, "accuracy": 1.0}
    ]
    assert body["gold_items"][0]["id"] == gold_id
    assert (body["gold_items"][0]["answered"], body["gold_items"][0]["correct"]) == (1, 1)

    retired = await client.post(f"/api/v1/ops/gold-items/{gold_id}/retire", headers=ops)
    assert retired.status_code == 204
    again = await client.post(f"/api/v1/ops/gold-items/{gold_id}/retire", headers=ops)
    assert again.status_code == 204
    async with world.db.sessionmaker() as s:
        logged = await s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "work.gold_item_retired")
        )
    assert logged == 1  # a second retirement changes nothing, so logs nothing
    for _ in range(20):
        queue = await client.get(
            "/api/v1/review/queue", headers=await bearer(world, world.reviewer)
        )
        assert gold_id not in {item["assignment_id"] for item in queue.json()}


async def test_a_narrowed_queue_shows_only_gold_items_that_fit_its_filter(
    client: httpx.AsyncClient, world: World
) -> None:
    """A reviewer who narrows the queue to one campaign must not meet a gold item of
    another: it would be the one entry that does not fit, and so be known for gold."""
    shown = await live_campaign(world, title="甲活动 关注", review_policy="manual")
    elsewhere = await live_campaign(world, title="乙活动 关注", review_policy="manual")
    source = await rejected(world, shown, world.workers[0])
    waiting = await handed_in(world, elsewhere, world.workers[1])
    async with world.db.session_scope() as s:
        item = await gold.make_gold_item(
            s, actor=await world.actor(world.operator), assignment_id=source.id,
            approve=False, reason="action_not_done",
        )  # fmt: skip
    gold_id = str(item.id)
    reviewer2 = await bearer(world, world.reviewer2)

    async def seen_with(**query: str) -> set[str]:
        seen: set[str] = set()
        for _ in range(TRIES):
            queue = await client.get("/api/v1/review/queue", headers=reviewer2, params=query)
            assert queue.status_code == 200, queue.text
            seen.update(item["assignment_id"] for item in queue.json())
            if gold_id in seen:
                break
        return seen

    # Narrowed to the other campaign, or to a type, a check or a risk its source does not
    # have: eighty draws at one in two, and the gold item never comes.
    assert await seen_with(q="乙活动") == {str(waiting.id)}
    assert await seen_with(type="comment") == set()
    assert await seen_with(check="verified") == set()
    # Narrowed to what the source fits, it comes as before.
    assert await seen_with(q="甲活动") == {gold_id}
    assert await seen_with(type="follow") == {str(waiting.id), gold_id}

    for bad in ({"type": "dance"}, {"check": "maybe"}, {"risk": "medium"}, {"q": "x" * 81}):
        refused = await client.get("/api/v1/review/queue", headers=reviewer2, params=bad)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_the_workbench_mixes_in_gold_items_and_the_operator_page_scores_them(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    source = await rejected(world, campaign, world.workers[0])
    await handed_in(world, campaign, world.workers[1])

    await browse_as(client, world, world.operator)
    quality = await client.get("/ops/review-quality")
    assert quality.status_code == 200
    assert f'data-gold-candidate="{source.id}"' in quality.text
    # Decided submissions are found by campaign or handle.
    by_title = await client.get("/ops/review-quality", params={"q": campaign.title[:3]})
    assert f'data-gold-candidate="{source.id}"' in by_title.text
    by_handle = await client.get("/ops/review-quality", params={"q": "@" + source.actor_handle})
    assert f'data-gold-candidate="{source.id}"' in by_handle.text
    elsewhere = await client.get("/ops/review-quality", params={"q": "没有这个活动"})
    assert "data-gold-candidate=" not in elsewhere.text
    bad = await client.post(
        "/ops/review-quality/gold",
        data={"csrf_token": csrf_from(quality.text), "assignment_id": "nonsense", "answer": "x"},
    )
    assert bad.status_code == 404
    assert "任务不存在。" in bad.text
    saved = await client.post(
        "/ops/review-quality/gold",
        data={
            "csrf_token": csrf_from(quality.text),
            "assignment_id": str(source.id),
            "answer": "action_not_done",
        },
    )
    assert saved.status_code == 303
    async with world.db.sessionmaker() as s:
        from xingdong.work.gold import gold_items

        items = await gold_items(s, actor=await world.actor(world.operator))
    gold_id = items[0].item.id

    await browse_as(client, world, world.reviewer2)
    for _ in range(TRIES):
        bench = await client.get("/review")
        if f'data-current="{gold_id}"' in bench.text:
            break
    assert f'data-current="{gold_id}"' in bench.text
    assert f'action="/review/{gold_id}/decision"' in bench.text
    assert str(source.id) not in bench.text  # nothing gives the source away
    # A form error shows the same item again.
    incomplete = await client.post(
        f"/review/{gold_id}/decision",
        data={"csrf_token": csrf_from(bench.text), "decision": "reject"},
    )
    assert incomplete.status_code == 422
    assert f'data-current="{gold_id}"' in incomplete.text
    wrong = await client.post(
        f"/review/{gold_id}/decision",
        data={
            "csrf_token": csrf_from(bench.text),
            "decision": "approve",
            "approve_reason": "meets_requirements",
        },
    )
    assert wrong.status_code == 303
    async with world.db.sessionmaker() as s:
        answers = (await s.execute(GoldAnswer.__table__.select())).all()
    assert [(a.reviewer_id, a.correct) for a in answers] == [(world.reviewer2.id, False)]
    assert await source_state(world, source.id) == (
        "rejected",
        world.reviewer.id,
        "action_not_done",
    )

    await browse_as(client, world, world.operator)
    scored = await client.get("/ops/review-quality")
    assert f'data-reviewer="{world.reviewer2.id}"' in scored.text
    assert 'data-accuracy="0.00"' in scored.text
    retire = await client.post(
        f"/ops/review-quality/gold/{gold_id}/retire",
        data={"csrf_token": csrf_from(scored.text)},
    )
    assert retire.status_code == 303
    retired = await client.get("/ops/review-quality")
    assert f'data-gold-item="{gold_id}" data-active="false"' in retired.text


async def test_a_gold_item_stands_where_its_score_puts_it(world: World) -> None:
    """A queue is ordered riskiest first: a gold item of low score on top of riskier work
    would give itself away, so it stands at its own place, and a gold item that can lead
    the queue is preferred for the first place."""
    import random

    from sqlalchemy import update

    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    low = await rejected(world, campaign, world.workers[0])
    risky = await handed_in(world, campaign, world.workers[1])
    calm = await handed_in(world, campaign, world.workers[2])
    async with world.db.session_scope() as s:
        for row, score in ((low, 5), (risky, 80), (calm, 10)):
            await s.execute(
                update(Assignment).where(Assignment.id == row.id).values(risk_score=score)
            )
    operator = await world.actor(world.operator)
    async with world.db.session_scope() as s:
        low_item = await gold.make_gold_item(
            s, actor=operator, assignment_id=low.id, approve=False, reason="action_not_done"
        )
    reviewer = await world.actor(world.reviewer2)

    class Always(random.Random):
        """A draw that always carries a gold item (the rate is at most a half)."""

        def random(self) -> float:
            return 0.0

    async def queue_with_low_at(score: int, **asked: Any) -> list[UUID]:
        """The queue's items once the gold item's source has ``score``."""
        async with world.db.session_scope() as s:
            await s.execute(
                update(Assignment).where(Assignment.id == low.id).values(risk_score=score)
            )
        async with world.db.sessionmaker() as s:
            queue = await work.review_queue_with_gold(
                s, actor=reviewer, settings=world.settings, rng=Always(), **asked
            )
        return [e.item_id for e in queue]

    assert await queue_with_low_at(5, gold_first=True) == [risky.id, calm.id, low_item.id]
    # With one that can lead, it leads.
    assert await queue_with_low_at(90, gold_first=True) == [low_item.id, risky.id, calm.id]
    # A page holds what a page of real work would: a gold item past its last place is
    # not shown, and one within it takes the place of the last.
    assert await queue_with_low_at(5, limit=2) == [risky.id, calm.id]
    assert await queue_with_low_at(50, limit=2) == [risky.id, low_item.id]


async def test_asking_for_an_item_or_approving_in_bulk_tells_no_gold_item_apart(
    client: httpx.AsyncClient, world: World
) -> None:
    """A gold item asked for by its id, or among a bulk approval's ids, is answered as a
    submission would be: only if it fits the queue's filter, and approved in bulk when its
    source was a hand-in bulk approval takes."""
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    source, waiting = (
        await verified_hand_in(world, campaign, world.workers[0]),
        await verified_hand_in(world, campaign, world.workers[1]),
    )
    for hand_in in (source, waiting):
        assert (hand_in.verification["status"], hand_in.risk_reasons) == ("verified", [])
    reviewer = await world.actor(world.reviewer)
    async with world.db.session_scope() as s:
        await work.review(
            s, actor=reviewer, assignment_id=source.id, approve=True,
            reason="platform_verified", note=None, settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        item = await gold.make_gold_item(
            s, actor=await world.actor(world.operator), assignment_id=source.id,
            approve=True, reason="platform_verified",
        )  # fmt: skip

    await browse_as(client, world, world.reviewer2)
    # Asked for by id with a filter nothing fits: neither opens; without one, both do.
    for asked in (item.id, waiting.id):
        nothing = await client.get("/review", params={"item": str(asked), "q": "没有这个"})
        assert "data-queue-empty" in nothing.text and "data-current=" not in nothing.text
        opened = await client.get("/review", params={"item": str(asked)})
        assert f'data-current="{asked}"' in opened.text
    # Shown together, both are in the bulk approval, and it approves both.
    for _ in range(TRIES):
        bench = await client.get("/review")
        if f'data-queue-item="{item.id}"' in bench.text:
            break
    for shown in (item.id, waiting.id):
        assert f'name="ids" value="{shown}"' in bench.text
    bulk = await client.post(
        "/review/bulk-approve",
        data={"csrf_token": csrf_from(bench.text), "ids": [str(item.id), str(waiting.id)]},
    )
    assert bulk.headers["location"] == "/review?approved=2&left=0"
    assert (await source_state(world, waiting.id))[0] == "approved"
    assert await source_state(world, source.id) == (
        "approved",
        world.reviewer.id,
        "platform_verified",
    )
    async with world.db.sessionmaker() as s:
        answers = (await s.execute(GoldAnswer.__table__.select())).all()
    assert [(a.reviewer_id, a.approve, a.correct) for a in answers] == [
        (world.reviewer2.id, True, True)
    ]
    # Asked again: said to be decided, as the submission decided with it is.
    again = await client.post(
        "/api/v1/review/bulk-approve",
        headers=await bearer(world, world.reviewer2),
        json={"ids": [str(item.id), str(waiting.id)]},
    )
    assert [i["code"] for i in again.json()["items"]] == ["assignment_state"] * 2


async def test_one_gold_item_is_found_wherever_it_comes_in_the_list(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    first = await rejected(world, campaign, world.workers[0])
    second = await rejected(world, campaign, world.workers[1])
    ops = await bearer(world, world.operator)
    made = []
    for source in (first, second):
        answer = await client.post(
            "/api/v1/ops/gold-items",
            headers=ops,
            json={"assignment_id": str(source.id), "approve": False, "reason": "action_not_done"},
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    assert [m["source_assignment_id"] for m in made] == [str(first.id), str(second.id)]
    # The list shows the newest first; the older one is still found on its own (the answer
    # to making an item again reads it so, past the list's first hundred).
    async with world.db.sessionmaker() as s:
        top = await gold.gold_items(s, actor=await world.actor(world.operator), limit=1)
        alone = await gold.gold_items(
            s, actor=await world.actor(world.operator), limit=1, only=UUID(made[0]["id"])
        )
    assert [v.item.source_assignment_id for v in top] == [second.id]
    assert [v.item.source_assignment_id for v in alone] == [first.id]


async def test_decided_submissions_and_gold_items_are_read_a_page_at_a_time(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    decided = [await rejected(world, campaign, worker) for worker in world.workers]
    operator = await world.actor(world.operator)
    async with world.db.sessionmaker() as s:
        first = await gold.gold_candidates(s, actor=operator, limit=2)
        rest = await gold.gold_candidates(s, actor=operator, limit=2, cursor=first.next_cursor)
    seen = [a.id for a, _ in first.items + rest.items]
    assert sorted(seen) == sorted(d.id for d in decided) and rest.next_cursor is None
    async with world.db.session_scope() as s:
        for row in decided:
            await gold.make_gold_item(
                s, actor=operator, assignment_id=row.id, approve=False, reason="action_not_done"
            )
    monkeypatch.setattr(gold, "GOLD_PAGE", 2)
    await browse_as(client, world, world.operator)
    page_one = await client.get("/ops/review-quality?lang=en")
    assert page_one.text.count("data-gold-item=") == 2 and "Page 1 of 2" in page_one.text
    page_two = await client.get("/ops/review-quality?page=2&lang=en")
    assert page_two.text.count("data-gold-item=") == 1 and 'rel="prev"' in page_two.text
    # The API reads them the same way, and every item comes once.
    ops = await bearer(world, world.operator)
    api_pages = [
        (await client.get("/api/v1/ops/review-quality", params={"page": n}, headers=ops)).json()
        for n in (1, 2, 3)
    ]
    assert [(p["page"], p["pages"], p["gold_items_total"]) for p in api_pages] == [
        (1, 2, 3), (2, 2, 3), (3, 2, 3),
    ]  # fmt: skip
    listed = [item["id"] for p in api_pages for item in p["gold_items"]]
    assert len(listed) == len(set(listed)) == 3 and api_pages[2]["gold_items"] == []
    refused = await client.get("/api/v1/ops/review-quality", params={"page": 0}, headers=ops)
    assert refused.status_code == 422
