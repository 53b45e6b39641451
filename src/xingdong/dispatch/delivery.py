"""How a campaign is being delivered against its plan, and why it may be slow.

The plan spreads the campaign's units over its window in proportion to the expected
traffic (the same forecast the feed's budget pacing uses), so a campaign that keeps to
its plan is done as its window closes, never in a burst at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.i18n import N_, listed, translate
from xingdong.core.money import yuan
from xingdong.dispatch.models import CampaignShowings
from xingdong.dispatch.plan import planned_at, planned_share
from xingdong.identity import service as identity
from xingdong.work import service as work

FloatArray = NDArray[np.float64]

POINTS = 24
CHART_WIDTH, CHART_HEIGHT = 300, 120
"""The delivery chart's drawing area, in SVG units (it is scaled to the page)."""
BEHIND_BY = 0.10
"""A campaign this far (share of units) behind its plan is slow."""
AUDIENCE_PER_UNIT = 3
"""Fewer matching people than this many per unit left: the targeting is too narrow."""
CHEAP_BELOW = 0.8
"""A reward under this share of what similar live tasks pay is low."""
AHEAD_BY = 0.10
"""A campaign this far (share of units held or done) ahead of its plan is told that the
feed holds it back (the feed's guard pauses it from ``pacing_slack`` ahead already)."""

SLOW_REASONS = {
    "not_started": N_("It has not started yet."),
    "targeting_narrow": N_(
        "Only {audience} people match the targeting for {left} units left. A campaign's "
        "targeting cannot change once made; a new campaign that widens {limits} reaches more."
    ),
    "targeting_empty": N_(
        "Nobody on the platform matches the targeting, so none of the {left} units left can "
        "be taken. A campaign's targeting cannot change once made; a new campaign that widens "
        "{limits} can reach people, and closing this one returns its unused budget."
    ),
    "price_low": N_(
        "The reward (¥{reward}) is below what similar tasks pay (¥{typical}). Raise the "
        "price in a new campaign."
    ),
    "pacing_cap": N_(
        "The pacing cap ({cap} an hour, counted over every campaign on the same account) "
        "allows at most {possible} more before the end, for {left} units left. A new "
        "campaign with a higher cap or a longer window can take the rest; closing this one "
        "returns its unused budget."
    ),
    "behind_plan": N_("Fewer people took it than planned so far; the feed shows it more."),
}
"""Why a campaign is slow, by code (docs/dispatch.md)."""
TARGETING_LIMITS = {
    "age": N_("the age range"),
    "regions": N_("the regions"),
    "interests": N_("the interests"),
    "tiers": N_("the creator tiers"),
}
"""The parts of a campaign's targeting that narrow its audience, as ``targeting_narrow``
names them (its ``limits`` parameter lists the codes the campaign sets)."""


