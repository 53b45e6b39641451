"""A batch of movements (``ledger_apply_transfers``) answers exactly as the same movements
applied one after another (``ledger_apply_transfer``): same errors, same replays, same
available amounts in refusals, same totals afterwards."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection

from xingdong.core.db import Database, libpq_url
from xingdong.ledger import service as ledger
from xingdong.ledger.service import AccountSpec, TransferRequest

WORLD = "external:world"
SPENDERS = [f"person:b{n}:available" for n in range(4)]
CAPPED = "campaign:capped:escrow"
POINTS = "org:b:points"
KEYS = [WORLD, *SPENDERS, CAPPED, POINTS, "person:nobody:available"]


async def _open_accounts(db: Database) -> None:
    async with db.session_scope() as s:
        await ledger.open_account(s, AccountSpec(WORLD))
        for key in SPENDERS:
            await ledger.open_account(s, AccountSpec(key, no_overdraft=True))
            await ledger.transfer(s, TransferRequest(f"fund-{key}", WORLD, key, 100, "deposit"))
        await ledger.open_account(s, AccountSpec(CAPPED, no_credit_beyond_debits=True))
        await ledger.transfer(s, TransferRequest("cap", CAPPED, WORLD, 50, "cap"))
        await ledger.open_account(s, AccountSpec(POINTS, asset="PTS"))


def _as_params(request: TransferRequest) -> dict[str, Any]:
    params = ledger._apply_params(request, None)
    return {**params, "meta": json.loads(params["meta"])}


STORED = _as_params(TransferRequest("cap", CAPPED, WORLD, 50, "cap"))


def _requests(rng: random.Random, size: int) -> list[dict[str, Any]]:
    """Movements that run accounts dry, hit the cap, reuse keys (with the same body and
    with another), name unknown accounts and mix assets, in one batch."""
    requests: list[dict[str, Any]] = []
    for n in range(size):
        if rng.random() < 0.1:
            # A retry: of a movement stored before the batch, or of one in it.
            again = [STORED, *requests] if requests else [STORED]
            requests.append(dict(rng.choice(again)))
            continue
        debit, credit = rng.sample(KEYS, 2)
        amount = rng.choice([1, 10, 30, 60])
        key = f"k{rng.randrange(size)}" if rng.random() < 0.3 else f"k-{n}"
        request = TransferRequest(
            key,
            debit,
            credit,
            amount,
            "mix",
            asset="PTS" if rng.random() < 0.1 else "CNY",
            pending=rng.random() < 0.3,
        )
        requests.append(_as_params(request))
    return requests


async def _totals(conn: AsyncConnection[Any]) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(
        "SELECT key, debits_posted, debits_pending, credits_posted, credits_pending "
        "FROM ledger_accounts ORDER BY key"
    )
    return list(await cursor.fetchall())


async def _one_by_one(
    conn: AsyncConnection[Any], requests: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    answers = []
    for r in requests:
        cursor = await conn.execute(
            "SELECT transfer_id, replayed, error, available FROM ledger_apply_transfer("
            "%(key)s, %(hash)s, %(kind)s, %(debit)s, %(credit)s, %(amount)s, %(asset)s, "
            "%(code)s, %(reference)s, %(linked)s, %(timeout_at)s, %(meta)s::jsonb)",
            {**r, "meta": json.dumps(r["meta"])},
        )
        row = await cursor.fetchone()
        assert row is not None
        answers.append(tuple(row))
    return answers


async def _as_batch(
    conn: AsyncConnection[Any], requests: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(
        "SELECT transfer_id, replayed, error, available "
        "FROM ledger_apply_transfers(%s::jsonb) ORDER BY ord",
        (json.dumps(requests, default=str),),
    )
    return [tuple(row) for row in await cursor.fetchall()]


def _same_transfer_groups(
    requests: list[dict[str, Any]], answers: list[tuple[Any, ...]]
) -> list[list[int]]:
    """Which answers name one transfer, as groups of positions (ids differ between runs)."""
    groups: dict[Any, list[int]] = {}
    for n, answer in enumerate(answers):
        if answer[0] is not None:
            groups.setdefault(answer[0], []).append(n)
    return sorted(groups.values())


async def test_a_batch_answers_as_its_movements_one_after_another(db: Database) -> None:
    await _open_accounts(db)
    replayed = 0
    errors: set[str] = set()
    async with await AsyncConnection.connect(libpq_url(db.url)) as conn:
        for seed in range(40):
            requests = _requests(random.Random(seed), size=random.Random(seed).randint(2, 24))
            alone = await _one_by_one(conn, requests)
            totals_alone = await _totals(conn)
            await conn.rollback()
            batch = await _as_batch(conn, requests)
            totals_batch = await _totals(conn)
            await conn.rollback()
            assert [a[1:] for a in batch] == [a[1:] for a in alone], f"seed {seed}"
            assert totals_batch == totals_alone, f"seed {seed}"
            groups = _same_transfer_groups(requests, batch)
            assert groups == _same_transfer_groups(requests, alone), f"seed {seed}"
            errors |= {a[2] for a in batch if a[2] is not None}
            replayed += sum(1 for a in batch if a[1] and a[2] is None)
    # The seeds reach every kind of answer, not only the easy ones.
    assert errors == {
        "unknown_account",
        "idempotency_key_reused",
        "asset_mismatch",
        "insufficient_funds",
        "credit_limit_exceeded",
    }
    assert replayed >= 3


async def test_a_batch_whose_key_is_stored_meanwhile_leaves_nothing(db: Database) -> None:
    """Another transaction stores one of the batch's keys, for other accounts, between the
    batch's lookup and its insert: the batch raises and leaves nothing behind (its caller
    then applies the movements one by one, where the key is answered as reused)."""
    await _open_accounts(db)
    theirs, ours = _requests(random.Random(1), size=1)[0], _requests(random.Random(2), size=2)
    theirs.update(key="shared", debit=SPENDERS[2], credit=SPENDERS[3], asset="CNY", amount=1)
    ours[0].update(debit=SPENDERS[0], credit=SPENDERS[1], asset="CNY", amount=1)
    ours[1].update(key="shared", debit=SPENDERS[0], credit=SPENDERS[1], asset="CNY", amount=1)
    async with (
        await AsyncConnection.connect(libpq_url(db.url)) as other,
        await AsyncConnection.connect(libpq_url(db.url), autocommit=True) as conn,
    ):
        await _one_by_one(other, [theirs])  # the key is taken, not yet committed
        before = await _totals(conn)
        batch = asyncio.ensure_future(_as_batch(conn, ours))
        await asyncio.sleep(0.5)
        assert not batch.done()  # the insert waits to learn whether the key commits
        await other.commit()
        with pytest.raises(psycopg.Error) as raised:
            await batch
        assert raised.value.sqlstate == "XD001"
        after = await _totals(conn)
    changed = {row[0] for row in after} - {row[0] for row in before if row in after}
    assert changed == {SPENDERS[2], SPENDERS[3]}  # only the other transaction's movement
