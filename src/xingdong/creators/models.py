"""Tables of the creators domain: agencies' (MCN) contracts with creators."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin, IdMixin

MAX_SHARE_PERCENT = 50
"""An agency takes at most half of a creator's task rewards: more would leave the person
doing the work paid less than the agency that manages them."""


class AgencyContract(IdMixin, CreatedAtMixin, Base):
    """An agency's offer to manage a creator for a share of their task rewards, and, once
    the creator accepts, the contract itself.

    The share applies to the rewards of tasks the creator took while the contract was in
    force (claimed between ``started_at`` and ``ended_at``), paid to the agency when each
    reward leaves its hold."""

    __tablename__ = "agency_contracts"

    org_id: Mapped[UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    """The creator's phone number, as the offer was addressed (E.164)."""
    person_id: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"), index=True)
    """The creator, once they have accepted."""
    share_percent: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), server_default=text("'offered'"))
    """``offered``, ``active``, ``declined``, ``withdrawn`` (by the agency before an
    answer) or ``ended`` (by either side)."""
    offered_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the creator declined, the agency withdrew or either side ended it."""
    ended_by: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (
        CheckConstraint(f"share_percent BETWEEN 1 AND {MAX_SHARE_PERCENT}", "share"),
        CheckConstraint(
            "status IN ('offered', 'active', 'declined', 'withdrawn', 'ended')",
            "status",
        ),
        CheckConstraint(
            "status NOT IN ('active', 'ended')"
            " OR (person_id IS NOT NULL AND started_at IS NOT NULL)",
            "signed",
        ),
        # A creator is managed by one agency at a time.
        Index(
            "uq_agency_contracts_active_person",
            "person_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        # One open offer or contract per agency and number.
        Index(
            "uq_agency_contracts_open",
            "org_id",
            "phone",
            unique=True,
            postgresql_where=text("status IN ('offered', 'active')"),
        ),
    )
