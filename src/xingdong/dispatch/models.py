"""Tables of the dispatch domain: the feeds each person was shown, what they hid, and the
weights operators set."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    String,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin


class ShownFeed(Base):
    """One feed shown to one person: its tasks from the top and the reason shown with each
    (written in batches, a second or so after the feed was served). The data of the
    completion model, CPM billing and brand reach; a campaign's showings are the feeds
    whose ``campaign_ids`` hold it.

    One row a feed, not one a task: the log grows by one row per request, and a row
    carries no per-task index entries or foreign-key checks (which cost the database more
    than the feed request itself)."""

    __tablename__ = "dispatch_shown_feeds"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    campaign_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    """The tasks shown, the first item of the feed first."""
    reasons: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    """The reason code shown with each (``dispatch.reasons.ITEM_REASONS``)."""

    __table_args__ = (
        CheckConstraint("cardinality(campaign_ids) = cardinality(reasons)", "reason_each"),
        Index("ix_dispatch_shown_feeds_person", "person_id", "shown_at"),
        Index("ix_dispatch_shown_feeds_shown_at", "shown_at"),
    )


class CampaignShowings(Base):
    """How many feeds showed a campaign, per hour: what its brand sees, and the count CPM
        billing needs. The exposure writer adds the counts of the feeds it has written every
    ten seconds.
        No foreign key: counting must not wait behind a claim's lock on the campaign's row."""

    __tablename__ = "dispatch_campaign_showings"

    campaign_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    """The start of the hour (UTC) the feeds were shown in."""
    shown: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("shown > 0", "shown_positive"),)


class FeedHide(CreatedAtMixin, Base):
    """A task or a whole brand a person asked not to see again."""

    __tablename__ = "dispatch_feed_hides"

    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    """``campaign`` or ``brand`` (an organisation)."""
    ref: Mapped[UUID] = mapped_column(primary_key=True)
    """The campaign's or the organisation's id."""

    __table_args__ = (CheckConstraint("kind IN ('campaign', 'brand')", "kind"),)


class SeededPrice(Base):
    """A campaign's pacing price from the optimum of the last day's traffic, written by the
    nightly job (:mod:`xingdong.dispatch.nightly`); every serving process starts the
    campaign's price there when a new seeding appears."""

    __tablename__ = "dispatch_seeded_prices"

    campaign_id: Mapped[UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    price: Mapped[float] = mapped_column(Double)
    """The dual price of one unit as a share of the unit price (0 = not scarce)."""
    seeded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    __table_args__ = (CheckConstraint("price >= 0", "price_not_negative"),)


class WeightChange(Base):
    """The feed's weights as an operator set them on the feed console: those that differ
    from the setting ``XINGDONG_DISPATCH_WEIGHTS`` (an empty set: back to the setting).
    The latest row is in force; the rows before it are the history."""

    __tablename__ = "dispatch_weight_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    weights: Mapped[dict[str, float]] = mapped_column(JSONB)
    note: Mapped[str] = mapped_column(String(500))
    changed_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
