"""Gold items: known answers mixed into the review queue measure reviewers' accuracy."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.integration.conftest import make_settings
from tests.lifecycle_world import World, build_world, live_campaign
from xingdong.core.errors import Forbidden
from xingdong.work import gold
from xingdong.work import service as work
from xingdong.work.errors import AssignmentStateConflict


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=2)
    yield built
    await built.db.dispose()


async def test_gold_items_score_reviewers_once_each(world: World) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        claimed = await work.claim(
            s, person=worker, campaign_id=campaign.id, settings=world.settings
        )
    async with world.db.session_scope() as s:
        await work.submit(
            s, person=worker, assignment_id=claimed.id, evidence=work.Evidence(link="https://x"),
            settings=world.settings, now=claimed.claimed_at + timedelta(seconds=40),
        )  # fmt: skip
    operator = await world.actor(world.operator)
    reviewer = await world.actor(world.reviewer)
    reviewer2 = await world.actor(world.reviewer2)

    with pytest.raises(AssignmentStateConflict):  # not decided yet
        async with world.db.session_scope() as s:
            await gold.make_gold_item(
                s, actor=operator, assignment_id=claimed.id, approve=False,
                reason="action_not_done",
            )  # fmt: skip
    async with world.db.session_scope() as s:
        await work.review(
            s, actor=reviewer, assignment_id=claimed.id, approve=False,
            reason="action_not_done", note=None, settings=world.settings,
        )  # fmt: skip
    with pytest.raises(Forbidden):
        async with world.db.session_scope() as s:
            await gold.make_gold_item(
                s, actor=reviewer, assignment_id=claimed.id, approve=False,
                reason="action_not_done",
            )  # fmt: skip
    async with world.db.session_scope() as s:
        item = await gold.make_gold_item(
            s, actor=operator, assignment_id=claimed.id, approve=False, reason="action_not_done"
        )

    async with world.db.sessionmaker() as s:
        never = await gold.pick_gold_item(s, actor=reviewer2, rate=0.0, rng=random.Random(1))
        always = await gold.pick_gold_item(s, actor=reviewer2, rate=0.5, rng=random.Random(1))
        # The reviewer who decided the work is not graded on their own decision.
        own = await gold.pick_gold_item(s, actor=reviewer, rate=0.5, rng=random.Random(1))
    assert never is None and own is None
    assert always is not None and always[0].id == item.id

    async with world.db.session_scope() as s:
        right = await gold.answer_gold_item(
            s, actor=reviewer2, gold_item_id=item.id, approve=False, reason="action_not_done"
        )
    async with world.db.session_scope() as s:
        wrong = await gold.answer_gold_item(
            s, actor=reviewer, gold_item_id=item.id, approve=True, reason="meets_requirements"
        )
    assert (right, wrong) == (True, False)
    with pytest.raises(AssignmentStateConflict):
        async with world.db.session_scope() as s:
            await gold.answer_gold_item(
                s, actor=reviewer2, gold_item_id=item.id, approve=False,
                reason="action_not_done",
            )  # fmt: skip
    async with world.db.sessionmaker() as s:
        # Answered: never shown to that reviewer again.
        assert await gold.pick_gold_item(s, actor=reviewer2, rate=0.5, rng=random.Random(1)) is None
        scores = {a.reviewer_id: a for a in await gold.reviewer_accuracy(s, actor=operator)}
    assert scores[world.reviewer2.id].accuracy == 1.0
    assert scores[world.reviewer.id].accuracy == 0.0
    assert scores[world.reviewer.id].answered == 1
