"""The sandbox payout provider: a simulated bank/wallet that keeps its own records in
its own transactions, apart from ours, as an outside system would. Account numbers
ending in ``0000`` are refused, so the failure path can be tried."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from xingdong.core.db import Database
from xingdong.ledger.models import SandboxPayout
from xingdong.ledger.payments import PayoutResult


class SandboxPayoutProvider:
    name = "sandbox"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def pay(
        self, *, payout_id: str, account_number: str, holder_name: str | None, amount: int
    ) -> PayoutResult:
        status = "failed" if account_number.endswith("0000") else "paid"
        async with self._db.session_scope() as session:
            await session.execute(
                insert(SandboxPayout)
                .values(
                    payout_id=payout_id,
                    account_number=account_number,
                    holder_name=holder_name,
                    amount=amount,
                    status=status,
                )
                .on_conflict_do_nothing(index_elements=["payout_id"])
            )
        result = await self.query(payout_id=payout_id)
        assert result is not None
        return result

    async def query(self, *, payout_id: str) -> PayoutResult | None:
        async with self._db.sessionmaker() as session:
            row = (
                await session.execute(
                    select(SandboxPayout).where(SandboxPayout.payout_id == payout_id)
                )
            ).scalar_one_or_none()
        if row is None:
            return None
        return PayoutResult(
            status=row.status,
            reference="sbx-" + payout_id[:12],
            reason="the receiving account refused the payment" if row.status == "failed" else None,
        )
