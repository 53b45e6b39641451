"""Agencies (MCN, 机构) and the creators they manage.

An agency offers a creator a contract by phone number with a share of the creator's task
rewards; the creator accepts or declines. While a contract is in force, each reward of a
task the creator took in that time is split when it leaves its hold: the share to the
agency's account, the rest to the creator's (:func:`share_of_release`). A creator is
managed by one agency at a time; either side may end the contract, and rewards of tasks
taken after that are the creator's alone. Every step is in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.numbers import plain, whole_number
from xingdong.core.pagination import CursorPage, clamp_limit, contains, in_pages, next_cursor
from xingdong.core.policy import Action, Actor, can, require
from xingdong.core.settings import Settings
from xingdong.creators.errors import (
    AlreadySigned,
    ContractNotOpen,
    MemberNotSignable,
    NotAnAgency,
)
from xingdong.creators.models import MAX_SHARE_PERCENT, AgencyContract
from xingdong.creators.tiers import tier_for_followers
from xingdong.identity import repository as identity_repo
from xingdong.identity.models import Organisation, Person, PlatformAccount
from xingdong.identity.validation import mask_phone, phone_error, phone_search_text
from xingdong.insights import service as insights
from xingdong.ledger import service as ledger
from xingdong.ledger import withdrawals
from xingdong.ledger.models import LedgerAccount, OrgPayoutAccount, Transfer, Withdrawal

SHARE_CODE = "agency_share"
"""The ledger code of the agency's share of a released reward."""

OPEN = ("offered", "active")

_NOT_OPEN = {
    "declined": N_("The creator has declined this offer."),
    "withdrawn": N_("The agency has withdrawn this offer."),
    "ended": N_("This contract has ended."),
    "active": N_("This offer has already been accepted."),
    "offered": N_("This offer has not been accepted yet."),
}


def agency_account(org_id: UUID) -> str:
    return f"agency:{org_id}:available"


async def open_agency_account(session: AsyncSession, org_id: UUID) -> None:
    await ledger.open_account(
        session, ledger.AccountSpec(agency_account(org_id), no_overdraft=True)
    )


async def agency_balance(session: AsyncSession, org_id: UUID) -> ledger.Balance:
    return await ledger.balance_or_nothing(session, agency_account(org_id))


def _not_open(contract: AgencyContract) -> ContractNotOpen:
    return ContractNotOpen(
        detail=_NOT_OPEN[contract.status], extra={"contract_status": contract.status}
    )


def share_error(raw: int | str) -> tuple[int, FieldError | None]:
    """The share as typed (``20``, ``20%``, full-width digits), or what is wrong with it
    (as ``phone_error`` answers for a phone number)."""
    value = raw if isinstance(raw, int) else whole_number(plain(raw).removesuffix("%"))
    if value is None or not 1 <= value <= MAX_SHARE_PERCENT:
        return 0, FieldError("share_percent", N_("Enter a whole percentage from 1 to {most}."))
    return value, None


async def _agency(
    session: AsyncSession, actor: Actor, org_id: UUID, action: Action
) -> Organisation:
    require(actor, Action.ORG_READ, org_id=org_id)
    require(actor, action, org_id=org_id)
    org = await session.get(Organisation, org_id)
    if org is None:
        raise NotFound(detail=N_("No such organisation."))
    if org.kind != "agency":
        raise NotAnAgency(
            detail=N_(
                "This organisation is a brand. Signing creators and paying out their shares "
                "is what agencies do: create an agency for it."
            )
        )
    return org


def _member_refused() -> MemberNotSignable:
    # An agency's own people taking a share of their own rewards would move that money
    # out of their wallets, past the checks a person's withdrawals go through.
    return MemberNotSignable(
        detail=N_("Members of the agency cannot be signed by it."),
        fields=[FieldError("phone", N_("A member of the agency."))],
    )


async def _close(
    session: AsyncSession, contract: AgencyContract, status: str, *, by: UUID, by_creator: bool
) -> AgencyContract:
    """An offer declined or withdrawn, or a contract ended, by ``by``."""
    contract.status = status
    contract.ended_at = utcnow()
    contract.ended_by = by
    await _audit(session, contract, status, by=by)
    await _tell_agency(session, contract, by_creator=by_creator)
    return contract


