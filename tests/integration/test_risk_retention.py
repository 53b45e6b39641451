"""Recorded risk events are kept for ``risk_event_retention_days`` and then deleted, in
batches, oldest first; never sooner than a starting process reads them back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from tests.integration.conftest import make_settings
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.settings import RISK_WARM_DAYS
from xingdong.risk import service
from xingdong.risk.models import RiskEvent


async def record(db: Database, days_ago: float, n: int) -> None:
    at = utcnow() - timedelta(days=days_ago)
    async with db.session_scope() as s:
        for i in range(n):
            event = {"type": "claim", "account": f"acct-{i}", "ts": at.timestamp()}
            s.add(
                RiskEvent(
                    recorded_at=at,
                    kind="claim",
                    account=f"acct-{days_ago}-{i}",
                    event=event,
                    decision="allow",
                    score=0.0,
                    reasons=[],
                )
            )


async def ages(db: Database) -> list[int]:
    async with db.sessionmaker() as s:
        rows = await s.scalars(select(RiskEvent.recorded_at).order_by(RiskEvent.recorded_at))
        return sorted({round((utcnow() - at).total_seconds() / 86400) for at in rows})


async def test_old_events_go_in_batches_and_recent_ones_stay(db: Database) -> None:
    settings = make_settings(risk_event_retention_days=90)
    await record(db, 400, 5)
    await record(db, 91, 3)
    await record(db, 89, 2)
    await record(db, 1, 2)
    # Four a transaction: the loop goes round until a short batch.
    assert await service.prune_events(db, settings=settings, batch=4) == 8
    assert await service.prune_events(db, settings=settings, batch=4) == 0
    assert await ages(db) == [1, 89]
    async with db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(RiskEvent)) == 4


def test_events_are_kept_at_least_as_long_as_a_process_reads_them_back() -> None:
    assert make_settings().risk_event_retention_days == 180
    with pytest.raises(ValidationError, match="risk_event_retention_days"):
        make_settings(risk_event_retention_days=RISK_WARM_DAYS - 1)
