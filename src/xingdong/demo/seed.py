"""Demo data: a brand with two members, an agency with signed creators and offers
waiting, five workers, a reviewer, an operator.

Idempotent: seeding a database that already has the demo people changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.policy import Actor, OrgRole
from xingdong.core.settings import Settings
from xingdong.creators import agencies
from xingdong.creators.models import AgencyContract
from xingdong.demo.campaigns import seed_campaigns, seed_first_task
from xingdong.demo.crowd import CROWD_PHONES, SIM_REVIEWER, seed_crowd
from xingdong.identity import repository as identity_repo
from xingdong.identity import service as identity
from xingdong.ledger import deposits
from xingdong.ledger.models import SandboxPayment
from xingdong.ledger.payments import PaymentNotice, SandboxPaymentProvider
from xingdong.platforms.sandbox.demo import seed_sandbox

DEMO_PASSWORD = "xingdong2026"
DEMO_HOLD_HOURS = 1
"""The demo holds rewards for an hour, so that wallets fill up while one watches."""
DEMO_HOLD_CHECK_HOURS = 0.25
"""… and checks them in the hold every quarter of an hour (the job looks every half hour),
so that a follow undone on the sandbox shows on *My tasks* before the hold ends."""


@dataclass(frozen=True)
class DemoLogin:
    role: str
    phone: str
    name: str


@dataclass(frozen=True)
class _Worker:
    phone: str
    name: str
    birth_year: int
    region: str
    interests: list[str]
    handle: str
    followers: int


WORKERS = (
    _Worker("13800000011", "小林", 1998, "广东", ["美妆", "时尚"], "xiaolin_daily", 320),
    _Worker("13800000012", "阿杰", 1994, "浙江", ["数码", "游戏"], "ajie_tech", 5_400),
    _Worker("13800000013", "王姐", 1988, "四川", ["母婴", "美食"], "wangjie_mama", 48_000),
    _Worker("13800000014", "小周", 2001, "北京", ["运动", "旅行"], "zhou_runs", 120),
    _Worker("13800000015", "陈老师", 1979, "湖南", ["教育", "三农"], "chen_teaches", 260_000),
)

BRAND_OWNER = ("13800000001", "品牌负责人 李薇")
BRAND_MEMBER = ("13800000002", "品牌运营 赵磊")
AGENCY_OWNER = ("13800000003", "机构经理 孙婷")
REVIEWER = ("13800000021", "审核员 周敏")
OPERATOR = ("13800000022", "运营 吴刚")
ADMIN = ("13800000024", "管理员 陈静")


async def _person(session: AsyncSession, phone: str, name: str) -> tuple[object, bool]:
    existing = await identity_repo.person_by_phone(session, "+86" + phone)
    if existing is not None:
        return existing, False
    person = await identity.create_person_directly(
        session, phone=phone, password=DEMO_PASSWORD, display_name=name
    )
    return person, True


async def seed_demo(
    session: AsyncSession, settings: Settings, *, inbox_url: str | None = None
) -> list[DemoLogin]:
    """The demo's people, organisations, money and campaigns (once; a second run adds
    nothing). With ``inbox_url``, the brand's webhook endpoint points at the demo's own
    receiver there."""
    from xingdong.identity.models import Person

    logins: list[DemoLogin] = []

    owner, created = await _person(session, *BRAND_OWNER)
    member, _ = await _person(session, *BRAND_MEMBER)
    agency_owner, _ = await _person(session, *AGENCY_OWNER)
    assert isinstance(owner, Person)
    assert isinstance(member, Person)
    assert isinstance(agency_owner, Person)
    if created:
        brand = await identity.create_organisation(
            session, actor=Actor(person_id=owner.id), kind="brand", name="星动美妆旗舰店"
        )
        owner_actor = Actor(person_id=owner.id, memberships={brand.id: OrgRole.OWNER})
        invitation = await identity.invite_member(
            session, actor=owner_actor, org_id=brand.id, phone=BRAND_MEMBER[0], role="member"
        )
        await identity.answer_invitation(
            session, person=member, invitation_id=invitation.id, accept=True
        )
        await identity.create_organisation(
            session, actor=Actor(person_id=agency_owner.id), kind="agency", name="星光 MCN 机构"
        )
        # The brand starts with ¥20,000 topped up through the sandbox provider.
        deposit = await deposits.request_deposit(
            session,
            org_id=brand.id,
            requested_by=owner.id,
            amount=2_000_000,
            idempotency_key="demo-seed",
            provider="sandbox",
            min_amount=1,
            max_amount=2_000_000,
        )
        # The sandbox provider's own record of the payment, as its checkout page writes
        # it, so that reconciliation finds the payment behind the deposit.
        await session.execute(
            insert(SandboxPayment)
            .values(order_id=str(deposit.id), amount=deposit.amount, status="paid")
            .on_conflict_do_nothing(index_elements=["order_id"])
        )
        await deposits.record_payment_notice(
            session,
            notice=PaymentNotice(
                order_id=str(deposit.id),
                amount=deposit.amount,
                status="paid",
                provider_txn=SandboxPaymentProvider.transaction_number(str(deposit.id)),
            ),
        )
    logins += [
        DemoLogin("brand owner 品牌负责人", BRAND_OWNER[0], BRAND_OWNER[1]),
        DemoLogin("brand member 品牌成员", BRAND_MEMBER[0], BRAND_MEMBER[1]),
        DemoLogin("agency owner 机构", AGENCY_OWNER[0], AGENCY_OWNER[1]),
    ]

    # The brand's official account and some creators exist on the platform before the
    # workers bind theirs.
    await seed_sandbox(session)
    for worker in WORKERS:
        person, new = await _person(session, worker.phone, worker.name)
        assert isinstance(person, Person)
        if new:
            actor = Actor(person_id=person.id)
            await identity.update_profile(
                session,
                actor=actor,
                person_id=person.id,
                changes=identity.ProfileChanges(
                    birth_year=worker.birth_year,
                    region=worker.region,
                    interests=worker.interests,
                ),
            )
            await identity.accept_agreement(
                session,
                person=person,
                version=settings.agreement_version,
                settings=settings,
                ip=None,
                user_agent="demo-seed",
            )
            await identity.bind_platform_account(
                session,
                person=person,
                platform="sandbox",
                handle=worker.handle,
                followers=worker.followers,
            )
        logins.append(DemoLogin("worker 做任务者", worker.phone, worker.name))

    staff = {}
    staff_roles = (
        (REVIEWER, "reviewer", "审核员"),
        (OPERATOR, "operator", "运营"),
        (ADMIN, "admin", "管理员"),
    )
    for (phone, name), role, label in staff_roles:
        staff[role], _ = await _person(session, phone, name)
        await identity.grant_staff_role(session, phone=phone, role=role, granted_by=None)
        logins.append(DemoLogin(f"{role} {label}", phone, name))
    await seed_crowd(session, settings, DEMO_PASSWORD)
    # The crowd's reviewer signs in with the same password; its decisions are on its pages.
    logins.append(DemoLogin("simulated reviewer 审核员（模拟）", *SIM_REVIEWER))
    await _seed_agency_contracts(session, agency_owner)
    # The platform connector reads the sandbox accounts through its own connection.
    await session.commit()
    operator = staff["operator"]
    assert isinstance(operator, Person)
    await seed_campaigns(session, settings=settings, owner=owner, operator=operator)
    first = await identity_repo.person_by_phone(session, "+86" + WORKERS[0].phone)
    assert first is not None
    await seed_first_task(session, settings=settings, worker=first)
    if inbox_url is not None:
        await point_demo_webhook(session, owner=owner, url=inbox_url, settings=settings)
    return logins


DEMO_WEBHOOK = "演示收件箱 demo inbox"


async def point_demo_webhook(
    session: AsyncSession, *, owner: object, url: str, settings: Settings
) -> None:
    """The demo brand's webhook endpoint, sending every event to the demo's receiver at
    ``url`` (made once; moved when the demo runs on another address)."""
    from xingdong.identity.models import Person
    from xingdong.insights import service as insights

    assert isinstance(owner, Person)
    actor = await identity.actor_for(session, person=owner)
    brand_id = next(org for org, role in actor.memberships.items() if role == OrgRole.OWNER)
    existing = [
        summary.endpoint
        for summary in await insights.endpoints_of(session, actor=actor, org_id=brand_id)
        if summary.endpoint.description == DEMO_WEBHOOK
    ]
    if not existing:
        await insights.create_endpoint(
            session, actor=actor, org_id=brand_id, url=url, description=DEMO_WEBHOOK,
            settings=settings,
        )  # fmt: skip
    elif existing[0].url != url:
        await insights.update_endpoint(
            session, actor=actor, org_id=brand_id, endpoint_id=existing[0].id,
            changes=insights.EndpointChanges(url=url), settings=settings,
        )  # fmt: skip


AGENCY_SIGNED = (("13800000013", 20), ("13800000015", 15))
"""Demo workers the agency has signed, with its share (%); the crowd members below too."""
AGENCY_OFFERED = (("13800000011", 20), ("13800000012", 25))
"""Demo workers with an offer waiting (小林, the first demo login, can answer it)."""
AGENCY_CROWD = 8
"""Crowd members the agency has signed, so that the simulated crowd earns it shares."""


async def _seed_agency_contracts(session: AsyncSession, agency_owner: object) -> None:
    from xingdong.identity.models import Organisation, Person

    assert isinstance(agency_owner, Person)
    agency_id = await session.scalar(
        select(Organisation.id).where(
            Organisation.created_by == agency_owner.id, Organisation.kind == "agency"
        )
    )
    if agency_id is None or await session.scalar(
        select(AgencyContract.id).where(AgencyContract.org_id == agency_id).limit(1)
    ):
        return
    actor = Actor(person_id=agency_owner.id, memberships={agency_id: OrgRole.OWNER})
    signed = [*AGENCY_SIGNED, *((p.removeprefix("+86"), 10) for p in CROWD_PHONES[:AGENCY_CROWD])]
    for phone, share in [*signed, *AGENCY_OFFERED]:
        contract = await agencies.offer_contract(
            session, actor=actor, org_id=agency_id, phone=phone, share_percent=share
        )
        creator = await identity_repo.person_by_phone(session, contract.phone)
        if (phone, share) in signed and creator is not None:
            await agencies.answer_offer(
                session, person=creator, contract_id=contract.id, accept=True
            )
