"""Tables of the insights domain: the organisation's events and the webhooks that carry
them to its own systems."""

from __future__ import annotations

from datetime import datetime
from typing import Any
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin, IdMixin


class Event(IdMixin, CreatedAtMixin, Base):
    """Something that happened to an organisation's campaigns or their completions, as its
    systems are told of it (the body every webhook delivery of it sends)."""

    __tablename__ = "insight_events"

    org_id: Mapped[UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source: Mapped[str | None] = mapped_column(String(80), unique=True)
    """What the event reports, for events told once each (``deposit:<id>``,
    ``refund:<id>``); None for the others."""

    __table_args__ = (Index("ix_insight_events_org_created", "org_id", "created_at", "id"),)


class WebhookEndpoint(IdMixin, CreatedAtMixin, Base):
    """A URL of the organisation's own where its events are sent, signed with ``secret``."""

    __tablename__ = "webhook_endpoints"

    org_id: Mapped[UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(120), server_default=text("''"))
    event_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), server_default=text("'{}'::varchar[]")
    )
    """The event types sent here; empty means every type."""
    secret: Mapped[str] = mapped_column(String(80))
    """The signing secret. Kept, not hashed: every delivery is signed with it."""
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    secret_rolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(IdMixin, CreatedAtMixin, Base):
    """One event on its way to one endpoint: its attempts and how the last one went."""

    __tablename__ = "webhook_deliveries"

    event_id: Mapped[UUID] = mapped_column(
        ForeignKey("insight_events.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(10), server_default=text("'pending'"))
    """``pending`` (an attempt is due at ``next_attempt_at``), ``delivered`` or ``failed``
    (every attempt refused; an owner may redeliver)."""
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", "status"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )
