"""Exposure logging in batches: a feed request only appends to a list; one writer per
process copies what gathered into the table, at most a second later, with one COPY per
batch on the statement connection (an INSERT of many VALUES rows cost more to build in
the ORM than the feed requests it logged).

A crash loses at most the last second of exposures; they are counts for the model and
for reach, not money.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

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


_COPY = (
    f"COPY {Exposure.__tablename__} (person_id, campaign_id, shown_at, position, reason) FROM STDIN"
)


def _copy_text(value: str) -> str:
    """A text field of COPY's text format (reason codes never need it; kept safe anyway)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


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
                async with (
                    self.db.statement_connection() as conn,
                    conn.cursor() as cursor,
                    cursor.copy(_COPY) as copy,
                ):
                    # COPY's text format written directly: row by row through the
                    # driver's adapters cost several times more.
                    await copy.write(
                        "".join(
                            f"{s.person_id}\t{s.campaign_id}\t{s.shown_at.isoformat()}\t"
                            f"{s.position}\t{_copy_text(s.reason[:20])}\n"
                            for s in batch
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
