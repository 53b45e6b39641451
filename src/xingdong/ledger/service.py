"""The ledger's rules. Every movement of money in Xingdong goes through these functions.

How a movement is applied, inside the caller's transaction:

1. the accounts involved are locked in ascending id order (``FOR NO KEY UPDATE``), so two
   movements over the same accounts queue instead of deadlocking;
2. an earlier movement with the same idempotency key is returned as it was (or refused if
   the request differs);
3. limits are checked on the locked totals;
4. the transfer row is inserted (``ON CONFLICT (idempotency_key) DO NOTHING``) and the
   totals updated; CHECK constraints on the accounts are the last guard.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import FieldError
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.money import yuan
from xingdong.ledger.batching import BatchCall, batcher_for
from xingdong.ledger.errors import (
    CreditLimitExceeded,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidTransfer,
    PendingTransferResolved,
    UnknownAccount,
    UnknownPendingTransfer,
)
from xingdong.ledger.models import ASSETS, LedgerAccount, Transfer

# --- accounts -------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    key: str
    asset: str = "CNY"
    no_overdraft: bool = False
    no_credit_beyond_debits: bool = False


async def open_account(session: AsyncSession, spec: AccountSpec) -> LedgerAccount:
    """Create the account if it does not exist; return it either way."""
    if spec.asset not in ASSETS:
        raise InvalidTransfer(
            detail=N_("Unknown asset."), fields=[FieldError("asset", N_("Unknown asset."))]
        )
    await session.execute(
        insert(LedgerAccount)
        .values(
            key=spec.key,
            asset=spec.asset,
            no_overdraft=spec.no_overdraft,
            no_credit_beyond_debits=spec.no_credit_beyond_debits,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    account = await account_by_key(session, spec.key)
    assert account is not None
    return account


async def account_by_key(session: AsyncSession, key: str) -> LedgerAccount | None:
    result = await session.execute(
        select(LedgerAccount)
        .where(LedgerAccount.key == key)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class Balance:
    key: str
    asset: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    @property
    def posted(self) -> int:
        """Credit balance: what the account holds (negative for the outside world)."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """Posted balance less what is reserved from it."""
        return self.credits_posted - self.debits_posted - self.debits_pending


async def balance(session: AsyncSession, key: str) -> Balance:
    account = await account_by_key(session, key)
    if account is None:
        raise UnknownAccount(detail=N_("No such ledger account."))
    return balance_of(account)


async def balance_or_nothing(session: AsyncSession, key: str) -> Balance:
    """The balance of an account that may not be opened yet (nothing moved): zero then."""
    account = await account_by_key(session, key)
    if account is None:
        return Balance(key, "CNY", 0, 0, 0, 0)
    return balance_of(account)


def balance_of(account: LedgerAccount) -> Balance:
    return Balance(
        key=account.key,
        asset=account.asset,
        debits_posted=account.debits_posted,
        credits_posted=account.credits_posted,
        debits_pending=account.debits_pending,
        credits_pending=account.credits_pending,
    )


async def _lock_accounts(session: AsyncSession, keys: Sequence[str]) -> dict[str, LedgerAccount]:
    result = await session.execute(
        select(LedgerAccount)
        .where(LedgerAccount.key.in_(set(keys)))
        .order_by(LedgerAccount.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    accounts = {a.key: a for a in result.scalars()}
    missing = sorted(set(keys) - accounts.keys())
    if missing:
        raise UnknownAccount(detail=N_("No such ledger account: {key}."), extra={"key": missing[0]})
    return accounts


async def _lock_account_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, LedgerAccount]:
    result = await session.execute(
        select(LedgerAccount)
        .where(LedgerAccount.id.in_(set(ids)))
        .order_by(LedgerAccount.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return {a.id: a for a in result.scalars()}


# --- transfers ------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferRequest:
    """One movement: ``amount`` from ``debit`` to ``credit`` (account keys)."""

    idempotency_key: str
    debit: str
    credit: str
    amount: int
    code: str
    asset: str = "CNY"
    reference: str | None = None
    pending: bool = False
    """Reserve now (first phase); settle later with :func:`post_pending` or :func:`void_pending`."""
    timeout_seconds: int | None = None
    """For a reservation: void it automatically after this long."""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransferResult:
    id: int
    kind: str
    amount: int
    replayed: bool
    """True when this is the answer to an earlier request with the same idempotency key."""


def request_digest(payload: dict[str, Any]) -> str:
    """A stable digest of a request, stored beside its idempotency key."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def transfer_digest(request: TransferRequest) -> str:
    """The digest of a movement request: the digest of all its fields by name, the value
    stored with every transfer so far. Built field by field rather than with
    ``dataclasses.asdict``, whose deep copy costs more than the hash on the hot path."""
    return request_digest(
        {
            "idempotency_key": request.idempotency_key,
            "debit": request.debit,
            "credit": request.credit,
            "amount": request.amount,
            "code": request.code,
            "asset": request.asset,
            "reference": request.reference,
            "pending": request.pending,
            "timeout_seconds": request.timeout_seconds,
            "meta": request.meta,
        }
    )


