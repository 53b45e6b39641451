"""Operators search the audit log (``/ops/audit``, ``GET /api/v1/ops/audit``): by what was
done, what it was done to, and who did it, newest first, a page at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import AuditEntry
from xingdong.core.errors import FieldError, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.money import yuan
from xingdong.core.pagination import CursorPage, sequence_cursor, sequence_cut
from xingdong.core.policy import Action, Actor, require
from xingdong.identity import repository as identity_repo
from xingdong.identity.models import Person
from xingdong.identity.validation import mask_phone, normalise_phone

PAGE_SIZE = 50
SYSTEM = "system"
"""What to type as the actor for entries no person wrote (jobs, the command line)."""


@dataclass(frozen=True)
class AuditPage(CursorPage[AuditEntry]):
    actor_unknown: bool = False
    """The actor asked for is no one: nothing can match."""
    actors: dict[UUID, str] = field(default_factory=dict)
    """Who wrote the entries shown: each person's name and masked phone number."""


MONEY_KEYS = frozenset({"amount", "fee", "available", "balance", "net"})
"""Keys of an entry's data that hold an amount in fen (so do keys ending in ``_fen``)."""


def audit_details(data: dict[str, Any]) -> list[tuple[str, str]]:
    """An entry's data as people read it: amounts in yuan, lists joined, empty values
    left out, in the order of the keys."""
    shown: list[tuple[str, str]] = []
    for key, value in sorted(data.items()):
        if value is None or value in ("", [], {}):
            continue
        is_money = key in MONEY_KEYS or key.endswith("_fen")
        if is_money and isinstance(value, int) and not isinstance(value, bool):
            text = "¥" + yuan(value)
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            text = str(value)
        shown.append((key, text))
    return shown


async def _actor_id(session: AsyncSession, who: str) -> UUID | str | None:
    """The person ``who`` names (an id or a phone number), ``SYSTEM``, or None for no one."""
    try:
        return UUID(who)
    except ValueError:
        pass
    if who.lower() == SYSTEM:
        return SYSTEM
    phone = normalise_phone(who)
    if phone is None:
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("actor", N_("A phone number, a person's id or “system”."))],
        )
    person = await identity_repo.person_by_phone(session, phone)
    return person.id if person else None


async def search_audit(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str = "",
    object_id: str = "",
    who: str = "",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """Entries whose action starts with ``action`` (``identity.`` or a whole action),
    about ``object_id`` exactly, written by ``who``; newest first."""
    require(actor, Action.STAFF_CONSOLE)
    query = select(AuditEntry)
    if action.strip():
        query = query.where(AuditEntry.action.startswith(action.strip().lower(), autoescape=True))
    if object_id.strip():
        query = query.where(AuditEntry.object_id == object_id.strip())
    if who.strip():
        found = await _actor_id(session, who.strip())
        if found is None:
            return AuditPage(items=[], next_cursor=None, actor_unknown=True)
        if found == SYSTEM:
            query = query.where(AuditEntry.actor_id.is_(None))
        else:
            query = query.where(AuditEntry.actor_id == found)
    below = sequence_cursor(cursor)
    if below is not None:
        query = query.where(AuditEntry.id < below)
    fetched = list(await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    rows, next_cursor = sequence_cut(fetched, limit, lambda e: e.id)
    return AuditPage(
        items=rows,
        next_cursor=next_cursor,
        actors=await _actor_names(session, {e.actor_id for e in rows if e.actor_id}),
    )


async def _actor_names(session: AsyncSession, ids: set[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    people = await session.execute(
        select(Person.id, Person.display_name, Person.phone, Person.erased_at).where(
            Person.id.in_(ids)
        )
    )
    return {
        pid: name if erased else f"{name} ({mask_phone(phone)})"
        for pid, name, phone, erased in people
    }