@dataclass(frozen=True)
class Delivery:
    time_share: list[float]
    """Points in the window (0 = start, 1 = end) at which the curves are drawn."""
    planned: list[float]
    """Share of units planned by each point."""
    actual: list[float | None]
    """Share of units taken by each point (None after now): claims that hold their unit
    or did it, drawn at the moment they were claimed (a rejected, expired or clawed-back
    claim gave its unit back and is not drawn)."""
    planned_now: float
    actual_now: float
    quantity: int
    now_share: float
    """Where now is in the window (0 before it starts, 1 after it ends)."""
    committed_now: float
    """Share of units held or done now: what the feed's pacing guard counts (a rejected
    or expired claim frees its unit)."""
    closed: bool = False
    """Closed before its end: the curves stop where it closed, with no line at now."""
    shown: int = 0
    """How many workers' feeds have shown it."""
    width: ClassVar[int] = CHART_WIDTH
    height: ClassVar[int] = CHART_HEIGHT
    slow: list[tuple[str, dict[str, str | int]]] = field(default_factory=list)
    """Why it is slow (codes of :data:`SLOW_REASONS` with their parameters); empty when
    it keeps to its plan, or when not asked."""

    @property
    def taken_line(self) -> list[tuple[float, float]]:
        """The units taken as points (share of the window, share of units) up to now,
        the last one now itself: early in a long window no drawn point but the start
        has passed yet."""
        points = [
            (x, y) for x, y in zip(self.time_share, self.actual, strict=True) if y is not None
        ]
        if points and self.now_share > points[-1][0]:
            points.append((self.now_share, self.actual_now))
        return points

    def points(self, line: list[tuple[float, float]]) -> str:
        """A line as the chart's SVG points (the chart is CHART_WIDTH by CHART_HEIGHT,
        shares above 1 drawn at the top)."""
        return " ".join(
            f"{x * CHART_WIDTH:.1f},{CHART_HEIGHT - min(y, 1.0) * CHART_HEIGHT:.1f}"
            for x, y in line
        )

    @property
    def plan_points(self) -> str:
        return self.points(list(zip(self.time_share, self.planned, strict=True)))

    @property
    def taken_points(self) -> str:
        return self.points(self.taken_line)

    @property
    def now_x(self) -> float | None:
        """Where the line at now is drawn, while the window is running."""
        running = 0 < self.now_share < 1 and not self.closed
        return round(self.now_share * CHART_WIDTH, 1) if running else None

    def as_json(self) -> dict[str, str | float | bool | None]:
        """What the campaign page redraws when it refreshes."""
        return {
            "taken_points": self.taken_points,
            "now_x": self.now_x,
            "actual_percent": f"{self.actual_now * 100:.0f}",
            "planned_percent": f"{self.planned_now * 100:.0f}",
            "ahead": self.ahead,
            "shown": str(self.shown),
            "taken_per_100_shown": "–"
            if self.per_100_shown is None
            else f"{self.per_100_shown:.1f}",
        }

    @property
    def per_100_shown(self) -> float | None:
        """Units taken for every hundred feeds that showed it (None before any showing)."""
        if not self.shown:
            return None
        return round(self.actual_now * self.quantity) * 100 / self.shown

    def slow_texts(self, locale: str) -> list[tuple[str, str]]:
        """Why it is slow: each code with what it means and what to change, in
        ``locale``."""
        return [
            (code, translate(locale, SLOW_REASONS[code], **_shown(params, locale)))
            for code, params in self.slow
        ]

    @property
    def ahead(self) -> bool:
        """Held or done far ahead of the plan: the feed holds the campaign back until the
        plan catches up."""
        return pace(self.planned_now, self.committed_now) == "ahead"


def _shown(params: dict[str, str | int], locale: str) -> dict[str, str | int]:
    """A slow reason's parameters as its text shows them (the targeting's limits named)."""
    if "limits" not in params:
        return params
    names = [translate(locale, TARGETING_LIMITS[code]) for code in str(params["limits"]).split(",")]
    return params | {"limits": listed(names, locale)}


PACE_LABELS = {
    "on_plan": N_("On plan"),
    "behind": N_("Behind plan"),
    "ahead": N_("Ahead of plan"),
}
"""How a live campaign keeps to its plan, by code (the campaigns list shows it)."""


def pacing_allows(cap_per_hour: int, since: datetime, end: datetime) -> int:
    """The most claims an hourly pacing cap lets through from ``since`` to ``end``."""
    return int(cap_per_hour * max((end - since).total_seconds() / 3600, 0.0))


def pace(planned: float, held: float) -> str:
    """``ahead`` when the units held or done are far ahead of the plan (the feed holds
    it back), ``behind`` when they are far behind it (its page says why), otherwise
    ``on_plan``; both as shares of its units."""
    if held > planned + AHEAD_BY:
        return "ahead"
    if held < planned - BEHIND_BY:
        return "behind"
    return "on_plan"


def pace_now(campaign: Campaign, *, now: datetime) -> str | None:
    """:func:`pace` of a live campaign within its window from its row (its counters are
    the claims that hold a unit or did); None for any other."""
    if campaign.status != "live" or not campaign.starts_at <= now < campaign.ends_at:
        return None
    held = (campaign.units_open + campaign.units_done) / max(campaign.quantity, 1)
    return pace(planned_share(campaign, now), held)


async def campaign_delivery(
    session: AsyncSession,
    *,
    campaign: Campaign,
    now: datetime | None = None,
    explain: bool = True,
) -> Delivery:
    """The campaign's delivery against its plan, and with ``explain`` why it is slow
    (which counts the audience and compares rewards: the page's refresh leaves it out)."""
    moment = now or utcnow()
    closed_at = campaign.closed_at if campaign.status == "closed" else None
    if closed_at is not None:
        # A closed campaign's curves end where it closed.
        moment = min(moment, closed_at)
    start, end = campaign.starts_at.timestamp(), campaign.ends_at.timestamp()
    span = max(end - start, 1.0)
    edges = np.linspace(start, end, POINTS + 1)
    now_s = moment.timestamp()
    # The plan at each drawn point and, last, at now.
    planned = planned_at(campaign, np.append(edges, now_s))
    claimed = np.array(
        [t.timestamp() for t in await work.claim_times(session, campaign_id=campaign.id)]
    )
    quantity = max(campaign.quantity, 1)
    actual: list[float | None] = [
        float(np.count_nonzero(claimed <= edge)) / quantity if edge <= now_s else None
        for edge in edges
    ]
    planned_now = float(planned[-1])
    actual_now = float(claimed.size) / quantity
    delivery = Delivery(
        time_share=[float(x) for x in (edges - start) / span],
        planned=[float(x) for x in planned[:-1]],
        actual=actual,
        planned_now=planned_now,
        actual_now=actual_now,
        now_share=min(max((now_s - start) / span, 0.0), 1.0),
        committed_now=(campaign.units_open + campaign.units_done) / quantity,
        closed=closed_at is not None,
        quantity=quantity,
        shown=await times_shown(session, campaign.id),
    )
    if campaign.status != "live" or not explain:
        return delivery
    if now_s < start:
        delivery.slow.append(("not_started", {}))
        return delivery
    if pace(planned_now, actual_now) != "behind":
        return delivery
    delivery.slow.extend(await _why_slow(session, campaign, moment, quantity - claimed.size))
    return delivery