async def _existing(session: AsyncSession, key: str, request_hash: str) -> TransferResult | None:
    row = (
        await session.execute(select(Transfer).where(Transfer.idempotency_key == key))
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise IdempotencyKeyReused(
            detail=N_("This idempotency key was used for a different request.")
        )
    return TransferResult(id=row.id, kind=row.kind, amount=row.amount, replayed=True)


def _validate(request: TransferRequest) -> None:
    errors: list[FieldError] = []
    if (
        isinstance(request.amount, bool)
        or not isinstance(request.amount, int)
        or request.amount <= 0
    ):
        errors.append(
            FieldError("amount", N_("The amount must be a positive whole number of fen."))
        )
    if request.debit == request.credit:
        errors.append(FieldError("credit", N_("Debit and credit accounts must differ.")))
    if not request.idempotency_key or len(request.idempotency_key) > 160:
        errors.append(
            FieldError(
                "idempotency_key", N_("An idempotency key of 1 to 160 characters is required.")
            )
        )
    if request.timeout_seconds is not None and (
        not request.pending or request.timeout_seconds <= 0
    ):
        errors.append(
            FieldError(
                "timeout_seconds", N_("Only a reservation can time out, after a positive time.")
            )
        )
    if errors:
        raise InvalidTransfer(detail=N_("The transfer is not valid."), fields=errors)


_APPLY_PARAMS = (
    "key", "hash", "kind", "debit", "credit", "amount", "asset", "code", "reference",
    "linked", "timeout_at", "meta",
)  # fmt: skip
_APPLY_COLUMNS = "SELECT transfer_id, replayed, error, available FROM ledger_apply_transfer"
_APPLY_SQL = text(
    f"{_APPLY_COLUMNS}({', '.join(':' + p for p in _APPLY_PARAMS[:-1])}, CAST(:meta AS jsonb))"
)
# The same call for a driver connection (psycopg's named placeholders).
_APPLY_DRIVER_SQL = (
    f"{_APPLY_COLUMNS}({', '.join(f'%({p})s' for p in _APPLY_PARAMS[:-1])}, %(meta)s::jsonb)"
)


def _as_json(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "meta": json.loads(params["meta"])}


_TRANSFERS = BatchCall(
    single_sql=_APPLY_DRIVER_SQL,
    batch_sql=(
        "SELECT ord, transfer_id, replayed, error, available "
        "FROM ledger_apply_transfers(%s::jsonb) ORDER BY ord"
    ),
    # One batch at a time per process: the requests that arrive meanwhile make the next
    # batch larger, and a batch is checked and written set-wise, so larger batches cost
    # less per movement in both the database and here. Measured at 8 sessions against
    # two: 20-45% more movements per second, a third less CPU per movement.
    max_in_flight=1,
    as_json=_as_json,
)


def _apply_params(request: TransferRequest, linked_id: UUID | None) -> dict[str, Any]:
    _validate(request)
    timeout_at = (
        utcnow() + timedelta(seconds=request.timeout_seconds) if request.timeout_seconds else None
    )
    return {
        "key": request.idempotency_key,
        "hash": transfer_digest(request),
        "kind": "pending" if request.pending else "single",
        "debit": request.debit,
        "credit": request.credit,
        "amount": request.amount,
        "asset": request.asset,
        "code": request.code,
        "reference": request.reference,
        "linked": linked_id,
        "timeout_at": timeout_at,
        "meta": json.dumps(request.meta),
    }


async def _apply(
    session: AsyncSession, request: TransferRequest, linked_id: UUID | None
) -> TransferResult:
    """One movement in one database call (``ledger_apply_transfer``, see the migration):
    it locks, checks idempotency and limits, inserts and updates the totals."""
    params = _apply_params(request, linked_id)
    row = (await session.execute(_APPLY_SQL, params)).one()
    if row.error is not None:
        raise _transfer_error(row.error, request, row.available)
    if row.replayed:
        earlier = await session.get(Transfer, row.transfer_id)
        assert earlier is not None
        return TransferResult(
            id=earlier.id, kind=earlier.kind, amount=earlier.amount, replayed=True
        )
    return TransferResult(
        id=row.transfer_id, kind=params["kind"], amount=request.amount, replayed=False
    )


async def transfer_alone(db: Database, request: TransferRequest) -> TransferResult:
    """Apply one movement as a transaction of its own: the same rules and the same database
    function as :func:`transfer`, on an autocommit connection, grouped with concurrent
    callers into one commit (see :mod:`xingdong.ledger.batching`).

    For callers with nothing else to write in the same transaction.
    """
    params = _apply_params(request, None)
    transfer_id, replayed, error, available = await batcher_for(db, _TRANSFERS).apply(params)
    if error is not None:
        raise _transfer_error(error, request, available)
    if not replayed:
        return TransferResult(
            id=transfer_id, kind=params["kind"], amount=request.amount, replayed=False
        )
    async with db.statement_connection() as conn:
        earlier = await (
            await conn.execute(
                "SELECT kind, amount FROM ledger_transfers WHERE id = %s", (transfer_id,)
            )
        ).fetchone()
    assert earlier is not None
    return TransferResult(id=transfer_id, kind=earlier[0], amount=earlier[1], replayed=True)


def _transfer_error(error: str, request: TransferRequest, available: int | None) -> Exception:
    if error == "unknown_account":
        return UnknownAccount(detail=N_("No such ledger account."))
    if error == "idempotency_key_reused":
        return IdempotencyKeyReused(
            detail=N_("This idempotency key was used for a different request.")
        )
    if error == "asset_mismatch":
        return InvalidTransfer(
            detail=N_("Both accounts and the transfer must be in the same asset."),
            fields=[FieldError("asset", N_("Assets do not match."))],
        )
    if error == "insufficient_funds":
        extra: dict[str, object] = {
            "available": available, "amount": request.amount, "account": request.debit,
        }  # fmt: skip
        if request.asset == "CNY":
            return InsufficientFunds(
                detail=N_(
                    "Insufficient funds: ¥{available_yuan} available, ¥{amount_yuan} needed."
                ),
                extra=extra
                | {"available_yuan": yuan(available or 0), "amount_yuan": yuan(request.amount)},
            )
        return InsufficientFunds(
            detail=N_("Insufficient funds: {available} available, {amount} needed."), extra=extra
        )
    return CreditLimitExceeded(
        detail=N_("The account cannot be credited beyond what it owes."),
        extra={"account": request.credit},
    )


async def _store_totals(session: AsyncSession, *accounts: LedgerAccount) -> None:
    for account in sorted(accounts, key=lambda a: a.id):
        await session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == account.id)
            .values(
                debits_posted=account.debits_posted,
                credits_posted=account.credits_posted,
                debits_pending=account.debits_pending,
                credits_pending=account.credits_pending,
            )
            .execution_options(synchronize_session=False)
        )


