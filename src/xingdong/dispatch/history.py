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

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.creators.tiers import tier_for_followers
from xingdong.dispatch.feed import Exposure
from xingdong.dispatch.models import Exposure as ExposureRow
from xingdong.dispatch.profiles import PersonProfile
from xingdong.identity.models import Person, PlatformAccount
from xingdong.work.models import Assignment

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


async def showings(
    session: AsyncSession, *, since: datetime, until: datetime, limit: int
) -> list[Showing]:
    """The showings in ``[since, until)``, the latest ``limit`` of them, oldest first."""
    taken = exists().where(
        and_(
            Assignment.person_id == ExposureRow.person_id,
            Assignment.campaign_id == ExposureRow.campaign_id,
            Assignment.claimed_at >= ExposureRow.shown_at,
            Assignment.claimed_at < ExposureRow.shown_at + TAKEN_WITHIN,
        )
    )
    followers = (
        select(func.max(PlatformAccount.followers))
        .where(PlatformAccount.person_id == ExposureRow.person_id)
        .scalar_subquery()
    )
    latest = (
        select(
            ExposureRow.id,
            ExposureRow.person_id,
            ExposureRow.campaign_id,
            ExposureRow.shown_at,
            ExposureRow.position,
            Person.birth_year,
            Person.region,
            Person.interests,
            followers.label("followers"),
            taken.label("taken"),
        )
        .join(Person, Person.id == ExposureRow.person_id)
        .where(ExposureRow.shown_at >= since, ExposureRow.shown_at < until)
        .order_by(ExposureRow.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(latest)).all()
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
