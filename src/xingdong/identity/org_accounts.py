"""The short-video accounts an organisation has linked: the accounts its campaigns promote
as its own.

Linking asks the platform, which lets it only when the organisation, or the owner linking
it, manages the account (on a real platform the account's owner authorises the link). A
campaign whose target belongs to an account the organisation has not linked is flagged by
the compliance check (``target_not_linked``): a shoot task or a profile ad cannot be
submitted, any other task goes to the approving operator with the flag. An agency may also
promote the accounts its creators have bound while their contracts are in force.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.errors import FieldError, NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.policy import Action, Actor, require
from xingdong.creators.models import AgencyContract
from xingdong.identity import repository as repo
from xingdong.identity.errors import TooManyAccounts
from xingdong.identity.models import OrgPlatformAccount, PlatformAccount
from xingdong.platforms.connector import answered_in_time, get_connector

MAX_LINKED_ACCOUNTS = 50


def org_claimant(org_id: UUID) -> str:
    """How the platform knows the organisation: the claimant it records as the manager
    of the accounts it links."""
    return f"org:{org_id}"


async def link_account(
    session: AsyncSession, *, actor: Actor, org_id: UUID, platform: str, handle: str
) -> tuple[OrgPlatformAccount, bool]:
    """Link ``handle`` on ``platform`` to the organisation (owners): the link, and whether
    it is new. Linking an account already linked changes nothing."""
    require(actor, Action.ORG_LINK_ACCOUNTS, org_id=org_id)
    connector = get_connector(platform)
    typed = handle.strip()
    if not typed:
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("handle", N_("Enter the account's @handle or address."))],
        )
    await repo.hold_open_organisation(session, org_id)
    # Counted under the owners' lock, so parallel links cannot both take the last place.
    await repo.lock_owners(session, org_id)
    count = await session.scalar(
        select(func.count())
        .select_from(OrgPlatformAccount)
        .where(OrgPlatformAccount.org_id == org_id)
    )
    # Refused before the platform is asked, which would record the organisation as the
    # account's manager.
    if (count or 0) >= MAX_LINKED_ACCOUNTS and not await _link(
        session, org_id, platform, typed.lstrip("@")
    ):
        raise TooManyAccounts(
            detail=N_("Unlink an account you no longer promote first (at most {limit})."),
            extra={"limit": MAX_LINKED_ACCOUNTS},
        )
    info = await answered_in_time(
        platform,
        connector.authorise_org_link(typed, claimants=(org_claimant(org_id), str(actor.person_id))),
    )
    existing = await _link(session, org_id, platform, info.handle)
    if existing is not None:
        return existing, False
    await session.execute(
        insert(OrgPlatformAccount)
        .values(org_id=org_id, platform=platform, handle=info.handle, linked_by=actor.person_id)
        .on_conflict_do_nothing()
    )
    linked = await _link(session, org_id, platform, info.handle)
    assert linked is not None
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="identity.account_linked",
        object_type="organisation",
        object_id=org_id,
        data={"platform": platform, "handle": info.handle},
    )
    return linked, True


async def _link(
    session: AsyncSession, org_id: UUID, platform: str, handle: str
) -> OrgPlatformAccount | None:
    return await session.scalar(
        select(OrgPlatformAccount).where(
            OrgPlatformAccount.org_id == org_id,
            OrgPlatformAccount.platform == platform,
            OrgPlatformAccount.handle == handle,
        )
    )


async def unlink_account(
    session: AsyncSession, *, actor: Actor, org_id: UUID, link_id: UUID
) -> OrgPlatformAccount:
    """Unlink an account (owners). Campaigns already made on it go on; new ones are
    flagged as for any account not linked."""
    require(actor, Action.ORG_LINK_ACCOUNTS, org_id=org_id)
    row = await session.get(OrgPlatformAccount, link_id, with_for_update=True)
    if row is None or row.org_id != org_id:
        raise NotFound(detail=N_("No such linked account."))
    await session.execute(delete(OrgPlatformAccount).where(OrgPlatformAccount.id == row.id))
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="identity.account_unlinked",
        object_type="organisation",
        object_id=org_id,
        data={"platform": row.platform, "handle": row.handle},
    )
    return row


async def linked_accounts(
    session: AsyncSession, *, actor: Actor, org_id: UUID
) -> list[OrgPlatformAccount]:
    """The organisation's linked accounts, by platform and handle (members and staff)."""
    require(actor, Action.ORG_READ, org_id=org_id)
    rows = await session.scalars(
        select(OrgPlatformAccount)
        .where(OrgPlatformAccount.org_id == org_id)
        .order_by(OrgPlatformAccount.platform, OrgPlatformAccount.handle)
    )
    return list(rows)


async def may_promote(session: AsyncSession, *, org_id: UUID, platform: str, handle: str) -> bool:
    """Whether the organisation's campaigns may promote ``handle`` as their own: it has
    linked the account, or (an agency) one of its creators under contract has bound it."""
    linked = exists().where(
        OrgPlatformAccount.org_id == org_id,
        OrgPlatformAccount.platform == platform,
        OrgPlatformAccount.handle == handle,
    )
    managed = exists().where(
        AgencyContract.org_id == org_id,
        AgencyContract.status == "active",
        PlatformAccount.person_id == AgencyContract.person_id,
        PlatformAccount.platform == platform,
        PlatformAccount.handle == handle,
    )
    return bool(await session.scalar(select(linked | managed)))
