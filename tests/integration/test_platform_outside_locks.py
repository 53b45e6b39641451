"""The short-video platform is asked outside the campaign's lock: while it answers a
hand-in or the end of a hold, the campaign's other claims and hand-ins go on; what
changed meanwhile is checked again under the locks; and a platform that does not answer
counts as one that cannot tell. Real parallel transactions on PostgreSQL; the platform is
the sandbox behind a gate the test opens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import timedelta
from typing import TypeVar

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from tests.integration.conftest import make_settings
from tests.lifecycle_world import (
    World,
    add_worker,
    balance,
    build_world,
    draft,
    follow_on_sandbox,
    live_campaign,
    window_nearly_over,
)
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.core.runtime import current_runtime
from xingdong.identity import org_accounts
from xingdong.identity import service as identity
from xingdong.identity.models import OrgPlatformAccount, Person
from xingdong.ledger import service as ledger
from xingdong.ledger import wallets
from xingdong.platforms.connector import PlatformConnector, PlatformUnavailable
from xingdong.platforms.late_answers import LateAnswers
from xingdong.work import service as work
from xingdong.work.errors import AssignmentStateConflict
from xingdong.work.models import Assignment

T = TypeVar("T")

PATIENCE = 60.0
"""The platform's time to answer in these tests: far longer than any of them waits."""

HANG = 20.0
"""How long a step that must not wait for the platform may take before the test calls it
stuck (it takes well under a second)."""


class GatedPlatform(LateAnswers):
    """The sandbox platform, whose answers about actions wait until the test opens the
    gate, as a slow platform's would."""

    def __init__(self, inner: PlatformConnector, *, everything: bool = False) -> None:
        super().__init__(inner, self._at_the_gate, everything=everything)
        self.gate = asyncio.Event()
        self.waiting = 0
        self.arrival = asyncio.Event()

    async def _at_the_gate(self) -> None:
        self.waiting += 1
        self.arrival.set()
        await self.gate.wait()

    async def asked(self, times: int) -> None:
        """Until ``times`` questions wait at the gate."""
        while self.waiting < times:
            self.arrival.clear()
            await self.arrival.wait()

    async def meanwhile(self, step: Awaitable[T], *, what: str) -> T:
        """What ``step`` gives, when it finishes while the platform's answers wait. When
        it waits for them instead, the test fails, after the gate is opened and the step
        has finished, so that no transaction is left waiting on it."""
        task = asyncio.ensure_future(step)
        finished, _ = await asyncio.wait({task}, timeout=HANG)
        if not finished:
            self.gate.set()
            finished, _ = await asyncio.wait({task}, timeout=HANG)
            if not finished:  # waiting for something that will not come now
                task.cancel()
            pytest.fail(f"{what} waited for the platform's answer")
        return task.result()


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(
        clean_db, make_settings(hold_hours=24, platform_timeout_seconds=PATIENCE), workers=2
    )
    yield built
    await built.db.dispose()


@pytest.fixture
def platform(world: World) -> Iterator[GatedPlatform]:
    platforms = current_runtime().platforms
    gated = GatedPlatform(platforms["sandbox"])
    platforms["sandbox"] = gated
    yield gated
    gated.gate.set()  # nothing left waiting on it when a test fails


async def claim(world: World, worker: Person, campaign: Campaign) -> Assignment:
    async with world.db.session_scope() as s:
        return await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)


async def hand_in(world: World, worker: Person, assignment: Assignment) -> Assignment:
    async with world.db.session_scope() as s:
        return await work.submit(
            s,
            person=worker,
            assignment_id=assignment.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings,
            now=assignment.claimed_at + timedelta(seconds=60),
        )


async def handle_of(world: World, person: Person) -> str:
    async with world.db.sessionmaker() as s:
        return (await identity.platform_accounts(s, person=person))[0].handle


async def row(world: World, assignment_id: object) -> Assignment:
    async with world.db.sessionmaker() as s:
        found = await s.get(Assignment, assignment_id)
        assert found is not None
        return found


