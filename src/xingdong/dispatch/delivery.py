"""How a campaign is being delivered against its plan, and why it may be slow.

The plan spreads the campaign's units over its window in proportion to the expected
traffic (the same forecast the feed's budget pacing uses), so a campaign that keeps to
its plan is done as its window closes, never in a burst at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.i18n import N_
from xingdong.dispatch.pacing import TrafficForecast
from xingdong.identity import service as identity
from xingdong.work import service as work

POINTS = 24
BEHIND_BY = 0.10
"""A campaign this far (share of units) behind its plan is slow."""
AUDIENCE_PER_UNIT = 3
"""Fewer matching people than this many per unit left: the targeting is too narrow."""
CHEAP_BELOW = 0.8
"""A reward under this share of what similar live tasks pay is low."""

SLOW_REASONS = {
    "not_started": N_("It has not started yet."),
    "targeting_narrow": N_(
        "Only {audience} people match the targeting for {left} units left. Widen the "
        "regions, interests or age range."
    ),
    "price_low": N_(
        "The reward (¥{reward}) is below what similar tasks pay (¥{typical}). Raise the "
        "price in a new campaign."
    ),
    "pacing_cap": N_(
        "The pacing cap ({cap} an hour) allows at most {possible} more before the end, "
        "for {left} units left. Raise the cap or extend the window."
    ),
    "behind_plan": N_("Fewer people took it than planned so far; the feed shows it more."),
}
"""Why a campaign is slow, by code (docs/dispatch.md)."""


@dataclass(frozen=True)
class Delivery:
    time_share: list[float]
    """Points in the window (0 = start, 1 = end) at which the curves are drawn."""
    planned: list[float]
    """Share of units planned by each point."""
    actual: list[float | None]
    """Share of units taken by each point (None after now)."""
    planned_now: float
    actual_now: float
    slow: list[tuple[str, dict[str, str | int]]] = field(default_factory=list)
    """Why it is slow (codes of :data:`SLOW_REASONS` with their parameters); empty when
    it keeps to its plan."""


async def campaign_delivery(
    session: AsyncSession, *, campaign: Campaign, now: datetime | None = None
) -> Delivery:
    moment = now or utcnow()
    start, end = campaign.starts_at.timestamp(), campaign.ends_at.timestamp()
    span = max(end - start, 1.0)
    forecast = TrafficForecast()
    edges = np.linspace(start, end, POINTS + 1)
    traffic = forecast.cumulative(edges)
    planned = (traffic - traffic[0]) / max(float(traffic[-1] - traffic[0]), 1e-9)
    claimed = np.array(
        [t.timestamp() for t in await work.claim_times(session, campaign_id=campaign.id)]
    )
    quantity = max(campaign.quantity, 1)
    now_s = moment.timestamp()
    actual: list[float | None] = [
        float(np.count_nonzero(claimed <= edge)) / quantity if edge <= now_s else None
        for edge in edges
    ]
    now_traffic = forecast.cumulative(np.array([min(max(now_s, start), end)]))[0]
    planned_now = float((now_traffic - traffic[0]) / max(float(traffic[-1] - traffic[0]), 1e-9))
    actual_now = float(claimed.size) / quantity
    delivery = Delivery(
        time_share=[float(x) for x in (edges - start) / span],
        planned=[float(x) for x in planned],
        actual=actual,
        planned_now=planned_now,
        actual_now=actual_now,
    )
    if campaign.status != "live":
        return delivery
    if now_s < start:
        delivery.slow.append(("not_started", {}))
        return delivery
    if actual_now >= planned_now - BEHIND_BY:
        return delivery
    delivery.slow.extend(await _why_slow(session, campaign, moment, quantity - claimed.size))
    return delivery


async def _why_slow(
    session: AsyncSession, campaign: Campaign, now: datetime, left: int
) -> list[tuple[str, dict[str, str | int]]]:
    reasons: list[tuple[str, dict[str, str | int]]] = []
    year = now.year
    audience = await identity.audience_size(
        session,
        platform=campaign.platform,
        birth_years=(
            None if campaign.max_age is None else year - campaign.max_age - 1,
            None if campaign.min_age is None else year - campaign.min_age,
        ),
        regions=list(campaign.regions or ()),
        interests=list(campaign.interests or ()),
    )
    if audience < AUDIENCE_PER_UNIT * left:
        reasons.append(("targeting_narrow", {"audience": audience, "left": left}))
    typical, similar = await campaigns.typical_reward(
        session, task_type=campaign.task_type, exclude_id=campaign.id
    )
    if similar >= 2 and campaign.reward < CHEAP_BELOW * typical:
        reasons.append(
            (
                "price_low",
                {"reward": f"{campaign.reward / 100:.2f}", "typical": f"{typical / 100:.2f}"},
            )
        )
    if campaign.pacing_per_hour:
        hours_left = max((campaign.ends_at - now).total_seconds() / 3600, 0)
        possible = int(campaign.pacing_per_hour * hours_left)
        if possible < left:
            reasons.append(
                (
                    "pacing_cap",
                    {"cap": campaign.pacing_per_hour, "possible": possible, "left": left},
                )
            )
    if not reasons:
        reasons.append(("behind_plan", {}))
    return reasons
