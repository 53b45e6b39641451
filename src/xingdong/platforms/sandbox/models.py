"""Tables of the sandbox platform. They are the simulated platform's own records; the
rest of Xingdong reads them only through the connector, as it would a real platform."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin, IdMixin

_ACCOUNT_FK = "sandbox_accounts.id"


class SandboxAccount(IdMixin, CreatedAtMixin, Base):
    """An account on the sandbox platform (a person's channel or a brand's)."""

    __tablename__ = "sandbox_accounts"

    handle: Mapped[str] = mapped_column(String(40), unique=True)
    """The public name after ``@``; what Xingdong binds and targets."""
    display_name: Mapped[str] = mapped_column(String(40))
    bio: Mapped[str] = mapped_column(String(200), server_default=text("''"))
    followers: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Follower count as the platform shows it: the starting audience plus follows made here."""
    opened_by: Mapped[str | None] = mapped_column(String(64))
    """Who opened it by binding it on Xingdong (the person's id, opaque to the platform);
    None for the platform's own accounts (brands, creators). Only its opener can bind it,
    as on a real platform only the account's owner can authorise the binding."""

    __table_args__ = (CheckConstraint("followers >= 0", "followers"),)


class SandboxVideo(IdMixin, CreatedAtMixin, Base):
    """A video posted by an account (the brand's, a creator's, or a worker's own for a
    ``shoot`` task)."""

    __tablename__ = "sandbox_videos"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), server_default=text("''"))
    """Free text; ``@handle`` in it mentions another account."""
    duration_seconds: Mapped[int] = mapped_column(Integer, server_default=text("30"))
    views: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    likes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Shown like count: the starting count plus likes made here, minus those taken back."""
    comments: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    shares: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Set when the owner deletes the video; it then disappears from every page."""

    __table_args__ = (
        CheckConstraint("duration_seconds > 0", "duration_positive"),
        CheckConstraint(
            "views >= 0 AND likes >= 0 AND comments >= 0 AND shares >= 0", "counts_not_negative"
        ),
        Index("ix_sandbox_videos_created_at_id", "created_at", "id"),
    )


class SandboxLiveRoom(IdMixin, CreatedAtMixin, Base):
    """An account's live room; people can enter it while it is live."""

    __tablename__ = "sandbox_live_rooms"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    is_live: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    visitors: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Visits so far (each entry counts once)."""

    __table_args__ = (CheckConstraint("visitors >= 0", "visitors"),)


class SandboxFollow(CreatedAtMixin, Base):
    """One account following another; deleted when it unfollows."""

    __tablename__ = "sandbox_follows"

    follower_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), primary_key=True
    )
    followee_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), primary_key=True, index=True
    )

    __table_args__ = (CheckConstraint("follower_id <> followee_id", "not_self"),)


class SandboxLike(CreatedAtMixin, Base):
    """One account liking a video; deleted when it takes the like back."""

    __tablename__ = "sandbox_likes"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), primary_key=True
    )
    video_id: Mapped[UUID] = mapped_column(
        ForeignKey("sandbox_videos.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    watched_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """How long the video had been watched when it was liked."""

    __table_args__ = (CheckConstraint("watched_seconds >= 0", "watched_seconds"),)


class SandboxComment(IdMixin, CreatedAtMixin, Base):
    """A comment on a video. Deleting one only marks it, so its history stays."""

    __tablename__ = "sandbox_comments"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), index=True
    )
    video_id: Mapped[UUID] = mapped_column(ForeignKey("sandbox_videos.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(300))
    """The comment as its author wrote it."""
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_sandbox_comments_video_created", "video_id", "created_at"),)


class SandboxShare(IdMixin, CreatedAtMixin, Base):
    """A video shared by an account to a channel; a share cannot be taken back."""

    __tablename__ = "sandbox_shares"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), index=True
    )
    video_id: Mapped[UUID] = mapped_column(
        ForeignKey("sandbox_videos.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))
    """``wechat`` (a friend), ``moments`` (朋友圈) or ``link`` (copied link)."""

    __table_args__ = (CheckConstraint("channel IN ('wechat', 'moments', 'link')", "channel"),)


class SandboxLiveVisit(IdMixin, CreatedAtMixin, Base):
    """One stay of an account in a live room: from entering (``created_at``) to leaving,
    measured by the page's heartbeats."""

    __tablename__ = "sandbox_live_visits"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), index=True
    )
    room_id: Mapped[UUID] = mapped_column(
        ForeignKey("sandbox_live_rooms.id", ondelete="CASCADE"), index=True
    )
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The last heartbeat (or the entry)."""
    stayed_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Seconds counted so far; a gap between heartbeats counts at most a short while, so
    a page left open in a sleeping phone does not keep counting."""
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("stayed_seconds >= 0", "stayed_seconds"),)


class SandboxProduct(IdMixin, CreatedAtMixin, Base):
    """A product an account sells in its shop on the platform (小店); people buy it in
    the app, so an order is tied to the buyer's account."""

    __tablename__ = "sandbox_products"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    price_fen: Mapped[int] = mapped_column(Integer)
    """The price a buyer pays, in fen."""
    orders: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Orders placed so far (the shown sales count), refunded ones included."""
    refunds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    on_sale: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        CheckConstraint("price_fen > 0", "price_positive"),
        CheckConstraint("orders >= 0 AND refunds >= 0 AND refunds <= orders", "counts"),
    )


class SandboxOrder(IdMixin, CreatedAtMixin, Base):
    """One purchase of a product by an account (``created_at`` is when it was paid). A
    refund within the return period only marks it, so its history stays."""

    __tablename__ = "sandbox_orders"

    account_id: Mapped[UUID] = mapped_column(ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"))
    product_id: Mapped[UUID] = mapped_column(
        ForeignKey("sandbox_products.id", ondelete="CASCADE"), index=True
    )
    price_fen: Mapped[int] = mapped_column(Integer)
    """What the buyer paid (the product's price at the time)."""
    ref: Mapped[str | None] = mapped_column(String(40))
    """The tracking code of the link the buyer came through (``?ref=``), if any."""
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("price_fen > 0", "price_positive"),
        Index("ix_sandbox_orders_buyer_product", "account_id", "product_id", "created_at"),
    )


class SandboxProfileAd(IdMixin, CreatedAtMixin, Base):
    """An advertiser's ad card an account shows at the top of its own profile page
    (``created_at`` is when it went up), labelled 广告. The platform counts its
    impressions; an account shows one ad at a time."""

    __tablename__ = "sandbox_profile_ads"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"), index=True
    )
    advertiser_id: Mapped[UUID] = mapped_column(ForeignKey(_ACCOUNT_FK, ondelete="CASCADE"))
    line: Mapped[str] = mapped_column(String(100))
    """What the card says (the advertiser's own line)."""
    ref: Mapped[str | None] = mapped_column(String(40))
    """The tracking code of the link the ad was put up through (``?ref=``), if any."""
    impressions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Times the ad was seen: a viewer counts again only after a while, the account's own
    views never."""
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("impressions >= 0", "impressions"),
        Index(
            "ux_sandbox_profile_ads_showing",
            "account_id",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
    )


class SandboxAdView(Base):
    """When a viewer last counted as an impression of an ad, so that reloading the
    profile does not count again at once."""

    __tablename__ = "sandbox_ad_views"

    ad_id: Mapped[UUID] = mapped_column(
        ForeignKey("sandbox_profile_ads.id", ondelete="CASCADE"), primary_key=True
    )
    viewer: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The signed-in account's id, or a hash of an anonymous viewer's address and browser."""
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