async def test_claims_and_hand_ins_go_on_while_the_platform_answers_one(
    world: World, platform: GatedPlatform
) -> None:
    campaign = await live_campaign(world, quantity=5, **window_nearly_over())
    first, second = world.workers
    mine = await claim(world, first, campaign)
    await follow_on_sandbox(await handle_of(world, first), world.db)
    waiting = asyncio.create_task(hand_in(world, first, mine))
    await platform.meanwhile(platform.asked(1), what="the hand-in")

    # The campaign's row is what every claim and hand-in locks: a hand-in asking the
    # platform under that lock would hold both of these until the platform answered.
    theirs = await platform.meanwhile(claim(world, second, campaign), what="a claim")
    third = await add_worker(world, handle="third_worker")
    also = await platform.meanwhile(claim(world, third, campaign), what="another claim")
    assert not waiting.done()

    platform.gate.set()
    done = await asyncio.wait_for(waiting, HANG)
    assert (done.status, done.review_reason) == ("approved", "platform_verified")
    assert {(await row(world, a.id)).status for a in (theirs, also)} == {"claimed"}
    async with world.db.sessionmaker() as s:
        fresh = await s.get(Campaign, campaign.id)
        assert fresh is not None and (fresh.units_open, fresh.units_done) == (2, 1)
        report = await ledger.verify(s)
    assert report.ok, report.problems


async def test_two_hand_ins_of_one_claim_both_asking_the_platform_count_once(
    world: World, platform: GatedPlatform
) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    mine = await claim(world, worker, campaign)
    await follow_on_sandbox(await handle_of(world, worker), world.db)
    both = [asyncio.create_task(hand_in(world, worker, mine)) for _ in range(2)]
    # Both passed the first look and wait on the platform: the second look, under the
    # locks, is what stops one of them.
    await platform.meanwhile(platform.asked(2), what="one of the two")
    platform.gate.set()
    outcomes = await asyncio.wait_for(asyncio.gather(*both, return_exceptions=True), HANG)
    refused = [o for o in outcomes if isinstance(o, AssignmentStateConflict)]
    handed_in = [o for o in outcomes if isinstance(o, Assignment)]
    assert (len(handed_in), len(refused)) == (1, 1), outcomes
    assert (await balance(world.db, wallets.pending_account(worker.id))).posted == campaign.reward


async def test_a_hold_settled_twice_at_once_is_paid_once(
    world: World, platform: GatedPlatform
) -> None:
    campaign = await live_campaign(world, **window_nearly_over())
    worker = world.workers[0]
    mine = await claim(world, worker, campaign)
    await follow_on_sandbox(await handle_of(world, worker), world.db)
    platform.gate.set()
    done = await hand_in(world, worker, mine)
    assert done.hold_until is not None
    platform.gate.clear()
    platform.waiting = 0
    after = done.hold_until + timedelta(seconds=1)

    async def settle() -> str:
        async with world.db.session_scope() as s:
            return await work.settle_hold(s, mine.id, now=after)

    both = [asyncio.create_task(settle()) for _ in range(2)]
    await platform.meanwhile(platform.asked(2), what="one of the two")
    # A hand-in of another claim goes on meanwhile.
    other = world.workers[1]
    theirs = await platform.meanwhile(claim(world, other, campaign), what="a claim")
    assert theirs.status == "claimed"
    platform.gate.set()
    outcomes = sorted(await asyncio.wait_for(asyncio.gather(*both), HANG))
    assert outcomes == ["released", "skipped"]
    assert (await balance(world.db, wallets.available_account(worker.id))).posted == campaign.reward
    assert (await balance(world.db, wallets.pending_account(worker.id))).posted == 0
    async with world.db.sessionmaker() as s:
        report = await ledger.verify(s)
    assert report.ok, report.problems


def no_answers() -> float:
    found = REGISTRY.get_sample_value("xingdong_platform_no_answer_total", {"platform": "sandbox"})
    return found or 0.0


