"""What the feed showed and what came of it, read back from the exposure log.

A process that starts learns from this history before it serves (the completion model
would otherwise start from its priors every deploy), and the nightly price seeding
replays the last day's visits from it. A showing counts as taken when the person claimed
that task within :data:`TAKEN_WITHIN` of seeing it: the outcome the live feed learns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.creators.tiers import tier_for_followers
from xingdong.dispatch.feed import Exposure
from xingdong.dispatch.profiles import PersonProfile

TAKEN_WITHIN = timedelta(hours=1)
"""As long as the live feed remembers a slate (``live.SLATE_MEMORY_S``)."""


@dataclass(frozen=True)
class Showing:
    """One task shown to one person, with who they were and whether they took it."""

    person: PersonProfile
    task_id: str
    shown_at: datetime
    position: int
    taken: bool

    def as_exposure(self) -> Exposure:
        return Exposure(self.person, self.task_id, self.position, self.taken)


# Each feed's tasks unnested in place order (``n`` counts from 1), the latest first.
_SHOWINGS = text(
    """
    SELECT f.person_id, x.campaign_id, f.shown_at, x.n - 1 AS position,
           p.birth_year, p.region, p.interests,
           (SELECT max(a.followers) FROM platform_accounts a
            WHERE a.person_id = f.person_id) AS followers,
           EXISTS (SELECT FROM assignments s
                   WHERE s.person_id = f.person_id AND s.campaign_id = x.campaign_id
                     AND s.claimed_at >= f.shown_at
                     AND s.claimed_at < f.shown_at + :taken_within) AS taken
    FROM dispatch_shown_feeds f
    JOIN people p ON p.id = f.person_id
    CROSS JOIN LATERAL unnest(f.campaign_ids) WITH ORDINALITY AS x(campaign_id, n)
    WHERE f.shown_at >= :since AND f.shown_at < :until
      AND hashint8(f.id)::bigint + 2147483648 < :kept_below
    ORDER BY f.id DESC, x.n DESC
    LIMIT :limit
    """
)
_FEEDS = text(
    "SELECT count(*) FROM dispatch_shown_feeds WHERE shown_at >= :since AND shown_at < :until"
)
HASHES = 2**32
"""How many values ``hashint8`` takes: a feed is kept in a sample of share s when its
id's hash, moved to start at 0, is below s times this."""


async def showings(
    session: AsyncSession, *, since: datetime, until: datetime, limit: int
) -> list[Showing]:
    """The showings in ``[since, until)``, the latest ``limit`` of them, oldest first."""
    return await _read(session, since=since, until=until, limit=limit, share=1.0)


@dataclass(frozen=True)
class DaySample:
    """The showings of a sample of the feeds in a time range, each feed whole."""

    showings: list[Showing]
    share: float
    """The share of the range's feeds kept (1: all of them)."""
    feeds: int
    """Feeds in the range, kept or not."""


async def sampled_showings(
    session: AsyncSession, *, since: datetime, until: datetime, feeds: int
) -> DaySample:
    """The showings of about ``feeds`` of the feeds in ``[since, until)``, oldest first:
    all of them if there are no more, else each kept with the same chance, by a hash of
    its id (so the same rows give the same sample, spread over the whole range rather
    than its latest hours)."""
    count = int(await session.scalar(_FEEDS.bindparams(since=since, until=until)) or 0)
    share = 1.0 if count <= feeds else feeds / count
    found = await _read(session, since=since, until=until, limit=None, share=share)
    return DaySample(found, share, count)


async def _read(
    session: AsyncSession, *, since: datetime, until: datetime, limit: int | None, share: float
) -> list[Showing]:
    query = _SHOWINGS.bindparams(
        since=since,
        until=until,
        limit=limit,
        taken_within=TAKEN_WITHIN,
        kept_below=HASHES if share >= 1.0 else int(share * HASHES),
    )
    rows = (await session.execute(query)).all()
    profiles: dict[object, PersonProfile] = {}
    found: list[Showing] = []
    for row in reversed(rows):
        person = profiles.get(row.person_id)
        if person is None:
            person = profiles[row.person_id] = PersonProfile(
                id=str(row.person_id),
                age=until.year - row.birth_year if row.birth_year else None,
                region=row.region,
                interests=frozenset(row.interests or ()),
                tier=tier_for_followers(row.followers) if row.followers is not None else None,
            )
        found.append(
            Showing(person, str(row.campaign_id), row.shown_at, row.position, bool(row.taken))
        )
    return found


def visits(shown: Sequence[Showing]) -> list[list[Showing]]:
    """Showings grouped by feed request (one person, one moment), each slate in position
    order."""
    slates: dict[tuple[str, datetime], list[Showing]] = {}
    for s in shown:
        slates.setdefault((s.person.id, s.shown_at), []).append(s)
    return [sorted(slate, key=lambda s: s.position) for slate in slates.values()]


@dataclass(frozen=True)
class ShownTask:
    """How often one task was shown to one person with one reason, and when."""

    campaign_id: str
    reason: str
    times: int
    first_at: datetime
    last_at: datetime


# One row a feed: what a person's log holds, summed per task and reason.
_SHOWN_TO = text(
    """
    SELECT x.campaign_id, x.reason, count(*) AS times,
           min(f.shown_at) AS first_at, max(f.shown_at) AS last_at
    FROM dispatch_shown_feeds f
    CROSS JOIN LATERAL unnest(f.campaign_ids, f.reasons) AS x(campaign_id, reason)
    WHERE f.person_id = :person_id
    GROUP BY x.campaign_id, x.reason
    ORDER BY min(f.shown_at), x.campaign_id, x.reason
    """
)
_FEEDS_OF = text(
    """
    SELECT count(*) AS feeds, min(shown_at) AS first_at, max(shown_at) AS last_at
    FROM dispatch_shown_feeds WHERE person_id = :person_id
    """
)


@dataclass(frozen=True)
class ShownHistory:
    """Everything one person's feeds showed them."""

    feeds: int
    first_at: datetime | None
    last_at: datetime | None
    tasks: list[ShownTask]


async def shown_to(session: AsyncSession, person_id: UUID) -> ShownHistory:
    """How many feeds the person was shown, the first and the last, and every task in
    them with the reason shown beside it."""
    feeds = (await session.execute(_FEEDS_OF.bindparams(person_id=person_id))).one()
    rows = (await session.execute(_SHOWN_TO.bindparams(person_id=person_id))).all()
    return ShownHistory(
        feeds=int(feeds.feeds),
        first_at=feeds.first_at,
        last_at=feeds.last_at,
        tasks=[
            ShownTask(str(r.campaign_id), r.reason, int(r.times), r.first_at, r.last_at)
            for r in rows
        ],
    )
