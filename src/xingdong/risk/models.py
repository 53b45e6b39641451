"""Tables of the risk domain: every platform event as it was decided (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base


class RiskEvent(Base):
    """One event (registration, login, claim, submission, withdrawal) in the replay
    format of ``xingdong risk replay``, with the decision taken on it. The recorded
    traffic operators try a rule change on, and what every server process catches up
    from."""

    __tablename__ = "risk_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    kind: Mapped[str] = mapped_column(String(10))
    account: Mapped[str] = mapped_column(String(64))
    event: Mapped[dict[str, Any]] = mapped_column(JSONB)
    decision: Mapped[str | None] = mapped_column(String(6))
    """``allow``, ``review`` or ``block``; empty for a login (recorded, not decided)."""
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)

    __table_args__ = (
        Index("ix_risk_events_account", "account", "id"),
        Index("ix_risk_events_recorded_at", "recorded_at"),
    )


CASE_STATUSES = ("open", "confirmed", "cleared")


class RiskCase(Base):
    """Accounts the batch detectors found acting together (a ring joined by devices,
    addresses or payout accounts; a lockstep group; a dense block), for an operator to
    confirm as fraud or clear."""

    __tablename__ = "risk_cases"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str] = mapped_column(String(20))
    """``ring``, ``lockstep_group``, ``dense_block`` or ``account`` (one account alone)."""
    group_key: Mapped[str] = mapped_column(String(64), unique=True)
    """The kind and a digest of the member accounts: the same group found again is the
    same case."""
    accounts: Mapped[list[str]] = mapped_column(JSONB)
    reasons: Mapped[dict[str, list[str]]] = mapped_column(JSONB)
    """Each account's batch reasons (docs/risk.md), the evidence of the case."""
    links: Mapped[dict[str, dict[str, list[str]]]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    """What joins the members, by kind (``device``, ``ip``, ``payout_account``): each
    value two or more of them used, with the accounts that used it."""
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), server_default="open")
    decided_by: Mapped[UUID | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        CheckConstraint("status IN ('open', 'confirmed', 'cleared')", "status"),
        Index("ix_risk_cases_status", "status", "score"),
    )


class RiskLabel(Base):
    """An operator's verdict on one account: what the scoring model learns from."""

    __tablename__ = "risk_labels"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    is_fraud: Mapped[bool] = mapped_column()
    case_id: Mapped[int] = mapped_column(ForeignKey("risk_cases.id"))
    labelled_by: Mapped[UUID] = mapped_column()
    labelled_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
