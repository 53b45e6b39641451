"""What operators see of the live feed (``/ops/dispatch``): the weights in force, how each
creator tier fares and the relief fairness gives it, and how every live campaign keeps to
its plan, with the pacing price the feed gives it.

The plans, the units held or done and the pacing guard come from the database and
are the same whichever server process answers. The pacing prices and the tiers' counts
are the answering process's own (each paces and learns on the traffic it serves), so the
console names that process.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.models import Campaign
from xingdong.core.i18n import N_
from xingdong.core.pagination import contains, numbered_page
from xingdong.dispatch import nightly, tuning
from xingdong.dispatch.delivery import PACE_LABELS, pace
from xingdong.dispatch.fairness import MIN_VISITS, TierStanding
from xingdong.dispatch.live import LiveDispatch
from xingdong.dispatch.models import SeededPrice
from xingdong.dispatch.plan import held_back, paced_until, planned_shares, windows
from xingdong.dispatch.tuning import ChangeSeen
from xingdong.dispatch.weights import TUNABLE, DispatchWeights
from xingdong.identity.models import Organisation

PAGE_SIZE = 50

CONSOLE_PACES = {"paused": N_("Paused by the guard"), **PACE_LABELS}
"""How a live campaign keeps to its plan, as the console sorts it: ``paused`` when the
guard holds it now, otherwise the campaign pages' codes (``xingdong.dispatch.delivery``)."""

WEIGHT_HELP = {
    "value": N_("Weight of the predicted value (chance of completion × price) in the score."),
    "fit": N_(
        "How much what was learned about people moves the predicted completion "
        "(0: each task's own rate alone)."
    ),
    "pacing_step": N_(
        "How fast the pacing price reacts to spending ahead of or behind plan (0: no price)."
    ),
    "pacing_max_price": N_(
        "Ceiling of the pacing price (1: a campaign far ahead loses all its value)."
    ),
    "pacing_slack": N_(
        "Share of units a campaign may run ahead of its plan before the guard pauses it."
    ),
    "pacing_lead_s": N_("Seconds ahead the guard looks up the plan, so early traffic is served."),
    "pacing_behind_slack": N_(
        "Share of units a campaign may fall behind its plan before its pacing price is let "
        "go until it catches up (1: never)."
    ),
    "fairness_step": N_("How fast a lagging tier's relief grows (0: fairness off)."),
    "fairness_target": N_(
        "A tier lags when its tasks taken per visit are below this share of the mean."
    ),
    "fairness_max_boost": N_("Ceiling of a tier's relief (0 to 1)."),
    "novice_boost": N_("Extra share of score for onboarding tasks shown to novices."),
    "novice_place": N_(
        "Until they have done one, a novice's feed holds an onboarding task open to them "
        "within its first this many places (0: only the boost places them)."
    ),
    "quality_boost": N_("Extra share of score for tasks in the quality-task plan."),
    "explore": N_("Optimism for tasks shown only a few times."),
    "max_per_brand": N_("At most this many tasks of one brand in a feed."),
    "candidates": N_("How many of the best scores the diversity pass looks at."),
    "prior_strength": N_("How many showings the task type's prior is worth."),
    "learning_rate": N_("Multiplier of the completion model's step (1: its Bayesian update)."),
    "default_prior": N_("Completion rate assumed for a task type without a prior of its own."),
    "new_within_s": N_("A task that started this many seconds ago or less is shown as new."),
}
"""What each tunable weight does, in the words of docs/dispatch.md."""


@dataclass(frozen=True)
class WeightInForce:
    name: str
    value: float
    default: float

    @property
    def changed(self) -> bool:
        return self.value != self.default

    @property
    def help(self) -> str:
        return WEIGHT_HELP.get(self.name, "")


def bench_weights(weights: DispatchWeights, setting: Mapping[str, float]) -> dict[str, float]:
    """What ``xingdong bench dispatch --weights`` needs to play with ``weights``: every
    weight away from its default, and those the setting names (the command starts from
    the setting, so one put back to its default here must be said too)."""
    return {
        row.name: row.value for row in weight_rows(weights) if row.changed or row.name in setting
    }


