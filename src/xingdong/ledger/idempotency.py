"""One ``Idempotency-Key`` namespace per person, across every kind of keyed request.

Each kind of request keeps its own record of what a key did, and answers a retry from it
(the same deposit, the same withdrawal …). This registry sits in front of them: the first
use of a key names its kind, and the same key on another kind of request is refused, so a
key reused by mistake never moves money a second time.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.i18n import N_
from xingdong.ledger.errors import IdempotencyKeyReused
from xingdong.ledger.models import IdempotencyKeyUse

KeyedKind = Literal["top_up", "refund", "campaign", "withdrawal", "claim", "draft"]


async def claim_key(
    session: AsyncSession,
    *,
    person_id: UUID,
    key: str,
    kind: KeyedKind,
    request_hash: str | None = None,
) -> IdempotencyKeyUse | None:
    """Record the key's first use for ``kind`` in this transaction (None), or check that
    its earlier use was of the same kind, and of the same request where ``request_hash``
    is kept, and answer it (its own record, or ``object_id``, then answers the retry). A
    parallel first use with the same key waits here for the other's transaction."""
    inserted = await session.execute(
        insert(IdempotencyKeyUse)
        .values(person_id=person_id, key=key, kind=kind, request_hash=request_hash)
        .on_conflict_do_nothing(index_elements=["person_id", "key"])
        .returning(IdempotencyKeyUse.kind)
    )
    if inserted.first() is not None:
        return None
    earlier = await session.scalar(
        select(IdempotencyKeyUse).where(
            IdempotencyKeyUse.person_id == person_id, IdempotencyKeyUse.key == key
        )
    )
    assert earlier is not None
    if earlier.kind != kind:
        raise IdempotencyKeyReused(
            detail=N_("This idempotency key was used for another kind of request."),
            extra={"used_for": earlier.kind},
        )
    if earlier.request_hash is not None and earlier.request_hash != request_hash:
        raise IdempotencyKeyReused(
            detail=N_("This idempotency key was used for a different request.")
        )
    return earlier


async def remember_object(
    session: AsyncSession, *, person_id: UUID, key: str, object_id: UUID
) -> None:
    """What the key's first request made, for a retry to answer with."""
    await session.execute(
        update(IdempotencyKeyUse)
        .where(IdempotencyKeyUse.person_id == person_id, IdempotencyKeyUse.key == key)
        .values(object_id=object_id)
    )
