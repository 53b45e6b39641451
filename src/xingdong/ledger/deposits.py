"""Brand top-ups: a deposit is requested, the payer pays at the provider, and the
provider's signed notification moves the money into the organisation's balance.

Duplicate and out-of-order notifications are harmless: the ledger movement is keyed by
the deposit, and a deposit, once paid, stays paid.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import Conflict, FieldError, NotFound
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.logging import get_logger
from xingdong.core.money import yuan
from xingdong.core.pagination import CursorPage, clamp_limit, in_pages
from xingdong.core.policy import Action, Actor, require
from xingdong.identity import repository as identity_repo
from xingdong.ledger import service as ledger
from xingdong.ledger.batching import BatchCall, batcher_for
from xingdong.ledger.errors import IdempotencyKeyReused, InvalidTransfer
from xingdong.ledger.idempotency import claim_key
from xingdong.ledger.models import Deposit
from xingdong.ledger.payments import PaymentNotice, PaymentProvider, PaymentRecord

DEPOSITS_ACCOUNT = "external:deposits"
log = get_logger(__name__)


class AmountMismatch(Conflict):
    code = "amount_mismatch"
    title = N_("The provider reported a different amount")


def org_account(org_id: UUID) -> str:
    return f"org:{org_id}:available"


async def open_org_account(session: AsyncSession, org_id: UUID) -> None:
    await ledger.open_account(session, ledger.AccountSpec(DEPOSITS_ACCOUNT))
    await ledger.open_account(session, ledger.AccountSpec(org_account(org_id), no_overdraft=True))


async def org_balance(session: AsyncSession, org_id: UUID) -> ledger.Balance:
    return await ledger.balance_or_nothing(session, org_account(org_id))


async def request_deposit(
    session: AsyncSession,
    *,
    org_id: UUID,
    requested_by: UUID,
    amount: int,
    idempotency_key: str,
    provider: str,
    min_amount: int,
    max_amount: int,
) -> Deposit:
    """Create a deposit waiting for payment; a retry with the same key returns it."""
    if not idempotency_key or len(idempotency_key) > 160:
        raise InvalidTransfer(
            detail=N_("Send an Idempotency-Key header of 1 to 160 characters."),
            fields=[FieldError("Idempotency-Key", N_("Required."))],
        )
    request_hash = ledger.request_digest({"org": str(org_id), "amount": amount})
    await claim_key(session, person_id=requested_by, key=idempotency_key, kind="top_up")
    earlier = (
        await session.execute(
            select(Deposit).where(
                Deposit.requested_by == requested_by, Deposit.idempotency_key == idempotency_key
            )
        )
    ).scalar_one_or_none()
    if earlier is not None:
        if earlier.request_hash != request_hash:
            raise IdempotencyKeyReused(
                detail=N_("This idempotency key was used for a different request.")
            )
        return earlier
    if not min_amount <= amount <= max_amount:
        raise InvalidTransfer(
            detail=N_("A top-up is between ¥{low_yuan} and ¥{high_yuan}."),
            fields=[
                FieldError("amount_fen", N_("From ¥{low_yuan} to ¥{high_yuan}."), "out_of_range")
            ],
            extra={
                "low": min_amount,
                "high": max_amount,
                "low_yuan": yuan(min_amount),
                "high_yuan": yuan(max_amount),
            },
        )
    await identity_repo.hold_open_organisation(session, org_id)
    await open_org_account(session, org_id)
    deposit = Deposit(
        id=new_id(),
        org_id=org_id,
        requested_by=requested_by,
        amount=amount,
        provider=provider,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    session.add(deposit)
    await session.flush()
    return deposit


_PAYMENT_PARAMS = ("deposit", "amount", "status", "txn", "world")
_RECORD_PAYMENT_CALL = "SELECT outcome, deposit_amount FROM ledger_record_payment({})"
_RECORD_PAYMENT_SQL = text(_RECORD_PAYMENT_CALL.format(", ".join(f":{p}" for p in _PAYMENT_PARAMS)))
# The same call for a driver connection (psycopg's named placeholders).
_RECORD_PAYMENT_DRIVER_SQL = _RECORD_PAYMENT_CALL.format(
    ", ".join(f"%({p})s" for p in _PAYMENT_PARAMS)
)
_PAYMENTS = BatchCall(
    single_sql=_RECORD_PAYMENT_DRIVER_SQL,
    batch_sql=(
        "SELECT ord, outcome, deposit_amount FROM ledger_record_payments(%s::jsonb) ORDER BY ord"
    ),
    # One batch at a time per process: notices mostly credit few organisations, whose
    # accounts a second batch would only queue behind; waiting notices go in the next one.
    max_in_flight=1,
)


def _payment_params(notice: PaymentNotice) -> dict[str, object]:
    try:
        deposit_id = UUID(notice.order_id)
    except ValueError:
        raise NotFound(detail=N_("No such deposit.")) from None
    return {
        "deposit": deposit_id,
        "amount": notice.amount,
        "status": notice.status,
        "txn": notice.provider_txn,
        "world": DEPOSITS_ACCOUNT,
    }


def _payment_outcome(outcome: str, deposit_amount: int | None, notice: PaymentNotice) -> str:
    if outcome == "not_found":
        raise NotFound(detail=N_("No such deposit."))
    if outcome == "amount_mismatch":
        raise AmountMismatch(
            detail=N_("The provider reported {reported} fen for a deposit of {amount} fen."),
            extra={"reported": notice.amount, "amount": deposit_amount},
        )
    if outcome not in ("paid", "already_paid", "closed"):
        raise RuntimeError(f"ledger_record_payment refused the payment: {outcome}")
    return outcome


async def record_payment_notice(session: AsyncSession, *, notice: PaymentNotice) -> str:
    """Apply a verified provider notification inside the caller's transaction. Safe to
    receive twice or out of order. Answers ``paid``, ``already_paid`` or ``closed``.

    The rules are one database function, ``ledger_record_payment`` (see its migration):
    lock the deposit, check the amount, credit the organisation once (idempotency key
    ``deposit:<id>``), mark the deposit paid and write the audit entry."""
    row = (await session.execute(_RECORD_PAYMENT_SQL, _payment_params(notice))).one()
    return _payment_outcome(row.outcome, row.deposit_amount, notice)


async def record_payment_notice_alone(db: Database, *, notice: PaymentNotice) -> str:
    """The same as :func:`record_payment_notice`, as a transaction of its own on an
    autocommit connection (the provider's notification path), grouped with concurrent
    notices into one commit (see :mod:`xingdong.ledger.batching`)."""
    outcome, deposit_amount = await batcher_for(db, _PAYMENTS).apply(_payment_params(notice))
    return _payment_outcome(outcome, deposit_amount, notice)


async def get_deposit(
    session: AsyncSession, deposit_id: UUID, *, org_id: UUID | None = None, lock: bool = False
) -> Deposit:
    """The deposit (of ``org_id``, when given), its row locked with ``lock``."""
    deposit = await session.get(
        Deposit, deposit_id, with_for_update=lock or None, populate_existing=lock
    )
    if deposit is None or (org_id is not None and deposit.org_id != org_id):
        raise NotFound(detail=N_("No such deposit."))
    return deposit


async def deposits_page(
    session: AsyncSession,
    org_id: UUID,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[Deposit]:
    """An organisation's top-ups, newest first (``status`` keeps one state)."""
    size = clamp_limit(limit)
    query = select(Deposit).where(Deposit.org_id == org_id)
    if status:
        query = query.where(Deposit.status == status)
    query = in_pages(query, Deposit.created_at, Deposit.id, cursor, newest_first=True)
    query = query.limit(size + 1)
    rows = list((await session.scalars(query)).all())
    return CursorPage.cut(rows, size)


class DepositNotOpen(Conflict):
    code = "deposit_not_open"
    title = N_("This top-up is no longer waiting for payment")


async def close_deposit(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    deposit_id: UUID,
    payments: PaymentProvider,
) -> Deposit:
    """Close a top-up nobody has paid (a wrong amount typed, a change of mind), owners
    only. The provider closes its checkout first, so the payer cannot pay it afterwards;
    closing a closed one again changes nothing; a paid one is refused (refund it)."""
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=org_id)
    deposit = await get_deposit(session, deposit_id, org_id=org_id, lock=True)
    if deposit.status == "closed":
        return deposit
    if deposit.status == "paid":
        raise DepositNotOpen(detail=N_("This top-up was paid; to give the money back, refund it."))
    if await _closed_at_provider(deposit.id, payments) is not None:
        raise DepositNotOpen(
            detail=N_(
                "The payer has just paid this top-up: it reaches the balance when the "
                "provider's notice arrives, or at once with “Paid already? Check”. To give "
                "the money back, refund it then."
            )
        )
    await _mark_closed(session, deposit, actor_id=actor.person_id, action="ledger.deposit_closed")
    await session.flush()
    return deposit