def bench_command(weights: Mapping[str, float]) -> str:
    """The shell command that plays simulated days with these weights over the defaults."""
    if not weights:
        return "xingdong bench dispatch"
    given = json.dumps({name: _plain(value) for name, value in weights.items()}, sort_keys=True)
    return f"xingdong bench dispatch --weights {shlex.quote(given)}"


def _plain(value: float) -> float | int:
    """3.0 as 3: the command reads as an operator would type it."""
    return int(value) if float(value).is_integer() else value


def weight_rows(weights: DispatchWeights) -> list[WeightInForce]:
    """Every weight operators may set, in the order docs/dispatch.md lists them."""
    defaults = DispatchWeights()
    return [
        WeightInForce(f.name, getattr(weights, f.name), getattr(defaults, f.name))
        for f in fields(DispatchWeights)
        if f.name in TUNABLE
    ]


@dataclass(frozen=True)
class CampaignPacing:
    campaign_id: UUID
    title: str
    brand: str
    task_type: str
    quantity: int
    planned: float
    """Share of the units its plan has reached now."""
    taken: float
    """The same as ``held`` (the campaign's counters are the claims that hold a unit or
    did); kept for the API's clients."""
    held: float
    """Share of the units held by claims or done: what the guard compares with the plan."""
    pace: str
    """A code of :data:`CONSOLE_PACES`."""
    paused_until: datetime | None
    """While the guard holds it: when it takes claims again."""
    price: float | None
    """The answering process's pacing price (None when that process does not place it:
    every unit is held or done)."""
    seeded: float | None
    """The price last night's seeding started it at (None: not seeded)."""
    quality_plan: bool = False
    """In the quality-task plan (operators choose; ``quality_boost``)."""

    @property
    def distance(self) -> float:
        """How far its units held or done are from its plan, ahead or behind, as a share."""
        return abs(self.held - self.planned)


@dataclass(frozen=True)
class PacingPage:
    items: list[CampaignPacing]
    total: int
    """Campaigns matching the search and the chosen pace."""
    counts: dict[str, int]
    """Campaigns matching the search, by pace (every code of :data:`CONSOLE_PACES`)."""
    page: int
    pages: int


@dataclass(frozen=True)
class DispatchConsole:
    weights: list[WeightInForce]
    tiers: list[TierStanding]
    campaigns: PacingPage
    seeded_at: datetime | None
    """When the nightly seeding last stored prices (None: never)."""
    seeding_failed_at: datetime | None
    """When a seeding failed since the last that stored prices (None: none did)."""
    process: int
    """The server process whose prices and tier counts these are."""
    changes: list[ChangeSeen]
    """The operators' latest changes of the weights, newest first."""
    bench_weights: dict[str, float]
    """The weights in force as ``xingdong bench dispatch --weights`` takes them."""

    @property
    def bench_command(self) -> str:
        """Plays simulated days with the weights in force (docs/dispatch.md)."""
        return bench_command(self.bench_weights)

    @property
    def tier_mean(self) -> float:
        """Tasks taken per visit over the tiers fairness compares (those seen at least
        ``MIN_VISITS`` times), as their relief is worked out."""
        counted = [t for t in self.tiers if t.visits >= MIN_VISITS]
        visits = sum(t.visits for t in counted)
        return sum(t.completions for t in counted) / visits if visits else 0.0


@dataclass(frozen=True)
class _Live:
    """A live campaign's row as the plan and the guard read it."""

    id: UUID
    title: str
    brand: str
    task_type: str
    quantity: int
    units_open: int
    units_done: int
    starts_at: datetime
    ends_at: datetime
    seeded: float | None
    quality_plan: bool


