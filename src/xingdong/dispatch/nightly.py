"""The nightly seeding of the pacing prices from the optimum of the last day's traffic.

Each campaign's pacing price moves during the day by dual mirror descent on its spend
against its plan. Started at zero every morning it needs hours to find its level, so it
starts instead where yesterday's traffic says it belongs: the last day's visits (the
slates the exposure log holds, each person's chance of taking each task as the completion
model now predicts it) are replayed through the offline optimum of
:mod:`xingdong.dispatch.optimum`, and the dual price of each campaign's units, as a share
of its unit price, becomes its starting price. A campaign that had more units than the
day could sell has a dual of zero (nothing to hold back); a scarce one a positive price,
so the feed saves it for the people who fit it best.

Serving processes pick a new seeding up at their next sync (``live.LiveDispatch``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import AuditEntry, record_audit
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.i18n import N_
from xingdong.core.jobs import another_waits, defer_in_transaction
from xingdong.core.policy import Action, Actor, require
from xingdong.core.settings import Settings
from xingdong.dispatch import history
from xingdong.dispatch.errors import SeedingWaiting
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.jobs import SEEDING_JOB, SEEDING_LOCK
from xingdong.dispatch.live import LiveDispatch
from xingdong.dispatch.models import SeededPrice
from xingdong.dispatch.optimum import Optimum, VisitOptions, day_optimum
from xingdong.dispatch.profiles import TaskSpec
from xingdong.dispatch.rest_of_day import rest_of_day_prices

DAY = timedelta(days=1)
MAX_SLATE = 32


@dataclass(frozen=True)
class PriceSeeding:
    visits: int
    """Feed requests of the last day replayed (a sample of them on a busy day)."""
    day_visits: int
    """Feed requests of the last day in all."""
    campaigns: int
    """Live campaigns priced."""
    scarce: int
    """Of them, those with a price above zero."""
    value_fen: float
    """Expected value of the day's optimum (its upper bound when not solved exactly)."""
    exact: bool
    prices: dict[str, float]

    @classmethod
    def of(
        cls,
        prices: dict[str, float],
        *,
        visits: int,
        day_visits: int,
        value_fen: float,
        exact: bool,
    ) -> PriceSeeding:
        return cls(
            visits=visits,
            day_visits=day_visits,
            campaigns=len(prices),
            scarce=sum(1 for p in prices.values() if p > 0),
            value_fen=value_fen,
            exact=exact,
            prices=prices,
        )


def day_prices(
    dispatcher: Dispatcher,
    specs: Mapping[str, TaskSpec],
    units_left: Mapping[str, int],
    shown: Sequence[history.Showing],
    *,
    share: float = 1.0,
) -> tuple[dict[str, float], Optimum, bool, int]:
    """Prices of the live campaigns from the optimum of these showings: the prices, the
    optimum, whether it was solved exactly, and how many visits it replayed. ``share``:
    the share of the day's feeds the showings are a sample of (their optimum's value is
    then the day's times that share)."""
    ids = sorted(specs)
    column = {task_id: n for n, task_id in enumerate(ids)}
    price = np.array([specs[t].price_fen for t in ids], dtype=np.float64)
    taken = Counter(s.task_id for s in shown if s.taken)
    # What each campaign had to give over the day: what is left now and what went. A
    # sample of the visits gets that share of what is left, so that it is as scarce for
    # them as it was for the whole day (what they took is theirs already).
    quantity = np.array([share * units_left.get(t, 0) + taken[t] for t in ids], dtype=np.float64)
    options: list[VisitOptions] = []
    people: dict[str, int] = {}
    longest = 1
    for slate in history.visits(shown):
        known = [s for s in slate if s.task_id in column][:MAX_SLATE]
        if not known:
            continue
        person = known[0].person
        slots = np.array([dispatcher.index.slot_of[s.task_id] for s in known], dtype=np.int64)
        options.append(
            VisitOptions(
                person=people.setdefault(person.id, len(people)),
                tasks=np.array([column[s.task_id] for s in known], dtype=np.int64),
                # Each task's odds of being chosen over nothing at the top: what the
                # optimum's choice model calls its attraction.
                attraction=dispatcher.model.attraction(
                    slots, person, np.zeros(slots.shape[0], dtype=np.int64)
                ),
            )
        )
        longest = max(longest, len(known))
    if not ids or not options:
        return {}, Optimum(0.0, np.zeros(len(ids)), np.zeros(len(ids))), True, 0
    bias = dispatcher.model.position_weights(longest).tolist()
    optimum, exact = day_optimum(
        options,
        price=price,
        quantity=quantity,
        per_person_limit=np.array([specs[t].per_person_limit for t in ids], dtype=np.int64),
        position_bias=bias,
    )
    shares = np.divide(
        optimum.quantity_duals, price, out=np.zeros_like(price), where=price > 0
    ).clip(0.0, None)
    return dict(zip(ids, shares.tolist(), strict=True)), optimum, exact, len(options)


