"""What a ledger transfer's reference names, in words its account holder knows.

Transfers carry references such as ``deposit:<id>`` (a top-up, and its refunds),
``adjustment:<id>`` (an operator's correction) or ``withdrawal:<id>`` (a payout). A
statement shows the payment provider's number of a top-up (what the payer's own records
show), the reason written for a correction and the provider's number of a payout, instead
of our internal ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.ledger.models import Adjustment, Deposit, Withdrawal


def ids_of_kind(references: Iterable[str], kind: str) -> dict[UUID, str]:
    """The ids that references of ``kind`` (``kind:<uuid>``) name, each with its
    reference; malformed ones are left out."""
    found: dict[UUID, str] = {}
    for reference in references:
        prefix, _, raw = reference.partition(":")
        if prefix != kind:
            continue
        try:
            found[UUID(raw)] = reference
        except ValueError:
            continue
    return found


def _short(identifier: UUID) -> str:
    """The first eight hex digits of an id, upper case: enough to tell one from another
    on a statement when the provider gave no number."""
    return identifier.hex[:8].upper()


_NAMED_BY: tuple[tuple[str, Any, Any, bool], ...] = (
    # kind, the id column, the column that names it, whether a missing name is told by id
    ("deposit", Deposit.id, Deposit.provider_txn, True),
    ("adjustment", Adjustment.id, Adjustment.reason, False),
    ("withdrawal", Withdrawal.id, Withdrawal.provider_ref, True),
)


async def reference_names(session: AsyncSession, references: Iterable[str]) -> dict[str, str]:
    """For each ``deposit:``, ``adjustment:`` and ``withdrawal:`` reference among
    ``references``: the payment's number, the correction's reason, the payout's number.
    References of other kinds, or naming nothing that exists, are left out."""
    wanted = list(references)
    names: dict[str, str] = {}
    for kind, id_column, name_column, short_when_missing in _NAMED_BY:
        ids = ids_of_kind(wanted, kind)
        if not ids:
            continue
        rows = await session.execute(select(id_column, name_column).where(id_column.in_(ids)))
        for row_id, name in rows:
            if name:
                names[ids[row_id]] = str(name)
            elif short_when_missing:
                names[ids[row_id]] = _short(row_id)
    return names
