"""A small world for the task lifecycle: a funded brand, workers with bound sandbox
accounts, reviewers and operators, and a target on the sandbox platform."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import text

from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.policy import Actor
from xingdong.core.runtime import build_runtime
from xingdong.core.settings import Settings
from xingdong.creators import agencies
from xingdong.identity import org_accounts
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.ledger import service as ledger
from xingdong.ledger.deposits import DEPOSITS_ACCOUNT, open_org_account, org_account
from xingdong.platforms.sandbox import service as sandbox

PASSWORD = "goodPass2026"
BRAND_HANDLE = "brand_official"
_phones = itertools.count(13700000000)
_keys = itertools.count(1)


@dataclass
class World:
    db: Database
    settings: Settings
    owner: Person
    org_id: UUID
    reviewer: Person
    reviewer2: Person
    operator: Person
    operator2: Person
    workers: list[Person] = field(default_factory=list)

    async def actor(self, person: Person) -> Actor:
        async with self.db.session_scope() as s:
            return await identity.actor_for(s, person=person)

    async def person(self, person_id: UUID) -> Person:
        async with self.db.sessionmaker() as s:
            found = await s.get(Person, person_id)
            assert found is not None
            return found


async def _person(
    s: Any, settings: Settings, *, birth_year: int = 1995, region: str = "浙江",
    interests: tuple[str, ...] = ("美妆",), handle: str | None = None, followers: int = 500,
) -> Person:  # fmt: skip
    person = await identity.create_person_directly(
        s, phone=str(next(_phones)), password=PASSWORD, display_name="测试用户"
    )
    person.birth_year = birth_year
    person.region = region
    person.interests = list(interests)
    await identity.accept_agreement(
        s, person=person, version=settings.agreement_version, settings=settings, ip=None,
        user_agent=None,
    )  # fmt: skip
    if handle:
        await identity.bind_platform_account(
            s, person=person, platform="sandbox", handle=handle, followers=followers
        )
    await s.flush()
    return person


async def build_world(
    url: str, settings: Settings, *, workers: int = 3, funds: int = 1_000_000
) -> World:
    runtime = build_runtime(settings, url)
    db = runtime.db
    async with db.session_scope() as s:
        await sandbox.create_account(
            s, handle=BRAND_HANDLE, display_name="品牌官方号", followers=10
        )
    async with db.session_scope() as s:
        owner = await _person(s, settings)
        owner_actor = await identity.actor_for(s, person=owner)
        org = await identity.create_organisation(
            s, actor=owner_actor, kind="brand", name="测试品牌"
        )
        staff = [await _person(s, settings) for _ in range(4)]
        for person, role in zip(
            staff, ("reviewer", "reviewer", "operator", "operator"), strict=True
        ):
            await s.execute(
                text("INSERT INTO staff_grants (person_id, role) VALUES (:id, :role)"),
                {"id": person.id, "role": role},
            )
        await open_org_account(s, org.id)
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                f"world-fund-{org.id}", DEPOSITS_ACCOUNT, org_account(org.id), funds, "deposit"
            ),
        )
        org_id = org.id
    async with db.session_scope() as s:
        # The brand's own account, as a brand links it before promoting it.
        await org_accounts.link_account(
            s, actor=await identity.actor_for(s, person=owner), org_id=org_id,
            platform="sandbox", handle=BRAND_HANDLE,
        )  # fmt: skip
    people = []
    for n in range(workers):
        async with db.session_scope() as s:
            people.append(await _person(s, settings, handle=f"worker_{next(_phones)}_{n}"))
    reviewer, reviewer2, operator, operator2 = staff
    return World(
        db, settings, owner, org_id, reviewer, reviewer2, operator, operator2, workers=people
    )


async def add_worker(world: World, **profile: Any) -> Person:
    async with world.db.session_scope() as s:
        return await _person(s, world.settings, **profile)


async def sign_with_agency(
    world: World, creator: Person, *, name: str = "星光 MCN", share_percent: int = 20
) -> UUID:
    """A new agency (its owner a new worker) offers ``creator`` a contract, which they
    accept; the agency's id."""
    owner = await add_worker(world)
    async with world.db.session_scope() as s:
        agency = await identity.create_organisation(
            s, actor=await identity.actor_for(s, person=owner), kind="agency", name=name
        )
    async with world.db.session_scope() as s:
        offered = await agencies.offer_contract(
            s, actor=await world.actor(owner), org_id=agency.id, phone=creator.phone,
            share_percent=share_percent,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await agencies.answer_offer(s, person=creator, contract_id=offered.id, accept=True)
    return agency.id


def draft(**overrides: Any) -> campaigns.CampaignDraft:
    now = utcnow()
    values: dict[str, Any] = {
        "title": "关注品牌官方号",
        "task_type": "follow",
        "target": "@" + BRAND_HANDLE,
        "brief": "关注我们的官方账号，了解新品动态。",
        "disclosure": "广告：本任务由品牌方赞助",
        "quantity": 5,
        "unit_price": 100,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(days=7),
        "interests": ["美妆"],
        "pacing_per_hour": 60,
    }
    values.update(overrides)
    return campaigns.CampaignDraft(**values)


def window_nearly_over() -> dict[str, datetime]:
    """A window that began long ago and ends in a week, like the default's end: its plan
    has come so far that every unit may be taken now. For tests that take several units at
    once; the pacing guard refuses claims that would run ahead of a campaign's plan."""
    now = utcnow()
    return {"starts_at": now - timedelta(days=700), "ends_at": now + timedelta(days=7)}


async def live_campaign(world: World, **overrides: Any) -> Campaign:
    """Created, funded, submitted and approved."""
    owner = await world.actor(world.owner)
    operator = await world.actor(world.operator)
    async with world.db.session_scope() as s:
        campaign = await campaigns.create_campaign(
            s, actor=owner, org_id=world.org_id, draft=draft(**overrides), settings=world.settings
        )
    async with world.db.session_scope() as s:
        await campaigns.submit_campaign(
            s, actor=owner, campaign_id=campaign.id, settings=world.settings
        )
    async with world.db.session_scope() as s:
        # Approved when it began (tests give windows that began long ago, so that their
        # plans have come far): an approval after the start would move the start to it.
        return await campaigns.decide_campaign(
            s, actor=operator, campaign_id=campaign.id, approve=True, note="",
            now=min(utcnow(), campaign.starts_at),
        )  # fmt: skip


async def follow_on_sandbox(handle: str, db: Database, *, when: datetime | None = None) -> None:
    async with db.session_scope() as s:
        account = await sandbox.get_account(s, handle=handle)
        target = await sandbox.get_account(s, handle=BRAND_HANDLE)
        await sandbox.follow(s, account=account, target=target, now=when)


async def unfollow_on_sandbox(handle: str, db: Database) -> None:
    async with db.session_scope() as s:
        account = await sandbox.get_account(s, handle=handle)
        target = await sandbox.get_account(s, handle=BRAND_HANDLE)
        await sandbox.unfollow(s, account=account, target=target)


async def balance(db: Database, key: str) -> ledger.Balance:
    async with db.sessionmaker() as s:
        return await ledger.balance(s, key)


def unique_key() -> str:
    return f"k{next(_keys)}"
