"""Random sequences of deposits, reservations, posts, voids, expiries, withdrawals and
refunds, with every invariant checked after every step (Hypothesis stateful testing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from tests.conftest import empty_tables
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import XingdongError
from xingdong.ledger import service as ledger
from xingdong.ledger.service import AccountSpec, TransferRequest

T = TypeVar("T")
WORLD, BRAND, ESCROW, WORKER = (
    "external:world",
    "org:b:available",
    "campaign:c:escrow",
    "person:p:available",
)
amounts = st.integers(min_value=1, max_value=5_000)


def machine_for(database_url: str) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        reservations = Bundle("reservations")

        def __init__(self) -> None:
            super().__init__()
            empty_tables(database_url)
            self.runner = asyncio.Runner()
            self.db = Database(database_url, pool_size=2)
            self.serial = 0
            # What each account should hold, as a model of the rules.
            self.posted = {WORLD: 0, BRAND: 0, ESCROW: 0, WORKER: 0}
            self.reserved = {BRAND: 0}
            self.open: dict[int, int] = {}

        def run(self, work: Awaitable[T]) -> T:
            return self.runner.run(work)  # type: ignore[arg-type]

        def key(self) -> str:
            self.serial += 1
            return f"op-{self.serial}"

        async def _tx(self, request: TransferRequest) -> ledger.TransferResult | None:
            try:
                async with self.db.session_scope() as s:
                    return await ledger.transfer(s, request)
            except XingdongError:
                return None

        @initialize()
        def open_accounts(self) -> None:
            async def work() -> None:
                async with self.db.session_scope() as s:
                    await ledger.open_account(s, AccountSpec(WORLD))
                    for key in (BRAND, ESCROW, WORKER):
                        await ledger.open_account(s, AccountSpec(key, no_overdraft=True))

            self.run(work())

        def spendable(self) -> int:
            return self.posted[BRAND] - self.reserved[BRAND]

        @rule(amount=amounts)
        def deposit(self, amount: int) -> None:
            assert self.run(self._tx(TransferRequest(self.key(), WORLD, BRAND, amount, "deposit")))
            self.posted[WORLD] -= amount
            self.posted[BRAND] += amount

        @rule(amount=amounts)
        def withdraw(self, amount: int) -> None:
            result = self.run(
                self._tx(TransferRequest(self.key(), BRAND, WORLD, amount, "withdraw"))
            )
            assert (result is not None) == (amount <= self.spendable())
            if result:
                self.posted[BRAND] -= amount
                self.posted[WORLD] += amount

        @rule(target=reservations, amount=amounts)
        def reserve(self, amount: int) -> int:
            request = TransferRequest(
                self.key(), BRAND, ESCROW, amount, "fund", pending=True, timeout_seconds=3600
            )
            result = self.run(self._tx(request))
            assert (result is not None) == (amount <= self.spendable())
            if result is None:
                return -1
            self.reserved[BRAND] += amount
            self.open[result.id] = amount
            return result.id

        @rule(pending=reservations, share=st.floats(min_value=0.01, max_value=1.0))
        def post(self, pending: int, share: float) -> None:
            amount = max(1, int(self.open.get(pending, 1) * share))

            async def work() -> bool:
                try:
                    async with self.db.session_scope() as s:
                        await ledger.post_pending(
                            s, idempotency_key=self.key(), pending_id=pending, amount=amount
                        )
                except XingdongError:
                    return False
                return True

            done = self.run(work())
            assert done == (pending in self.open)
            if done:
                reserved = self.open.pop(pending)
                self.reserved[BRAND] -= reserved
                self.posted[BRAND] -= amount
                self.posted[ESCROW] += amount

        @rule(pending=reservations)
        def void(self, pending: int) -> None:
            async def work() -> bool:
                try:
                    async with self.db.session_scope() as s:
                        await ledger.void_pending(s, idempotency_key=self.key(), pending_id=pending)
                except XingdongError:
                    return False
                return True

            done = self.run(work())
            assert done == (pending in self.open)
            if done:
                self.reserved[BRAND] -= self.open.pop(pending)

        @rule()
        def expire_everything(self) -> None:
            async def work() -> int:
                async with self.db.session_scope() as s:
                    return await ledger.void_expired_reservations(
                        s, now=utcnow() + timedelta(hours=2)
                    )

            assert self.run(work()) == len(self.open)
            self.open.clear()
            self.reserved[BRAND] = 0

        @rule(amount=amounts)
        def refund_from_escrow(self, amount: int) -> None:
            result = self.run(
                self._tx(TransferRequest(self.key(), ESCROW, BRAND, amount, "refund"))
            )
            assert (result is not None) == (amount <= self.posted[ESCROW])
            if result:
                self.posted[ESCROW] -= amount
                self.posted[BRAND] += amount

        @rule(amount=amounts)
        def pay_worker(self, amount: int) -> None:
            result = self.run(
                self._tx(TransferRequest(self.key(), ESCROW, WORKER, amount, "reward"))
            )
            assert (result is not None) == (amount <= self.posted[ESCROW])
            if result:
                self.posted[ESCROW] -= amount
                self.posted[WORKER] += amount

        @invariant()
        def ledger_matches_model_and_invariants(self) -> None:
            if not self.serial and not self.posted[BRAND]:
                return

            async def work() -> tuple[list[str], dict[str, tuple[int, int]]]:
                async with self.db.sessionmaker() as s:
                    report = await ledger.verify(s)
                    balances = {}
                    for key in self.posted:
                        b = await ledger.balance(s, key)
                        balances[key] = (b.posted, b.debits_pending)
                return report.problems, balances

            problems, balances = self.run(work())
            assert problems == []
            for key, posted in self.posted.items():
                assert balances[key][0] == posted, key
            assert balances[BRAND][1] == self.reserved[BRAND]

        def teardown(self) -> None:
            self.run(self.db.dispose())
            self.runner.close()

    return LedgerMachine


def test_random_sequences_keep_every_invariant(database_url: str) -> None:
    machine = machine_for(database_url)
    machine.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
