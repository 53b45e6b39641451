"""The feed facts of the people who asked lately, kept in the serving process until the
database says they changed.

A feed request needs the person behind its token (:mod:`xingdong.dispatch.facts`); read
from the database every time, that one query cost about as much as everything else the
request does. So each process keeps the facts it read, by token, and listens on the
``feed_facts`` channel: a trigger on every table the facts come from sends the person's
id when a change commits (migration ``7d3f0b6e9c15``), and the process drops that
person's facts before it answers its next request. A change made anywhere (another
server process, the background worker, an operator's SQL) reaches every process within
the time the database takes to pass a notification on, normally well under a
millisecond; the campaign index the feed places from is allowed seconds
(``dispatch_sync_seconds``).

Facts are kept only while the process is listening: until the channel is open, and from
the moment its connection is lost until it is open again, every request reads the
database and nothing is kept. A read is kept only if no notification arrived while it
was under way (the change it announces may have committed after the read's snapshot).
A token's expiry is checked on every request; kept facts are read again after
``dispatch_facts_cache_seconds`` whatever happens, and at most
``dispatch_facts_cache_size`` people are kept (the longest kept go first).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from prometheus_client import Counter
from psycopg import AsyncConnection

from xingdong.core.db import Database, libpq_url
from xingdong.core.i18n import N_
from xingdong.core.logging import get_logger
from xingdong.core.security import token_digest
from xingdong.core.settings import Settings
from xingdong.dispatch.facts import FeedFacts, facts_for_digest
from xingdong.identity.errors import SessionExpired

log = get_logger(__name__)

CHANNEL = "feed_facts"
EVERYONE = "*"
"""The payload that drops every person's facts (a table was emptied)."""
RETRY_SECONDS = 5.0
"""How long after a failed or lost connection the channel is opened again."""

FACTS = Counter(
    "xingdong_feed_facts_total",
    "Feed requests by where the person's facts came from (kept in the process or read)",
    ["source"],
)
_KEPT, _READ = FACTS.labels("kept"), FACTS.labels("read")
CHANNEL_LOST = Counter(
    "xingdong_feed_facts_channel_lost_total",
    "Times a serving process lost, or could not open, its feed_facts channel",
)


@dataclass(slots=True)
class _Kept:
    facts: FeedFacts
    person_id: str
    year: int
    """The calendar year the age was worked out in."""
    kept_s: float


class FactsCache:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.seconds = settings.dispatch_facts_cache_seconds
        self.size = settings.dispatch_facts_cache_size
        self._kept: dict[str, _Kept] = {}
        self._by_person: dict[str, set[str]] = {}
        self._notices = 0
        """Notifications handled so far (a read that saw this number move is not kept)."""
        self._conn: AsyncConnection[Any] | None = None
        self._fd: int | None = None
        self._opening: asyncio.Task[None] | None = None
        self._retry_at = 0.0
        self._stopped = False
        self.retry_seconds = RETRY_SECONDS
        self.reads = 0
        """Reads from the database so far (for tests and benchmarks)."""

    @property
    def listening(self) -> bool:
        return self._conn is not None

    def __len__(self) -> int:
        return len(self._kept)

    async def facts(self, *, token: str, now: datetime) -> FeedFacts:
        """The facts of the token's person: kept ones when still good, else read (and
        kept); the API's usual refusal for a token that is unknown, revoked or expired."""
        digest = token_digest(token)
        if self._conn is not None:
            self.poll()
            kept = self._kept.get(digest)
            if kept is not None:
                if kept.year == now.year and time.monotonic() - kept.kept_s < self.seconds:
                    expires_at = kept.facts.token_expires_at
                    if expires_at is not None and expires_at <= now:
                        self.forget(kept.person_id)
                        raise SessionExpired(detail=N_("The token is not valid or has expired."))
                    _KEPT.inc()
                    return kept.facts
                self.forget(kept.person_id)
        elif self.seconds > 0:
            # Switched off (0 seconds), the channel is never opened and nothing is kept.
            self._open_soon()
        listening, notices = self._conn is not None, self._notices
        self.reads += 1
        _READ.inc()
        facts = await facts_for_digest(self.db, digest=digest, settings=self.settings, now=now)
        if listening and self._conn is not None:
            self.poll()
            if self._notices == notices:
                self._keep(digest, facts, now)
        return facts

    def _keep(self, digest: str, facts: FeedFacts, now: datetime) -> None:
        while len(self._kept) >= self.size:
            oldest = next(iter(self._kept))
            self._forget_digest(oldest)
        person_id = str(facts.person_id)
        self._kept[digest] = _Kept(facts, person_id, now.year, time.monotonic())
        self._by_person.setdefault(person_id, set()).add(digest)

    def _forget_digest(self, digest: str) -> None:
        kept = self._kept.pop(digest)
        digests = self._by_person.get(kept.person_id)
        if digests is not None:
            digests.discard(digest)
            if not digests:
                del self._by_person[kept.person_id]

    def _drop_all(self) -> None:
        self._kept.clear()
        self._by_person.clear()

    def forget(self, person_id: str) -> None:
        """Drop this person's facts (a change this process just made to them, or one the
        channel announced)."""
        for digest in self._by_person.pop(person_id, ()):
            self._kept.pop(digest, None)

    def poll(self) -> None:
        """Handle the notifications that have arrived (without waiting for more)."""
        conn = self._conn
        if conn is None:
            return
        pgconn = conn.pgconn
        try:
            pgconn.consume_input()
        except psycopg.OperationalError:
            self._lost()
            return
        while (notice := pgconn.notifies()) is not None:
            self._notices += 1
            payload = notice.extra.decode()
            if payload == EVERYONE:
                self._drop_all()
            else:
                self.forget(payload)
        if pgconn.status != psycopg.pq.ConnStatus.OK:
            self._lost()

    def _open_soon(self) -> None:
        if self._stopped or (self._opening is not None and not self._opening.done()):
            return
        if time.monotonic() < self._retry_at:
            return
        self._opening = asyncio.get_running_loop().create_task(self._open())

    async def _open(self) -> None:
        try:
            conn = await AsyncConnection.connect(libpq_url(self.db.url), autocommit=True)
            await conn.execute(f"LISTEN {CHANNEL}")
        except Exception:
            log.exception("feed_facts_channel_not_opened")
            CHANNEL_LOST.inc()
            self._retry_at = time.monotonic() + self.retry_seconds
            return
        if self._stopped:
            await conn.close()
            return
        # Nothing was kept while not listening; reads under way began before the channel
        # was open, so none of them is kept either.
        self._drop_all()
        self._notices += 1
        self._conn = conn
        self._fd = conn.pgconn.socket
        asyncio.get_running_loop().add_reader(self._fd, self.poll)

    def _lost(self) -> None:
        log.warning("feed_facts_channel_lost")
        CHANNEL_LOST.inc()
        self._close_now()
        self._retry_at = time.monotonic() + self.retry_seconds

    def _close_now(self) -> None:
        conn, self._conn = self._conn, None
        if self._fd is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._fd = None
        self._drop_all()
        self._notices += 1
        if conn is not None:
            conn.pgconn.finish()

    async def stop(self) -> None:
        """Close the channel (shutdown, tests)."""
        self._stopped = True
        if self._opening is not None and not self._opening.done():
            await asyncio.wait([self._opening])
        self._close_now()
