"""Group commit for ledger calls that are transactions of their own.

Concurrent callers of :func:`xingdong.ledger.service.transfer_alone` in one process are
gathered into batches: while a batch is in the database, the requests that arrive wait
and go together in the next call of ``ledger_apply_transfers`` (see its migration). A batch
is one transaction and one commit, so a hot account is locked once per batch instead of
once per transfer, and the commit's disk flush is shared. Payment notices
(:func:`xingdong.ledger.deposits.record_payment_notice_alone`) are gathered the same way
into ``ledger_record_payments``.

Every request still stands alone: the function answers each with its own result or error
(insufficient funds for one does not refuse the others), idempotency keys apply as before,
and a batch that fails as a whole is retried one request at a time. Nothing waits for a
batch to fill: a request that arrives when a slot is free goes at once.
"""

from __future__ import annotations

import asyncio
import functools
import json
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from xingdong.core.db import Database

MAX_BATCH = 128


@dataclass
class _Waiting:
    params: dict[str, Any]
    answer: asyncio.Future[tuple[Any, ...]]


@dataclass(frozen=True)
class BatchCall:
    """How one kind of request reaches the database, alone and in a batch."""

    single_sql: str
    """One request, with psycopg's named placeholders for its parameters."""
    batch_sql: str
    """Many requests as one JSON array parameter; answers rows of ``(ord, *answer)``."""
    max_in_flight: int
    """Batches in the database at once per process."""
    as_json: Callable[[dict[str, Any]], dict[str, Any]] = dict


class Batcher:
    def __init__(self, db: Database, call: BatchCall) -> None:
        self._db = db
        self._call_shape = call
        self._queue: list[_Waiting] = []
        self._in_flight = 0
        self._start_pending = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.loop = asyncio.get_running_loop()

    async def apply(self, params: dict[str, Any]) -> tuple[Any, ...]:
        """The answer row (without ``ord``) for one request."""
        waiting = _Waiting(params, self.loop.create_future())
        self._queue.append(waiting)
        self._start_soon()
        return await waiting.answer

    def _start_soon(self) -> None:
        """Start batches on the event loop's next turn rather than now: the callers that a
        finished batch has just answered run first, and those that ask again at once join
        the same batch instead of the first of them going alone."""
        if not self._start_pending:
            self._start_pending = True
            self.loop.call_soon(self._start_batches)

    def _start_batches(self) -> None:
        self._start_pending = False
        free = self._call_shape.max_in_flight - self._in_flight
        if not self._queue or free <= 0:
            return
        # Share what waits evenly between the free slots: one big batch beside idle
        # connections would leave the server's cores waiting on a single commit.
        slots = min(free, len(self._queue))
        size = min(MAX_BATCH, -(-len(self._queue) // slots))
        for _ in range(slots):
            batch, self._queue = self._queue[:size], self._queue[size:]
            self._in_flight += 1
            task = self.loop.create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[_Waiting]) -> None:
        try:
            try:
                rows = await self._with_retry(lambda: self._call(batch))
            except psycopg.OperationalError as exc:
                for waiting in batch:
                    if not waiting.answer.done():
                        waiting.answer.set_exception(exc)
                return
            except psycopg.Error:
                # One request broke the whole call (a constraint, a deadlock): apply each
                # on its own so only that one fails.
                await self._one_by_one(batch)
                return
            for waiting, row in zip(batch, rows, strict=True):
                if not waiting.answer.done():
                    waiting.answer.set_result(row)
        finally:
            self._in_flight -= 1
            self._start_soon()

    async def _call(self, batch: list[_Waiting]) -> list[tuple[Any, ...]]:
        shape = self._call_shape
        async with self._db.statement_connection() as conn:
            if len(batch) == 1:
                row = await (await conn.execute(shape.single_sql, batch[0].params)).fetchone()
                assert row is not None
                return [tuple(row)]
            payload = json.dumps([shape.as_json(w.params) for w in batch], default=str)
            rows = await (await conn.execute(shape.batch_sql, (payload,))).fetchall()
            return [tuple(row[1:]) for row in rows]

    async def _one_by_one(self, batch: list[_Waiting]) -> None:
        for waiting in batch:
            try:
                rows = await self._with_retry(functools.partial(self._call, [waiting]))
            except psycopg.Error as exc:
                if not waiting.answer.done():
                    waiting.answer.set_exception(exc)
            else:
                if not waiting.answer.done():
                    waiting.answer.set_result(rows[0])

    @staticmethod
    async def _with_retry(
        call: Callable[[], Awaitable[list[tuple[Any, ...]]]],
    ) -> list[tuple[Any, ...]]:
        """A connection lost on the way is retried once: idempotency keys make the retry
        harmless whether or not the first attempt committed."""
        try:
            return await call()
        except psycopg.OperationalError:
            return await call()


_batchers: weakref.WeakKeyDictionary[Database, dict[BatchCall, Batcher]] = (
    weakref.WeakKeyDictionary()
)


def batcher_for(db: Database, call: BatchCall) -> Batcher:
    """The batcher of this kind of call on this database, in the running event loop."""
    of_db = _batchers.setdefault(db, {})
    found = of_db.get(call)
    if found is None or found.loop is not asyncio.get_running_loop():
        found = Batcher(db, call)
        of_db[call] = found
    return found