async def transfer(session: AsyncSession, request: TransferRequest) -> TransferResult:
    """Apply one movement (or return the earlier result for its idempotency key)."""
    return await _apply(session, request, None)


async def transfer_linked(
    session: AsyncSession, requests: Sequence[TransferRequest]
) -> list[TransferResult]:
    """Apply several movements together: all of them, or none (the first failure is raised)."""
    if not requests:
        raise InvalidTransfer(detail=N_("A linked transfer needs at least one movement."))
    for request in requests:
        _validate(request)
    linked_id = new_id()
    # Every account of the batch is locked up front, in id order, before any movement.
    await _lock_accounts(session, [k for r in requests for k in (r.debit, r.credit)])
    savepoint = await session.begin_nested()
    try:
        results = [await _apply(session, r, linked_id) for r in requests]
    except BaseException:
        await savepoint.rollback()
        raise
    await savepoint.commit()
    return results


# --- two-phase ------------------------------------------------------------------------


async def _resolve(
    session: AsyncSession,
    *,
    idempotency_key: str,
    pending_id: int,
    post_amount: int | None,
    kind: str,
    now: datetime | None = None,
) -> TransferResult:
    pending = await session.get(Transfer, pending_id)
    if pending is None or pending.kind != "pending":
        raise UnknownPendingTransfer(detail=N_("No such reservation."))
    amount = pending.amount if post_amount is None else post_amount
    request_hash = request_digest(
        {"resolve": kind, "pending_id": pending_id, "amount": amount, "key": idempotency_key}
    )
    accounts = await _lock_account_ids(
        session, [pending.debit_account_id, pending.credit_account_id]
    )
    earlier = await _existing(session, idempotency_key, request_hash)
    if earlier is not None:
        return earlier
    resolution = (
        await session.execute(select(Transfer.kind).where(Transfer.pending_id == pending_id))
    ).scalar_one_or_none()
    if resolution is not None:
        raise PendingTransferResolved(
            detail=N_("The reservation was already posted.")
            if resolution == "post"
            else N_("The reservation was already voided."),
            extra={"state": "posted" if resolution == "post" else "voided"},
        )
    moment = now or utcnow()
    if kind == "post" and pending.timeout_at is not None and pending.timeout_at <= moment:
        raise PendingTransferResolved(
            detail=N_("The reservation has expired."), extra={"state": "expired"}
        )
    if kind == "post" and not (0 < amount <= pending.amount):
        raise InvalidTransfer(
            detail=N_("You can post at most the reserved {reserved} fen."),
            fields=[FieldError("amount", N_("More than was reserved."))],
            extra={"reserved": pending.amount},
        )
    debit = accounts[pending.debit_account_id]
    credit = accounts[pending.credit_account_id]
    inserted = await session.execute(
        insert(Transfer)
        .values(
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            kind=kind,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount=amount if kind == "post" else pending.amount,
            asset=pending.asset,
            code=pending.code,
            reference=pending.reference,
            pending_id=pending_id,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Transfer.id)
    )
    transfer_id = inserted.scalar_one_or_none()
    if transfer_id is None:
        replay = await _existing(session, idempotency_key, request_hash)
        assert replay is not None
        return replay
    debit.debits_pending -= pending.amount
    credit.credits_pending -= pending.amount
    if kind == "post":
        debit.debits_posted += amount
        credit.credits_posted += amount
    await _store_totals(session, debit, credit)
    return TransferResult(
        id=transfer_id,
        kind=kind,
        amount=amount if kind == "post" else pending.amount,
        replayed=False,
    )


