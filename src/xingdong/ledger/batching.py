"""Group commit for transfers that are transactions of their own.

Concurrent callers of :func:`xingdong.ledger.service.transfer_alone` in one process are
gathered into batches: while one batch is in the database, the requests that arrive wait
and go together in the next call of ``ledger_apply_transfers`` (see its migration). A batch
is one transaction and one commit, so a hot account is locked once per batch instead of
once per transfer, and the commit's disk flush is shared.

Every movement still stands alone: the function answers each with its own result or error
(insufficient funds for one does not refuse the others), idempotency keys apply as before,
and a batch that fails as a whole is retried one movement at a time. Nothing waits for a
batch to fill: a request that arrives when nothing is in flight goes at once.
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
MAX_IN_FLIGHT = 2
"""Batches in the database at once per process. More gives more parallel commits on
spread-out accounts but smaller batches; two keeps both cores of a small server busy."""


@dataclass
class _Waiting:
    params: dict[str, Any]
    answer: asyncio.Future[tuple[Any, ...]]


_BATCH_SQL = (
    "SELECT ord, transfer_id, replayed, error, available "
    "FROM ledger_apply_transfers(%s::jsonb) ORDER BY ord"
)


class TransferBatcher:
    def __init__(self, db: Database, single_sql: str) -> None:
        self._db = db
        self._single_sql = single_sql
        self._queue: list[_Waiting] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.loop = asyncio.get_running_loop()

    async def apply(self, params: dict[str, Any]) -> tuple[Any, ...]:
        """The ``(transfer_id, replayed, error, available)`` row for one movement."""
        waiting = _Waiting(params, self.loop.create_future())
        self._queue.append(waiting)
        self._start_batches()
        return await waiting.answer

    def _start_batches(self) -> None:
        while self._queue and self._in_flight < MAX_IN_FLIGHT:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
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
                # One movement broke the whole call (a constraint, a deadlock): apply each
                # on its own so only that one fails.
                await self._one_by_one(batch)
                return
            for waiting, row in zip(batch, rows, strict=True):
                if not waiting.answer.done():
                    waiting.answer.set_result(row)
        finally:
            self._in_flight -= 1
            self._start_batches()

    async def _call(self, batch: list[_Waiting]) -> list[tuple[Any, ...]]:
        async with self._db.statement_connection() as conn:
            if len(batch) == 1:
                row = await (await conn.execute(self._single_sql, batch[0].params)).fetchone()
                assert row is not None
                return [tuple(row)]
            payload = json.dumps([_as_json(w.params) for w in batch], default=str)
            rows = await (await conn.execute(_BATCH_SQL, (payload,))).fetchall()
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


def _as_json(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "meta": json.loads(params["meta"])}


_batchers: weakref.WeakKeyDictionary[Database, TransferBatcher] = weakref.WeakKeyDictionary()


def batcher_for(db: Database, single_sql: str) -> TransferBatcher:
    """The batcher of this database in the running event loop."""
    found = _batchers.get(db)
    if found is None or found.loop is not asyncio.get_running_loop():
        found = TransferBatcher(db, single_sql)
        _batchers[db] = found
    return found
