"""People's wallets: money earned and in hold (pending), money they may withdraw
(available), and points; with every movement and its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.i18n import N_
from xingdong.core.numbers import whole_number
from xingdong.core.pagination import bad_cursor
from xingdong.ledger import service as ledger
from xingdong.ledger.errors import AccountClosed
from xingdong.ledger.models import LedgerAccount, Transfer

MOVEMENT_LABELS = {
    "deposit": N_("Top-up"),
    "refund": N_("Top-up refunded"),
    "adjustment": N_("Correction by the platform"),
    "campaign_fund": N_("Campaign budget set aside"),
    "campaign_return": N_("Unused campaign budget returned"),
    "task_reward": N_("Task reward"),
    "task_fee": N_("Platform fee for a task"),
    "task_release": N_("Reward out of hold"),
    "agency_share": N_("Your agency's share of a reward"),
    "task_clawback": N_("Reward taken back"),
    "task_fee_refund": N_("Platform fee returned"),
    "withdrawal": N_("Withdrawal"),
    "withdrawal_fee": N_("Withdrawal fee"),
    "erasure_remainder": N_("Balance too small to withdraw, given up when the account was erased"),
}
"""What each transfer code means to a person. The codes are written where the money
moves (top-ups in the ``ledger_record_payment`` database function, refunds, adjustments
and withdrawals here in the ledger, campaign money in ``campaigns.service``, task money
in ``work.service``); a code missing here shows as itself, so add new codes here."""

STATE_LABELS = {
    "posted": N_("Recorded"),
    "reserved": N_("In progress"),
    "settled": N_("Completed"),
    "released": N_("Cancelled; nothing moved"),
}
"""A movement's :attr:`Movement.state` as the wallet page says it."""

REWARD_STATE_LABELS = {
    "reserved": N_("Set aside for your claim; yours once approved"),
    "settled": N_("Approved; into hold"),
    "posted": N_("Approved; into hold"),
}
"""The state of money coming into the hold (a task's reward): set aside at the claim, it
is not the person's yet, and once approved it is in hold, not "completed"."""

PAYOUT_KIND_LABELS = {"alipay": N_("Alipay"), "bank": N_("Bank card")}

WITHDRAWAL_STATUS_LABELS = {
    "requested": N_("Waiting for an operator"),
    "approved": N_("Approved; being paid out"),
    "processing": N_("Being paid out"),
    "paid": N_("Paid"),
    "failed": N_("Failed; the money is back"),
    "rejected": N_("Rejected; the money is back"),
}
"""A withdrawal's status as the wallet and agency pages say it."""


def mask_name(name: str | None) -> str | None:
    """A payout account holder's name as pages show it: its first character (a family
    name, mostly)."""
    if not name:
        return None
    return name[:1] + "*" * min(len(name) - 1, 2)


PAYOUT_CARD_LABELS = {
    "payout_kinds": PAYOUT_KIND_LABELS,
    "withdrawal_statuses": WITHDRAWAL_STATUS_LABELS,
    "mask_name": mask_name,
}
"""What a page showing ``payout_macros.payout_card`` adds to its context."""


def pending_account(person_id: UUID) -> str:
    return f"person:{person_id}:pending"


def available_account(person_id: UUID) -> str:
    return f"person:{person_id}:available"


def points_account(person_id: UUID) -> str:
    return f"person:{person_id}:points"


async def open_wallet(session: AsyncSession, person_id: UUID) -> None:
    for spec in (
        ledger.AccountSpec(pending_account(person_id), no_overdraft=True),
        ledger.AccountSpec(available_account(person_id), no_overdraft=True),
        ledger.AccountSpec(points_account(person_id), asset="PTS", no_overdraft=True),
    ):
        await ledger.open_account(session, spec)


@dataclass(frozen=True)
class Balances:
    pending: int
    available: int
    reserved: int
    """Of available, what withdrawals under way hold."""
    points: int


async def _wallet_accounts(
    session: AsyncSession, person_id: UUID, *, share: bool
) -> dict[str, LedgerAccount]:
    keys = (pending_account(person_id), available_account(person_id), points_account(person_id))
    rows = await session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.key.in_(keys))
        .order_by(LedgerAccount.id)
        # The ledger takes FOR NO KEY UPDATE on what it moves; FOR SHARE waits for that.
        .with_for_update(read=share, key_share=not share)
        .execution_options(populate_existing=True)
    )
    return {a.key: a for a in rows}


async def hold_wallet(session: AsyncSession, person_id: UUID) -> Balances:
    """Lock the person's wallet (as a movement does) and read its balances: nothing moves
    in or out of it until the transaction ends."""
    await open_wallet(session, person_id)
    found = await _wallet_accounts(session, person_id, share=False)
    pending = found[pending_account(person_id)]
    available = found[available_account(person_id)]
    points = found[points_account(person_id)]
    return Balances(
        pending=pending.credits_posted - pending.debits_posted,
        available=available.credits_posted - available.debits_posted - available.debits_pending,
        reserved=available.debits_pending,
        points=points.credits_posted - points.debits_posted,
    )


