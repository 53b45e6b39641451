"""The task lifecycle on a real PostgreSQL and the sandbox platform: publish → claim →
submit → review → hold → release or clawback, disputes, expiry, closing, bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.integration.conftest import make_settings
from tests.lifecycle_world import (
    World,
    add_worker,
    balance,
    build_world,
    draft,
    follow_on_sandbox,
    live_campaign,
    unfollow_on_sandbox,
    window_nearly_over,
)
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.errors import CampaignInvalid, CampaignStateConflict, ComplianceBlocked
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.i18n import translate
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.ledger import service as ledger
from xingdong.ledger import wallets
from xingdong.ledger.deposits import org_account
from xingdong.ledger.errors import InsufficientFunds
from xingdong.ledger.withdrawals import REVENUE_ACCOUNT
from xingdong.work import service as work
from xingdong.work.errors import (
    AssignmentStateConflict,
    ClaimExpired,
    ClaimLimitReached,
    DisputeWindowClosed,
    NotEligible,
    OwnWork,
    SoldOut,
)
from xingdong.work.models import Assignment

FUNDS = 1_000_000


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(hold_hours=24), funds=FUNDS)
    yield built
    await built.db.dispose()


async def campaign_row(world: World, campaign_id: object) -> Campaign:
    async with world.db.sessionmaker() as s:
        found = await s.get(Campaign, campaign_id)
        assert found is not None
        return found


async def assignment_row(world: World, assignment_id: object) -> Assignment:
    async with world.db.sessionmaker() as s:
        found = await s.get(Assignment, assignment_id)
        assert found is not None
        return found


async def claim(world: World, worker: Person, campaign: Campaign) -> Assignment:
    async with world.db.session_scope() as s:
        return await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)


async def submit(
    world: World, worker: Person, assignment: Assignment, *, seconds_after: int = 60
) -> Assignment:
    async with world.db.session_scope() as s:
        return await work.submit(
            s,
            person=worker,
            assignment_id=assignment.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings,
            now=assignment.claimed_at + timedelta(seconds=seconds_after),
        )


async def assert_sound(world: World) -> None:
    async with world.db.sessionmaker() as s:
        report = await ledger.verify(s)
    assert report.ok, report.problems


async def handle_of(world: World, person: Person) -> str:
    async with world.db.sessionmaker() as s:
        from xingdong.identity import service as identity

        accounts = await identity.platform_accounts(s, person=person)
    return accounts[0].handle


async def test_a_verified_follow_is_paid_after_the_hold(world: World) -> None:
    campaign = await live_campaign(world)
    assert (campaign.reward, campaign.fee) == (80, 20)
    escrow = campaigns.escrow_account(campaign.id)
    assert (await balance(world.db, org_account(world.org_id))).available == FUNDS - 500
    worker = world.workers[0]

    assignment = await claim(world, worker, campaign)
    assert (await balance(world.db, escrow)).available == 400
    assert (await campaign_row(world, campaign.id)).units_open == 1

    await follow_on_sandbox(await handle_of(world, worker), world.db)
    done = await submit(world, worker, assignment)
    assert done.status == "approved"
    assert done.review_reason == "platform_verified"
    assert done.verification["status"] == "verified"
    assert (await balance(world.db, wallets.pending_account(worker.id))).posted == 80
    assert (await balance(world.db, REVENUE_ACCOUNT)).posted == 20

    async with world.db.session_scope() as s:
        early = await work.settle_holds(s, now=utcnow())
    assert early == {"released": 0, "clawed_back": 0, "waiting": 0}
    assert done.hold_until is not None
    async with world.db.session_scope() as s:
        settled = await work.settle_holds(s, now=done.hold_until + timedelta(seconds=1))
    assert settled["released"] == 1
    assert (await balance(world.db, wallets.available_account(worker.id))).posted == 80
    assert (await balance(world.db, wallets.pending_account(worker.id))).posted == 0
    assert (await assignment_row(world, assignment.id)).status == "released"
    await assert_sound(world)


async def test_an_unfollow_during_the_hold_is_clawed_back_to_escrow(world: World) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    handle = await handle_of(world, worker)
    assignment = await claim(world, worker, campaign)
    await follow_on_sandbox(handle, world.db)
    done = await submit(world, worker, assignment)
    await unfollow_on_sandbox(handle, world.db)
    assert done.hold_until is not None, (done.status, done.risk_reasons, done.verification)
    async with world.db.session_scope() as s:
        settled = await work.settle_holds(s, now=done.hold_until + timedelta(seconds=1))
    assert settled["clawed_back"] == 1
    row = await assignment_row(world, assignment.id)
    assert row.status == "clawed_back"
    assert row.settle_reason is not None and row.settle_reason.startswith("undone_")
    assert (await balance(world.db, wallets.pending_account(worker.id))).posted == 0
    assert (await balance(world.db, REVENUE_ACCOUNT)).posted == 0
    assert (await balance(world.db, campaigns.escrow_account(campaign.id))).available == 500
    assert (await campaign_row(world, campaign.id)).units_done == 0
    await assert_sound(world)


async def test_unverified_work_goes_to_a_reviewer_who_decides_once(world: World) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    # Not followed on the platform: the reviewer decides, with the platform's answer shown.
    queued = await submit(world, worker, assignment)
    assert queued.status == "submitted"
    assert "platform_no_follow" in queued.risk_reasons
    reviewer = await world.actor(world.reviewer)
    async with world.db.sessionmaker() as s:
        queue = await work.review_queue(s, actor=reviewer)
    assert [a.id for a, _c in queue] == [assignment.id]

    async def decide(approve: bool) -> str:
        try:
            async with world.db.session_scope() as s:
                await work.review(
                    s, actor=reviewer, assignment_id=assignment.id, approve=approve,
                    reason="meets_requirements" if approve else "action_not_done", note=None,
                    settings=world.settings,
                )  # fmt: skip
        except AssignmentStateConflict:
            return "refused"
        return "approved" if approve else "rejected"

    outcomes = await asyncio.gather(decide(True), decide(False), decide(True))
    assert outcomes.count("refused") == 2
    row = await assignment_row(world, assignment.id)
    assert row.status == ("approved" if "approved" in outcomes else "rejected")
    paid = (await balance(world.db, wallets.pending_account(worker.id))).posted
    assert paid == (80 if row.status == "approved" else 0)
    await assert_sound(world)


async def test_a_reviewer_cannot_review_their_own_work(world: World) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        from sqlalchemy import text

        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'reviewer')"),
            {"id": worker.id},
        )
    assignment = await claim(world, worker, campaign)
    await submit(world, worker, assignment)
    as_reviewer = await world.actor(worker)
    async with world.db.sessionmaker() as s:
        assert await work.review_queue(s, actor=as_reviewer) == []
    with pytest.raises(OwnWork):
        async with world.db.session_scope() as s:
            await work.review(
                s, actor=as_reviewer, assignment_id=assignment.id, approve=True,
                reason="meets_requirements", note=None, settings=world.settings,
            )  # fmt: skip
    assert (await assignment_row(world, assignment.id)).status == "submitted"


async def test_rejection_then_an_upheld_appeal_pays_the_worker(world: World) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    await submit(world, worker, assignment)
    reviewer = await world.actor(world.reviewer)
    async with world.db.session_scope() as s:
        await work.review(
            s, actor=reviewer, assignment_id=assignment.id, approve=False,
            reason="evidence_unclear", note="看不清", settings=world.settings,
        )  # fmt: skip
    escrow = campaigns.escrow_account(campaign.id)
    assert (await balance(world.db, escrow)).available == 500
    assert (await campaign_row(world, campaign.id)).units_open == 0
    async with world.db.session_scope() as s:
        dispute = await work.appeal(
            s, person=worker, assignment_id=assignment.id, reason="我确实关注了",
            settings=world.settings,
        )  # fmt: skip
    assert (await assignment_row(world, assignment.id)).status == "disputed"
    operator = await world.actor(world.operator)
    async with world.db.session_scope() as s:
        await work.decide_dispute(
            s, actor=operator, dispute_id=dispute.id, uphold=True, note="截图清楚",
            settings=world.settings,
        )  # fmt: skip
    row = await assignment_row(world, assignment.id)
    assert row.status == "approved"
    assert row.verification["status"] == "absent"
    assert (await balance(world.db, wallets.pending_account(worker.id))).posted == 80
    assert (await balance(world.db, escrow)).available == 400
    assert (await campaign_row(world, campaign.id)).units_done == 1

    # The platform still sees no follow when the hold ends: it saw none when the operator
    # decided, so their decision stands and the reward is released, not clawed back.
    assert row.hold_until is not None
    async with world.db.session_scope() as s:
        settled = await work.settle_holds(s, now=row.hold_until + timedelta(seconds=1))
    assert settled == {"released": 1, "clawed_back": 0, "waiting": 0}
    row = await assignment_row(world, assignment.id)
    assert (row.status, row.settle_reason) == ("released", "platform_overruled")
    assert (await balance(world.db, wallets.available_account(worker.id))).posted == 80
    assert (await balance(world.db, escrow)).available == 400
    await assert_sound(world)


async def test_work_approved_over_the_platform_is_still_clawed_back_when_undone(
    world: World,
) -> None:
    """Only what the platform said at the hand-in is overruled by a person's approval: a
    follow it saw then and no longer sees at the hold's end was undone, and is clawed
    back although a reviewer approved it."""
    campaign = await live_campaign(world, review_policy="manual")
    worker = world.workers[0]
    handle = await handle_of(world, worker)
    assignment = await claim(world, worker, campaign)
    await follow_on_sandbox(handle, world.db)
    await submit(world, worker, assignment)
    reviewer = await world.actor(world.reviewer)
    async with world.db.session_scope() as s:
        done = await work.review(
            s, actor=reviewer, assignment_id=assignment.id, approve=True,
            reason="meets_requirements", note=None, settings=world.settings,
        )  # fmt: skip
    assert done.verification["status"] == "verified"
    await unfollow_on_sandbox(handle, world.db)
    assert done.hold_until is not None
    async with world.db.session_scope() as s:
        settled = await work.settle_holds(s, now=done.hold_until + timedelta(seconds=1))
    assert settled["clawed_back"] == 1
    row = await assignment_row(world, assignment.id)
    assert (row.status, row.settle_reason) == ("clawed_back", "undone_no_follow")
    await assert_sound(world)


async def test_a_contested_completion_is_clawed_back_when_upheld(world: World) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    await follow_on_sandbox(await handle_of(world, worker), world.db)
    await submit(world, worker, assignment)
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        dispute = await work.contest(
            s, actor=owner, assignment_id=assignment.id, reason="这是小号刷的"
        )
    # Disputed rewards are not released at the end of the hold.
    async with world.db.session_scope() as s:
        settled = await work.settle_holds(s, now=utcnow() + timedelta(days=30))
    assert settled == {"released": 0, "clawed_back": 0, "waiting": 0}
    operator = await world.actor(world.operator)
    async with world.db.session_scope() as s:
        await work.decide_dispute(
            s, actor=operator, dispute_id=dispute.id, uphold=True, note="账号异常",
            settings=world.settings,
        )  # fmt: skip
    assert (await assignment_row(world, assignment.id)).status == "clawed_back"
    assert (await balance(world.db, wallets.pending_account(worker.id))).posted == 0
    assert (await balance(world.db, campaigns.escrow_account(campaign.id))).available == 500
    await assert_sound(world)


async def test_claims_expire_and_their_budget_returns(world: World) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    later = assignment.expires_at + timedelta(seconds=1)
    async with world.db.session_scope() as s:
        assert await work.expire_claims(s, now=later) == 1
    async with world.db.session_scope() as s:
        assert await work.expire_claims(s, now=later) == 0
    assert (await assignment_row(world, assignment.id)).status == "expired"
    assert (await balance(world.db, campaigns.escrow_account(campaign.id))).available == 500
    assert (await campaign_row(world, campaign.id)).units_open == 0
    with pytest.raises(AssignmentStateConflict):
        async with world.db.session_scope() as s:
            await work.submit(
                s, person=worker, assignment_id=assignment.id,
                evidence=work.Evidence(link="https://x"), settings=world.settings, now=later,
            )  # fmt: skip
    await assert_sound(world)


async def test_a_submission_after_the_claim_time_is_refused(world: World) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    with pytest.raises(ClaimExpired):
        async with world.db.session_scope() as s:
            await work.submit(
                s, person=worker, assignment_id=assignment.id,
                evidence=work.Evidence(link="https://x"), settings=world.settings,
                now=assignment.expires_at + timedelta(seconds=1),
            )  # fmt: skip
    assert (await assignment_row(world, assignment.id)).status == "claimed"


async def test_closing_releases_claims_and_returns_unused_escrow(world: World) -> None:
    campaign = await live_campaign(world, **window_nearly_over())
    first, second = world.workers[:2]
    paid = await claim(world, first, campaign)
    await follow_on_sandbox(await handle_of(world, first), world.db)
    await submit(world, first, paid)
    waiting = await claim(world, second, campaign)
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        closed, returned = await campaigns.close_campaign(s, actor=owner, campaign_id=campaign.id)
    assert closed.status == "closed"
    assert returned == 400
    assert (await assignment_row(world, waiting.id)).status == "expired"
    assert (await balance(world.db, org_account(world.org_id))).available == FUNDS - 100
    assert (await balance(world.db, campaigns.escrow_account(campaign.id))).available == 0
    with pytest.raises(Exception, match="not taking claims"):
        await claim(world, world.workers[2], campaign)
    await assert_sound(world)


async def test_eligibility_and_limits_are_enforced(world: World) -> None:
    campaign = await live_campaign(world, quantity=2, **window_nearly_over())
    minor = await add_worker(world, birth_year=utcnow().year - 15, handle="minor_one")
    unbound = await add_worker(world)
    elsewhere = await add_worker(world, interests=("美食",), handle="foodie_one")
    for person, reason in ((minor, "minor"), (unbound, "no_bound_account"),
                           (elsewhere, "interests_not_targeted")):  # fmt: skip
        with pytest.raises(NotEligible) as refused:
            await claim(world, person, campaign)
        assert refused.value.extra["reason"] == reason
    first, second, third = world.workers
    await claim(world, first, campaign)
    with pytest.raises(ClaimLimitReached):
        await claim(world, first, campaign)
    await claim(world, second, campaign)
    with pytest.raises(SoldOut):
        await claim(world, third, campaign)
    row = await campaign_row(world, campaign.id)
    assert (row.units_open, row.units_done) == (2, 0)


async def test_bad_campaigns_are_refused_and_nothing_is_written(world: World) -> None:
    owner = await world.actor(world.owner)
    past = utcnow() - timedelta(days=1)
    cases: list[tuple[dict[str, object], str]] = [
        ({"target": "@nobody_here"}, "target"),
        ({"quantity": 0}, "quantity"),
        ({"unit_price": 1}, "unit_price"),
        ({"starts_at": past - timedelta(days=1), "ends_at": past}, "ends_at"),
        ({"regions": ["火星"]}, "regions"),
    ]
    for overrides, field in cases:
        with pytest.raises(CampaignInvalid) as refused:
            async with world.db.session_scope() as s:
                await campaigns.create_campaign(
                    s, actor=owner, org_id=world.org_id, draft=draft(**overrides),
                    settings=world.settings,
                )  # fmt: skip
        assert field in [f.field for f in refused.value.fields]
    async with world.db.sessionmaker() as s:
        assert (await campaigns.campaigns_page(s, actor=owner, org_id=world.org_id)).items == []

    async with world.db.session_scope() as s:
        too_big = await campaigns.create_campaign(
            s, actor=owner, org_id=world.org_id, draft=draft(quantity=20_000, unit_price=100),
            settings=world.settings,
        )  # fmt: skip
    with pytest.raises(InsufficientFunds):
        async with world.db.session_scope() as s:
            await campaigns.submit_campaign(
                s, actor=owner, campaign_id=too_big.id, settings=world.settings
            )
    assert (await campaign_row(world, too_big.id)).status == "draft"
    assert (await balance(world.db, org_account(world.org_id))).available == FUNDS

    async with world.db.session_scope() as s:
        boastful = await campaigns.create_campaign(
            s, actor=owner, org_id=world.org_id, draft=draft(brief="全网最低价，关注我们"),
            settings=world.settings,
        )  # fmt: skip
    assert any(f["code"] == "absolute_claim" for f in boastful.compliance)
    with pytest.raises(ComplianceBlocked) as blocked:
        async with world.db.session_scope() as s:
            await campaigns.submit_campaign(
                s, actor=owner, campaign_id=boastful.id, settings=world.settings
            )
    assert (await campaign_row(world, boastful.id)).status == "draft"
    # Any caller can render the error as it is raised (no placeholder left to fill).
    rendered = [translate("zh_CN", f.message, **blocked.value.extra) for f in blocked.value.fields]
    assert rendered and all("{" not in text for text in rendered)


async def test_illegal_transitions_are_refused(world: World) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    worker = world.workers[0]
    reviewer = await world.actor(world.reviewer)
    owner = await world.actor(world.owner)
    assignment = await claim(world, worker, campaign)

    async def attempt(action: str) -> None:
        async with world.db.session_scope() as s:
            if action == "review":
                await work.review(
                    s, actor=reviewer, assignment_id=assignment.id, approve=True,
                    reason="meets_requirements", note=None, settings=world.settings,
                )  # fmt: skip
            elif action == "appeal":
                await work.appeal(
                    s, person=worker, assignment_id=assignment.id, reason="x",
                    settings=world.settings,
                )  # fmt: skip
            elif action == "contest":
                await work.contest(s, actor=owner, assignment_id=assignment.id, reason="x")
            elif action == "submit":
                await work.submit(
                    s, person=worker, assignment_id=assignment.id,
                    evidence=work.Evidence(link="https://x"), settings=world.settings,
                    now=assignment.claimed_at + timedelta(seconds=60),
                )  # fmt: skip

    for action in ("review", "appeal", "contest"):  # claimed
        with pytest.raises(AssignmentStateConflict):
            await attempt(action)
    await follow_on_sandbox(await handle_of(world, worker), world.db)
    await attempt("submit")
    for action in ("submit", "appeal", "contest"):  # submitted
        with pytest.raises(AssignmentStateConflict):
            await attempt(action)
    await attempt("review")
    for action in ("submit", "review", "appeal"):  # approved
        with pytest.raises(AssignmentStateConflict):
            await attempt(action)
    row = await assignment_row(world, assignment.id)
    assert row.hold_until is not None
    async with world.db.session_scope() as s:
        await work.settle_holds(s, now=row.hold_until + timedelta(days=2))
    assert (await assignment_row(world, assignment.id)).status == "released"
    for action in ("submit", "review", "appeal"):  # released
        with pytest.raises(AssignmentStateConflict):
            await attempt(action)
    with pytest.raises((AssignmentStateConflict, DisputeWindowClosed)):
        await attempt("contest")
    await assert_sound(world)


async def test_the_periodic_jobs_expire_settle_and_close(world: World) -> None:
    from xingdong.work import jobs

    now = utcnow()
    campaign = await live_campaign(
        world, starts_at=now - timedelta(hours=3), ends_at=now + timedelta(hours=1)
    )
    worker, other = world.workers[:2]
    async with world.db.session_scope() as s:
        stale = await work.claim(
            s, person=worker, campaign_id=campaign.id, settings=world.settings,
            now=now - timedelta(hours=2),
        )  # fmt: skip
    assert await jobs.expire_claims() == 1
    assert (await assignment_row(world, stale.id)).status == "expired"

    async with world.db.session_scope() as s:
        held = await work.claim(s, person=other, campaign_id=campaign.id, settings=world.settings)
    await follow_on_sandbox(await handle_of(world, other), world.db)
    done = await submit(world, other, held)
    assert done.status == "approved"
    async with world.db.session_scope() as s:
        from sqlalchemy import update

        await s.execute(
            update(Assignment)
            .where(Assignment.id == held.id)
            .values(hold_until=now - timedelta(minutes=1))
        )
    assert (await jobs.settle_holds())["released"] == 1

    async with world.db.session_scope() as s:
        from sqlalchemy import update

        await s.execute(
            update(Campaign)
            .where(Campaign.id == campaign.id)
            .values(ends_at=now - timedelta(seconds=1))
        )
    assert await jobs.close_ended_campaigns() == 1
    assert (await campaign_row(world, campaign.id)).status == "closed"
    assert (await balance(world.db, org_account(world.org_id))).available == FUNDS - 100
    await assert_sound(world)


async def test_the_hold_job_settles_each_hold_in_a_transaction_of_its_own(world: World) -> None:
    """A release's ledger locks (the worker's, their agency's, the platform's) end with
    its own transaction, not with the whole run: a hold the job cannot settle leaves the
    ones before it settled."""
    from sqlalchemy import update

    from xingdong.work import jobs

    now = utcnow()
    settled_first, failing = world.workers[:2]
    held = {}
    for worker in (settled_first, failing):
        campaign = await live_campaign(world)
        async with world.db.session_scope() as s:
            taken = await work.claim(
                s, person=worker, campaign_id=campaign.id, settings=world.settings
            )
        await follow_on_sandbox(await handle_of(world, worker), world.db)
        held[worker.id] = (await submit(world, worker, taken), campaign)
    first, _ = held[settled_first.id]
    second, second_campaign = held[failing.id]
    async with world.db.session_scope() as s:
        for assignment, minutes in ((first, 2), (second, 1)):
            await s.execute(
                update(Assignment)
                .where(Assignment.id == assignment.id)
                .values(hold_until=now - timedelta(minutes=minutes))
            )
        # The second campaign's platform has no connector any more: its check fails.
        await s.execute(
            update(Campaign).where(Campaign.id == second_campaign.id).values(platform="gone")
        )
    with pytest.raises(Exception, match="platform"):
        await jobs.settle_holds()
    assert (await assignment_row(world, first.id)).status == "released"
    assert (await assignment_row(world, second.id)).status == "approved"
    assert (await balance(world.db, wallets.available_account(settled_first.id))).posted == 80
    await assert_sound(world)


async def test_a_campaign_approved_after_its_start_begins_at_the_approval(world: World) -> None:
    """Its plan spreads the units from the approval on, rather than counting it behind
    for the day it waited and the feed pushing it out in a burst."""
    owner = await world.actor(world.owner)
    operator = await world.actor(world.operator)
    asked = utcnow() - timedelta(days=1)
    async with world.db.session_scope() as s:
        made = await campaigns.create_campaign(
            s, actor=owner, org_id=world.org_id, draft=draft(starts_at=asked),
            settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await campaigns.submit_campaign(
            s, actor=owner, campaign_id=made.id, settings=world.settings
        )
    approved_at = utcnow()
    async with world.db.session_scope() as s:
        live = await campaigns.decide_campaign(
            s, actor=operator, campaign_id=made.id, approve=True, note="", now=approved_at
        )
    assert (live.status, live.starts_at, live.decided_at) == ("live", approved_at, approved_at)
    # A start still ahead stays where the brand put it.
    later = utcnow() + timedelta(hours=2)
    async with world.db.session_scope() as s:
        ahead = await campaigns.create_campaign(
            s, actor=owner, org_id=world.org_id, draft=draft(starts_at=later),
            settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await campaigns.submit_campaign(
            s, actor=owner, campaign_id=ahead.id, settings=world.settings
        )
    async with world.db.session_scope() as s:
        kept = await campaigns.decide_campaign(
            s, actor=operator, campaign_id=ahead.id, approve=True, note=""
        )
    assert kept.starts_at == later


async def test_who_decided_the_work_does_not_decide_the_dispute_about_it(world: World) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    await submit(world, worker, assignment)
    # One person with both roles: they rejected the work as a reviewer.
    async with world.db.session_scope() as s:
        await identity.grant_staff_role(
            s, phone=world.operator.phone, role="reviewer", granted_by=None
        )
    both = await world.actor(world.operator)
    async with world.db.session_scope() as s:
        await work.review(
            s, actor=both, assignment_id=assignment.id, approve=False,
            reason="evidence_unclear", note=None, settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        dispute = await work.appeal(
            s, person=worker, assignment_id=assignment.id, reason="我确实关注了",
            settings=world.settings,
        )  # fmt: skip
    with pytest.raises(OwnWork):
        async with world.db.session_scope() as s:
            await work.decide_dispute(
                s, actor=both, dispute_id=dispute.id, uphold=False, note="维持",
                settings=world.settings,
            )  # fmt: skip
    other = await world.actor(world.operator2)
    async with world.db.session_scope() as s:
        decided = await work.decide_dispute(
            s, actor=other, dispute_id=dispute.id, uphold=False, note="维持",
            settings=world.settings,
        )  # fmt: skip
    assert decided.status == "dismissed"


async def test_only_a_campaign_the_feed_can_show_joins_the_quality_plan(world: World) -> None:
    owner = await world.actor(world.owner)
    operator = await world.actor(world.operator)
    async with world.db.session_scope() as s:
        made = await campaigns.create_campaign(
            s, actor=owner, org_id=world.org_id, draft=draft(), settings=world.settings
        )
    with pytest.raises(CampaignStateConflict):
        async with world.db.session_scope() as s:
            await campaigns.set_quality_plan(
                s, actor=operator, campaign_id=made.id, included=True, note=""
            )
    live = await live_campaign(world)
    async with world.db.session_scope() as s:
        joined = await campaigns.set_quality_plan(
            s, actor=operator, campaign_id=live.id, included=True, note=""
        )
    assert joined.quality_plan is True
