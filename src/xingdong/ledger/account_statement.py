"""One account's statement for a period: the posted balance at its start, every posted
movement in it with the balance after each, the movements summed by code, and the
balance at its end, all read in one SQL statement so that they agree with each other
whatever commits meanwhile.

Posted means single transfers and the posting of reserved ones (as
:func:`xingdong.ledger.service.posted_flows`); a reservation shows once it is posted, at
the moment it was posted. Movements are in the order they were written (time, then id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.ledger.service import Flow, account_by_key

_STATEMENT = text(
    """
WITH moves AS (
    SELECT t.id, t.created_at, t.code, t.reference,
           CASE WHEN t.credit_account_id = :account THEN t.amount ELSE -t.amount END AS delta
    FROM ledger_transfers t
    WHERE t.kind IN ('single', 'post')
      AND (t.credit_account_id = :account OR t.debit_account_id = :account)
      AND t.created_at < :end
),
opening AS (
    SELECT coalesce(sum(delta), 0) AS balance FROM moves WHERE created_at < :start
),
period AS (
    SELECT m.*,
           (SELECT balance FROM opening)
             + sum(delta) OVER (ORDER BY created_at, id) AS balance_after,
           row_number() OVER (ORDER BY created_at, id) AS position
    FROM moves m
    WHERE created_at >= :start
)
SELECT
    (SELECT balance FROM opening) AS opening,
    (SELECT coalesce(sum(delta), 0) FROM period) AS net,
    (SELECT count(*) FROM period) AS entries,
    (SELECT coalesce(json_agg(f ORDER BY f.code), '[]'::json) FROM (
        SELECT code,
               coalesce(sum(delta) FILTER (WHERE delta > 0), 0) AS inflow,
               coalesce(-sum(delta) FILTER (WHERE delta < 0), 0) AS outflow,
               count(*) AS count
        FROM period GROUP BY code
    ) f) AS flows,
    (SELECT coalesce(json_agg(p ORDER BY p.position), '[]'::json) FROM (
        SELECT id, created_at, code, reference, delta, balance_after, position
        FROM period
        WHERE position > :after
        ORDER BY position
        LIMIT :limit
    ) p) AS page
"""
)


@dataclass(frozen=True)
class Entry:
    transfer_id: int
    at: datetime
    code: str
    reference: str | None
    amount: int
    """Into the account (+) or out of it (−), in minor units."""
    balance_after: int
    position: int
    """Its place in the period, from 1."""


@dataclass(frozen=True)
class PeriodStatement:
    opening: int
    """Posted balance when the period began."""
    closing: int
    """Posted balance when it ended (or now, for a period still running)."""
    flows: list[Flow]
    entries_total: int
    entries: list[Entry]
    """The page asked for: after ``after``, at most ``limit``."""

    @property
    def next_after(self) -> int | None:
        """Where the next page starts, when there is one."""
        if self.entries and self.entries[-1].position < self.entries_total:
            return self.entries[-1].position
        return None


def _entry(row: dict[str, Any]) -> Entry:
    return Entry(
        transfer_id=int(row["id"]),
        at=datetime.fromisoformat(row["created_at"]),
        code=row["code"],
        reference=row["reference"],
        amount=int(row["delta"]),
        balance_after=int(row["balance_after"]),
        position=int(row["position"]),
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def period_statement(
    session: AsyncSession,
    key: str,
    *,
    start: datetime,
    end: datetime,
    after: int = 0,
    limit: int | None = None,
) -> PeriodStatement:
    """The statement of account ``key`` for ``start`` ≤ time < ``end`` (see the module's
    docstring), with the movements after position ``after``, at most ``limit`` of them
    (all when None). An account not opened yet has an empty statement."""
    account = await account_by_key(session, key)
    if account is None:
        return PeriodStatement(opening=0, closing=0, flows=[], entries_total=0, entries=[])
    row = (
        await session.execute(
            _STATEMENT,
            {
                "account": account.id,
                "start": start,
                "end": end,
                "after": after,
                # LIMIT NULL is no limit in PostgreSQL.
                "limit": limit,
            },
        )
    ).one()
    opening = int(row.opening)
    return PeriodStatement(
        opening=opening,
        closing=opening + int(row.net),
        flows=[
            Flow(f["code"], int(f["inflow"]), int(f["outflow"]), int(f["count"]))
            for f in _json(row.flows)
        ],
        entries_total=int(row.entries),
        entries=[_entry(p) for p in _json(row.page)],
    )
