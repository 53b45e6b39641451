"""Agencies (MCN) and their creators on a real PostgreSQL: offers, answers, the roster,
and the agency's share of each reward when it leaves its hold."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import text

from tests.integration.conftest import make_settings
from tests.lifecycle_world import (
    World,
    add_worker,
    balance,
    build_world,
    live_campaign,
)
from xingdong.core.errors import Forbidden, NotFound, ValidationFailed
from xingdong.core.policy import Actor
from xingdong.creators import agencies
from xingdong.creators.errors import AlreadySigned, ContractNotOpen, NotAnAgency
from xingdong.creators.models import AgencyContract
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.ledger import service as ledger
from xingdong.ledger import wallets
from xingdong.platforms.sandbox import service as sandbox
from xingdong.work import service as work


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(hold_hours=24), funds=1_000_000)
    yield built
    await built.db.dispose()


async def new_agency(world: World, name: str = "星光 MCN") -> tuple[Person, UUID]:
    owner = await add_worker(world)
    async with world.db.session_scope() as s:
        actor = await identity.actor_for(s, person=owner)
        org = await identity.create_organisation(s, actor=actor, kind="agency", name=name)
        return owner, org.id


async def offer(
    world: World, owner: Person, org_id: UUID, creator: Person, share: int | str = 20
) -> AgencyContract:
    actor = await world.actor(owner)
    async with world.db.session_scope() as s:
        return await agencies.offer_contract(
            s, actor=actor, org_id=org_id, phone=creator.phone, share_percent=share
        )


async def answer(world: World, creator: Person, contract_id: UUID, accept: bool = True) -> str:
    async with world.db.session_scope() as s:
        return (
            await agencies.answer_offer(s, person=creator, contract_id=contract_id, accept=accept)
        ).status


_targets = itertools.count(1)


async def earn(world: World, worker: Person, *, released_after: timedelta | None = None) -> UUID:
    """The worker takes a task to follow a new account and does it; with
    ``released_after``, its hold ends. Returns the assignment."""
    target = f"brand_{next(_targets)}"
    async with world.db.session_scope() as s:
        await sandbox.create_account(s, handle=target, display_name="品牌", followers=10)
    campaign = await live_campaign(world, target="@" + target)
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)
    async with world.db.sessionmaker() as s:
        handle = (await identity.platform_accounts(s, person=worker))[0].handle
    async with world.db.session_scope() as s:
        await sandbox.follow(
            s,
            account=await sandbox.get_account(s, handle=handle),
            target=await sandbox.get_account(s, handle=target),
        )
    async with world.db.session_scope() as s:
        done = await work.submit(
            s,
            person=worker,
            assignment_id=taken.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings,
            now=taken.claimed_at + timedelta(seconds=60),
        )
    assert done.status == "approved" and done.hold_until is not None
    if released_after is not None:
        async with world.db.session_scope() as s:
            await work.settle_holds(s, now=done.hold_until + released_after)
    return taken.id


async def settle_all(world: World) -> None:
    async with world.db.session_scope() as s:
        await s.execute(text("UPDATE assignments SET hold_until = now() - interval '1 second'"))
    async with world.db.session_scope() as s:
        await work.settle_holds(s)


async def assert_sound(world: World) -> None:
    async with world.db.sessionmaker() as s:
        report = await ledger.verify(s)
    assert report.ok, report.problems


async def test_a_signed_creator_shares_each_released_reward_with_the_agency(
    world: World,
) -> None:
    owner, org_id = await new_agency(world)
    creator = world.workers[0]
    contract = await offer(world, owner, org_id, creator, share=20)
    assert contract.status == "offered"

    async with world.db.sessionmaker() as s:
        mine = await agencies.my_agency(s, person=creator)
    assert mine.contract is None
    assert [(c.id, o.name) for c, o in mine.offers] == [(contract.id, "星光 MCN")]

    assert await answer(world, creator, contract.id) == "active"
    await earn(world, creator, released_after=timedelta(seconds=1))

    # Reward 80 fen: 16 to the agency, 64 to the creator; the ledger still balances.
    assert (await balance(world.db, wallets.available_account(creator.id))).posted == 64
    assert (await balance(world.db, wallets.pending_account(creator.id))).posted == 0
    assert (await balance(world.db, agencies.agency_account(org_id))).posted == 16
    await assert_sound(world)

    actor = await world.actor(owner)
    async with world.db.sessionmaker() as s:
        page = await agencies.roster(s, actor=actor, org_id=org_id)
        mine = await agencies.my_agency(s, person=creator)
        counts = await agencies.count_contracts(s, org_id)
        movements = await wallets.wallet(s, creator.id)
    [entry] = page.items
    assert entry.person is not None and entry.person.id == creator.id
    assert (entry.tier, entry.followers, entry.shared) == ("novice", 500, 16)
    assert mine.contract is not None and mine.shared == 16 and mine.offers == []
    assert counts == {"active": 1, "offered": 0, "closed": 0}
    assert "agency_share" in {m.code for m in movements.movements}


async def test_the_share_follows_when_the_task_was_taken_and_rounds_down(world: World) -> None:
    owner, org_id = await new_agency(world)
    creator = world.workers[0]
    before = await earn(world, creator)  # taken before signing
    contract = await offer(world, owner, org_id, creator, share="33%")
    await answer(world, creator, contract.id)
    during = await earn(world, creator)  # taken while signed, released after the end
    async with world.db.session_scope() as s:
        await agencies.leave_agency(s, person=creator)
    after = await earn(world, creator)  # taken after the end
    await settle_all(world)

    async with world.db.sessionmaker() as s:
        shares = (
            await s.execute(
                text("SELECT reference, amount FROM ledger_transfers WHERE code = 'agency_share'")
            )
        ).all()
    # 33% of 80 fen is 26.4: the agency gets 26, the creator keeps the rest.
    assert shares == [(f"assignment:{during}", 26)]
    assert before != after
    assert (await balance(world.db, wallets.available_account(creator.id))).posted == 80 * 3 - 26
    assert (await balance(world.db, agencies.agency_account(org_id))).posted == 26
    await assert_sound(world)


async def test_two_acceptances_at_once_sign_the_creator_with_one_agency(world: World) -> None:
    creator = world.workers[0]
    contracts = []
    for name in ("甲 MCN", "乙 MCN", "丙 MCN"):
        owner, org_id = await new_agency(world, name)
        contracts.append(await offer(world, owner, org_id, creator))

    async def accept(contract_id: UUID) -> str:
        try:
            return await answer(world, creator, contract_id)
        except AlreadySigned:
            return "refused"

    outcomes = await asyncio.gather(*(accept(c.id) for c in contracts))
    assert sorted(outcomes) == ["active", "refused", "refused"]
    async with world.db.sessionmaker() as s:
        active = (
            await s.execute(text("SELECT count(*) FROM agency_contracts WHERE status = 'active'"))
        ).scalar_one()
        mine = await agencies.my_agency(s, person=creator)
    assert active == 1
    assert len(mine.offers) == 2  # the others still wait; accepting them is refused


async def test_bad_offers_are_refused_and_nothing_is_written(world: World) -> None:
    owner, org_id = await new_agency(world)
    creator = world.workers[0]
    brand_owner = await world.actor(world.owner)

    with pytest.raises(NotAnAgency):
        async with world.db.session_scope() as s:
            await agencies.offer_contract(
                s, actor=brand_owner, org_id=world.org_id, phone=creator.phone, share_percent=10
            )
    for share in (0, 51, "abc", "²", "-5"):
        with pytest.raises(ValidationFailed) as refused:
            await offer(world, owner, org_id, creator, share=share)
        assert [f.field for f in refused.value.fields] == ["share_percent"]
    actor = await world.actor(owner)
    with pytest.raises(ValidationFailed) as both:
        async with world.db.session_scope() as s:
            await agencies.offer_contract(
                s, actor=actor, org_id=org_id, phone="12", share_percent=99
            )
    assert {f.field for f in both.value.fields} == {"phone", "share_percent"}
    stranger = Actor(person_id=creator.id)
    with pytest.raises(NotFound):
        async with world.db.session_scope() as s:
            await agencies.offer_contract(
                s, actor=stranger, org_id=org_id, phone=creator.phone, share_percent=10
            )
    async with world.db.sessionmaker() as s:
        written = (await s.execute(text("SELECT count(*) FROM agency_contracts"))).scalar_one()
    assert written == 0

    first = await offer(world, owner, org_id, creator)
    with pytest.raises(AlreadySigned):
        await offer(world, owner, org_id, creator)
    member = await add_worker(world)
    async with world.db.session_scope() as s:
        await s.execute(
            text("INSERT INTO memberships (org_id, person_id, role) VALUES (:o, :p, 'member')"),
            {"o": org_id, "p": member.id},
        )
    with pytest.raises(Forbidden):
        await offer(world, member, org_id, world.workers[1])
    # Someone else cannot answer the creator's offer.
    with pytest.raises(NotFound):
        await answer(world, world.workers[1], first.id)


async def test_withdrawn_declined_and_ended_contracts_say_so(world: World) -> None:
    owner, org_id = await new_agency(world)
    actor = await world.actor(owner)
    creator, other = world.workers[0], world.workers[1]

    withdrawn = await offer(world, owner, org_id, creator)
    async with world.db.session_scope() as s:
        await agencies.close_contract(s, actor=actor, org_id=org_id, contract_id=withdrawn.id)
    with pytest.raises(ContractNotOpen) as late:
        await answer(world, creator, withdrawn.id)
    assert late.value.extra == {"contract_status": "withdrawn"}

    declined = await offer(world, owner, org_id, other)
    assert await answer(world, other, declined.id, accept=False) == "declined"

    signed = await offer(world, owner, org_id, creator, share=10)
    await answer(world, creator, signed.id)
    async with world.db.session_scope() as s:
        ended = await agencies.close_contract(s, actor=actor, org_id=org_id, contract_id=signed.id)
    assert (ended.status, ended.ended_by) == ("ended", owner.id)
    with pytest.raises(ContractNotOpen):
        async with world.db.session_scope() as s:
            await agencies.close_contract(s, actor=actor, org_id=org_id, contract_id=signed.id)
    with pytest.raises(NotFound):
        async with world.db.session_scope() as s:
            await agencies.leave_agency(s, person=creator)

    async with world.db.sessionmaker() as s:
        closed = await agencies.roster(s, actor=actor, org_id=org_id, status="closed")
        counts = await agencies.count_contracts(s, org_id)
        actions = (
            (
                await s.execute(
                    text("SELECT action FROM audit_log WHERE action LIKE 'creators.%' ORDER BY id")
                )
            )
            .scalars()
            .all()
        )
    assert {e.contract.status for e in closed.items} == {"withdrawn", "declined", "ended"}
    assert counts == {"active": 0, "offered": 0, "closed": 3}
    assert actions == [
        "creators.contract_offered",
        "creators.contract_withdrawn",
        "creators.contract_offered",
        "creators.contract_declined",
        "creators.contract_offered",
        "creators.contract_accepted",
        "creators.contract_ended",
    ]
    # The agency's systems are told each step, the creator never named by number.
    async with world.db.sessionmaker() as s:
        events = (
            await s.execute(
                text(
                    "SELECT type, data FROM insight_events WHERE org_id = :org "
                    "ORDER BY created_at, id"
                ),
                {"org": org_id},
            )
        ).all()
    assert [(t, d["status"], d["by"], d["share_percent"]) for t, d in events] == [
        ("contract.offered", "offered", "agency", 20),
        ("contract.withdrawn", "withdrawn", "agency", 20),
        ("contract.offered", "offered", "agency", 20),
        ("contract.declined", "declined", "creator", 20),
        ("contract.offered", "offered", "agency", 10),
        ("contract.accepted", "active", "creator", 10),
        ("contract.ended", "ended", "agency", 10),
    ]
    assert events[0][1]["contract_id"] == str(withdrawn.id)
    assert events[5][1]["creator_id"] == str(creator.id)
    assert all(creator.phone not in str(d) and other.phone not in str(d) for _t, d in events)


async def test_many_offers_in_one_session_find_their_conflict_target(world: World) -> None:
    """psycopg prepares a statement on the server after a few runs; the offer's ON
    CONFLICT must still name the partial index then (it did not with bound parameters)."""
    owner, org_id = await new_agency(world)
    actor = await world.actor(owner)
    people = [await add_worker(world) for _ in range(8)]
    async with world.db.session_scope() as s:
        for person in people:
            await agencies.offer_contract(
                s, actor=actor, org_id=org_id, phone=person.phone, share_percent=10
            )
        with pytest.raises(AlreadySigned):
            await agencies.offer_contract(
                s, actor=actor, org_id=org_id, phone=people[0].phone, share_percent=10
            )
        count = await s.scalar(text("SELECT count(*) FROM agency_contracts"))
    assert count == len(people)
