"""Exposure logging in batches: a feed request only appends to a list; one writer per
process inserts what gathered, at most a second later, in one statement per batch.

A crash loses at most the last second of exposures; they are counts for the model and
for reach, not money.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import insert

from xingdong.core.db import Database
from xingdong.core.logging import get_logger
from xingdong.dispatch.models import Exposure

log = get_logger(__name__)


@dataclass(frozen=True)
class Shown:
    person_id: UUID
    campaign_id: UUID
    shown_at: datetime
    position: int
    reason: str


class ExposureLog:
    def __init__(self, db: Database, *, max_batch: int = 500, max_delay_s: float = 1.0) -> None:
        self.db = db
        self.max_batch = max_batch
        self.max_delay_s = max_delay_s
        self._waiting: list[Shown] = []
        self._writer: asyncio.Task[None] | None = None

    def add(self, shown: list[Shown]) -> None:
        if not shown:
            return
        self._waiting.extend(shown)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self, *, wait: bool = True) -> None:
        if wait and len(self._waiting) < self.max_batch:
            await asyncio.sleep(self.max_delay_s)
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                async with self.db.session_scope() as session:
                    # One INSERT with many VALUES rows: one statement per batch.
                    await session.execute(
                        insert(Exposure).values(
                            [
                                {
                                    "person_id": s.person_id,
                                    "campaign_id": s.campaign_id,
                                    "shown_at": s.shown_at,
                                    "position": s.position,
                                    "reason": s.reason[:20],
                                }
                                for s in batch
                            ]
                        )
                    )
            except Exception:
                log.exception("exposures_not_written", count=len(batch))

    async def drain(self) -> None:
        """Write everything waiting now (shutdown, tests)."""
        writer = self._writer
        if writer is not None and not writer.done():
            await writer
        await self._write_soon(wait=False)
