"""Tables of the risk domain: every platform event as it was decided (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Index, String, func
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
