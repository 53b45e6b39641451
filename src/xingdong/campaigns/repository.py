"""Every query on the campaigns table that is more than a lookup by id."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.models import Campaign
from xingdong.core.pagination import contains, decode_cursor


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
    position = decode_cursor(cursor)
    key = tuple_(Campaign.created_at, Campaign.id)
    if position is not None:
        query = query.where(key < tuple_(*position) if newest_first else key > tuple_(*position))
    if newest_first:
        query = query.order_by(Campaign.created_at.desc(), Campaign.id.desc())
    else:
        query = query.order_by(Campaign.created_at, Campaign.id)
    return list((await session.scalars(query.limit(limit + 1))).all())
