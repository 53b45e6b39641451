"""Exposure logging in batches: a feed request only appends a line to a list; one writer
per process copies what gathered into the table, at most a second later, with one COPY
per batch on the statement connection (an INSERT of many VALUES rows cost more to build in
the ORM than the feed requests it logged). A feed is one row
(:class:`~xingdong.dispatch.models.ShownFeed`). Every ten seconds the showings of the
feeds written since are added to their campaigns' counts per hour
(:class:`~xingdong.dispatch.models.CampaignShowings`, which the brand reads): a feed is
counted only once written, and each campaign's row is updated once for all of them.

A crash loses at most the last second of exposures and the last ten seconds of counts;
they are figures for the model and for reach, not money.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from xingdong.core.clock import utcnow
from xingdong.core.db import Database, delete_in_batches
from xingdong.core.logging import get_logger
from xingdong.dispatch.models import ShownFeed

log = get_logger(__name__)
HOUR = timedelta(hours=1)


_COPY = f"COPY {ShownFeed.__tablename__} (person_id, shown_at, campaign_ids, reasons) FROM STDIN"
_COUNT = (
    "INSERT INTO dispatch_campaign_showings (campaign_id, hour, shown) "
    "SELECT campaign_id, %s, shown FROM unnest(%s::uuid[], %s::bigint[]) AS c(campaign_id, shown) "
    "ON CONFLICT (campaign_id, hour) "
    "DO UPDATE SET shown = dispatch_campaign_showings.shown + EXCLUDED.shown"
)
"""An hour's counts; the arrays are sent as literals built here (the driver's array
adapter, element by element in Python, cost more than the feeds' COPY)."""


def _copy_text(value: str) -> str:
    """A text field of COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _text_array(values: Iterable[str]) -> str:
    """A text array literal, each element quoted (reason codes never need it; kept safe
    anyway)."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


class ExposureLog:
    def __init__(
        self,
        db: Database,
        *,
        max_batch: int = 1_000,
        max_delay_s: float = 1.0,
        count_every_s: float = 10.0,
    ) -> None:
        self.db = db
        self.max_batch = max_batch
        self.max_delay_s = max_delay_s
        self.count_every_s = count_every_s
        self._counts: dict[datetime, Counter[str]] = {}
        """Showings of feeds written, not yet added, by hour and campaign."""
        self._counter: asyncio.Task[None] | None = None
        self._count_now = asyncio.Event()
        self._waiting: list[tuple[str, datetime, list[str]]] = []
        """One per feed: its row in COPY's text format (one line), the hour it was shown
        in and the campaigns it showed."""
        self._hour = datetime.min.replace(tzinfo=UTC)
        """The hour of the last feed added (most feeds fall in the same one)."""
        self._writer: asyncio.Task[None] | None = None

    def add(self, person_id: str, shown_at: datetime, shown: Iterable[tuple[str, str]]) -> None:
        """One feed shown to a person: each task's campaign id and reason code, from the
        top. Its row is written as text here, where the ids already are text."""
        shown = list(shown)
        if not shown:
            return
        campaign_ids = [campaign_id for campaign_id, _ in shown]
        ids = ",".join(campaign_ids)
        if not self._hour <= shown_at < self._hour + HOUR:
            self._hour = shown_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        reasons = _copy_text(_text_array(reason[:20] for _, reason in shown))
        line = f"{person_id}\t{shown_at.isoformat()}\t{{{ids}}}\t{reasons}\n"
        self._waiting.append((line, self._hour, campaign_ids))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self, *, wait: bool = True) -> None:
        if wait and len(self._waiting) < self.max_batch:
            await asyncio.sleep(self.max_delay_s)
        while self._waiting:
            # Everything waiting goes at once (up to max_batch rows), and what arrives
            # meanwhile waits for the next COPY, so the writer keeps up under any load.
            if len(self._waiting) <= self.max_batch:
                batch, self._waiting = self._waiting, []
            else:
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
                    await copy.write("".join(line for line, _, _ in batch))
            except Exception:
                log.exception("exposures_not_written", count=len(batch))
                continue
            for _, hour, campaign_ids in batch:
                by_campaign = self._counts.get(hour)
                if by_campaign is None:
                    by_campaign = self._counts[hour] = Counter()
                by_campaign.update(campaign_ids)
            if self._counter is None or self._counter.done():
                self._counter = asyncio.get_running_loop().create_task(self._count_soon())

    async def _count_soon(self) -> None:
        """Add the showings of the feeds written to their campaigns' counts, every
        ``count_every_s`` (each campaign's row is updated once for all the feeds of that
        time, not once a batch)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._count_now.wait(), self.count_every_s)
        counts, self._counts = self._counts, {}
        try:
            async with self.db.statement_connection() as conn:
                # In one order in every process, so that two writers adding to the
                # same campaigns wait for each other instead of deadlocking.
                for hour in sorted(counts):
                    shown = counts[hour]
                    ids = sorted(shown)
                    await conn.execute(
                        _COUNT,
                        (
                            hour,
                            "{" + ",".join(ids) + "}",
                            "{" + ",".join(str(shown[c]) for c in ids) + "}",
                        ),
                    )
        except Exception:
            log.exception("showings_not_counted", hours=len(counts))

    async def drain(self) -> None:
        """Write everything waiting now, and add its showings (shutdown, tests)."""
        writer = self._writer
        if writer is not None and not writer.done():
            await writer
        await self._write_soon(wait=False)
        self._count_now.set()
        try:
            counter = self._counter
            if counter is not None and not counter.done():
                await counter
            if self._counts:
                await self._count_soon()
        finally:
            self._count_now.clear()


_PRUNE = text(
    """
    DELETE FROM dispatch_shown_feeds WHERE id IN (
        SELECT id FROM dispatch_shown_feeds WHERE shown_at < :cutoff
        ORDER BY shown_at LIMIT :batch
    )
    """
)


async def prune_exposures(db: Database, *, days: int, now: datetime | None = None) -> int:
    """Delete the feeds shown more than ``days`` ago. The counts per campaign and hour
    (what the brand and CPM billing read) stay."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    return await delete_in_batches(db, _PRUNE, {"cutoff": cutoff})