async def _mark_closed(
    session: AsyncSession,
    deposit: Deposit,
    *,
    actor_id: UUID | None,
    action: str,
    **data: object,
) -> None:
    """The locked top-up closed (its checkout closed at the provider first), and why in the
    audit log."""
    deposit.status = "closed"
    await record_audit(
        session,
        actor_id=actor_id,
        action=action,
        object_type="organisation",
        object_id=deposit.org_id,
        data={"deposit": str(deposit.id), "amount": deposit.amount, **data},
    )


async def _closed_at_provider(deposit_id: UUID, payments: PaymentProvider) -> PaymentRecord | None:
    """Ask the provider to close the top-up's checkout: None once it is closed there; the
    payment when the payer was quicker (its notice is on its way, or was lost)."""
    record = await payments.close_order(order_id=str(deposit_id))
    return record if record is not None and record.status == "paid" else None


async def check_deposit(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    deposit_id: UUID,
    payments: PaymentProvider,
) -> Deposit:
    """Ask the provider whether a top-up waiting for payment was paid (a payer who paid
    and still sees it waiting), and credit it now if it was, as its notice would have: a
    notice lost on the way no longer leaves the money out of the balance. One already paid
    or closed is answered as it is, without asking."""
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=org_id)
    deposit = await get_deposit(session, deposit_id, org_id=org_id)
    if deposit.status != "created":
        return deposit
    record = await payments.query_order(order_id=str(deposit.id))
    if record is not None and record.status == "paid":
        outcome = await record_payment_notice(session, notice=record.as_notice())
        if outcome == "paid":
            log.info("top_up_credited_on_query", deposit=str(deposit.id), amount=record.amount)
        deposit = await get_deposit(session, deposit_id, org_id=org_id, lock=True)
    return deposit


