"""The personal task feed on the live platform, and what people hide from it.

The feed takes the campaigns dispatch placed for this person (eligibility, predicted
completion, budget pacing, fairness and diversity: see :mod:`xingdong.dispatch.feed`) and
checks each against the same rules a claim checks (bound account on the platform, age,
consent), so the feed never shows a task the person could not claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.errors import CampaignNotFound
from xingdong.campaigns.models import Campaign
from xingdong.campaigns.targeting import WorkerProfile
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.money import yuan
from xingdong.core.settings import Settings
from xingdong.creators.tiers import TIERS
from xingdong.dispatch import history
from xingdong.dispatch.facts import FeedFacts, facts_of_person
from xingdong.dispatch.feed import FeedItem
from xingdong.dispatch.live import LiveDispatch, live_dispatch
from xingdong.dispatch.models import FeedHide, ShownFeed
from xingdong.dispatch.plan import paced_until
from xingdong.dispatch.profiles import PersonProfile
from xingdong.dispatch.reasons import EMPTY_REASONS, Reason
from xingdong.identity import service as identity
from xingdong.identity.models import Organisation, Person
from xingdong.work import labels as work_labels
from xingdong.work import service as work
from xingdong.work.service import OpenTask, TaskFeed

FEED_REASONS = {
    **work_labels.FEED_REASONS,
    **EMPTY_REASONS,
    "paced_until": N_(
        "The tasks for you are spread over their time so that they do not all go at once; "
        "the next opens at {time} (Beijing time)."
    ),
    "some_hidden": N_("Tasks you hid are not shown."),
    "interests_missing": N_("Add your interests to your profile to see tasks meant for you."),
    "region_missing": N_("Add your region to your profile to see tasks meant for you."),
    "target_capped": N_(
        "The tasks for you have had as many actions this hour as look natural; more open "
        "within the hour."
    ),
}
"""Why a feed is empty, by code: the person's gaps first, then what dispatch found."""

HIDE_KINDS = ("campaign", "brand")


def _best_tier(tiers: dict[str, str]) -> str | None:
    ranked = [t for t in TIERS if t in tiers.values()]
    return ranked[-1] if ranked else None