async def _last_day(
    db: Database, settings: Settings, moment: datetime
) -> tuple[LiveDispatch, history.DaySample]:
    """A dispatcher of its own, trained as a serving process would be at start (prices at
    the stored seeding), and the showings of the day before ``moment`` (of at most
    ``dispatch_solve_visits`` of its feeds, sampled evenly over the day)."""
    live = LiveDispatch(db, settings)
    async with db.sessionmaker() as session:
        await live.sync(session, moment, max_age_s=0)
        day = await history.sampled_showings(
            session, since=moment - DAY, until=moment, feeds=settings.dispatch_solve_visits
        )
    return live, day


async def seed_prices(
    db: Database, settings: Settings, *, now: datetime | None = None
) -> PriceSeeding:
    """Replay the last day's visits through the optimum and store each live campaign's
    starting price (replacing the previous seeding)."""
    moment = now or utcnow()
    live, day = await _last_day(db, settings, moment)
    specs = {task_id: live.spec(task_id) for task_id in live.campaigns}
    # Minutes of solving on a busy day: off the event loop, which in `serve` is also the
    # web server's (HiGHS lets go of the interpreter while it solves).
    prices, optimum, exact, replayed = await asyncio.to_thread(
        day_prices, live.dispatcher, specs, live.units_left, day.showings, share=day.share
    )
    await _store(db, prices, moment)
    return PriceSeeding.of(
        prices,
        visits=replayed,
        day_visits=day.feeds,
        value_fen=float(optimum.value) / day.share,
        exact=exact,
    )


async def resolve_prices(
    db: Database, settings: Settings, *, now: datetime | None = None
) -> PriceSeeding:
    """Solve the prices again on the traffic still to come (:mod:`rest_of_day`): the last
    day's visits, a day later, offered the campaigns that will be open then, with the units
    left now. Stored as a seeding, which serving processes pick up at their next sync."""
    moment = now or utcnow()
    live, day = await _last_day(db, settings, moment)
    slates = history.visits(day.showings)
    forecast = [(slate[0].person, (slate[0].shown_at + DAY).timestamp()) for slate in slates]
    if not forecast:
        # Nothing to solve on (a platform's first day): the stored seeding stays.
        return PriceSeeding.of({}, visits=0, day_visits=0, value_fen=0.0, exact=False)
    places = min(max(len(slate) for slate in slates), MAX_SLATE)
    prices, value = await asyncio.to_thread(
        rest_of_day_prices,
        live.dispatcher,
        forecast,
        moment.timestamp(),
        places=places,
        share=day.share,
    )
    await _store(db, prices, moment)
    return PriceSeeding.of(
        prices,
        visits=len(forecast),
        day_visits=day.feeds,
        value_fen=value / day.share,
        exact=False,
    )


async def _store(db: Database, prices: Mapping[str, float], moment: datetime) -> None:
    """Replace the stored seeding with these prices, seeded at ``moment``."""
    async with db.session_scope() as session:
        await session.execute(delete(SeededPrice))
        if prices:
            await session.execute(
                insert(SeededPrice),
                [
                    {"campaign_id": UUID(task_id), "price": price, "seeded_at": moment}
                    for task_id, price in prices.items()
                ],
            )


SEEDING_FAILED = "dispatch.seeding_failed"


async def record_seeding_failure(db: Database, error: Exception, *, job: str = SEEDING_JOB) -> None:
    """Write a failed seeding to the audit log (no actor: the job worker), in its own
    transaction, for the feed console to tell. Filed under the seeding job whichever
    ``job`` failed (the nightly seeding or the solving again), with its name."""
    async with db.session_scope() as session:
        await record_audit(
            session,
            actor_id=None,
            action=SEEDING_FAILED,
            object_type="job",
            object_id=SEEDING_JOB,
            data={"error": str(error)[:300], "job": job},
        )


async def last_seeding_failure(session: AsyncSession) -> datetime | None:
    """When a seeding last failed, or None (read by the audit log's object index)."""
    failed: datetime | None = await session.scalar(
        select(func.max(AuditEntry.created_at)).where(
            AuditEntry.object_id == SEEDING_JOB, AuditEntry.action == SEEDING_FAILED
        )
    )
    return failed


async def seed_prices_soon(session: AsyncSession, *, actor: Actor) -> int:
    """Ask the job worker to seed the prices now rather than at night; the job's id.
    Refused while a seeding waits to run."""
    require(actor, Action.STAFF_CONSOLE)
    try:
        async with session.begin_nested():
            job_id = await defer_in_transaction(
                session, SEEDING_JOB, lock=SEEDING_LOCK, queueing_lock=SEEDING_LOCK
            )
    except IntegrityError as exc:
        if not another_waits(exc):
            raise
        raise SeedingWaiting(
            detail=N_("A seeding is already waiting for the job worker; its prices come soon.")
        ) from None
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="dispatch.seeding_requested",
        object_type="job",
        object_id=job_id,
    )
    return job_id