def expires_at(deposit: Deposit, expiry_hours: int) -> datetime | None:
    """When a top-up waiting for payment closes on its own (None once paid or closed)."""
    if deposit.status != "created":
        return None
    return deposit.created_at + timedelta(hours=expiry_hours)


async def expire_unpaid_deposits(
    db: Database,
    payments: PaymentProvider,
    *,
    expiry_hours: int,
    now: datetime | None = None,
    limit: int = 500,
) -> int:
    """Close top-ups left unpaid for ``expiry_hours`` (a periodic job), each in its own
    transaction, at the provider first. Safe beside another sweep or an owner closing the
    same top-up: each is locked and looked at again, so it closes once. Answers how many
    were closed. One the provider says was paid is credited instead, as its notice would
    have been: after a day its notice was lost (a notice arriving later changes nothing)."""
    cutoff = (now or utcnow()) - timedelta(hours=expiry_hours)
    async with db.sessionmaker() as session:
        due = (
            await session.scalars(
                select(Deposit.id)
                .where(Deposit.status == "created", Deposit.created_at < cutoff)
                .order_by(Deposit.created_at)
                .limit(limit)
            )
        ).all()
    expired = 0
    for deposit_id in due:
        try:
            # The provider first, with no lock held here: closing is idempotent there, and
            # once closed nothing more can be paid, so what the row says next is final.
            payment = await _closed_at_provider(deposit_id, payments)
            async with db.session_scope() as session:
                if payment is not None:
                    # Paid a day ago and still waiting here: its notice was lost. Credit
                    # it as the notice would have (a notice arriving later changes nothing).
                    if await record_payment_notice(session, notice=payment.as_notice()) == "paid":
                        log.warning("top_up_notice_lost_credited", deposit=str(deposit_id))
                    continue
                deposit = await get_deposit(session, deposit_id, lock=True)
                if deposit.status != "created":
                    continue
                await _mark_closed(
                    session,
                    deposit,
                    actor_id=None,
                    action="ledger.deposit_expired",
                    expiry_hours=expiry_hours,
                )
            expired += 1
        except Exception:
            # One top-up the provider cannot answer for must not stop the others: it is
            # tried again at the next sweep.
            log.exception("top_up_expiry_failed", deposit=str(deposit_id))
    return expired


STATUS_LABELS = {
    "created": N_("waiting for payment"),
    "paid": N_("paid"),
    "closed": N_("closed without payment"),
}
"""A top-up's status as the organisation page says it."""
