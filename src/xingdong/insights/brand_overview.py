"""A brand's figures across all its campaigns (品牌概览): what runs, what waits for it,
where its money is, and which live campaigns fall behind their plan.

Read in four statements (campaigns by status, hand-ins, escrow accounts, balance), so the
figures are of one moment within a few milliseconds; each campaign's own page has the
detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.models import CAMPAIGN_STATUSES, Campaign
from xingdong.campaigns.service import escrow_account
from xingdong.core.clock import CHINA_TIME, utcnow
from xingdong.core.policy import Actor
from xingdong.dispatch.delivery import pace_now
from xingdong.identity import service as identity
from xingdong.ledger.deposits import org_balance
from xingdong.ledger.models import LedgerAccount
from xingdong.work.models import Assignment

BEHIND_SHOWN = 5
"""Live campaigns behind plan named by title; the rest are counted."""


@dataclass(frozen=True)
class Lagging:
    id: UUID
    title: str


@dataclass(frozen=True)
class BrandOverview:
    org_id: UUID
    at: datetime
    campaigns: dict[str, int]
    """Campaigns by status (every status, zero where none)."""
    live_planned: int
    """Units the live campaigns ask for in all."""
    live_done: int
    """Units of live campaigns approved (in hold or paid out)."""
    live_under_way: int
    """Units of live campaigns claimed or waiting for review."""
    waiting_for_review: int
    in_dispute: int
    handed_in_today: int
    """Hand-ins since midnight, Beijing time."""
    paid_this_month: int
    paid_this_month_fen: int
    """Completions whose hold ended this month (Beijing time): final charges."""
    in_hold: int
    in_hold_fen: int
    """Approved completions still in their hold: charged when it ends, unless taken back."""
    escrow_fen: int
    """What the campaigns' escrows hold, reserved parts included (a closed campaign's
    only what its hand-ins still waiting for review may be paid)."""
    available_fen: int
    """The organisation's balance, free to fund campaigns."""
    behind: list[Lagging] = field(default_factory=list)
    """Live campaigns behind their plan, the first :data:`BEHIND_SHOWN`."""
    behind_count: int = 0


def _local_midnight(moment: datetime) -> datetime:
    return moment.astimezone(CHINA_TIME).replace(hour=0, minute=0, second=0, microsecond=0)


async def brand_overview(
    session: AsyncSession, *, actor: Actor, org_id: UUID, now: datetime | None = None
) -> BrandOverview:
    """The organisation's overview now (its members, its API keys and operators)."""
    org = await identity.get_organisation(session, actor=actor, org_id=org_id)
    moment = now or utcnow()
    today = _local_midnight(moment)
    month = today.replace(day=1)

    statuses = dict.fromkeys(CAMPAIGN_STATUSES, 0)
    for status, count in await session.execute(
        select(Campaign.status, func.count())
        .where(Campaign.org_id == org.id)
        .group_by(Campaign.status)
    ):
        statuses[status] = int(count)
    live = list(
        (
            await session.scalars(
                select(Campaign).where(Campaign.org_id == org.id, Campaign.status == "live")
            )
        ).all()
    )
    lagging = [
        c for c in sorted(live, key=lambda c: c.ends_at) if pace_now(c, now=moment) == "behind"
    ]

    in_hold = or_(
        Assignment.status == "approved",
        and_(Assignment.status == "disputed", Assignment.disputed_from == "approved"),
    )
    paid = and_(Assignment.status == "released", Assignment.settled_at >= month)
    work_row = (
        await session.execute(
            select(
                func.count().filter(Assignment.status == "submitted"),
                func.count().filter(Assignment.status == "disputed"),
                func.count().filter(Assignment.submitted_at >= today),
                func.count().filter(paid),
                func.coalesce(func.sum(Campaign.unit_price).filter(paid), 0),
                func.count().filter(in_hold),
                func.coalesce(func.sum(Campaign.unit_price).filter(in_hold), 0),
            )
            .select_from(Assignment)
            .join(Campaign, Campaign.id == Assignment.campaign_id)
            .where(Campaign.org_id == org.id)
        )
    ).one()

    # Every campaign's escrow: a closed one still holds what its hand-ins waiting for
    # review may be paid.
    escrow_keys = [escrow_account(i) for i in await session.scalars(
        select(Campaign.id).where(Campaign.org_id == org.id)
    )]  # fmt: skip
    held = LedgerAccount.credits_posted - LedgerAccount.debits_posted
    escrow = await session.scalar(
        select(func.coalesce(func.sum(held), 0)).where(LedgerAccount.key.in_(escrow_keys))
    )
    balance = await org_balance(session, org.id)
    return BrandOverview(
        org_id=org.id,
        at=moment,
        campaigns=statuses,
        live_planned=sum(c.quantity for c in live),
        live_done=sum(c.units_done for c in live),
        live_under_way=sum(c.units_open for c in live),
        waiting_for_review=int(work_row[0]),
        in_dispute=int(work_row[1]),
        handed_in_today=int(work_row[2]),
        paid_this_month=int(work_row[3]),
        paid_this_month_fen=int(work_row[4]),
        in_hold=int(work_row[5]),
        in_hold_fen=int(work_row[6]),
        escrow_fen=int(escrow or 0),
        available_fen=balance.available,
        behind=[Lagging(c.id, c.title) for c in lagging[:BEHIND_SHOWN]],
        behind_count=len(lagging),
    )
