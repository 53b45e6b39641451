"""The brand's view of the work done for its campaigns, and the operators' dispute list.

A brand sees each completion's status and times, never who did it: the worker appears as
a pseudonym that is stable within one campaign (so repeated units by one person can be
told apart) and unlinkable across campaigns.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.i18n import N_
from xingdong.core.pagination import CursorPage, clamp_limit, in_pages, next_cursor
from xingdong.core.policy import Action, Actor, require
from xingdong.evidence import service as evidence
from xingdong.work import service
from xingdong.work.errors import AssignmentNotFound
from xingdong.work.models import Assignment, Dispute

SUBMITTED_STATUSES = ("submitted", "approved", "released", "clawed_back", "rejected", "disputed")
"""The statuses of work that was handed in (claims that expired or are open are not
completions)."""


def masked_worker(secret: str, campaign_id: UUID, person_id: UUID) -> str:
    """The pseudonym a brand sees for the person who did a unit of its campaign."""
    digest = hmac.new(
        secret.encode(), f"{campaign_id}:{person_id}".encode(), hashlib.sha256
    ).hexdigest()
    return "W-" + digest[:8].upper()


@dataclass(frozen=True)
class Completion:
    assignment: Assignment
    worker: str
    """The masked worker id."""
    approved_at: datetime | None
    can_contest: bool
    """Approved, still in its hold and never contested: the brand may contest it now."""
    contest: Dispute | None = None
    """The brand's contest of it, open or decided (there is at most one)."""
    evidence_kind: str | None = None
    """``image`` or ``video``: what its evidence file is (None without one, and in a
    statement's lines, which do not show it)."""
    evidence_deleted: bool = False
    """Its evidence was deleted with the worker's account."""


async def _appeals_upheld(
    session: AsyncSession, assignments: Sequence[Assignment]
) -> dict[UUID, datetime]:
    """When an operator upheld the worker's appeal of each of these that was rejected and
    then paid: that decision approved it (its review still says the rejection)."""
    ids = [a.id for a in assignments if a.review_reason not in service.APPROVE_REASONS]
    if not ids:
        return {}
    rows = await session.execute(
        select(Dispute.assignment_id, func.max(Dispute.decided_at))
        .where(
            Dispute.assignment_id.in_(ids),
            Dispute.kind == "appeal",
            Dispute.status == "upheld",
        )
        .group_by(Dispute.assignment_id)
    )
    return {assignment_id: decided for assignment_id, decided in rows if decided is not None}


async def _contests(
    session: AsyncSession, assignments: Sequence[Assignment]
) -> dict[UUID, Dispute]:
    """The brand's contest of each of these that was contested (one each at most)."""
    if not assignments:
        return {}
    rows = await session.scalars(
        select(Dispute).where(
            Dispute.assignment_id.in_([a.id for a in assignments]), Dispute.kind == "contest"
        )
    )
    return {dispute.assignment_id: dispute for dispute in rows}


async def _evidence_kinds(
    session: AsyncSession, assignments: Sequence[Assignment]
) -> dict[UUID, str]:
    """What each of these assignments' evidence files is (picture or video), by file id."""
    return await evidence.kinds_of(
        session, (a.evidence_file_id for a in assignments if a.evidence_file_id is not None)
    )


def _completion(
    assignment: Assignment,
    *,
    secret: str,
    now: datetime,
    upheld: dict[UUID, datetime],
    contests: dict[UUID, Dispute],
    kinds: dict[UUID, str],
) -> Completion:
    approved = assignment.review_reason in service.APPROVE_REASONS
    contest = contests.get(assignment.id)
    forgotten = service.details_forgotten(assignment)
    return Completion(
        assignment=assignment,
        worker=masked_worker(secret, assignment.campaign_id, assignment.person_id),
        approved_at=assignment.reviewed_at if approved else upheld.get(assignment.id),
        # One contest a completion: once decided, the decision stands.
        can_contest=assignment.status == "approved"
        and assignment.hold_until is not None
        and now < assignment.hold_until
        and contest is None,
        contest=contest,
        evidence_kind=(
            None
            if assignment.evidence_file_id is None or forgotten
            else kinds.get(assignment.evidence_file_id)
        ),
        evidence_deleted=forgotten and assignment.evidence_file_id is not None,
    )


def _handed_in(assignment: Assignment) -> datetime:
    return assignment.submitted_at or assignment.created_at


