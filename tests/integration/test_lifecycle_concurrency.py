"""Real parallel transactions on the lifecycle: no campaign oversells, no one is paid
twice, and a submission is decided once however many reviewers press at once."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, select, text

from tests.integration.conftest import make_settings
from tests.lifecycle_world import World, balance, build_world, live_campaign, window_nearly_over
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import XingdongError
from xingdong.core.ids import new_id
from xingdong.dispatch.plan import planned_share
from xingdong.dispatch.weights import DispatchWeights
from xingdong.identity.models import Person
from xingdong.ledger import service as ledger
from xingdong.ledger import wallets
from xingdong.work import service as work
from xingdong.work.errors import AssignmentStateConflict, CampaignPaced, SoldOut
from xingdong.work.models import Assignment

CLAIMERS = 200
UNITS = 50


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=0)
    yield built
    await built.db.dispose()


async def many_workers(world: World, count: int) -> list[UUID]:
    """Eligible adults with consent and a bound account, written in bulk."""
    ids = [new_id() for _ in range(count)]
    async with world.db.session_scope() as s:
        for n, person_id in enumerate(ids):
            await s.execute(
                text(
                    "INSERT INTO people (id, phone, password_hash, display_name, birth_year, "
                    "region, interests) VALUES (:id, :phone, 'x', '众包用户', 1990, '浙江', "
                    "ARRAY['美妆']::varchar[])"
                ),
                {"id": person_id, "phone": f"1360000{n:04d}"},
            )
            await s.execute(
                text("INSERT INTO consents (id, person_id, agreement_version) VALUES (:c, :p, :v)"),
                {"c": new_id(), "p": person_id, "v": world.settings.agreement_version},
            )
            await s.execute(
                text(
                    "INSERT INTO platform_accounts (id, person_id, platform, handle, followers) "
                    "VALUES (:a, :p, 'sandbox', :h, 10)"
                ),
                {"a": new_id(), "p": person_id, "h": f"crowd_{n}"},
            )
    return ids


async def claim_in_parallel(world: World, people: list[UUID], campaign: Campaign) -> list[str]:
    """Each person claims one unit at once, in a transaction of their own: "claimed", or
    the code of the refusal (any refusal ends there, so that the other claims in flight
    finish)."""
    parallel = Database(world.db.url, pool_size=20)

    async def claim(person_id: UUID) -> str:
        try:
            async with parallel.session_scope() as s:
                person = await s.get(Person, person_id)
                assert person is not None
                await work.claim(s, person=person, campaign_id=campaign.id, settings=world.settings)
        except XingdongError as refused:
            return refused.code
        return "claimed"

    try:
        return await asyncio.gather(*(claim(p) for p in people))
    finally:
        await parallel.dispose()


async def test_200_claimers_on_50_units_reserve_exactly_50(world: World) -> None:
    campaign = await live_campaign(
        world, quantity=UNITS, review_policy="manual", pacing_per_hour=60, **window_nearly_over()
    )
    people = await many_workers(world, CLAIMERS)
    outcomes = await claim_in_parallel(world, people, campaign)
    assert outcomes.count("claimed") == UNITS
    assert outcomes.count(SoldOut.code) == CLAIMERS - UNITS
    async with world.db.sessionmaker() as s:
        row = await s.get(Campaign, campaign.id)
        assert row is not None and (row.units_open, row.units_done) == (UNITS, 0)
        claimed = await s.scalar(select(func.count()).select_from(Assignment))
    assert claimed == UNITS
    escrow = await balance(world.db, campaigns.escrow_account(campaign.id))
    assert escrow.debits_pending == UNITS * campaign.unit_price
    assert escrow.available == 0

    # Each submission is approved by one reviewer and rejected by another at the same
    # moment: exactly one decision applies, and the money follows that one.
    async with world.db.sessionmaker() as s:
        assignments = list((await s.scalars(select(Assignment))).all())
    for assignment in assignments:
        async with world.db.session_scope() as s:
            person = await s.get(Person, assignment.person_id)
            assert person is not None
            await work.submit(
                s, person=person, assignment_id=assignment.id,
                evidence=work.Evidence(link="https://sandbox.example/p"),
                settings=world.settings, now=assignment.claimed_at + timedelta(seconds=30),
            )  # fmt: skip
    reviewers = [await world.actor(world.reviewer), await world.actor(world.reviewer2)]
    deciding = Database(world.db.url, pool_size=20)

    async def decide(assignment_id: UUID, reviewer_index: int) -> tuple[UUID, str]:
        approve = reviewer_index == 0
        try:
            async with deciding.session_scope() as s:
                await work.review(
                    s, actor=reviewers[reviewer_index], assignment_id=assignment_id,
                    approve=approve, reason="meets_requirements" if approve else "action_not_done",
                    note=None, settings=world.settings,
                )  # fmt: skip
        except AssignmentStateConflict:
            return assignment_id, "refused"
        return assignment_id, "approved" if approve else "rejected"

    try:
        decisions = await asyncio.gather(*(decide(a.id, n) for a in assignments for n in (0, 1)))
    finally:
        await deciding.dispose()
    applied = {a_id: what for a_id, what in decisions if what != "refused"}
    assert len(applied) == UNITS  # every submission decided exactly once
    assert sum(what == "refused" for _a, what in decisions) == UNITS
    approved = sum(what == "approved" for what in applied.values())
    async with world.db.sessionmaker() as s:
        statuses = dict((await s.execute(select(Assignment.id, Assignment.status))).all())
    assert statuses == applied
    for assignment in assignments:
        pending = await balance(world.db, wallets.pending_account(assignment.person_id))
        paid = campaign.reward if applied[assignment.id] == "approved" else 0
        assert (pending.posted, pending.debits_pending + pending.credits_pending) == (paid, 0)
    escrow = await balance(world.db, campaigns.escrow_account(campaign.id))
    assert escrow.available == (UNITS - approved) * campaign.unit_price
    async with world.db.sessionmaker() as s:
        row = await s.get(Campaign, campaign.id)
        assert row is not None and (row.units_open, row.units_done) == (0, approved)
        report = await ledger.verify(s)
    assert report.ok, report.problems


async def test_parallel_claims_stop_where_the_campaign_s_plan_does(world: World) -> None:
    # A ten-day window a day old: its plan, looked up the guard's lead ahead, plus the
    # slack, lets 13 of 100 units be held now (the 13th claim sees 12 held: 0.12 ≤ 0.121).
    now = utcnow()
    campaign = await live_campaign(
        world,
        quantity=100,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=9),
    )
    weights = DispatchWeights()
    allowed = planned_share(campaign, now + timedelta(seconds=weights.pacing_lead_s))
    expected = math.floor((allowed + weights.pacing_slack) * 100) + 1
    assert expected == 13
    people = await many_workers(world, 40)
    outcomes = await claim_in_parallel(world, people, campaign)
    assert outcomes.count("claimed") == expected
    assert outcomes.count(CampaignPaced.code) == 40 - expected
    async with world.db.sessionmaker() as s:
        row = await s.get(Campaign, campaign.id)
        assert row is not None and row.units_open == expected
        held = await s.scalar(select(func.count()).select_from(Assignment))
        report = await ledger.verify(s)
    assert held == expected
    assert report.ok, report.problems
    # A refused claim reserved nothing.
    escrow = await balance(world.db, campaigns.escrow_account(campaign.id))
    assert escrow.debits_pending == expected * campaign.unit_price