async def dispatch_console(
    session: AsyncSession,
    *,
    live: LiveDispatch,
    now: datetime,
    search: str | None = None,
    task_type: str | None = None,
    pace_code: str | None = None,
    quality_only: bool = False,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> DispatchConsole:
    """The console's figures at ``now``: live campaigns inside their window that match
    ``search`` (title or brand) and ``task_type`` (and are in the quality-task plan, with
    ``quality_only``), those of ``pace_code`` (every pace when None) on ``page`` (from 1;
    past the last, the last), furthest from their plan first."""
    await live.refresh(now)
    changes = await tuning.weight_history(session)
    # As the database has them (the process takes a change at its next sync).
    weights = tuning.weights_with(live.settings, changes[0].change if changes else None)
    rows = await _live_campaigns(
        session, now=now, search=search, task_type=task_type, quality_only=quality_only
    )
    every = sorted(
        _pacing(rows, live, weights, now),
        key=lambda c: (-c.distance, c.title, str(c.campaign_id)),
    )
    counts = dict.fromkeys(CONSOLE_PACES, 0)
    for campaign in every:
        counts[campaign.pace] += 1
    chosen = [c for c in every if pace_code is None or c.pace == pace_code]
    shown, pages = numbered_page(len(chosen), page, page_size)
    seeded_at = await session.scalar(select(func.max(SeededPrice.seeded_at)))
    failed_at = await nightly.last_seeding_failure(session)
    return DispatchConsole(
        weights=weight_rows(weights),
        tiers=live.dispatcher.fairness.standing(),
        campaigns=PacingPage(
            items=chosen[(shown - 1) * page_size : shown * page_size],
            total=len(chosen),
            counts=counts,
            page=shown,
            pages=pages,
        ),
        seeded_at=seeded_at,
        seeding_failed_at=_failed_since(failed_at, seeded_at),
        process=os.getpid(),
        changes=changes,
        bench_weights=bench_weights(weights, live.settings.dispatch_weights),
    )


async def _live_campaigns(
    session: AsyncSession,
    *,
    now: datetime,
    search: str | None,
    task_type: str | None,
    quality_only: bool = False,
) -> list[_Live]:
    query = (
        select(
            Campaign.id,
            Campaign.title,
            Organisation.name,
            Campaign.task_type,
            Campaign.quantity,
            Campaign.units_open,
            Campaign.units_done,
            Campaign.starts_at,
            Campaign.ends_at,
            SeededPrice.price,
            Campaign.quality_plan,
        )
        .join(Organisation, Organisation.id == Campaign.org_id)
        .outerjoin(SeededPrice, SeededPrice.campaign_id == Campaign.id)
        .where(Campaign.status == "live", Campaign.starts_at <= now, Campaign.ends_at > now)
    )
    if search:
        query = query.where(
            or_(contains(Campaign.title, search), contains(Organisation.name, search))
        )
    if task_type:
        query = query.where(Campaign.task_type == task_type)
    if quality_only:
        query = query.where(Campaign.quality_plan)
    # Past ten columns SQLAlchemy types a row as a tuple of unknown length.
    rows: list[tuple[Any, ...]] = [tuple(row) for row in (await session.execute(query)).all()]
    return [_Live(*row) for row in rows]


def _pacing(
    rows: list[_Live],
    live: LiveDispatch,
    weights: DispatchWeights,
    now: datetime,
) -> Iterator[CampaignPacing]:
    """Each campaign's standing, the plans and the guard worked out for all of them at
    once: one at a time cost about 40 µs a campaign, which on a day of thousands held up
    the server process's other requests for most of a tenth of a second."""
    if not rows:
        return
    planned = planned_shares(*windows(rows), now.timestamp())
    paused = held_back(rows, now, weights)
    for row, planned_now, held_now in zip(rows, planned.tolist(), paused.tolist(), strict=True):
        quantity = max(row.quantity, 1)
        held = (row.units_open + row.units_done) / quantity
        until = paced_until(row, now, weights) if held_now else None
        yield CampaignPacing(
            campaign_id=row.id,
            title=row.title,
            brand=row.brand,
            task_type=row.task_type,
            quantity=row.quantity,
            planned=planned_now,
            taken=held,
            held=held,
            pace="paused" if until is not None else pace(planned_now, held),
            paused_until=until,
            price=live.dispatcher.pacing_price(str(row.id)),
            seeded=row.seeded,
            quality_plan=row.quality_plan,
        )


def _failed_since(failed_at: datetime | None, seeded_at: datetime | None) -> datetime | None:
    """A seeding's failure worth telling: one after the last seeding that stored prices."""
    if failed_at is None or (seeded_at is not None and failed_at <= seeded_at):
        return None
    return failed_at
