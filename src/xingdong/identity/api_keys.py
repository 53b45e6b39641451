"""Organisations' API keys: how a brand's own systems call the API for it.

A key is shown once, when it is made; only its digest is kept. On each request it acts for
its organisation alone, with the role its creator holds there *now* (a creator who has
left takes the key's rights away with them), and never with the rights in
``policy.KEYS_NEVER``; a ``read`` key may only read.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core import security
from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.policy import Action, Actor, OrgRole, require
from xingdong.core.text import CONTROL_CHARACTERS, has_control_characters
from xingdong.identity import repository as repo
from xingdong.identity.errors import SessionExpired, TooManyKeys
from xingdong.identity.models import OrgApiKey

KEY_PREFIX = "xdk_"
ACCESS_LEVELS = ("read", "write")
MAX_ACTIVE_KEYS = 20
LAST_USED_GRANULARITY = timedelta(minutes=1)
"""How stale ``last_used_at`` may be: a busy key is not written on every request."""


def is_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def _checked(name: str, access: str) -> str:
    errors: list[FieldError] = []
    clean = " ".join(name.split())
    if not 1 <= len(clean) <= 60:
        errors.append(FieldError("name", N_("Use 1 to 60 characters.")))
    elif has_control_characters(clean):
        errors.append(FieldError("name", CONTROL_CHARACTERS))
    if access not in ACCESS_LEVELS:
        errors.append(FieldError("access", N_("Choose read or write.")))
    if errors:
        raise ValidationFailed(detail=errors[0].message, fields=errors)
    return clean


async def create_key(
    session: AsyncSession, *, actor: Actor, org_id: UUID, name: str, access: str
) -> tuple[str, OrgApiKey]:
    """A new key for the organisation (owners); the key itself is returned this once."""
    require(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id)
    clean = _checked(name, access)
    await repo.hold_open_organisation(session, org_id)
    # Counted under the organisation's owner rows' lock, so parallel requests cannot both
    # take the last place.
    await repo.lock_owners(session, org_id)
    active = await session.scalar(
        select(func.count())
        .select_from(OrgApiKey)
        .where(OrgApiKey.org_id == org_id, OrgApiKey.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_KEYS:
        raise TooManyKeys(
            detail=N_("Revoke a key you no longer use first (at most {limit} keys)."),
            extra={"limit": MAX_ACTIVE_KEYS},
        )
    token = KEY_PREFIX + security.new_token()
    row = OrgApiKey(
        org_id=org_id,
        name=clean,
        prefix=token[:12],
        token_digest=security.token_digest(token),
        access=access,
        created_by=actor.person_id,
    )
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="identity.api_key_created",
        object_type="organisation",
        object_id=org_id,
        data={"key": str(row.id), "name": clean, "access": access},
    )
    return token, row


async def revoke_key(
    session: AsyncSession, *, actor: Actor, org_id: UUID, key_id: UUID
) -> OrgApiKey:
    """Stop a key working at once (owners). Revoking a revoked key changes nothing."""
    require(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id)
    row = await session.get(OrgApiKey, key_id, with_for_update=True, populate_existing=True)
    if row is None or row.org_id != org_id:
        raise NotFound(detail=N_("No such API key."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_by = actor.person_id
        await record_audit(
            session,
            actor_id=actor.person_id,
            action="identity.api_key_revoked",
            object_type="organisation",
            object_id=org_id,
            data={"key": str(row.id), "name": row.name},
        )
        await session.flush()
    return row


async def keys_of(
    session: AsyncSession, *, actor: Actor, org_id: UUID, include_revoked: bool = False
) -> list[OrgApiKey]:
    """The organisation's keys, newest first (owners)."""
    require(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id)
    query = select(OrgApiKey).where(OrgApiKey.org_id == org_id)
    if not include_revoked:
        query = query.where(OrgApiKey.revoked_at.is_(None))
    rows = await session.scalars(query.order_by(OrgApiKey.created_at.desc(), OrgApiKey.id.desc()))
    return list(rows)


async def actor_for_key(session: AsyncSession, *, token: str) -> tuple[Actor, OrgApiKey]:
    """Who a request signed with this key is: its creator's current role in its
    organisation, and nothing else. A revoked key, or one whose creator has left or been
    deactivated, is refused like an expired token."""
    row = await session.scalar(
        select(OrgApiKey).where(OrgApiKey.token_digest == security.token_digest(token))
    )
    refused = SessionExpired(detail=N_("The API key is not valid or has been revoked."))
    if row is None or row.revoked_at is not None:
        raise refused
    creator = await repo.person_by_id(session, row.created_by)
    # The maker's row before their membership's, as an erasure takes them: an erasure
    # under way finishes first, and the key is then refused.
    if not await repo.hold_active(session, row.created_by):
        raise refused
    member = await repo.membership(session, row.org_id, row.created_by)
    # A membership younger than the key means its maker left and came back: leaving
    # ended the key for good.
    if (
        creator is None
        or not creator.is_active
        or member is None
        or member.created_at > row.created_at
    ):
        raise refused
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRANULARITY:
        # Whichever request comes first writes it; the others do not wait for its lock.
        stale = await session.scalar(
            select(OrgApiKey.id).where(OrgApiKey.id == row.id).with_for_update(skip_locked=True)
        )
        if stale is not None:
            await session.execute(
                update(OrgApiKey).where(OrgApiKey.id == row.id).values(last_used_at=now)
            )
    actor = Actor(
        person_id=row.created_by,
        memberships={row.org_id: OrgRole(member.role)},
        api_key_id=row.id,
    )
    return actor, row
