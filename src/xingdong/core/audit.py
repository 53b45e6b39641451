"""The append-only audit log: every staff action and every money movement.

The database refuses UPDATE and DELETE on this table (a trigger in the migration), so a
row once written stays as it was.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Identity, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.context import current_api_key
from xingdong.core.db import Base, CreatedAtMixin


class AuditEntry(CreatedAtMixin, Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    """Sequence number: the order entries were written in."""
    actor_id: Mapped[UUID | None] = mapped_column(index=True)
    """The person who acted; empty for the system (jobs, the command line)."""
    action: Mapped[str] = mapped_column(String(64))
    """What was done, as ``domain.verb`` (``identity.staff_granted``)."""
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """What changed, for a person reading the log later."""


async def record_audit(
    session: AsyncSession,
    *,
    actor_id: UUID | None,
    action: str,
    object_type: str,
    object_id: object,
    data: dict[str, Any] | None = None,
) -> None:
    recorded = dict(data or {})
    key = current_api_key.get()
    if key is not None:
        recorded["api_key"] = str(key)
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=recorded,
        )
    )
