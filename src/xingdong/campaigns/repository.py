"""Every query on the campaigns table that is more than a lookup by id."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.models import Campaign
from xingdong.core.pagination import contains, in_pages


async def campaigns_page(
    session: AsyncSession,
    *,
    org_id: UUID | None,
    status: str | None,
    search: str | None,
    cursor: str | None,
    limit: int,
    newest_first: bool,
) -> list[Campaign]:
    """Up to ``limit + 1`` campaigns after ``cursor``: one organisation's (``org_id``) or
    everyone's, in creation order (newest first for a brand's list, oldest first for a
    queue)."""
    query = select(Campaign)
    if org_id is not None:
        query = query.where(Campaign.org_id == org_id)
    if status:
        query = query.where(Campaign.status == status)
    if search:
        query = query.where(contains(Campaign.title, search))
    query = in_pages(query, Campaign.created_at, Campaign.id, cursor, newest_first=newest_first)
    return list((await session.scalars(query.limit(limit + 1))).all())