async def close_wallet(session: AsyncSession, person_id: UUID, *, now: datetime) -> None:
    """Mark the (held) wallet's accounts closed: its owner's account was erased."""
    for account in (await _wallet_accounts(session, person_id, share=False)).values():
        account.closed_at = now
    await session.flush()


async def require_open_wallet(session: AsyncSession, person_id: UUID) -> None:
    """Refuse when the person's wallet is closed; otherwise keep it from being closed
    until the transaction ends (a share lock, which an erasure waits for)."""
    await open_wallet(session, person_id)
    found = await _wallet_accounts(session, person_id, share=True)
    if any(a.closed_at is not None for a in found.values()):
        raise AccountClosed(detail=N_("This account was erased; its wallet is closed."))


@dataclass(frozen=True)
class Movement:
    transfer_id: int
    at: datetime
    account: str
    """``pending``, ``available`` or ``points``."""
    amount: int
    """Positive into the wallet, negative out of it."""
    asset: str
    code: str
    reference: str | None
    state: str
    """``posted``, ``reserved`` (a withdrawal waiting), ``released`` or ``settled``."""


def state_label(movement: Movement) -> str:
    """What the wallet page says of a movement's state (a message id)."""
    if movement.code == "task_reward" and movement.account == "pending" and movement.amount > 0:
        found = REWARD_STATE_LABELS.get(movement.state)
        if found is not None:
            return found
    return STATE_LABELS.get(movement.state, movement.state)


@dataclass(frozen=True)
class Wallet:
    pending: int
    available: int
    reserved: int
    points: int
    movements: list[Movement]
    next_cursor: str | None = None
    """Where the older movements start, when there are more than the page shows."""


def movements_after(cursor: str | None) -> int | None:
    """The transfer a page of movements starts below (its cursor is that number)."""
    if not cursor:
        return None
    below = whole_number(cursor, digits=18)
    if below is None or below < 1:
        raise bad_cursor()
    return below


async def wallet(
    session: AsyncSession, person_id: UUID, *, limit: int = 50, cursor: str | None = None
) -> Wallet:
    """Balances and a page of movements, newest first (``cursor``: the older ones)."""
    below = movements_after(cursor)
    keys = {
        pending_account(person_id): "pending",
        available_account(person_id): "available",
        points_account(person_id): "points",
    }
    accounts = {
        a.id: a
        for a in (
            await session.execute(select(LedgerAccount).where(LedgerAccount.key.in_(keys)))
        ).scalars()
    }
    by_key = {a.key: a for a in accounts.values()}
    rows = []
    if accounts:
        rows = list(
            (
                await session.execute(
                    select(Transfer)
                    .where(
                        or_(
                            Transfer.debit_account_id.in_(accounts),
                            Transfer.credit_account_id.in_(accounts),
                        ),
                        # A reservation is listed once, with its outcome as its state.
                        Transfer.kind.in_(("single", "pending")),
                        Transfer.id < below if below is not None else true(),
                    )
                    .order_by(Transfer.id.desc())
                    .limit(limit + 1)
                )
            ).scalars()
        )
    more = len(rows) > limit
    rows = rows[:limit]
    resolved: dict[int, str] = {}
    pending_ids = [r.id for r in rows if r.kind == "pending"]
    if pending_ids:
        found = await session.execute(
            select(Transfer.pending_id, Transfer.kind).where(Transfer.pending_id.in_(pending_ids))
        )
        resolved = {pid: kind for pid, kind in found.all() if pid is not None}
    movements = []
    for row in rows:
        inward = row.credit_account_id in accounts
        account = accounts[row.credit_account_id if inward else row.debit_account_id]
        if row.kind == "pending":
            state = {"post": "settled", "void": "released"}.get(
                resolved.get(row.id, ""), "reserved"
            )
        else:
            state = "posted"
        movements.append(
            Movement(
                transfer_id=row.id,
                at=row.created_at,
                account=keys[account.key],
                amount=row.amount if inward else -row.amount,
                asset=row.asset,
                code=row.code,
                reference=row.reference,
                state=state,
            )
        )

    def posted(key: str) -> int:
        account = by_key.get(key)
        return 0 if account is None else account.credits_posted - account.debits_posted

    available = by_key.get(available_account(person_id))
    return Wallet(
        pending=posted(pending_account(person_id)),
        available=posted(available_account(person_id))
        - (available.debits_pending if available else 0),
        reserved=available.debits_pending if available else 0,
        points=posted(points_account(person_id)),
        movements=movements,
        next_cursor=str(rows[-1].id) if more else None,
    )
