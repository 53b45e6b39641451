"""Every query on the identity tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnClause

from xingdong.core.errors import NotFound
from xingdong.core.i18n import N_
from xingdong.core.pagination import contains, in_pages
from xingdong.creators.tiers import follower_range
from xingdong.identity.errors import OrganisationClosed
from xingdong.identity.models import (
    ApiToken,
    Consent,
    Invitation,
    Membership,
    Organisation,
    OrgApiKey,
    Person,
    PlatformAccount,
    SmsCode,
    StaffGrant,
    WebSession,
)
from xingdong.identity.validation import phone_search_text

_ONE_SECOND: ColumnClause[Any] = literal_column("interval '1 second'")


def _name_or_phone(search: str) -> ColumnElement[bool]:
    """A search box's text against names, and against phones as they are stored: lists
    show ``+8613800000011``, and people type it that way, with spaces, or without +86."""
    return or_(
        contains(Person.display_name, search),
        contains(Person.phone, phone_search_text(search) or search),
    )


async def person_by_phone(session: AsyncSession, phone: str) -> Person | None:
    result = await session.execute(select(Person).where(Person.phone == phone))
    return result.scalar_one_or_none()


async def display_names(session: AsyncSession, person_ids: set[UUID]) -> dict[UUID, str]:
    if not person_ids:
        return {}
    rows = await session.execute(
        select(Person.id, Person.display_name).where(Person.id.in_(person_ids))
    )
    return {row.id: row.display_name for row in rows}


async def person_by_id(
    session: AsyncSession, person_id: UUID, *, lock: bool = False
) -> Person | None:
    if lock:
        return await session.get(Person, person_id, with_for_update=True, populate_existing=True)
    return await session.get(Person, person_id)


async def insert_person(session: AsyncSession, person: Person) -> bool:
    """Insert unless the phone is taken; False when it was (no check-then-act race)."""
    values = {
        "id": person.id,
        "phone": person.phone,
        "password_hash": person.password_hash,
        "display_name": person.display_name,
    }
    result = await session.execute(
        insert(Person)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["phone"])
        .returning(Person.id)
    )
    return result.first() is not None


async def count_failed_login(
    session: AsyncSession, person_id: UUID, *, max_failures: int, base_s: int, max_s: int
) -> tuple[int, datetime | None]:
    """Add one failed sign-in and, past the limit, lock with doubling back-off."""
    count_after = Person.failed_login_count + 1
    lock_seconds = func.least(
        base_s * func.power(2, func.greatest(count_after - max_failures, 0)), max_s
    )
    result = await session.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(
            failed_login_count=count_after,
            locked_until=case(
                (count_after >= max_failures, func.now() + lock_seconds * _ONE_SECOND),
                else_=Person.locked_until,
            ),
        )
        .returning(Person.failed_login_count, Person.locked_until)
    )
    count, locked_until = result.one()
    return count, locked_until


async def latest_sms_code(session: AsyncSession, phone: str, purpose: str) -> SmsCode | None:
    result = await session.execute(
        select(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.consumed_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def delete_expired_sms_codes(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(SmsCode).where(or_(SmsCode.expires_at <= now, SmsCode.consumed_at.is_not(None)))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_expired_sign_ins(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """Delete the browser sessions and API tokens past their expiry (revoked tokens with
    them, once they expire): neither is of use then, and each keeps an address or a name."""
    sessions = await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    tokens = await session.execute(delete(ApiToken).where(ApiToken.expires_at <= now))
    return int(sessions.rowcount), int(tokens.rowcount)  # type: ignore[attr-defined]


async def web_session_by_digest(session: AsyncSession, digest: str) -> WebSession | None:
    result = await session.execute(select(WebSession).where(WebSession.token_digest == digest))
    return result.scalar_one_or_none()


async def delete_web_session(session: AsyncSession, digest: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_digest == digest))


async def api_token_with_person(
    session: AsyncSession, digest: str
) -> tuple[ApiToken, Person] | None:
    row = (
        await session.execute(
            select(ApiToken, Person)
            .join(Person, Person.id == ApiToken.person_id)
            .where(ApiToken.token_digest == digest)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def staff_roles(session: AsyncSession, person_id: UUID) -> list[str]:
    result = await session.execute(select(StaffGrant.role).where(StaffGrant.person_id == person_id))
    return list(result.scalars())


async def memberships_of(session: AsyncSession, person_id: UUID) -> dict[UUID, str]:
    result = await session.execute(
        select(Membership.org_id, Membership.role).where(Membership.person_id == person_id)
    )
    return {row.org_id: row.role for row in result}


async def upsert_staff_grant(
    session: AsyncSession, person_id: UUID, role: str, granted_by: UUID | None
) -> bool:
    result = await session.execute(
        insert(StaffGrant)
        .values(person_id=person_id, role=role, granted_by=granted_by)
        .on_conflict_do_nothing()
        .returning(StaffGrant.role)
    )
    return result.first() is not None


async def delete_staff_grant(session: AsyncSession, person_id: UUID, role: str) -> bool:
    result = await session.execute(
        delete(StaffGrant).where(StaffGrant.person_id == person_id, StaffGrant.role == role)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def consent_exists(session: AsyncSession, person_id: UUID, version: str) -> bool:
    result = await session.execute(
        select(Consent.id).where(
            Consent.person_id == person_id, Consent.agreement_version == version
        )
    )
    return result.first() is not None


async def insert_consent(session: AsyncSession, consent: Consent) -> bool:
    result = await session.execute(
        insert(Consent)
        .values(
            id=consent.id,
            person_id=consent.person_id,
            agreement_version=consent.agreement_version,
            ip=consent.ip,
            user_agent=consent.user_agent,
        )
        .on_conflict_do_nothing()
        .returning(Consent.id)
    )
    return result.first() is not None


async def consents_of(session: AsyncSession, person_id: UUID) -> list[Consent]:
    result = await session.execute(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.created_at)
    )
    return list(result.scalars())


async def accounts_and_consent(
    session: AsyncSession, person_id: UUID, version: str
) -> tuple[list[dict[str, Any]], bool]:
    """The person's bound accounts (platform, handle, followers) and whether they accepted
    this agreement version, in one round trip (the task feed asks on every request)."""
    consented = (
        select(Consent.id)
        .where(Consent.person_id == person_id, Consent.agreement_version == version)
        .exists()
    )
    accounts = (
        select(
            func.json_agg(
                func.json_build_object(
                    "platform", PlatformAccount.platform,
                    "handle", PlatformAccount.handle,
                    "followers", PlatformAccount.followers,
                )
            )
        )
        .where(PlatformAccount.person_id == person_id)
        .scalar_subquery()
    )  # fmt: skip
    row = (await session.execute(select(consented, accounts))).one()
    return list(row[1] or []), bool(row[0])


async def platform_accounts_of(session: AsyncSession, person_id: UUID) -> list[PlatformAccount]:
    result = await session.execute(
        select(PlatformAccount)
        .where(PlatformAccount.person_id == person_id)
        .order_by(PlatformAccount.platform)
    )
    return list(result.scalars())


async def platform_account_by_handle(
    session: AsyncSession, platform: str, handle: str
) -> PlatformAccount | None:
    result = await session.execute(
        select(PlatformAccount).where(
            PlatformAccount.platform == platform, PlatformAccount.handle == handle
        )
    )
    return result.scalar_one_or_none()


async def delete_platform_account(session: AsyncSession, person_id: UUID, platform: str) -> bool:
    result = await session.execute(
        delete(PlatformAccount).where(
            PlatformAccount.person_id == person_id, PlatformAccount.platform == platform
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def organisations_page(
    session: AsyncSession,
    *,
    person_id: UUID,
    search: str | None,
    cursor: str | None,
    limit: int,
) -> list[tuple[Organisation, str]]:
    """The person's organisations, with the person's role in each."""
    query = select(Organisation, Membership.role).join(
        Membership,
        (Membership.org_id == Organisation.id) & (Membership.person_id == person_id),
    )
    if search:
        query = query.where(contains(Organisation.name, search))
    query = in_pages(query, Organisation.created_at, Organisation.id, cursor, newest_first=False)
    query = query.limit(limit + 1)
    result = await session.execute(query)
    return [(org, role) for org, role in result.all()]


async def open_organisation_names(session: AsyncSession, person_id: UUID) -> list[str]:
    """The names of the organisations the person belongs to that are not closed."""
    rows = await session.scalars(
        select(Organisation.name)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.person_id == person_id, Organisation.closed_at.is_(None))
    )
    return list(rows)


async def members_page(
    session: AsyncSession, *, org_id: UUID, search: str | None, cursor: str | None, limit: int
) -> list[tuple[Membership, Person]]:
    query = (
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.org_id == org_id)
    )
    if search:
        query = query.where(_name_or_phone(search))
    query = in_pages(
        query, Membership.created_at, Membership.person_id, cursor, newest_first=False
    ).limit(limit + 1)
    result = await session.execute(query)
    return [(m, p) for m, p in result.all()]


async def membership(session: AsyncSession, org_id: UUID, person_id: UUID) -> Membership | None:
    return await session.get(
        Membership, (org_id, person_id), with_for_update=True, populate_existing=True
    )


async def lock_owners(session: AsyncSession, org_id: UUID, *, lock: bool = True) -> list[UUID]:
    """The organisation's owners, their rows locked (in id order) so two owners cannot
    demote each other at once and leave none; ``lock=False`` only reads them."""
    query = (
        select(Membership.person_id)
        .where(Membership.org_id == org_id, Membership.role == "owner")
        .order_by(Membership.person_id)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    result = await session.execute(query)
    return list(result.scalars())


async def pending_invitations_for_phone(session: AsyncSession, phone: str) -> list[Invitation]:
    result = await session.execute(
        select(Invitation)
        .where(Invitation.phone == phone, Invitation.status == "pending")
        .order_by(Invitation.created_at)
    )
    return list(result.scalars())


async def pending_invitations_of_org(session: AsyncSession, org_id: UUID) -> list[Invitation]:
    result = await session.execute(
        select(Invitation)
        .where(Invitation.org_id == org_id, Invitation.status == "pending")
        .order_by(Invitation.created_at)
    )
    return list(result.scalars())


async def insert_invitation(session: AsyncSession, invitation: Invitation) -> bool:
    result = await session.execute(
        insert(Invitation)
        .values(
            id=invitation.id,
            org_id=invitation.org_id,
            phone=invitation.phone,
            role=invitation.role,
            invited_by=invitation.invited_by,
        )
        .on_conflict_do_nothing(
            index_elements=["org_id", "phone"], index_where=Invitation.status == "pending"
        )
        .returning(Invitation.id)
    )
    return result.first() is not None


async def invitation_for_update(session: AsyncSession, invitation_id: UUID) -> Invitation | None:
    return await session.get(
        Invitation, invitation_id, with_for_update=True, populate_existing=True
    )


async def people_page(
    session: AsyncSession, *, search: str | None, cursor: str | None, limit: int
) -> list[Person]:
    query = select(Person)
    if search:
        query = query.where(_name_or_phone(search))
    query = in_pages(query, Person.created_at, Person.id, cursor, newest_first=False)
    result = await session.execute(query.limit(limit + 1))
    return list(result.scalars())


async def count_audience(
    session: AsyncSession,
    *,
    platform: str,
    birth_years: tuple[int | None, int | None],
    regions: list[str],
    interests: list[str],
    tiers: list[str],
) -> int:
    query = (
        select(func.count(func.distinct(Person.id)))
        .join(PlatformAccount, PlatformAccount.person_id == Person.id)
        .where(PlatformAccount.platform == platform, Person.is_active)
    )
    earliest, latest = birth_years
    if earliest is not None:
        query = query.where(Person.birth_year >= earliest)
    if latest is not None:
        query = query.where(Person.birth_year <= latest)
    if regions:
        query = query.where(Person.region.in_(regions))
    if interests:
        query = query.where(Person.interests.overlap(interests))
    if tiers:
        # A person's tier on a platform is that of the account bound there.
        ranges = [follower_range(tier) for tier in tiers]
        query = query.where(
            or_(
                *(
                    and_(
                        PlatformAccount.followers >= low,
                        true() if high is None else PlatformAccount.followers < high,
                    )
                    for low, high in ranges
                )
            )
        )
    return int(await session.scalar(query) or 0)


# --- a person's copy of their data (identity.personal_data) ---------------------------


async def staff_grants_of(session: AsyncSession, person_id: UUID) -> list[StaffGrant]:
    result = await session.execute(
        select(StaffGrant).where(StaffGrant.person_id == person_id).order_by(StaffGrant.created_at)
    )
    return list(result.scalars())


async def memberships_with_organisations(
    session: AsyncSession, person_id: UUID
) -> list[tuple[Membership, Organisation]]:
    result = await session.execute(
        select(Membership, Organisation)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.person_id == person_id)
        .order_by(Membership.created_at, Organisation.id)
    )
    return [(m, o) for m, o in result.all()]


async def invitations_for_phone(
    session: AsyncSession, phone: str
) -> list[tuple[Invitation, Organisation]]:
    """Every invitation ever addressed to the number, answered or not, oldest first."""
    result = await session.execute(
        select(Invitation, Organisation)
        .join(Organisation, Organisation.id == Invitation.org_id)
        .where(Invitation.phone == phone)
        .order_by(Invitation.created_at, Invitation.id)
    )
    return [(i, o) for i, o in result.all()]


async def api_tokens_of(session: AsyncSession, person_id: UUID) -> list[ApiToken]:
    result = await session.execute(
        select(ApiToken)
        .where(ApiToken.person_id == person_id)
        .order_by(ApiToken.created_at, ApiToken.id)
    )
    return list(result.scalars())


async def web_sessions_of(session: AsyncSession, person_id: UUID) -> list[WebSession]:
    result = await session.execute(
        select(WebSession)
        .where(WebSession.person_id == person_id)
        .order_by(WebSession.created_at, WebSession.id)
    )
    return list(result.scalars())


async def lock_person(session: AsyncSession, person_id: UUID) -> Person | None:
    """The person's row, locked FOR UPDATE and read afresh."""
    result = await session.execute(
        select(Person)
        .where(Person.id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def hold_active(session: AsyncSession, person_id: UUID) -> bool:
    """Hold the person's row (FOR KEY SHARE: profile edits and sign-ins go on, an erasure
    waits) and say whether the account is active."""
    found = await session.scalar(
        select(Person.id)
        .where(Person.id == person_id, Person.is_active)
        .with_for_update(read=True, key_share=True)
    )
    return found is not None


async def revoke_keys_made_by(
    session: AsyncSession,
    *,
    person_id: UUID,
    now: datetime,
    by: UUID | None,
    org_id: UUID | None = None,
) -> int:
    """Revoke the API keys this person made (in ``org_id``, or everywhere): they left, and
    a key never outlives its maker's membership. How many were still in use."""
    query = update(OrgApiKey).where(
        OrgApiKey.created_by == person_id, OrgApiKey.revoked_at.is_(None)
    )
    if org_id is not None:
        query = query.where(OrgApiKey.org_id == org_id)
    result = await session.execute(query.values(revoked_at=now, revoked_by=by))
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_person_rows(
    session: AsyncSession, *, person_id: UUID, phone: str, placeholder: str, now: datetime
) -> dict[str, int]:
    """The identity rows around an erased account: sessions, API tokens, bound accounts,
    memberships and one-time codes go; invitations to the number name ``placeholder``
    (those waiting are revoked); consents keep what was agreed and when, not where from.
    How many rows of each went or changed."""

    async def count(statement: Any) -> int:
        result = await session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    removed = {
        "web_sessions": await count(delete(WebSession).where(WebSession.person_id == person_id)),
        "api_tokens": await count(delete(ApiToken).where(ApiToken.person_id == person_id)),
        "platform_accounts": await count(
            delete(PlatformAccount).where(PlatformAccount.person_id == person_id)
        ),
        "memberships": await count(delete(Membership).where(Membership.person_id == person_id)),
        "api_keys_revoked": await revoke_keys_made_by(
            session, person_id=person_id, now=now, by=None
        ),
        "sms_codes": await count(delete(SmsCode).where(SmsCode.phone == phone)),
    }
    await session.execute(
        update(Invitation)
        .where(Invitation.phone == phone, Invitation.status == "pending")
        .values(status="revoked", responded_at=now)
    )
    removed["invitations"] = await count(
        update(Invitation).where(Invitation.phone == phone).values(phone=placeholder)
    )
    await session.execute(
        update(Consent).where(Consent.person_id == person_id).values(ip=None, user_agent=None)
    )
    return removed


async def hold_open_organisation(session: AsyncSession, org_id: UUID) -> Organisation:
    """The organisation, held (FOR SHARE) until the transaction ends, or ``NotFound`` /
    ``OrganisationClosed``. Whatever adds to an organisation (a campaign, a top-up, a key,
    an endpoint, a member, a creator) holds it first, so that closing it, which takes it
    FOR UPDATE, comes wholly before or wholly after: never a closed organisation with
    something new in it."""
    org = await session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if org is None:
        raise NotFound(detail=N_("No such organisation."))
    if org.closed_at is not None:
        raise OrganisationClosed(
            detail=N_("{name} was closed; nothing can be added to it."), extra={"name": org.name}
        )
    return org


async def invitation_org(session: AsyncSession, invitation_id: UUID) -> UUID | None:
    """The organisation an invitation is to, read without locking anything."""
    found: UUID | None = await session.scalar(
        select(Invitation.org_id).where(Invitation.id == invitation_id)
    )
    return found


async def end_sessions_and_tokens(session: AsyncSession, person_id: UUID, *, now: datetime) -> int:
    """Sign the person out everywhere: their web sessions end and their API tokens stop
    working (kept, revoked). How many there were."""
    sessions = await session.execute(delete(WebSession).where(WebSession.person_id == person_id))
    tokens = await session.execute(
        update(ApiToken)
        .where(ApiToken.person_id == person_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(sessions.rowcount or 0) + int(tokens.rowcount or 0)  # type: ignore[attr-defined]