async def completions_page(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: UUID,
    secret: str,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> CursorPage[Completion]:
    """The work handed in for a campaign, the latest handed in first (its members and
    staff)."""
    await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    size = clamp_limit(limit)
    query = select(Assignment).where(
        Assignment.campaign_id == campaign_id,
        Assignment.status.in_((status,) if status else SUBMITTED_STATUSES),
    )
    handed_in = func.coalesce(Assignment.submitted_at, Assignment.created_at)
    query = in_pages(query, handed_in, Assignment.id, cursor, newest_first=True)
    query = query.limit(size + 1)
    rows = list((await session.scalars(query)).all())
    moment = now or utcnow()
    upheld = await _appeals_upheld(session, rows[:size])
    contests = await _contests(session, rows[:size])
    kinds = await _evidence_kinds(session, rows[:size])
    return CursorPage(
        items=[
            _completion(a, secret=secret, now=moment, upheld=upheld, contests=contests, kinds=kinds)
            for a in rows[:size]
        ],
        next_cursor=next_cursor(rows, size, at=_handed_in),
    )


async def one_completion(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: UUID,
    assignment_id: UUID,
    secret: str,
    now: datetime | None = None,
) -> Completion:
    """One piece of work handed in for the campaign, as the list shows it (to refresh it
    after a webhook names it)."""
    await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    found = await session.get(Assignment, assignment_id)
    if found is None or found.campaign_id != campaign_id or found.status not in SUBMITTED_STATUSES:
        raise AssignmentNotFound(detail=N_("No such task."))
    upheld = await _appeals_upheld(session, [found])
    contests = await _contests(session, [found])
    kinds = await _evidence_kinds(session, [found])
    return _completion(
        found, secret=secret, now=now or utcnow(), upheld=upheld, contests=contests, kinds=kinds
    )


async def contest_completion(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: UUID,
    assignment_id: UUID,
    reason: str,
    now: datetime | None = None,
) -> Dispute:
    """The brand contests one completion of this campaign (see :func:`service.contest`)."""
    await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    found = await session.scalar(
        select(Assignment.campaign_id).where(Assignment.id == assignment_id)
    )
    if found != campaign_id:
        raise AssignmentNotFound(detail=N_("No such task."))
    return await service.contest(
        session, actor=actor, assignment_id=assignment_id, reason=reason, now=now
    )


async def open_claims(session: AsyncSession, *, campaign_id: UUID) -> int:
    """Claims of the campaign not yet handed in (closing releases them)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.campaign_id == campaign_id, Assignment.status == "claimed")
    )
    return int(count or 0)


@dataclass(frozen=True)
class DisputeCase:
    dispute: Dispute
    assignment: Assignment
    campaign: Campaign


async def dispute_cases(
    session: AsyncSession,
    *,
    actor: Actor,
    status: str = "open",
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[DisputeCase]:
    """Disputes with the work and the campaign they are about (operators). Open ones come
    oldest first, like a queue; decided ones newest first."""
    require(actor, Action.STAFF_CONSOLE)
    size = clamp_limit(limit)
    query = (
        select(Dispute, Assignment, Campaign)
        .join(Assignment, Assignment.id == Dispute.assignment_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(Dispute.status == status)
    )
    query = in_pages(query, Dispute.created_at, Dispute.id, cursor, newest_first=status != "open")
    rows = (await session.execute(query.limit(size + 1))).all()
    cases = [DisputeCase(d, a, c) for d, a, c in rows]
    return CursorPage(items=cases[:size], next_cursor=next_cursor([c.dispute for c in cases], size))


CHARGED_STATUSES = ("approved", "released")
"""Completions the brand pays for: in hold (it may still contest them) or final."""


async def charged_counts(session: AsyncSession, *, campaign_id: UUID) -> dict[str, int]:
    """Handed-in work of a campaign by status, a dispute counted as what it was before
    (``disputed_approved`` is charged until decided, ``disputed_rejected`` is not)."""
    status = func.coalesce(
        func.nullif(Assignment.status, "disputed"),
        func.concat("disputed_", Assignment.disputed_from),
    )
    rows = await session.execute(
        select(status, func.count())
        .where(Assignment.campaign_id == campaign_id, Assignment.status.in_(SUBMITTED_STATUSES))
        .group_by(status)
    )
    return {str(name): int(n) for name, n in rows}


async def every_completion(
    session: AsyncSession, *, campaign: Campaign, secret: str
) -> list[Completion]:
    """All work handed in for a campaign the caller may see, oldest first: the lines of
    its statement."""
    rows = await session.scalars(
        select(Assignment)
        .where(Assignment.campaign_id == campaign.id, Assignment.status.in_(SUBMITTED_STATUSES))
        .order_by(Assignment.created_at, Assignment.id)
    )
    moment = utcnow()
    found = list(rows)
    upheld = await _appeals_upheld(session, found)
    contests = await _contests(session, found)
    # A statement's lines do not show the evidence: its kind is not looked up.
    return [
        _completion(a, secret=secret, now=moment, upheld=upheld, contests=contests, kinds={})
        for a in found
    ]