async def times_shown(session: AsyncSession, campaign_id: UUID) -> int:
    """How many feeds have shown the campaign (counted as the feed log is written, a
    second or so after each feed)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(CampaignShowings.shown), 0)).where(
            CampaignShowings.campaign_id == campaign_id
        )
    )
    return int(total or 0)


def _limits(campaign: Campaign, code: str) -> bool:
    """Whether the campaign's targeting sets this part (a code of TARGETING_LIMITS)."""
    if code == "age":
        return campaign.min_age is not None or campaign.max_age is not None
    return bool(getattr(campaign, code))


async def _audience(
    session: AsyncSession, campaign: Campaign, now: datetime, parts: list[str]
) -> int:
    """How many people on the campaign's platform match these parts of its targeting
    (codes of TARGETING_LIMITS; the others left out)."""
    age = "age" in parts
    return await audience_for(
        session,
        platform=campaign.platform,
        min_age=campaign.min_age if age else None,
        max_age=campaign.max_age if age else None,
        regions=list(campaign.regions or ()) if "regions" in parts else [],
        interests=list(campaign.interests or ()) if "interests" in parts else [],
        tiers=list(campaign.tiers or ()) if "tiers" in parts else [],
        now=now,
    )


async def audience_for(
    session: AsyncSession,
    *,
    platform: str,
    min_age: int | None,
    max_age: int | None,
    regions: list[str],
    interests: list[str],
    tiers: list[str],
    now: datetime,
) -> int:
    """How many people with an account on ``platform`` match this targeting now: what a
    campaign can reach at most (the same count ``targeting_narrow`` reads)."""
    year = now.year
    return await identity.audience_size(
        session,
        platform=platform,
        birth_years=(
            None if max_age is None else year - max_age - 1,
            None if min_age is None else year - min_age,
        ),
        regions=regions,
        interests=interests,
        tiers=tiers,
    )


def audience_is_narrow(audience: int, units: int) -> bool:
    """Fewer matching people than ``AUDIENCE_PER_UNIT`` per unit: likely slow."""
    return audience < AUDIENCE_PER_UNIT * units


async def _why_slow(
    session: AsyncSession, campaign: Campaign, now: datetime, left: int
) -> list[tuple[str, dict[str, str | int]]]:
    reasons: list[tuple[str, dict[str, str | int]]] = []
    parts = [code for code in TARGETING_LIMITS if _limits(campaign, code)]
    audience = await _audience(session, campaign, now, parts)
    # Only targeting that leaves people out can be widened: with none, or with targeting
    # that everyone on the platform matches, the platform's people are all there is.
    if (
        parts
        and audience_is_narrow(audience, left)
        and audience < await _audience(session, campaign, now, [])
    ):
        cutting = [
            code
            for code in parts
            if await _audience(session, campaign, now, [p for p in parts if p != code]) > audience
        ]
        limits = ",".join(cutting or parts)
        if audience == 0:
            reasons.append(("targeting_empty", {"left": left, "limits": limits}))
        else:
            params: dict[str, str | int] = {"audience": audience, "left": left, "limits": limits}
            reasons.append(("targeting_narrow", params))
    typical, similar = await campaigns.typical_reward(
        session, task_type=campaign.task_type, exclude_id=campaign.id
    )
    if similar >= 2 and campaign.reward < CHEAP_BELOW * typical:
        reasons.append(
            (
                "price_low",
                {"reward": yuan(campaign.reward), "typical": yuan(typical)},
            )
        )
    if campaign.pacing_per_hour:
        possible = pacing_allows(campaign.pacing_per_hour, now, campaign.ends_at)
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