async def post_pending(
    session: AsyncSession, *, idempotency_key: str, pending_id: int, amount: int | None = None
) -> TransferResult:
    """Settle a reservation, in full or for less (the rest is released)."""
    return await _resolve(
        session,
        idempotency_key=idempotency_key,
        pending_id=pending_id,
        post_amount=amount,
        kind="post",
    )


async def void_pending(
    session: AsyncSession, *, idempotency_key: str, pending_id: int
) -> TransferResult:
    """Release a reservation."""
    return await _resolve(
        session,
        idempotency_key=idempotency_key,
        pending_id=pending_id,
        post_amount=None,
        kind="void",
    )


async def void_expired_reservations(
    session: AsyncSession, *, now: datetime | None = None, limit: int = 500
) -> int:
    """Void reservations whose timeout has passed. Safe to run from several workers at
    once: each void is keyed by the reservation, so it applies once."""
    moment = now or utcnow()
    resolved = select(Transfer.pending_id).where(Transfer.pending_id.is_not(None))
    due = (
        (
            await session.execute(
                select(Transfer.id)
                .where(
                    Transfer.kind == "pending",
                    Transfer.timeout_at <= moment,
                    Transfer.id.not_in(resolved),
                )
                .order_by(Transfer.timeout_at)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    voided = 0
    for pending_id in due:
        savepoint = await session.begin_nested()
        try:
            result = await void_pending(
                session, idempotency_key=f"expire:{pending_id}", pending_id=pending_id
            )
        except PendingTransferResolved:
            await savepoint.rollback()
            continue
        await savepoint.commit()
        voided += 0 if result.replayed else 1
    return voided


# --- verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    accounts: int
    transfers: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify(session: AsyncSession) -> VerifyReport:
    """Check every ledger invariant; return what is wrong, if anything.

    1. for each asset, all balances sum to zero;
    2. no account flagged ``no_overdraft`` has debits above posted credits;
    3. (transfers are applied once: guaranteed by the unique idempotency key);
    4. each reservation is resolved at most once (guaranteed by a unique index) and no
       settlement exceeds its reservation;
    5. cached totals equal the sums of the transfers.
    """
    problems: list[str] = []
    accounts = (
        (await session.execute(select(LedgerAccount).order_by(LedgerAccount.id))).scalars().all()
    )
    transfers_count = (
        await session.execute(select(func.count()).select_from(Transfer))
    ).scalar_one()
    sums: dict[str, int] = {}
    for a in accounts:
        sums[a.asset] = sums.get(a.asset, 0) + a.credits_posted - a.debits_posted
        if a.no_overdraft and a.debits_posted + a.debits_pending > a.credits_posted:
            problems.append(f"{a.key}: overdrawn")
        if a.no_credit_beyond_debits and a.credits_posted + a.credits_pending > a.debits_posted:
            problems.append(f"{a.key}: credited beyond its debits")
    for asset, total in sorted(sums.items()):
        if total != 0:
            problems.append(f"{asset}: balances sum to {total}, not 0")
    recomputed = await _recompute_totals(session)
    for a in accounts:
        expected = recomputed.get(a.id, (0, 0, 0, 0))
        actual = (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)
        if expected != actual:
            problems.append(f"{a.key}: cached totals {actual} differ from transfers {expected}")
    oversettled = (
        await session.execute(
            text(
                "SELECT count(*) FROM ledger_transfers r "
                "JOIN ledger_transfers p ON p.id = r.pending_id "
                "WHERE r.amount > p.amount OR r.debit_account_id <> p.debit_account_id "
                "OR r.credit_account_id <> p.credit_account_id OR p.kind <> 'pending'"
            )
        )
    ).scalar_one()
    if oversettled:
        problems.append(f"{oversettled} settlements do not match their reservations")
    return VerifyReport(accounts=len(accounts), transfers=int(transfers_count), problems=problems)


async def _recompute_totals(session: AsyncSession) -> dict[int, tuple[int, int, int, int]]:
    rows = await session.execute(
        text(
            """
            WITH posted AS (
                SELECT debit_account_id AS d, credit_account_id AS c, amount
                FROM ledger_transfers WHERE kind IN ('single', 'post')
            ), open_pending AS (
                SELECT t.debit_account_id AS d, t.credit_account_id AS c, t.amount
                FROM ledger_transfers t
                WHERE t.kind = 'pending'
                  AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = t.id)
            ), movements AS (
                SELECT d AS account, amount AS dp, 0 AS cp, 0 AS dq, 0 AS cq FROM posted
                UNION ALL SELECT c, 0, amount, 0, 0 FROM posted
                UNION ALL SELECT d, 0, 0, amount, 0 FROM open_pending
                UNION ALL SELECT c, 0, 0, 0, amount FROM open_pending
            )
            SELECT account, sum(dp), sum(cp), sum(dq), sum(cq) FROM movements GROUP BY account
            """
        )
    )
    return {row[0]: (int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in rows}


@dataclass(frozen=True)
class KindTotal:
    """The accounts of one kind, summed."""

    posted: int
    """Their posted balance."""
    reserved_out: int
    """Of it, what reservations hold to leave them (a withdrawal or a refund under way, a
    task's reward while it is being done): posted, but no longer theirs to spend."""


async def totals_by_kind(session: AsyncSession) -> dict[str, KindTotal]:
    """Balances summed by the kind of account (the key's first part and its last, such as
    ``campaign:escrow`` or ``person:pending``), in CNY."""
    rows = await session.execute(
        text(
            "SELECT split_part(key, ':', 1) || ':' || CASE WHEN key LIKE '%:%:%' "
            "THEN split_part(key, ':', 3) ELSE split_part(key, ':', 2) END, "
            "sum(credits_posted - debits_posted), sum(debits_pending) "
            "FROM ledger_accounts WHERE asset = 'CNY' GROUP BY 1 ORDER BY 1"
        )
    )
    return {kind: KindTotal(int(posted), int(out)) for kind, posted, out in rows.all()}


@dataclass(frozen=True)
class Flow:
    """What moved into and out of an account under one code, posted."""

    code: str
    inflow: int
    outflow: int
    count: int


async def posted_flows(session: AsyncSession, key: str) -> list[Flow]:
    """An account's posted movements summed by code (a statement's lines): single
    transfers and the posting of reserved ones, never what is only reserved or was
    voided. Empty for an account not opened yet."""
    account = await account_by_key(session, key)
    if account is None:
        return []
    rows = await session.execute(
        select(
            Transfer.code,
            func.coalesce(
                func.sum(Transfer.amount).filter(Transfer.credit_account_id == account.id), 0
            ),
            func.coalesce(
                func.sum(Transfer.amount).filter(Transfer.debit_account_id == account.id), 0
            ),
            func.count(),
        )
        .where(
            Transfer.kind.in_(("single", "post")),
            (Transfer.credit_account_id == account.id) | (Transfer.debit_account_id == account.id),
        )
        .group_by(Transfer.code)
        .order_by(Transfer.code)
    )
    return [Flow(code, int(inflow), int(outflow), int(n)) for code, inflow, outflow, n in rows]
