"""Assignments (one person doing one unit of a campaign) and disputes about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    and_,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin, IdMixin

ASSIGNMENT_STATUSES = (
    "claimed",
    "submitted",
    "approved",
    "released",
    "clawed_back",
    "rejected",
    "expired",
    "disputed",
)


class Assignment(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "assignments"

    campaign_id: Mapped[UUID] = mapped_column(ForeignKey("campaigns.id"), index=True)
    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id"), index=True)
    actor_handle: Mapped[str] = mapped_column(String(40))
    """The person's bound account on the campaign's platform when they claimed."""
    status: Mapped[str] = mapped_column(String(20), server_default=text("'claimed'"))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reward_reservation: Mapped[int] = mapped_column(BigInteger)
    """The ledger's pending transfer of the reward (escrow → the worker's pending)."""
    fee_reservation: Mapped[int | None] = mapped_column(BigInteger)
    """The pending transfer of the platform fee (escrow → platform revenue), if any."""

    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evidence_file_id: Mapped[UUID | None] = mapped_column(ForeignKey("evidence_files.id"))
    evidence_link: Mapped[str | None] = mapped_column(String(300))
    evidence_note: Mapped[str | None] = mapped_column(String(500))
    verification: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    """What the platform connector said at submission (status, detail, seconds)."""
    risk_score: Mapped[int] = mapped_column(server_default=text("0"))
    risk_reasons: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'"))

    reviewed_by: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_reason: Mapped[str | None] = mapped_column(String(40))
    review_note: Mapped[str | None] = mapped_column(String(500))
    hold_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hold_check: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The latest look in the hold at whether the action is still there (the periodic
    ``work:check_holds`` or the worker's own check): ``status``, ``detail``,
    ``at_hold_end``, ``settle_reason``."""
    hold_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the reward was released to available or clawed back."""
    settle_reason: Mapped[str | None] = mapped_column(String(40))
    disputed_from: Mapped[str | None] = mapped_column(String(20))
    """``rejected`` (the worker appeals) or ``approved`` (the brand contests)."""

    __table_args__ = (
        CheckConstraint(f"status IN {ASSIGNMENT_STATUSES}", "status"),
        CheckConstraint(
            "disputed_from IS NULL OR disputed_from IN ('rejected', 'approved')", "disputed_from"
        ),
        CheckConstraint("reviewed_by IS NULL OR reviewed_by <> person_id", "not_own_review"),
        Index("ix_assignments_queue", "status", "risk_score", "submitted_at"),
        Index("ix_assignments_expiry", "status", "expires_at"),
        Index("ix_assignments_hold", "status", "hold_until"),
        # Who may see an evidence file is decided by the assignment that holds it.
        Index("ix_assignments_evidence_file", "evidence_file_id"),
        # Dispatch learns from the claims made since it last looked.
        Index("ix_assignments_claimed_at", "claimed_at"),
    )


CLAIM_COUNTS = Assignment.status != "expired"
"""A claim counts against the person's limit (and the pacing cap) unless it expired."""
HOLDS_UNIT = or_(
    Assignment.status.in_(("claimed", "submitted", "approved", "released")),
    and_(Assignment.status == "disputed", Assignment.disputed_from == "approved"),
)
"""A claim holds one of its campaign's units: open, or done and not taken back. A rejected,
expired or clawed-back one gave its unit back (an appeal that wins takes one again), as
``Campaign.units_open`` and ``units_done`` count them."""


class Dispute(IdMixin, CreatedAtMixin, Base):
    """A worker appealing a rejection, or a brand contesting an approval."""

    __tablename__ = "disputes"

    assignment_id: Mapped[UUID] = mapped_column(ForeignKey("assignments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    """``appeal`` (by the worker) or ``contest`` (by the brand)."""
    raised_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), server_default=text("'open'"))
    """``open``, ``upheld`` (the complaint was right) or ``dismissed``."""
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("kind IN ('appeal', 'contest')", "kind"),
        CheckConstraint("status IN ('open', 'upheld', 'dismissed')", "status"),
        CheckConstraint("decided_by IS NULL OR decided_by <> raised_by", "not_own_decision"),
        Index(
            "uq_disputes_one_open",
            "assignment_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )


class GoldItem(IdMixin, CreatedAtMixin, Base):
    """A review item whose right answer is known, mixed into reviewers' queues to measure
    their accuracy. Made by an operator from a decided submission."""

    __tablename__ = "gold_items"

    source_assignment_id: Mapped[UUID] = mapped_column(ForeignKey("assignments.id"))
    expected_approve: Mapped[bool]
    expected_reason: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    active: Mapped[bool] = mapped_column(server_default=text("true"))

    __table_args__ = (Index("uq_gold_items_source", "source_assignment_id", unique=True),)


class GoldAnswer(IdMixin, CreatedAtMixin, Base):
    """A reviewer's answer to a gold item (each reviewer answers an item once)."""

    __tablename__ = "gold_answers"

    gold_item_id: Mapped[UUID] = mapped_column(ForeignKey("gold_items.id"))
    reviewer_id: Mapped[UUID] = mapped_column(ForeignKey("people.id"), index=True)
    approve: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(40))
    correct: Mapped[bool]

    __table_args__ = (Index("uq_gold_answers_once", "gold_item_id", "reviewer_id", unique=True),)
