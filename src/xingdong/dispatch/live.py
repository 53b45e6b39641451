"""The live feed's state in one process: a :class:`Dispatcher` kept in step with the
database, the campaigns it places (as the pages show them), each person's last slate, and
the exposure log.

Every request calls :meth:`LiveDispatch.refresh`: the index is read again from the
database (the units done and held of the campaigns whose row changed or whose window
opened or closed since the last look, and of every live campaign every ``FULL_READ_S``;
the terms of the new ones; the claims made since the last look, which teach the
completion model) when it is older than
``dispatch_sync_seconds``, and then the request waits for it; from half that age, a
request starts the read behind it and is served from the index as it is, so under steady
traffic no request waits for a sync. Each process learns from all claims, so processes
agree on what sells; what a process showed and was not taken it learns alone. At its
first sync a process learns the exposure log of the last days
(:mod:`xingdong.dispatch.history`); at every sync it takes the weights operators have put
in force since (:mod:`xingdong.dispatch.tuning`); and whenever the nightly job has stored
new starting prices (:mod:`xingdong.dispatch.nightly`) it starts the campaigns' pacing
prices there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.campaigns.targeting import TargetTerms
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.logging import get_logger
from xingdong.core.settings import Settings
from xingdong.dispatch import history, tuning
from xingdong.dispatch.bodies import ItemBodies
from xingdong.dispatch.exposures import ExposureLog
from xingdong.dispatch.facts_cache import FactsCache
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.models import SeededPrice
from xingdong.dispatch.profiles import Targeting, TaskSpec
from xingdong.dispatch.weights import weights_from
from xingdong.work import service as work

log = get_logger(__name__)

SLATE_MEMORY_S = 3_600.0
"""A slate not taken within this long is forgotten rather than counted as declined."""
FULL_READ_S = 30.0
"""Between full reads of every live campaign's units, a sync reads only the campaigns
whose row changed (``Campaign.changed_at``) or whose window opened or closed since."""
CHANGE_LOOKBACK = timedelta(seconds=10)
"""How far before the last read a sync looks for changed rows: a write stamped before
that read but committed after its snapshot is caught by the next (the full read catches
a transaction slower than this)."""


def task_spec(campaign: Campaign) -> TaskSpec:
    """A campaign as dispatch places it: a unit of work is one task."""
    return TaskSpec(
        id=str(campaign.id),
        type=campaign.task_type,
        price_fen=campaign.unit_price,
        reward_fen=campaign.reward,
        quantity=campaign.quantity,
        start_s=campaign.starts_at.timestamp(),
        end_s=campaign.ends_at.timestamp(),
        per_person_limit=campaign.per_person_limit,
        targeting=Targeting(
            age_min=campaign.min_age,
            age_max=campaign.max_age,
            regions=frozenset(campaign.regions or ()),
            interests=frozenset(campaign.interests or ()),
            tiers=frozenset(campaign.tiers or ()),
        ),
        brand=str(campaign.org_id),
        is_novice=list(campaign.tiers or ()) == work.ONBOARDING_TIERS,
        is_quality=campaign.quality_plan,
        category=campaign.category,
    )


@dataclass
class Slate:
    shown_at_s: float
    task_ids: list[str]


@dataclass
class LiveDispatch:
    db: Database
    settings: Settings
    dispatcher: Dispatcher = field(init=False)
    exposures: ExposureLog = field(init=False)
    facts: FactsCache = field(init=False)
    """The feed API's people, kept until the database says they changed."""
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    """The live campaigns as placed, for showing (snapshots, not attached to a session)."""
    units_left: dict[str, int] = field(default_factory=dict)
    terms: dict[str, TargetTerms] = field(default_factory=dict)
    """Each live campaign's targeting as plain values (who may claim it)."""
    capped: dict[str, datetime] = field(default_factory=dict)
    """Live campaigns whose target has had its hourly cap of claims, with when a claim is
    taken again (as the last sync found them)."""
    slates: dict[str, Slate] = field(default_factory=dict)
    bodies: ItemBodies = field(default_factory=ItemBodies)
    """The feed API's serialised items; a campaign's are forgotten whenever the sync drops
    it or reads its row again."""
    _specs: dict[str, TaskSpec] = field(default_factory=dict)
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Units held and done of each campaign at the last read."""
    _synced_s: float = float("-inf")
    _full_read_s: float = float("-inf")
    _read_at: datetime | None = None
    """The database's clock as the last read of units began."""
    _read_now: datetime | None = None
    """The moment the last read of units knew the campaigns at."""
    _claims_seen_until: datetime | None = None
    _history_learned: bool = False
    _prices_seeded_at: datetime | None = None
    _weights_change: int | None = None
    """The operators' change of the weights in force here (None: the setting's)."""
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _refreshing: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(weights_from(self.settings.dispatch_weights))
        self.exposures = ExposureLog(self.db)
        self.facts = FactsCache(self.db, self.settings)

    async def refresh(self, now: datetime) -> None:
        """Keep the index within ``dispatch_sync_seconds`` of the database (see above)."""
        limit = self.settings.dispatch_sync_seconds
        age = time.monotonic() - self._synced_s
        if age >= limit:
            async with self.db.session_scope() as session:
                await self.sync(session, now, max_age_s=limit)
        elif age >= limit / 2 and (self._refreshing is None or self._refreshing.done()):
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh_behind())

    async def _refresh_behind(self) -> None:
        try:
            async with self.db.session_scope() as session:
                await self.sync(
                    session, utcnow(), max_age_s=self.settings.dispatch_sync_seconds / 2
                )
        except Exception:
            # The index stays as it is; the next request past the limit syncs and fails
            # visibly if the database is still away.
            log.exception("feed_index_not_refreshed")

    async def stop(self) -> None:
        """Wait for a refresh still running (shutdown, tests)."""
        if self._refreshing is not None and not self._refreshing.done():
            await asyncio.wait([self._refreshing])

    async def sync(self, session: AsyncSession, now: datetime, *, max_age_s: float) -> None:
        """Read the index again, unless it was read less than ``max_age_s`` ago."""
        if time.monotonic() - self._synced_s < max_age_s:
            return
        async with self._lock:
            if time.monotonic() - self._synced_s < max_age_s:
                return
            try:
                await self._learn_claims(session, now)
                # The units of the campaigns that moved (of every live campaign now and
                # then); the full rows only of the new ones (a live campaign's terms do not
                # change: a changed campaign is a new campaign).
                counts, quality, gone = await self._read_units(session, now)
                new = await self._add_new(session, counts)
                self._apply_units(counts)
                self._apply_quality(quality)
                self._drop(gone)
                capped = await work.capped_campaigns(session, list(self.campaigns.values()), now)
                self.capped = {str(campaign_id): at for campaign_id, at in capped.items()}
                await self._apply_weights(session)
                if not self._history_learned:
                    await self._learn_history(session, now)
                await self._seed_prices(session, new)
            except BaseException:
                # Changes read but not applied would be past the next read's look back.
                self._full_read_s = float("-inf")
                raise
            self._synced_s = time.monotonic()

    async def _add_new(
        self, session: AsyncSession, counts: dict[str, tuple[int, int]]
    ) -> list[str]:
        """Read the full rows of the live campaigns the index does not have yet."""
        new = [task_id for task_id in counts if task_id not in self._specs]
        self.bodies.forget(new)
        for campaign in await campaigns.campaigns_by_ids(session, [UUID(t) for t in new]):
            # A snapshot for showing, never written back through this session.
            session.expunge(campaign)
            spec = task_spec(campaign)
            self.dispatcher.upsert_task(spec)
            self._specs[spec.id] = spec
            self.campaigns[spec.id] = campaign
            self.terms[spec.id] = TargetTerms.of(campaign)
        return new

    def _apply_units(self, counts: dict[str, tuple[int, int]]) -> None:
        # Most campaigns' counts did not move since the last read. (Not ``counts.items() -
        # self._counts.items()``: that walks every campaign the index has.)
        for task_id, (units_open, units_done) in counts.items():
            if task_id not in self._specs or self._counts.get(task_id) == (units_open, units_done):
                continue
            self._counts[task_id] = (units_open, units_done)
            self.dispatcher.set_progress(task_id, completed=units_done, reserved=units_open)
            self.units_left[task_id] = max(
                self._specs[task_id].quantity - units_open - units_done, 0
            )

    def _apply_quality(self, quality: dict[str, bool]) -> None:
        """Take the quality-task plan as the read found it (operators move a campaign in
        or out while it runs, which writes its row)."""
        for task_id, included in quality.items():
            spec = self._specs.get(task_id)
            if spec is not None and spec.is_quality != included:
                spec = dataclasses.replace(spec, is_quality=included)
                self.dispatcher.upsert_task(spec)
                self._specs[task_id] = spec

    def _drop(self, gone: set[str]) -> None:
        self.bodies.forget(gone)
        for task_id in gone:
            self.dispatcher.remove_task(task_id)
            self._specs.pop(task_id)
            self._counts.pop(task_id, None)
            self.campaigns.pop(task_id, None)
            self.terms.pop(task_id, None)
            self.units_left.pop(task_id, None)

    async def _read_units(
        self, session: AsyncSession, now: datetime
    ) -> tuple[dict[str, tuple[int, int]], dict[str, bool], set[str]]:
        """Units held and done of the live campaigns read, whether each is in the
        quality-task plan, and the known ones no longer live: every live campaign at a
        full read, else those that changed."""
        read_at, read_now = self._read_at, self._read_now
        self._read_now = now
        if (
            read_at is not None
            and read_now is not None
            and now >= read_now  # the clock went back: what crossed a window is unknown
            and time.monotonic() - self._full_read_s < FULL_READ_S
        ):
            changes = await campaigns.progress_changes(
                session, now=now, since=read_at - CHANGE_LOOKBACK, window_since=read_now
            )
            live = {t: (held, done) for t, held, done, now_live, _ in changes.rows if now_live}
            quality = {t: q for t, _, _, now_live, q in changes.rows if now_live}
            ended = {t for t, _, _, now_live, _ in changes.rows if not now_live}
            ended &= self._specs.keys()
            known = len(self._specs) + sum(t not in self._specs for t in live) - len(ended)
            if known == changes.live_count:
                self._read_at = changes.read_at
                return live, quality, ended
            # Some went without a write that stamped them (deleted, or the table
            # emptied): only a full read can say which.
        self._read_at, rows = await campaigns.live_progress(session, now=now)
        self._full_read_s = time.monotonic()
        counts = {task_id: (held, done) for task_id, held, done, _ in rows}
        quality = {task_id: included for task_id, _, _, included in rows}
        return counts, quality, set(self._specs) - counts.keys()

    async def _apply_weights(self, session: AsyncSession) -> None:
        """Take the weights an operator put in force since the last look (the feed
        console; :mod:`xingdong.dispatch.tuning`)."""
        change = await tuning.latest_change(session)
        seen = None if change is None else change.id
        if seen != self._weights_change:
            self.dispatcher.set_weights(tuning.weights_with(self.settings, change))
            self._weights_change = seen

    def units(self, task_id: str) -> tuple[int, int]:
        """A live campaign's units held and done, as the last sync read them."""
        return self._counts.get(task_id, (0, 0))

    def spec(self, task_id: str) -> TaskSpec:
        """A live campaign's terms as dispatch places it."""
        return self._specs[task_id]

    async def _learn_history(self, session: AsyncSession, now: datetime) -> None:
        """Learn what the exposure log of the last days says sells, before serving."""
        days = self.settings.dispatch_history_days
        limit = self.settings.dispatch_history_limit
        if days > 0 and limit > 0:
            shown = await history.showings(
                session, since=now - timedelta(days=days), until=now, limit=limit
            )
            # A second per 50,000 exposures, up to minutes at the limit's ceiling: off the
            # loop, which the web server's requests share. Safe on another thread: this is
            # the first sync, under its lock, before any slate was placed from this index.
            await asyncio.to_thread(self.dispatcher.train, [s.as_exposure() for s in shown])
        self._history_learned = True

    async def _seed_prices(self, session: AsyncSession, new: list[str]) -> None:
        """Start pacing prices at the nightly seeding: every campaign's when a seeding
        appeared since the last look, else the new campaigns' only."""
        latest = await session.scalar(select(func.max(SeededPrice.seeded_at)))
        if latest is None:
            return
        fresh = latest != self._prices_seeded_at
        if not fresh and not new:
            return
        query = select(SeededPrice.campaign_id, SeededPrice.price)
        if not fresh:
            query = query.where(SeededPrice.campaign_id.in_(new))
        rows = (await session.execute(query)).all()
        self.dispatcher.seed_prices({str(campaign_id): price for campaign_id, price in rows})
        self._prices_seeded_at = latest

    async def _learn_claims(self, session: AsyncSession, now: datetime) -> None:
        since = self._claims_seen_until or now - timedelta(minutes=5)
        claims = await work.claims_since(session, since=since)
        for claim in claims:
            person_id, task_id = str(claim.person_id), str(claim.campaign_id)
            slate = self.slates.get(person_id)
            if slate is not None and task_id in slate.task_ids:
                slate.task_ids.remove(task_id)
            self.dispatcher.record(person_id, task_id, claim.claimed_at.timestamp(), True)
            since = max(since, claim.claimed_at)
        self._claims_seen_until = since

    def close_slate(self, person_id: str, now_s: float) -> None:
        """The person opened the feed again: what they were shown and did not take counts
        as declined (unless that was long ago)."""
        slate = self.slates.pop(person_id, None)
        if slate is None or now_s - slate.shown_at_s > SLATE_MEMORY_S:
            return
        self.dispatcher.declined(person_id, slate.task_ids, now_s)

    def open_slate(self, person_id: str, now_s: float, task_ids: list[str]) -> None:
        """The person was shown these tasks (what dispatch placed, less what the claim
        rules or the type filter set aside)."""
        self.slates[person_id] = Slate(now_s, list(task_ids))
        self.dispatcher.shown_only(person_id, task_ids)


_LIVE: dict[int, LiveDispatch] = {}


def live_dispatch(db: Database, settings: Settings) -> LiveDispatch:
    """The process's live dispatch for this database (one per runtime)."""
    key = id(db)
    live = _LIVE.get(key)
    if live is None or live.db is not db:
        live = _LIVE[key] = LiveDispatch(db, settings)
    return live


async def prepare_live_dispatch(db: Database, settings: Settings) -> bool:
    """Read the feed's index, and learn the exposure history, before a server process
    takes requests, so that its first feed request does not pay for them. A database not
    reachable yet is logged, not raised: the first request then reads it (and fails
    visibly if it still cannot). Returns whether the index was read."""
    try:
        await live_dispatch(db, settings).refresh(utcnow())
    except Exception:
        log.exception("feed_index_not_prepared")
        return False
    return True


async def drain_exposures(db: Database) -> None:
    """Write the exposures still waiting (at shutdown)."""
    live = _LIVE.pop(id(db), None)
    if live is not None and live.db is db:
        await live.stop()
        await live.facts.stop()
        await live.exposures.drain()
