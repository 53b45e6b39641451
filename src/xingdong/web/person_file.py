"""One person as operators see them on ``/ops/people/{id}``: who they are, their bound
accounts and organisations, their money, their work, the risk cases they are in and what
the audit log says about them, with the account's freeze and unfreeze."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.models import Campaign
from xingdong.core.audit import AuditEntry
from xingdong.core.pagination import in_pages, next_cursor
from xingdong.core.policy import Action, Actor, require
from xingdong.creators import agencies
from xingdong.creators.models import AgencyContract
from xingdong.identity import repository as identity_repo
from xingdong.identity import service as identity
from xingdong.identity.models import Membership, Organisation, Person, PlatformAccount
from xingdong.ledger import wallets
from xingdong.risk.models import RiskCase
from xingdong.work.models import Assignment

RECENT = 20
"""How many of their tasks (a page of them) and latest audit entries the page shows."""


@dataclass(frozen=True)
class PersonFile:
    person: Person
    staff_roles: list[str]
    accounts: list[PlatformAccount]
    organisations: list[tuple[Organisation, str]]
    """Each organisation they belong to, with their role there."""
    agency: tuple[Organisation, AgencyContract] | None
    """The agency (MCN) whose contract with them is in force, and the contract."""
    pending: int
    available: int
    reserved: int
    work_counts: dict[str, int]
    """Their tasks by status, all time."""
    recent_work: list[tuple[Assignment, str]]
    """A page of their tasks, latest claim first, with each campaign's title."""
    older_work: str | None
    """The cursor of the next page of tasks, if there is one."""
    cases: list[RiskCase]
    audit: list[AuditEntry]
    """The latest entries about them or by them, newest first."""
    audit_more: bool
    """There are older entries (the audit log's search has them all)."""


async def person_file(
    session: AsyncSession,
    *,
    actor: Actor,
    person_id: UUID,
    work_status: str | None = None,
    work_cursor: str | None = None,
) -> PersonFile:
    """``work_status`` keeps the tasks of one status; ``work_cursor`` pages through them."""
    require(actor, Action.STAFF_CONSOLE)
    person = await identity.get_person(session, actor=actor, person_id=person_id)
    organisations = [
        (org, role)
        for org, role in await session.execute(
            select(Organisation, Membership.role)
            .join(Membership, Membership.org_id == Organisation.id)
            .where(Membership.person_id == person_id)
            .order_by(Organisation.name)
        )
    ]
    counts = {
        status: int(n)
        for status, n in await session.execute(
            select(Assignment.status, func.count())
            .where(Assignment.person_id == person_id)
            .group_by(Assignment.status)
        )
    }
    tasks = (
        select(Assignment, Campaign.title)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(Assignment.person_id == person_id)
    )
    if work_status:
        tasks = tasks.where(Assignment.status == work_status)
    tasks = in_pages(tasks, Assignment.claimed_at, Assignment.id, work_cursor, newest_first=True)
    recent = [
        (assignment, title) for assignment, title in await session.execute(tasks.limit(RECENT + 1))
    ]
    older_work = next_cursor([a for a, _ in recent], RECENT, at=lambda a: a.claimed_at)
    found_cases = list(
        await session.scalars(
            select(RiskCase)
            .where(RiskCase.accounts.contains([str(person_id)]))
            .order_by(RiskCase.created_at.desc())
        )
    )
    audit = list(
        await session.scalars(
            select(AuditEntry)
            .where(or_(AuditEntry.object_id == str(person_id), AuditEntry.actor_id == person_id))
            .order_by(AuditEntry.id.desc())
            .limit(RECENT + 1)
        )
    )
    money = await wallets.wallet(session, person_id, limit=1)
    signed = await agencies.my_agency(session, person=person)
    return PersonFile(
        person=person,
        staff_roles=await identity_repo.staff_roles(session, person_id),
        accounts=await identity.platform_accounts(session, person=person),
        organisations=organisations,
        agency=(signed.agency, signed.contract)
        if signed.agency is not None and signed.contract is not None
        else None,
        pending=money.pending,
        available=money.available,
        reserved=money.reserved,
        work_counts=counts,
        recent_work=recent[:RECENT],
        older_work=older_work,
        cases=found_cases,
        audit=audit[:RECENT],
        audit_more=len(audit) > RECENT,
    )