async def _tell_agency(
    session: AsyncSession, contract: AgencyContract, *, by_creator: bool
) -> None:
    """An event for the agency's systems (its events list and webhooks): the contract's
    new status, and who made it so. The creator's number is never sent."""
    await insights.emit(
        session,
        org_id=contract.org_id,
        type="contract.accepted" if contract.status == "active" else f"contract.{contract.status}",
        data={
            "contract_id": str(contract.id),
            "status": contract.status,
            "share_percent": contract.share_percent,
            "creator_id": str(contract.person_id) if contract.person_id else None,
            "by": "creator" if by_creator else "agency",
        },
    )


async def _audit(session: AsyncSession, contract: AgencyContract, what: str, *, by: UUID) -> None:
    await record_audit(
        session,
        actor_id=by,
        action="creators.contract_" + what,
        object_type="organisation",
        object_id=contract.org_id,
        data={"contract": str(contract.id)},
    )
    await session.flush()


# --- the agency's side ----------------------------------------------------------------


async def agency_of(session: AsyncSession, *, actor: Actor, org_id: UUID) -> Organisation:
    """The agency, for a member of it (or staff)."""
    return await _agency(session, actor, org_id, Action.ORG_READ)


async def offer_reaches_someone(session: AsyncSession, contract: AgencyContract) -> bool:
    """Whether someone has registered with the number an offer was sent to (else it waits
    for whoever registers with it)."""
    found = await session.scalar(select(Person.id).where(Person.phone == contract.phone))
    return found is not None


async def offer_contract(
    session: AsyncSession, *, actor: Actor, org_id: UUID, phone: str, share_percent: int | str
) -> AgencyContract:
    """An owner of the agency offers a contract to the creator with this phone number."""
    await _agency(session, actor, org_id, Action.ORG_SIGN_CREATORS)
    await identity_repo.hold_open_organisation(session, org_id)
    normalised, phone_problem = phone_error(phone)
    share, share_problem = share_error(share_percent)
    errors = [problem for problem in (phone_problem, share_problem) if problem]
    if errors:
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=errors,
            extra={"most": MAX_SHARE_PERCENT},
        )
    assert normalised is not None
    creator = await session.scalar(select(Person.id).where(Person.phone == normalised))
    if creator is not None and await identity_repo.membership(session, org_id, creator):
        raise _member_refused()
    inserted = await session.execute(
        insert(AgencyContract)
        .values(
            id=new_id(),
            org_id=org_id,
            phone=normalised,
            share_percent=share,
            offered_by=actor.person_id,
        )
        .on_conflict_do_nothing(
            # Written as the index's own predicate: with bound parameters PostgreSQL
            # cannot tell that the conflict target is that partial index.
            index_elements=["org_id", "phone"],
            index_where=text("status IN ('offered', 'active')"),
        )
        .returning(AgencyContract.id)
    )
    contract_id = inserted.scalar_one_or_none()
    if contract_id is None:
        raise AlreadySigned(
            detail=N_("This number already has an offer from you, or is signed with you."),
            fields=[FieldError("phone", N_("Already offered or signed."))],
        )
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="creators.contract_offered",
        object_type="organisation",
        object_id=org_id,
        data={
            "contract": str(contract_id),
            "phone": mask_phone(normalised),
            "share_percent": share,
        },
    )
    await session.flush()
    contract = await session.get(AgencyContract, contract_id)
    assert contract is not None
    await _tell_agency(session, contract, by_creator=False)
    return contract


async def close_contract(
    session: AsyncSession, *, actor: Actor, org_id: UUID, contract_id: UUID
) -> AgencyContract:
    """An owner withdraws an offer not yet answered, or ends a contract in force."""
    await _agency(session, actor, org_id, Action.ORG_SIGN_CREATORS)
    contract = await session.get(
        AgencyContract, contract_id, with_for_update=True, populate_existing=True
    )
    if contract is None or contract.org_id != org_id:
        raise NotFound(detail=N_("No such offer or contract."))
    if contract.status not in OPEN:
        raise _not_open(contract)
    ending = "withdrawn" if contract.status == "offered" else "ended"
    return await _close(session, contract, ending, by=actor.person_id, by_creator=False)


