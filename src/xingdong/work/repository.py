"""Queries on assignments and disputes for the worker's and the reviewer's views."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.models import Campaign
from xingdong.core.pagination import in_pages
from xingdong.work.models import CLAIM_COUNTS, Assignment, Dispute


async def units_taken_by(
    session: AsyncSession, *, person_id: UUID, campaign_ids: Sequence[UUID] | None
) -> dict[UUID, int]:
    """How many units of each campaign (of all, with None) the person holds or has done
    (expired ones free their place)."""
    if campaign_ids is not None and not campaign_ids:
        return {}
    query = select(Assignment.campaign_id, func.count()).where(
        Assignment.person_id == person_id, CLAIM_COUNTS
    )
    if campaign_ids is not None:
        query = query.where(Assignment.campaign_id.in_(campaign_ids))
    rows = await session.execute(query.group_by(Assignment.campaign_id))
    return {campaign_id: int(count) for campaign_id, count in rows.all()}


async def latest_taken_on(
    session: AsyncSession, *, person_id: UUID, campaign_id: UUID
) -> Assignment | None:
    """The person's latest task of the campaign they hold or handed in (not given up or
    run out)."""
    return await session.scalar(
        select(Assignment)
        .where(
            Assignment.person_id == person_id,
            Assignment.campaign_id == campaign_id,
            Assignment.status != "expired",
        )
        .order_by(Assignment.claimed_at.desc())
        .limit(1)
    )


async def open_claim_on(
    session: AsyncSession, *, person_id: UUID, campaign_id: UUID
) -> Assignment | None:
    """The person's claim on the campaign that still waits for evidence, if any."""
    return await session.scalar(
        select(Assignment)
        .where(
            Assignment.person_id == person_id,
            Assignment.campaign_id == campaign_id,
            Assignment.status == "claimed",
        )
        .order_by(Assignment.claimed_at.desc())
        .limit(1)
    )


async def assignments_page(
    session: AsyncSession,
    *,
    person_id: UUID,
    cursor: str | None,
    limit: int,
    status: str | None = None,
) -> list[tuple[Assignment, Campaign]]:
    """The person's assignments, newest first; ``limit + 1`` rows, so the caller sees
    whether another page follows."""
    query = (
        select(Assignment, Campaign)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(Assignment.person_id == person_id)
    )
    if status:
        query = query.where(Assignment.status == status)
    query = in_pages(query, Assignment.created_at, Assignment.id, cursor, newest_first=True)
    rows = await session.execute(query.limit(limit + 1))
    return [(a, c) for a, c in rows.all()]


async def assignment_with_campaign(
    session: AsyncSession, assignment_id: UUID
) -> tuple[Assignment, Campaign] | None:
    row = (
        await session.execute(
            select(Assignment, Campaign)
            .join(Campaign, Campaign.id == Assignment.campaign_id)
            .where(Assignment.id == assignment_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def latest_dispute(session: AsyncSession, assignment_id: UUID) -> Dispute | None:
    return await session.scalar(
        select(Dispute)
        .where(Dispute.assignment_id == assignment_id)
        .order_by(Dispute.created_at.desc(), Dispute.id.desc())
        .limit(1)
    )


async def appealed(session: AsyncSession, assignment_ids: Sequence[UUID]) -> frozenset[UUID]:
    """Those of the assignments their worker has appealed."""
    found = await session.scalars(
        select(Dispute.assignment_id).where(
            Dispute.assignment_id.in_(assignment_ids), Dispute.kind == "appeal"
        )
    )
    return frozenset(found)


async def campaigns_of_assignments(
    session: AsyncSession, assignment_ids: Sequence[UUID]
) -> dict[UUID, UUID]:
    """Campaign id by assignment id, for the ids that exist."""
    if not assignment_ids:
        return {}
    rows = await session.execute(
        select(Assignment.id, Assignment.campaign_id).where(Assignment.id.in_(assignment_ids))
    )
    return {row.id: row.campaign_id for row in rows}


async def organisations_proved_by(session: AsyncSession, file_id: UUID) -> list[UUID]:
    """The organisations whose campaigns an evidence file was submitted for."""
    rows = await session.scalars(
        select(Campaign.org_id)
        .join(Assignment, Assignment.campaign_id == Campaign.id)
        .where(Assignment.evidence_file_id == file_id)
        .distinct()
    )
    return list(rows.all())


async def assignments_of(
    session: AsyncSession, person_id: UUID
) -> list[tuple[Assignment, Campaign]]:
    """Every assignment of the person with its campaign, oldest first."""
    rows = await session.execute(
        select(Assignment, Campaign)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(Assignment.person_id == person_id)
        .order_by(Assignment.created_at, Assignment.id)
    )
    return [(a, c) for a, c in rows.all()]


async def disputes_raised_by_or_about(session: AsyncSession, person_id: UUID) -> list[Dispute]:
    """Disputes the person raised, and those about their own work, oldest first."""
    theirs = select(Assignment.id).where(Assignment.person_id == person_id)
    rows = await session.scalars(
        select(Dispute)
        .where((Dispute.raised_by == person_id) | Dispute.assignment_id.in_(theirs))
        .order_by(Dispute.created_at, Dispute.id)
    )
    return list(rows.all())
