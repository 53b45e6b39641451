"""Campaigns: what a brand pays people to do, for how many, for whom, at what pace."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin, IdMixin

CAMPAIGN_STATUSES = ("draft", "pending_approval", "live", "paused", "rejected", "closed")
REVIEW_POLICIES = ("auto_when_verified", "manual")


class Campaign(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "campaigns"

    org_id: Mapped[UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    title: Mapped[str] = mapped_column(String(80))
    task_type: Mapped[str] = mapped_column(String(20))
    platform: Mapped[str] = mapped_column(String(20))
    target_kind: Mapped[str] = mapped_column(String(20))
    target_ref: Mapped[str] = mapped_column(String(80))
    """The handle, video id or room id, as the platform connector resolved it."""
    target_title: Mapped[str] = mapped_column(String(120))
    target_url: Mapped[str] = mapped_column(String(300))
    target_owner: Mapped[str | None] = mapped_column(String(40))
    """The handle of the account the target belongs to, as the platform said when the
    campaign was made (None for campaigns made before it was kept)."""
    target_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    """For a purchase task: the product's price when the campaign was made, which the
    reward is checked against."""
    brief: Mapped[str] = mapped_column(Text)
    disclosure: Mapped[str] = mapped_column(String(200))
    comment_guidance: Mapped[str | None] = mapped_column(Text)

    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    """What the brand pays per completion, in fen: ``reward`` + ``fee``."""
    reward: Mapped[int] = mapped_column(BigInteger)
    """What the worker earns per completion."""
    fee: Mapped[int] = mapped_column(BigInteger)
    """The platform's share per completion."""
    per_person_limit: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    regions: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{}'::varchar[]")
    )
    interests: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{}'::varchar[]")
    )
    tiers: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{}'::varchar[]")
    )
    category: Mapped[str | None] = mapped_column(String(20))
    """What the target is about, one of the interests people choose from (None: not said).
    It targets nobody: the feed learns who takes tasks of each category, and tells
    people it matches their interest."""
    quality_plan: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """In the quality-task plan: operators chose it as a task worth showing before others
    (the feed's ``quality_boost``)."""
    pacing_per_hour: Mapped[int | None] = mapped_column(Integer)
    """At most this many claims per hour on the target, across all campaigns on it."""
    min_watch_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    min_stay_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    review_policy: Mapped[str] = mapped_column(
        String(24), server_default=text("'auto_when_verified'")
    )

    status: Mapped[str] = mapped_column(String(20), server_default=text("'draft'"))
    compliance: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    """The automatic check's findings at the last submission."""
    funding_round: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """How many times the campaign was funded (a rejected one can be resubmitted)."""
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    units_open: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Claimed or submitted, not yet decided: budget reserved for them."""
    units_done: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Approved (in hold or released): paid for."""
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()")
    )
    """When the row last changed: a trigger sets it on every write (migration
    ``9c4a7e2f1b38``), so the feed's index reads only what moved. Not indexed (see the
    migration), and not refreshed on a loaded object when it is updated."""

    __table_args__ = (
        CheckConstraint(f"status IN {CAMPAIGN_STATUSES}", "status"),
        CheckConstraint(f"review_policy IN {REVIEW_POLICIES}", "review_policy"),
        CheckConstraint("quantity > 0", "quantity_positive"),
        CheckConstraint("unit_price > 0 AND reward > 0 AND fee >= 0", "prices"),
        CheckConstraint("reward + fee = unit_price", "price_split"),
        CheckConstraint("per_person_limit >= 1", "per_person_limit"),
        CheckConstraint("ends_at > starts_at", "window"),
        CheckConstraint(
            "units_open >= 0 AND units_done >= 0 AND units_open + units_done <= quantity",
            "units_within_quantity",
        ),
        Index("ix_campaigns_target", "platform", "target_kind", "target_ref"),
        Index("ix_campaigns_status", "status"),
    )