@dataclass(frozen=True)
class RosterEntry:
    contract: AgencyContract
    person: Person | None
    """None for an offer to a number nobody has registered yet."""
    tier: str | None
    followers: int | None
    shared: int
    """What the agency has received from this contract so far, in fen."""


async def roster(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    status: str = "active",
    search: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[RosterEntry]:
    """The agency's contracts in ``status`` (``active``, ``offered`` or ``closed`` for the
    rest), oldest first, with each creator's tier and what their contract has shared."""
    await _agency(session, actor, org_id, Action.ORG_READ)
    size = clamp_limit(limit)
    query = (
        select(AgencyContract, Person)
        .outerjoin(Person, Person.id == AgencyContract.person_id)
        .where(AgencyContract.org_id == org_id)
    )
    if status == "closed":
        query = query.where(AgencyContract.status.not_in(OPEN))
    else:
        query = query.where(AgencyContract.status == status)
    if search:
        matches = contains(Person.display_name, search)
        # Members see phones masked: a search by number would tell them the rest of it.
        if can(actor, Action.ORG_SIGN_CREATORS, org_id=org_id):
            phone = contains(AgencyContract.phone, phone_search_text(search) or search)
            matches = or_(matches, phone)
        query = query.where(matches)
    rows = (
        await session.execute(
            in_pages(
                query, AgencyContract.created_at, AgencyContract.id, cursor, newest_first=False
            ).limit(size + 1)
        )
    ).all()
    page = rows[:size]
    people = [p.id for _, p in page if p is not None]
    followers = await _followers(session, people)
    shared = await shared_by_contract(session, org_id, [c.id for c, _ in page])
    items = [
        RosterEntry(
            contract=c,
            person=p,
            tier=tier_for_followers(followers[p.id])
            if p is not None and p.id in followers
            else None,
            followers=followers.get(p.id) if p is not None else None,
            shared=shared.get(c.id, 0),
        )
        for c, p in page
    ]
    return CursorPage(items=items, next_cursor=next_cursor([c for c, _ in rows], size))


async def _followers(session: AsyncSession, people: list[UUID]) -> dict[UUID, int]:
    """Each person's largest audience over their bound accounts."""
    if not people:
        return {}
    result = await session.execute(
        select(PlatformAccount.person_id, func.max(PlatformAccount.followers))
        .where(PlatformAccount.person_id.in_(people))
        .group_by(PlatformAccount.person_id)
    )
    return {person_id: int(most) for person_id, most in result.all()}


async def shared_by_contract(
    session: AsyncSession, org_id: UUID, contracts: list[UUID]
) -> dict[UUID, int]:
    """What the agency's account has received under each contract, from the ledger."""
    if not contracts:
        return {}
    contract = Transfer.meta["contract"].astext
    result = await session.execute(
        select(contract, func.sum(Transfer.amount))
        .join(LedgerAccount, LedgerAccount.id == Transfer.credit_account_id)
        .where(
            LedgerAccount.key == agency_account(org_id),
            Transfer.code == SHARE_CODE,
            contract.in_([str(c) for c in contracts]),
        )
        .group_by(contract)
    )
    return {UUID(key): int(total) for key, total in result.all()}


async def count_contracts(session: AsyncSession, org_id: UUID) -> dict[str, int]:
    """How many contracts the agency has in force, waiting for an answer, and closed."""
    result = await session.execute(
        select(AgencyContract.status, func.count())
        .where(AgencyContract.org_id == org_id)
        .group_by(AgencyContract.status)
    )
    counts = {"active": 0, "offered": 0, "closed": 0}
    for status, n in result.all():
        counts[status if status in OPEN else "closed"] += int(n)
    return counts


# --- the agency's money --------------------------------------------------------------


async def bind_payout_account(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    form: withdrawals.PayoutAccountForm,
    settings: Settings,
) -> OrgPayoutAccount:
    """An owner binds where the agency's payouts go (once; changes go through support)."""
    await _agency(session, actor, org_id, Action.ORG_PAYOUT_ACCOUNT)
    return await withdrawals.bind_org_payout_account(
        session, actor=actor, org_id=org_id, form=form, settings=settings
    )


async def request_payout(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    amount: int,
    idempotency_key: str,
    settings: Settings,
) -> Withdrawal:
    """An owner takes the agency's shares out to its payout account; an operator approves
    every such payout before it is paid."""
    await _agency(session, actor, org_id, Action.ORG_MANAGE_FUNDS)
    return await withdrawals.request_withdrawal(
        session,
        person_id=actor.person_id,
        amount=amount,
        idempotency_key=idempotency_key,
        settings=settings,
        org=withdrawals.OrgSource(org_id, agency_account(org_id)),
    )


# --- the creator's side ---------------------------------------------------------------


@dataclass(frozen=True)
class MyAgency:
    contract: AgencyContract | None
    agency: Organisation | None
    shared: int
    offers: list[tuple[AgencyContract, Organisation]]


async def my_agency(session: AsyncSession, *, person: Person) -> MyAgency:
    """The creator's contract in force (if any), what it has shared, and offers waiting."""
    signed = (
        await session.execute(
            select(AgencyContract, Organisation)
            .join(Organisation, Organisation.id == AgencyContract.org_id)
            .where(AgencyContract.person_id == person.id, AgencyContract.status == "active")
        )
    ).first()
    offers = (
        await session.execute(
            select(AgencyContract, Organisation)
            .join(Organisation, Organisation.id == AgencyContract.org_id)
            .where(AgencyContract.phone == person.phone, AgencyContract.status == "offered")
            .order_by(AgencyContract.created_at)
        )
    ).all()
    shared = 0
    if signed is not None:
        shared = (await shared_by_contract(session, signed[1].id, [signed[0].id])).get(
            signed[0].id, 0
        )
    return MyAgency(
        contract=signed[0] if signed else None,
        agency=signed[1] if signed else None,
        shared=shared,
        offers=[(c, o) for c, o in offers],
    )


async def contracts_of(
    session: AsyncSession, *, person: Person
) -> list[tuple[AgencyContract, Organisation]]:
    """Every contract the person signed and every offer to their number that nobody
    signed, in any state, oldest first, with the agency."""
    unsigned_to_them = AgencyContract.person_id.is_(None) & (AgencyContract.phone == person.phone)
    rows = await session.execute(
        select(AgencyContract, Organisation)
        .join(Organisation, Organisation.id == AgencyContract.org_id)
        .where(or_(AgencyContract.person_id == person.id, unsigned_to_them))
        .order_by(AgencyContract.created_at, AgencyContract.id)
    )
    return [(c, o) for c, o in rows.all()]


async def answer_offer(
    session: AsyncSession, *, person: Person, contract_id: UUID, accept: bool
) -> AgencyContract:
    # The person's row is locked first, so that two acceptances at once (of offers from
    # two agencies) are decided one after the other.
    await session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
    if accept:
        # The agency is held before the contract's row, the order closing it takes them in.
        org_id = await session.scalar(
            select(AgencyContract.org_id).where(AgencyContract.id == contract_id)
        )
        if org_id is not None:
            await identity_repo.hold_open_organisation(session, org_id)
    contract = await session.get(
        AgencyContract, contract_id, with_for_update=True, populate_existing=True
    )
    if contract is None or contract.phone != person.phone:
        raise NotFound(detail=N_("No such offer."))
    if contract.status != "offered":
        raise _not_open(contract)
    if not accept:
        return await _close(session, contract, "declined", by=person.id, by_creator=True)
    if await identity_repo.membership(session, contract.org_id, person.id):
        raise _member_refused()
    current = await session.execute(
        select(Organisation.name)
        .join(AgencyContract, AgencyContract.org_id == Organisation.id)
        .where(AgencyContract.person_id == person.id, AgencyContract.status == "active")
    )
    name = current.scalar_one_or_none()
    if name is not None:
        raise AlreadySigned(
            detail=N_("You are signed with {agency}. End that contract before accepting another."),
            extra={"agency": name},
        )
    contract.status = "active"
    contract.person_id = person.id
    contract.started_at = utcnow()
    await open_agency_account(session, contract.org_id)
    await _audit(session, contract, "accepted", by=person.id)
    await _tell_agency(session, contract, by_creator=True)
    return contract


async def leave_agency(session: AsyncSession, *, person: Person) -> AgencyContract:
    """The creator ends their contract in force."""
    contract = (
        await session.execute(
            select(AgencyContract)
            .where(AgencyContract.person_id == person.id, AgencyContract.status == "active")
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if contract is None:
        raise NotFound(detail=N_("You are not signed with an agency."))
    return await _close(session, contract, "ended", by=person.id, by_creator=True)


async def forget_person(session: AsyncSession, *, person: Person, placeholder: str) -> int:
    """An erased account's side of its agencies: the contract in force ends (the agency
    is told as when a creator leaves), offers still waiting are declined, and every
    contract and offer that named the person's number names ``placeholder`` instead. The
    contracts stay, as the agency's records of the shares it was paid. How many contracts
    and offers were touched."""
    rows = (
        await session.execute(
            select(AgencyContract)
            .where(
                or_(
                    AgencyContract.person_id == person.id,
                    AgencyContract.phone == person.phone,
                )
            )
            .order_by(AgencyContract.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalars()
    touched = 0
    for contract in rows:
        if contract.status == "active":
            await _close(session, contract, "ended", by=person.id, by_creator=True)
        elif contract.status == "offered":
            await _close(session, contract, "declined", by=person.id, by_creator=True)
        contract.phone = placeholder
        touched += 1
    await session.flush()
    return touched


# --- money ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    contract_id: UUID
    org_id: UUID
    amount: int


def _contract_in_force(person_id: UUID, at: datetime) -> Select[UUID, UUID, int, str]:
    """The person's agency contract in force for a task taken at ``at``, with an agency
    still open (the latest, should two overlap)."""
    return (
        select(
            AgencyContract.id,
            AgencyContract.org_id,
            AgencyContract.share_percent,
            Organisation.name,
        )
        .join(Organisation, Organisation.id == AgencyContract.org_id)
        .where(
            Organisation.closed_at.is_(None),
            AgencyContract.person_id == person_id,
            AgencyContract.started_at <= at,
            or_(
                AgencyContract.status == "active",
                and_(AgencyContract.status == "ended", AgencyContract.ended_at > at),
            ),
        )
        .order_by(AgencyContract.started_at.desc())
        .limit(1)
    )


async def share_of_release(
    session: AsyncSession, *, person_id: UUID, claimed_at: datetime, reward: int
) -> Share | None:
    """The agency's share of a reward leaving its hold: under the contract that was in
    force when the task was taken (whatever has happened to it since), rounded down to
    the fen, so that the creator keeps any remainder. None when the agency has been
    closed since: the creator keeps the whole reward."""
    found = (
        await session.execute(
            _contract_in_force(person_id, claimed_at)
            # Held (FOR SHARE) as whatever adds to an organisation holds it: closing the
            # agency waits for this share to reach its balance, or this sees it closed.
            .with_for_update(read=True, of=Organisation)
        )
    ).first()
    if found is None:
        return None
    amount = reward * int(found.share_percent) // 100
    if amount <= 0:
        return None
    return Share(contract_id=found.id, org_id=found.org_id, amount=amount)


@dataclass(frozen=True)
class AgencyCut:
    """What a creator's agency takes of their rewards, as their pages say it."""

    agency: str
    percent: int

    def kept(self, reward: int) -> int:
        """What the creator keeps of ``reward`` (the agency's share is rounded down)."""
        return reward - reward * self.percent // 100


async def agency_cut(
    session: AsyncSession, *, person_id: UUID, at: datetime | None = None
) -> AgencyCut | None:
    """The share the person's agency takes of a reward for a task taken at ``at`` (now:
    the tasks they may take), as :func:`share_of_release` will take it; None without an
    agency."""
    found = (await session.execute(_contract_in_force(person_id, at or utcnow()))).first()
    if found is None:
        return None
    return AgencyCut(agency=found.name, percent=int(found.share_percent))