async def personal_feed(
    session: AsyncSession,
    *,
    db: Database,
    settings: Settings,
    person: Person,
    task_type: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> TaskFeed:
    """This person's feed, best for them first, each task with the reason it is there;
    when empty, why (codes of :data:`FEED_REASONS`)."""
    moment = now or utcnow()
    facts = await facts_of_person(session, person=person, settings=settings, now=moment)
    return await feed_for(
        db=db, settings=settings, facts=facts, task_type=task_type, limit=limit, now=moment
    )


async def feed_for(
    *,
    db: Database,
    settings: Settings,
    facts: FeedFacts,
    task_type: str | None = None,
    limit: int | None = None,
    now: datetime,
) -> TaskFeed:
    """The feed of the person these facts describe (the API reads them in one query)."""
    size = limit or settings.dispatch_feed_size
    who = facts.who
    gaps = work.profile_gaps(who, settings.min_age_for_paid_tasks)
    live = live_dispatch(db, settings)
    await live.refresh(now)
    if gaps:
        return TaskFeed(tasks=[], reasons=gaps + ([] if live.campaigns else ["no_live_tasks"]))
    person_id = str(facts.person_id)
    dispatcher = live.dispatcher
    # All of them at once: a claim given up since the last feed is no longer counted.
    dispatcher.set_all_done(
        person_id, {c: times for c, times in facts.taken.items() if c in live.campaigns}
    )
    profile = PersonProfile(
        id=person_id,
        age=who.age,
        region=who.region,
        interests=who.interests,
        tier=_best_tier(who.tiers),
        hidden_tasks=facts.hidden_campaigns,
        hidden_brands=facts.hidden_brands,
        onboarded=facts.onboarded,
    )
    now_s = now.timestamp()
    # The dispatcher keys a declined task to where it stood in the slate it last placed
    # for this person, so the last slate is learned from before the next one is placed.
    live.close_slate(person_id, now_s)
    # Ask for more than shown: the claim rules and the type filter may set some aside.
    wanted = size * 4 if task_type else size + 5
    placed = dispatcher.recommend(profile, now_s, wanted)
    tasks = _claimable(live, placed.items, who, settings, facts.taken, task_type, size)
    live.open_slate(person_id, now_s, [task.task_id for task in tasks])
    live.exposures.add(person_id, now, [(task.task_id, task.reason) for task in tasks])
    if tasks:
        return TaskFeed(tasks=tasks, reasons=[])
    if placed.empty_reason is not None:
        if placed.empty_reason.code == "paced":
            opens_at = _next_opening(live, dispatcher.waiting_for_pacing(profile, now_s), now)
            if opens_at is not None:
                return TaskFeed([], ["paced_until"], work.opening_params(opens_at))
        return TaskFeed(tasks=[], reasons=[_live_reason(placed.empty_reason)])
    if any(item.task_id in live.capped for item in placed.items):
        return TaskFeed(tasks=[], reasons=["target_capped"])
    reasons = ["no_tasks_of_type" if task_type else "no_matching_tasks"]
    if facts.hidden_campaigns or facts.hidden_brands:
        # What they hid may be what this type had.
        reasons.append("some_hidden")
    return TaskFeed(tasks=[], reasons=reasons)


@dataclass(frozen=True)
class _Units:
    """A live campaign's window with the units the index last read (its snapshot's are
    as old as the snapshot)."""

    starts_at: datetime
    ends_at: datetime
    quantity: int
    units_open: int
    units_done: int


def _next_opening(live: LiveDispatch, task_ids: list[str], now: datetime) -> datetime | None:
    """The soonest moment one of these paced campaigns takes a claim again."""
    moments = []
    for task_id in task_ids:
        campaign = live.campaigns.get(task_id)
        if campaign is None:
            continue
        held, done = live.units(task_id)
        units = _Units(campaign.starts_at, campaign.ends_at, campaign.quantity, held, done)
        opens_at = paced_until(units, now, live.dispatcher.weights)
        if opens_at is not None:
            moments.append(opens_at)
    return min(moments, default=None)


def _live_reason(reason: Reason) -> str:
    """An empty feed's reason as the task center says it. What a person can fill in on
    their profile is named by its own code (the tier is not theirs to fill in)."""
    if reason.code != "profile_incomplete":
        return reason.code
    missing = str(reason.params.get("fields", "")).split(", ")
    for name in ("interests", "region"):
        if name in missing:
            return f"{name}_missing"
    return "no_matching_tasks"


def _claimable(
    live: LiveDispatch,
    placed: list[FeedItem],
    who: WorkerProfile,
    settings: Settings,
    taken: dict[str, int],
    task_type: str | None,
    size: int,
) -> list[OpenTask]:
    tasks: list[OpenTask] = []
    for item in placed:
        campaign = live.campaigns.get(item.task_id)
        if campaign is None or (task_type and campaign.task_type != task_type):
            continue
        if item.task_id in live.capped:
            # Its target has had its hourly cap: a claim would be refused.
            continue
        if work.why_not_open_to(live.terms[item.task_id], who, settings) is not None:
            continue
        left = live.units_left.get(item.task_id, 0)
        reason = item.reason
        tasks.append(
            OpenTask(
                campaign,
                left,
                taken.get(item.task_id, 0),
                reason=reason.code,
                reason_params=reason.params,
                task_id=item.task_id,
            )
        )
        if len(tasks) == size:
            break
    return tasks


async def hide(session: AsyncSession, *, person: Person, kind: str, ref: UUID) -> None:
    """Stop showing this campaign, or every campaign of this brand, to the person."""
    if kind not in HIDE_KINDS:
        raise ValidationFailed(detail=N_("Hide a campaign or a brand."))
    await identity.require_active(session, person_id=person.id)
    if kind == "campaign":
        status = await session.scalar(select(Campaign.status).where(Campaign.id == ref))
        if status not in work.VISIBLE_TO_WORKERS:
            raise CampaignNotFound(detail=N_("No such campaign."))
    elif await session.get(Organisation, ref) is None:
        raise NotFound(detail=N_("No such brand."))
    await session.execute(
        insert(FeedHide).values(person_id=person.id, kind=kind, ref=ref).on_conflict_do_nothing()
    )


async def unhide(session: AsyncSession, *, person: Person, kind: str, ref: UUID) -> None:
    await session.execute(
        delete(FeedHide).where(
            FeedHide.person_id == person.id, FeedHide.kind == kind, FeedHide.ref == ref
        )
    )


async def hidden_list(session: AsyncSession, *, person: Person) -> list[tuple[FeedHide, str]]:
    """What the person hid, newest first, with a name to show (campaign title or brand)."""
    rows = await session.execute(
        select(FeedHide).where(FeedHide.person_id == person.id).order_by(FeedHide.created_at.desc())
    )
    out: list[tuple[FeedHide, str]] = []
    for hide_row in rows.scalars():
        model = Campaign if hide_row.kind == "campaign" else Organisation
        found = await session.get(model, hide_row.ref)
        name = getattr(found, "title", None) or getattr(found, "name", None) or ""
        out.append((hide_row, str(name)))
    return out


async def forget_person(session: AsyncSession, *, person_id: UUID) -> None:
    """Delete what the person hid and the log of the feeds shown to them (an erased
    account's). Brands' showing counts per hour name no one and stay."""
    await session.execute(delete(FeedHide).where(FeedHide.person_id == person_id))
    await session.execute(delete(ShownFeed).where(ShownFeed.person_id == person_id))


async def shown_history(session: AsyncSession, *, person: Person) -> history.ShownHistory:
    """What the person's feeds showed them, summed per task and reason (the exposure log)."""
    return await history.shown_to(session, person.id)


def reason_text(task: OpenTask, locale: str) -> str:
    """The reason line of a feed item, in the person's language."""
    from xingdong.core.i18n import translate
    from xingdong.creators.tiers import TIER_LABELS
    from xingdong.dispatch.reasons import ITEM_REASONS
    from xingdong.identity.validation import interest_name, region_name

    params: dict[str, str | int] = dict(task.reason_params)
    # Stored in Chinese; English pages name them in English.
    if isinstance(params.get("interest"), str):
        params["interest"] = interest_name(str(params["interest"]), locale)
    if isinstance(params.get("region"), str):
        params["region"] = region_name(str(params["region"]), locale)
    if isinstance(params.get("tier"), str):
        params["tier"] = translate(
            locale, TIER_LABELS.get(str(params["tier"]), str(params["tier"]))
        )
    if "reward_fen" in params:
        params["reward_fen"] = yuan(int(params["reward_fen"]))
    message = ITEM_REASONS.get(task.reason, ITEM_REASONS["recommended"])
    return translate(locale, message, **params)
