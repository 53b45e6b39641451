"""One ``Idempotency-Key`` namespace per person, across every kind of keyed request.

Each kind of request keeps its own record of what a key did, and answers a retry from it
(the same deposit, the same withdrawal …). This registry sits in front of them: the first
use of a key names its kind, and the same key on another kind of request is refused, so a
key reused by mistake never moves money a second time.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.i18n import N_
from xingdong.ledger.errors import IdempotencyKeyReused
from xingdong.ledger.models import IdempotencyKeyUse

KeyedKind = Literal["top_up", "refund", "campaign", "withdrawal", "claim"]


async def claim_key(session: AsyncSession, *, person_id: UUID, key: str, kind: KeyedKind) -> None:
    """Record the key's first use for ``kind`` in this transaction, or check that its
    earlier use was of the same kind (whose own record then answers the retry). A
    parallel first use with the same key waits here for the other's transaction."""
    inserted = await session.execute(
        insert(IdempotencyKeyUse)
        .values(person_id=person_id, key=key, kind=kind)
        .on_conflict_do_nothing(index_elements=["person_id", "key"])
        .returning(IdempotencyKeyUse.kind)
    )
    if inserted.first() is not None:
        return
    used_for = await session.scalar(
        select(IdempotencyKeyUse.kind).where(
            IdempotencyKeyUse.person_id == person_id, IdempotencyKeyUse.key == key
        )
    )
    if used_for != kind:
        raise IdempotencyKeyReused(
            detail=N_("This idempotency key was used for another kind of request."),
            extra={"used_for": used_for},
        )
