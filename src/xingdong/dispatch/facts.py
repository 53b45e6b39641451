"""What the feed needs to know about the person asking, read in one round trip.

The feed API asks on every request (through :mod:`xingdong.dispatch.facts_cache`, which
keeps the answers until the database says they changed): the API token and its person,
the person's profile facts (age, region, interests, locale), whether they accepted the
current agreement, their bound accounts, what they hid and how many units of each
campaign they hold or did. One SQL statement on the statement connection (autocommit, no
ORM objects) answers all of it; the task center page, which has its person already, asks
the same through its session (:func:`facts_of_person`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.targeting import WorkerProfile
from xingdong.core.db import Database
from xingdong.core.i18n import N_
from xingdong.core.settings import Settings
from xingdong.creators.tiers import tier_for_followers
from xingdong.dispatch.models import FeedHide
from xingdong.identity.errors import SessionExpired
from xingdong.identity.models import Person
from xingdong.work import service as work


@dataclass(frozen=True)
class FeedFacts:
    person_id: UUID
    who: WorkerProfile
    hidden_campaigns: frozenset[str]
    hidden_brands: frozenset[str]
    taken: dict[str, int]
    """Units held or done per campaign id (expired claims free their place)."""
    locale: str | None = None
    """The person's preferred language, if they chose one."""
    token_expires_at: datetime | None = None
    """When the API token these facts were read through expires (None: not read that way)."""
    onboarded: bool = False
    """Has held or done a unit of an onboarding campaign (one only for novices), ended ones
    too: the feed then no longer keeps one near the top for them."""


# Every sub-select is keyed on the person's id through the token's row, so the statement
# is one index lookup on the token and a few on the person's own rows.
FACTS_QUERY = """
SELECT t.revoked_at, t.expires_at, p.id, p.is_active, p.locale, p.birth_year, p.region,
       p.interests,
       EXISTS (SELECT FROM consents c
               WHERE c.person_id = p.id AND c.agreement_version = %(version)s),
       (SELECT json_object_agg(a.platform, json_build_array(a.handle, a.followers))
        FROM platform_accounts a WHERE a.person_id = p.id),
       ARRAY(SELECT h.ref::text FROM dispatch_feed_hides h
             WHERE h.person_id = p.id AND h.kind = 'campaign'),
       ARRAY(SELECT h.ref::text FROM dispatch_feed_hides h
             WHERE h.person_id = p.id AND h.kind = 'brand'),
       (SELECT json_object_agg(x.campaign_id, x.n)
        FROM (SELECT s.campaign_id, count(*) AS n FROM assignments s
              WHERE s.person_id = p.id AND s.status <> 'expired'
              GROUP BY s.campaign_id) x),
       EXISTS (SELECT FROM assignments s JOIN campaigns c ON c.id = s.campaign_id
               WHERE s.person_id = p.id AND s.status <> 'expired'
                 AND c.tiers = ARRAY['novice']::varchar[])
FROM api_tokens t JOIN people p ON p.id = t.person_id
WHERE t.token_digest = %(digest)s
"""


def _who(
    birth_year: int | None,
    region: str | None,
    interests: list[str] | None,
    consented: bool,
    accounts: dict[str, list[Any]],
    year: int,
) -> WorkerProfile:
    # As identity.service.accounts_and_consent and work.service.worker_profile build it.
    return WorkerProfile(
        age=None if birth_year is None else year - birth_year,
        region=region,
        interests=frozenset(interests or ()),
        handles={platform: str(handle) for platform, (handle, _) in sorted(accounts.items())},
        tiers={
            platform: tier_for_followers(int(followers))
            for platform, (_, followers) in sorted(accounts.items())
        },
        consented=consented,
    )


async def facts_for_digest(
    db: Database, *, digest: str, settings: Settings, now: datetime
) -> FeedFacts:
    """The facts of the person of the token with this digest; the same refusal as any API
    route when the token is unknown, revoked, expired or its person deactivated. (The
    feed API asks through :mod:`xingdong.dispatch.facts_cache`.)"""
    async with db.statement_connection() as conn:
        cursor = await conn.execute(
            FACTS_QUERY, {"digest": digest, "version": settings.agreement_version}
        )
        row = await cursor.fetchone()
    if row is None:
        raise SessionExpired(detail=N_("The token is not valid or has expired."))
    (revoked_at, expires_at, person_id, is_active, locale, birth_year, region, interests,
     consented, accounts, hidden_campaigns, hidden_brands, taken, onboarded) = row  # fmt: skip
    if revoked_at is not None or expires_at <= now or not is_active:
        raise SessionExpired(detail=N_("The token is not valid or has expired."))
    return FeedFacts(
        person_id=person_id,
        who=_who(birth_year, region, interests, bool(consented), accounts or {}, now.year),
        hidden_campaigns=frozenset(hidden_campaigns),
        hidden_brands=frozenset(hidden_brands),
        taken={campaign_id: int(n) for campaign_id, n in (taken or {}).items()},
        locale=locale,
        token_expires_at=expires_at,
        onboarded=bool(onboarded),
    )


async def facts_of_person(
    session: AsyncSession, *, person: Person, settings: Settings, now: datetime
) -> FeedFacts:
    """The same facts for a person already signed in (the task center page)."""
    who = await work.worker_profile(session, person=person, settings=settings, now=now)
    taken = await work.units_taken_by_person(session, person_id=person.id)
    rows = await session.execute(
        select(FeedHide.kind, FeedHide.ref).where(FeedHide.person_id == person.id)
    )
    hidden: dict[str, set[str]] = {"campaign": set(), "brand": set()}
    for kind, ref in rows.all():
        hidden["campaign" if kind == "campaign" else "brand"].add(str(ref))
    return FeedFacts(
        person_id=person.id,
        who=who,
        hidden_campaigns=frozenset(hidden["campaign"]),
        hidden_brands=frozenset(hidden["brand"]),
        taken={str(campaign_id): n for campaign_id, n in taken.items()},
        locale=person.locale,
        onboarded=await work.has_onboarded(session, person_id=person.id),
    )