def platform_timeout(seconds: float) -> None:
    """The platform's time to answer from now on: the world is built with a patient one
    (a loaded machine's answers in the set-up take their time)."""
    runtime = current_runtime()
    runtime.settings = runtime.settings.model_copy(update={"platform_timeout_seconds": seconds})


SHORT = 0.3
"""The platform's time to answer in the tests of one that does not."""


async def test_a_platform_that_does_not_answer_cannot_tell(world: World) -> None:
    """A hand-in then waits for a reviewer, and a hold for the platform's next answer,
    instead of waiting with the platform."""
    platforms = current_runtime().platforms
    silent = GatedPlatform(platforms["sandbox"])
    platforms["sandbox"] = silent
    campaign = await live_campaign(world)
    worker = world.workers[0]
    mine = await claim(world, worker, campaign)
    await follow_on_sandbox(await handle_of(world, worker), world.db)
    platform_timeout(SHORT)

    unanswered = no_answers()
    handed_in = await silent.meanwhile(hand_in(world, worker, mine), what="the hand-in")
    assert no_answers() - unanswered == 1
    assert handed_in.status == "submitted"
    assert handed_in.verification is not None
    assert (handed_in.verification["status"], handed_in.verification["detail"]) == (
        "unknown",
        work.NO_ANSWER,
    )

    async with world.db.session_scope() as s:
        await work.review(
            s,
            actor=await world.actor(world.reviewer),
            assignment_id=mine.id,
            approve=True,
            reason="meets_requirements",
            note=None,
            settings=world.settings,
        )
    approved = await row(world, mine.id)
    assert approved.hold_until is not None
    async with world.db.session_scope() as s:
        waiting = await silent.meanwhile(
            work.settle_hold(s, mine.id, now=approved.hold_until + timedelta(seconds=1)),
            what="the hold's end",
        )
    assert waiting == "waiting"
    assert (await row(world, mine.id)).status == "approved"

    # The platform answers again (the follow is there), and is given the time a loaded
    # machine may take.
    silent.gate.set()
    platform_timeout(PATIENCE)
    async with world.db.session_scope() as s:
        settled = await work.settle_hold(s, mine.id, now=approved.hold_until + timedelta(hours=1))
    assert settled == "released"


async def test_a_platform_that_does_not_answer_refuses_what_needs_its_word(
    world: World,
) -> None:
    """Binding an account, linking one to a brand and a new campaign's target need the
    platform's answer: without one in time they are refused (503, try again), nothing is
    written, and the locks they hold are let go."""
    platforms = current_runtime().platforms
    silent = GatedPlatform(platforms["sandbox"], everything=True)
    platforms["sandbox"] = silent
    worker = await add_worker(world)
    owner = await world.actor(world.owner)
    platform_timeout(SHORT)
    unanswered = no_answers()
    async with world.db.session_scope() as s:
        with pytest.raises(PlatformUnavailable):
            await silent.meanwhile(
                identity.bind_platform_account(
                    s, person=worker, platform="sandbox", handle="new_handle", followers=10
                ),
                what="binding",
            )
    async with world.db.session_scope() as s:
        with pytest.raises(PlatformUnavailable):
            await silent.meanwhile(
                org_accounts.link_account(
                    s, actor=owner, org_id=world.org_id, platform="sandbox", handle="other_brand"
                ),
                what="linking",
            )
    async with world.db.session_scope() as s:
        with pytest.raises(PlatformUnavailable):
            await silent.meanwhile(
                campaigns.create_campaign(
                    s, actor=owner, org_id=world.org_id, draft=draft(), settings=world.settings
                ),
                what="the campaign",
            )
    assert no_answers() - unanswered == 3
    async with world.db.sessionmaker() as s:
        assert await identity.platform_accounts(s, person=worker) == []
        assert await s.scalar(select(func.count()).select_from(Campaign)) == 0
        linked = await s.scalar(select(func.count()).select_from(OrgPlatformAccount))
    assert linked == 1  # the brand's own, linked when the world was built
