"""The ledger on a real PostgreSQL: movements, reservations, limits, idempotency, races."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.db import Database, libpq_url
from xingdong.core.errors import XingdongError
from xingdong.ledger import service as ledger
from xingdong.ledger.errors import (
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidTransfer,
    PendingTransferResolved,
    UnknownAccount,
)
from xingdong.ledger.models import Transfer
from xingdong.ledger.service import AccountSpec, TransferRequest

WORLD = "external:deposits"
BRAND = "org:brand:available"
ESCROW = "campaign:c1:escrow"
WORKER = "person:w1:pending"


async def setup_accounts(db: Database, *, brand_funds: int = 0) -> None:
    async with db.session_scope() as s:
        await ledger.open_account(s, AccountSpec(WORLD))
        await ledger.open_account(s, AccountSpec(BRAND, no_overdraft=True))
        await ledger.open_account(s, AccountSpec(ESCROW, no_overdraft=True))
        await ledger.open_account(s, AccountSpec(WORKER, no_overdraft=True))
        await ledger.open_account(s, AccountSpec("org:brand:points", asset="PTS"))
        if brand_funds:
            await ledger.transfer(
                s, TransferRequest("deposit-1", WORLD, BRAND, brand_funds, code="deposit")
            )


async def in_tx(db: Database, action: Callable[[AsyncSession], Awaitable[object]]) -> object:
    async with db.session_scope() as s:
        return await action(s)


async def available(db: Database, key: str) -> int:
    async with db.sessionmaker() as s:
        return (await ledger.balance(s, key)).available


async def transfer_count(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(Transfer))).scalar_one())


async def assert_ledger_sound(db: Database) -> None:
    async with db.sessionmaker() as s:
        report = await ledger.verify(s)
    assert report.problems == []


async def test_a_deposit_moves_money_and_replays_by_key(db: Database) -> None:
    await setup_accounts(db)
    request = TransferRequest("dep-7", WORLD, BRAND, 50_000, code="deposit", reference="order:7")
    first = await in_tx(db, lambda s: ledger.transfer(s, request))
    again = await in_tx(db, lambda s: ledger.transfer(s, request))
    assert isinstance(first, ledger.TransferResult)
    assert isinstance(again, ledger.TransferResult)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.id == first.id
    assert await available(db, BRAND) == 50_000
    assert await available(db, WORLD) == -50_000
    assert await transfer_count(db) == 1
    await assert_ledger_sound(db)


async def test_the_same_key_with_a_different_request_is_refused(db: Database) -> None:
    await setup_accounts(db)
    await in_tx(
        db, lambda s: ledger.transfer(s, TransferRequest("k", WORLD, BRAND, 100, "deposit"))
    )
    with pytest.raises(IdempotencyKeyReused):
        await in_tx(
            db, lambda s: ledger.transfer(s, TransferRequest("k", WORLD, BRAND, 101, "deposit"))
        )
    assert await available(db, BRAND) == 100


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (TransferRequest("a", WORLD, BRAND, 0, "deposit"), InvalidTransfer),
        (TransferRequest("b", WORLD, BRAND, -5, "deposit"), InvalidTransfer),
        (TransferRequest("c", WORLD, BRAND, True, "deposit"), InvalidTransfer),
        (TransferRequest("d", WORLD, WORLD, 5, "deposit"), InvalidTransfer),
        (TransferRequest("e", WORLD, "org:nobody:available", 5, "deposit"), UnknownAccount),
        (TransferRequest("f", WORLD, "org:brand:points", 5, "deposit"), InvalidTransfer),
        (TransferRequest("g", WORLD, BRAND, 5, "deposit", asset="PTS"), InvalidTransfer),
        (TransferRequest("", WORLD, BRAND, 5, "deposit"), InvalidTransfer),
        (TransferRequest("h", BRAND, ESCROW, 5, "fund"), InsufficientFunds),
        (TransferRequest("i", WORLD, BRAND, 5, "deposit", timeout_seconds=60), InvalidTransfer),
    ],
    ids=["zero", "negative", "boolean", "same-account", "unknown-account", "asset-mismatch",
         "wrong-asset", "no-key", "overdraft", "timeout-without-reservation"],
)  # fmt: skip
async def test_bad_transfers_are_refused_and_change_nothing(
    db: Database, request_: TransferRequest, error: type[XingdongError]
) -> None:
    await setup_accounts(db)
    with pytest.raises(error):
        await in_tx(db, lambda s: ledger.transfer(s, request_))
    assert await transfer_count(db) == 0
    for key in (WORLD, BRAND, ESCROW):
        assert await available(db, key) == 0
    await assert_ledger_sound(db)


async def test_the_database_refuses_an_overdraft_even_past_the_service(db: Database) -> None:
    await setup_accounts(db, brand_funds=100)
    with psycopg.connect(libpq_url(db.url)) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE ledger_accounts SET debits_posted = 500 WHERE key = %s", (BRAND,))


async def test_transfers_cannot_be_edited_or_deleted(db: Database) -> None:
    await setup_accounts(db, brand_funds=100)
    with psycopg.connect(libpq_url(db.url)) as conn:
        for statement in ("UPDATE ledger_transfers SET amount = 1", "DELETE FROM ledger_transfers"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    assert await available(db, BRAND) == 100


async def test_reserve_then_post_for_less_releases_the_rest(db: Database) -> None:
    await setup_accounts(db, brand_funds=1_000)
    reserved = await in_tx(
        db,
        lambda s: ledger.transfer(
            s, TransferRequest("r1", BRAND, ESCROW, 600, "fund", pending=True)
        ),
    )
    assert isinstance(reserved, ledger.TransferResult)
    assert await available(db, BRAND) == 400
    posted = await in_tx(
        db,
        lambda s: ledger.post_pending(s, idempotency_key="p1", pending_id=reserved.id, amount=450),
    )
    assert isinstance(posted, ledger.TransferResult)
    assert posted.amount == 450
    assert await available(db, BRAND) == 550
    assert await available(db, ESCROW) == 450
    with pytest.raises(PendingTransferResolved):
        await in_tx(
            db, lambda s: ledger.void_pending(s, idempotency_key="v1", pending_id=reserved.id)
        )
    replay = await in_tx(
        db,
        lambda s: ledger.post_pending(s, idempotency_key="p1", pending_id=reserved.id, amount=450),
    )
    assert isinstance(replay, ledger.TransferResult)
    assert replay.replayed
    await assert_ledger_sound(db)


async def test_posting_more_than_reserved_or_after_a_void_is_refused(db: Database) -> None:
    await setup_accounts(db, brand_funds=1_000)
    reserved = await in_tx(
        db,
        lambda s: ledger.transfer(
            s, TransferRequest("r1", BRAND, ESCROW, 300, "fund", pending=True)
        ),
    )
    assert isinstance(reserved, ledger.TransferResult)
    with pytest.raises(InvalidTransfer):
        await in_tx(
            db,
            lambda s: ledger.post_pending(
                s, idempotency_key="p", pending_id=reserved.id, amount=301
            ),
        )
    await in_tx(db, lambda s: ledger.void_pending(s, idempotency_key="v", pending_id=reserved.id))
    with pytest.raises(PendingTransferResolved):
        await in_tx(
            db, lambda s: ledger.post_pending(s, idempotency_key="p2", pending_id=reserved.id)
        )
    assert await available(db, BRAND) == 1_000
    assert await available(db, ESCROW) == 0
    await assert_ledger_sound(db)


async def test_an_expired_reservation_cannot_be_posted_and_is_voided(db: Database) -> None:
    await setup_accounts(db, brand_funds=1_000)
    reserved = await in_tx(
        db,
        lambda s: ledger.transfer(
            s, TransferRequest("r1", BRAND, ESCROW, 300, "fund", pending=True, timeout_seconds=60)
        ),
    )
    assert isinstance(reserved, ledger.TransferResult)
    later = utcnow() + timedelta(minutes=2)
    with pytest.raises(PendingTransferResolved):
        await in_tx(
            db,
            lambda s: ledger._resolve(
                s,
                idempotency_key="p",
                pending_id=reserved.id,
                post_amount=None,
                kind="post",
                now=later,
            ),
        )
    voided = await in_tx(db, lambda s: ledger.void_expired_reservations(s, now=later))
    assert voided == 1
    assert await available(db, BRAND) == 1_000
    await assert_ledger_sound(db)


async def test_linked_transfers_apply_all_or_none(db: Database) -> None:
    await setup_accounts(db, brand_funds=100)
    with pytest.raises(InsufficientFunds):
        await in_tx(
            db,
            lambda s: ledger.transfer_linked(
                s,
                [
                    TransferRequest("l1", BRAND, ESCROW, 80, "fund"),
                    TransferRequest("l2", ESCROW, WORKER, 90, "reward"),
                ],
            ),
        )
    assert await transfer_count(db) == 1  # only the deposit
    assert await available(db, BRAND) == 100
    results = await in_tx(
        db,
        lambda s: ledger.transfer_linked(
            s,
            [
                TransferRequest("l1", BRAND, ESCROW, 80, "fund"),
                TransferRequest("l2", ESCROW, WORKER, 70, "reward"),
            ],
        ),
    )
    assert isinstance(results, list)
    assert [r.amount for r in results] == [80, 70]
    assert (
        await available(db, BRAND),
        await available(db, ESCROW),
        await available(db, WORKER),
    ) == (20, 10, 70)
    await assert_ledger_sound(db)


async def test_parallel_spends_from_one_account_stop_exactly_at_zero(db: Database) -> None:
    """50 transactions at once each take 10 from an account holding 200: exactly 20 win."""
    await setup_accounts(db, brand_funds=200)
    parallel = Database(db.url, pool_size=25)

    async def spend(n: int) -> str:
        try:
            async with parallel.session_scope() as s:
                await ledger.transfer(s, TransferRequest(f"spend-{n}", BRAND, ESCROW, 10, "fund"))
        except InsufficientFunds:
            return "refused"
        return "ok"

    try:
        outcomes = await asyncio.gather(*(spend(n) for n in range(50)))
    finally:
        await parallel.dispose()
    assert outcomes.count("ok") == 20
    assert outcomes.count("refused") == 30
    assert await available(db, BRAND) == 0
    assert await available(db, ESCROW) == 200
    await assert_ledger_sound(db)


async def test_parallel_retries_with_one_key_apply_once(db: Database) -> None:
    await setup_accounts(db, brand_funds=1_000)
    parallel = Database(db.url, pool_size=20)

    async def retry() -> bool:
        async with parallel.session_scope() as s:
            result = await ledger.transfer(s, TransferRequest("once", BRAND, ESCROW, 100, "fund"))
        return result.replayed

    try:
        replays = await asyncio.gather(*(retry() for _ in range(20)))
    finally:
        await parallel.dispose()
    assert replays.count(False) == 1
    assert await available(db, ESCROW) == 100
    await assert_ledger_sound(db)


async def test_post_void_and_post_at_once_resolve_exactly_once(db: Database) -> None:
    await setup_accounts(db, brand_funds=1_000)
    reserved = await in_tx(
        db,
        lambda s: ledger.transfer(
            s, TransferRequest("r", BRAND, ESCROW, 500, "fund", pending=True)
        ),
    )
    assert isinstance(reserved, ledger.TransferResult)
    parallel = Database(db.url, pool_size=6)

    async def attempt(kind: str, key: str) -> str:
        try:
            async with parallel.session_scope() as s:
                if kind == "post":
                    await ledger.post_pending(s, idempotency_key=key, pending_id=reserved.id)
                else:
                    await ledger.void_pending(s, idempotency_key=key, pending_id=reserved.id)
        except PendingTransferResolved:
            return "refused"
        return kind

    try:
        outcomes = await asyncio.gather(
            attempt("post", "a"), attempt("void", "b"), attempt("post", "c")
        )
    finally:
        await parallel.dispose()
    assert outcomes.count("refused") == 2
    won = next(o for o in outcomes if o != "refused")
    assert await available(db, ESCROW) == (500 if won == "post" else 0)
    assert await available(db, BRAND) == (500 if won == "post" else 1_000)
    await assert_ledger_sound(db)


async def test_two_sweepers_and_a_late_post_settle_each_reservation_once(db: Database) -> None:
    await setup_accounts(db, brand_funds=10_000)
    ids = []
    for n in range(20):
        result = await in_tx(
            db,
            lambda s, n=n: ledger.transfer(  # type: ignore[misc]
                s,
                TransferRequest(
                    f"r{n}", BRAND, ESCROW, 100, "fund", pending=True, timeout_seconds=60
                ),
            ),
        )
        assert isinstance(result, ledger.TransferResult)
        ids.append(result.id)
    deadline = utcnow() + timedelta(seconds=61)
    parallel = Database(db.url, pool_size=10)

    async def sweep() -> int:
        async with parallel.session_scope() as s:
            return await ledger.void_expired_reservations(s, now=deadline)

    async def post(pending_id: int) -> str:
        try:
            async with parallel.session_scope() as s:
                await ledger.post_pending(
                    s, idempotency_key=f"post-{pending_id}", pending_id=pending_id
                )
        except PendingTransferResolved:
            return "refused"
        return "posted"

    try:
        sweeps, posts = await asyncio.gather(
            asyncio.gather(sweep(), sweep()), asyncio.gather(*(post(i) for i in ids[:10]))
        )
    finally:
        await parallel.dispose()
    voided = sum(sweeps)
    posted = [r for r in posts if r == "posted"]
    assert voided + len(posted) == 20
    async with db.sessionmaker() as s:
        resolutions = (
            await s.execute(
                text("SELECT count(*) FROM ledger_transfers WHERE pending_id IS NOT NULL")
            )
        ).scalar_one()
    assert resolutions == 20
    assert await available(db, ESCROW) == 100 * len(posted)
    await assert_ledger_sound(db)


async def test_verify_finds_a_tampered_balance(db: Database) -> None:
    await setup_accounts(db, brand_funds=100)
    await assert_ledger_sound(db)
    with psycopg.connect(libpq_url(db.url), autocommit=True) as conn:
        conn.execute("UPDATE ledger_accounts SET credits_posted = 150 WHERE key = %s", (BRAND,))
    async with db.sessionmaker() as s:
        report = await ledger.verify(s)
    assert any("CNY: balances sum to 50" in p for p in report.problems)
    assert any(p.startswith(f"{BRAND}: cached totals") for p in report.problems)


# --- transfers that are transactions of their own (grouped into batches) ---------------


async def test_parallel_standalone_spends_stop_exactly_at_zero(db: Database) -> None:
    """Three processes' worth of batchers, 60 spends of 10 from 200: exactly 20 win, and
    a refused spend in a batch does not refuse the others."""
    await setup_accounts(db, brand_funds=200)
    processes = [Database(db.url, pool_size=4) for _ in range(3)]

    async def spend(n: int) -> str:
        try:
            await ledger.transfer_alone(
                processes[n % 3], TransferRequest(f"alone-{n}", BRAND, ESCROW, 10, "fund")
            )
        except InsufficientFunds:
            return "refused"
        return "ok"

    try:
        outcomes = await asyncio.gather(*(spend(n) for n in range(60)))
    finally:
        for process in processes:
            await process.dispose()
    assert outcomes.count("ok") == 20
    assert outcomes.count("refused") == 40
    assert await available(db, BRAND) == 0
    assert await available(db, ESCROW) == 200
    assert await transfer_count(db) == 21
    await assert_ledger_sound(db)


async def test_standalone_retries_in_one_batch_apply_once(db: Database) -> None:
    await setup_accounts(db, brand_funds=1_000)
    request = TransferRequest("alone-once", BRAND, ESCROW, 100, "fund")
    results = await asyncio.gather(*(ledger.transfer_alone(db, request) for _ in range(20)))
    assert [r.replayed for r in results].count(False) == 1
    assert {r.id for r in results} == {results[0].id}
    assert {(r.kind, r.amount) for r in results} == {("single", 100)}
    assert await available(db, ESCROW) == 100
    await assert_ledger_sound(db)


async def test_a_movement_that_breaks_its_batch_fails_alone(db: Database) -> None:
    """An amount beyond what the database can hold makes the whole batched call fail; the
    batch is then applied one movement at a time and only that one fails."""
    await setup_accounts(db, brand_funds=1_000)

    async def attempt(n: int) -> str:
        amount = 2**70 if n == 5 else 10
        try:
            await ledger.transfer_alone(
                db, TransferRequest(f"mixed-{n}", BRAND, ESCROW, amount, "fund")
            )
        except psycopg.Error:
            return "broken"
        except UnknownAccount:
            return "unknown"
        return "ok"

    async def unknown() -> str:
        try:
            await ledger.transfer_alone(
                db, TransferRequest("mixed-unknown", BRAND, "campaign:nope:escrow", 10, "fund")
            )
        except UnknownAccount:
            return "unknown"
        return "ok"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(12)), unknown())
    assert outcomes.count("broken") == 1
    assert outcomes.count("unknown") == 1
    assert outcomes.count("ok") == 11
    assert await available(db, ESCROW) == 110
    await assert_ledger_sound(db)
