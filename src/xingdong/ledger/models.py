"""Ledger tables, modelled on TigerBeetle: accounts with four running totals, and
immutable transfers. Amounts are integer minor units (fen for CNY)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin

ASSETS = ("CNY", "PTS")


class LedgerAccount(CreatedAtMixin, Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    """Sequence number; locks are always taken in ascending id order."""
    key: Mapped[str] = mapped_column(String(120), unique=True)
    """What the account is, as ``kind:owner`` (``org:<uuid>:available``, ``platform:revenue``)."""
    asset: Mapped[str] = mapped_column(String(3))
    no_overdraft: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """Debits (posted and pending) may never exceed posted credits."""
    no_credit_beyond_debits: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """Credits (posted and pending) may never exceed posted debits (money owed back)."""
    debits_posted: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    credits_posted: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    debits_pending: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    credits_pending: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Set when its owner's account was erased: operators' adjustments and a new payout
    account are refused (nothing else can reach it once the work is settled)."""

    __table_args__ = (
        CheckConstraint("asset IN ('CNY', 'PTS')", "asset"),
        CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 "
            "AND credits_pending >= 0",
            "totals_not_negative",
        ),
        CheckConstraint(
            "NOT no_overdraft OR debits_posted + debits_pending <= credits_posted",
            "no_overdraft",
        ),
        CheckConstraint(
            "NOT no_credit_beyond_debits OR credits_posted + credits_pending <= debits_posted",
            "no_credit_beyond_debits",
        ),
    )


class Transfer(CreatedAtMixin, Base):
    """One immutable movement. ``kind`` says which:

    - ``single``: posted at once;
    - ``pending``: reserves ``amount`` (first phase);
    - ``post``: settles a pending transfer for ``amount`` (at most what was reserved);
    - ``void``: releases a pending transfer.

    A pending transfer is resolved at most once: ``pending_id`` is unique among ``post``
    and ``void`` rows.
    """

    __tablename__ = "ledger_transfers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    """Chosen by the caller; retrying with the same key returns the first result."""
    request_hash: Mapped[str] = mapped_column(String(64))
    """Digest of the request, so the same key with a different request is refused."""
    kind: Mapped[str] = mapped_column(String(8))
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    asset: Mapped[str] = mapped_column(String(3))
    code: Mapped[str] = mapped_column(String(40))
    """What kind of movement this is in business terms (``deposit``, ``escrow_fund`` …)."""
    reference: Mapped[str | None] = mapped_column(String(120))
    """The business object it belongs to (``campaign:<uuid>``)."""
    pending_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transfers.id"))
    """For ``post`` and ``void``: the pending transfer they resolve."""
    linked_id: Mapped[UUID | None] = mapped_column()
    """Transfers applied together, all or none, share this id."""
    timeout_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """For ``pending``: when an expiry job voids it if still unresolved."""
    meta: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))

    __table_args__ = (
        CheckConstraint("amount > 0", "amount_positive"),
        CheckConstraint("kind IN ('single', 'pending', 'post', 'void')", "kind"),
        CheckConstraint("debit_account_id <> credit_account_id", "distinct_accounts"),
        CheckConstraint(
            "(kind IN ('post', 'void')) = (pending_id IS NOT NULL)", "resolution_has_pending"
        ),
        Index(
            "uq_ledger_transfers_resolution",
            "pending_id",
            unique=True,
            postgresql_where=text("pending_id IS NOT NULL"),
        ),
        Index(
            "ix_ledger_transfers_open_timeouts",
            "timeout_at",
            postgresql_where=text("kind = 'pending' AND timeout_at IS NOT NULL"),
        ),
        Index("ix_ledger_transfers_debit", "debit_account_id", "id"),
        Index("ix_ledger_transfers_credit", "credit_account_id", "id"),
    )


class Deposit(CreatedAtMixin, Base):
    """A top-up of an organisation's balance through a payment provider."""

    __tablename__ = "ledger_deposits"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    org_id: Mapped[UUID] = mapped_column(index=True)
    """The organisation whose balance is topped up."""
    requested_by: Mapped[UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), server_default=text("'created'"))
    """``created`` (waiting for the payer), ``paid`` (money in the balance), ``closed``."""
    idempotency_key: Mapped[str] = mapped_column(String(160))
    request_hash: Mapped[str] = mapped_column(String(64))
    provider_txn: Mapped[str | None] = mapped_column(String(80))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("amount > 0", "amount_positive"),
        CheckConstraint("status IN ('created', 'paid', 'closed')", "status"),
        Index("uq_ledger_deposits_key", "requested_by", "idempotency_key", unique=True),
        Index(
            "ix_ledger_deposits_unpaid",
            "created_at",
            postgresql_where=text("status = 'created'"),
        ),
        # Reconciliation reads the ones started or paid of late.
        Index("ix_ledger_deposits_created_at", "created_at"),
        Index("ix_ledger_deposits_paid_at", "paid_at"),
    )


class PayoutAccount(CreatedAtMixin, Base):
    """Where a person's withdrawals go. Bound once; shown masked."""

    __tablename__ = "ledger_payout_accounts"

    person_id: Mapped[UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    """``alipay`` or ``bank``."""
    masked: Mapped[str] = mapped_column(String(40))
    """What pages show: the last four characters only."""
    account_hash: Mapped[str] = mapped_column(String(64), index=True)
    """Keyed hash of the account number: finds accounts shared between people."""
    account_number: Mapped[str] = mapped_column(String(40))
    """Sent to the payout provider; never shown."""
    holder_name: Mapped[str | None] = mapped_column(String(60))
    """The account holder's name as the bank or Alipay has it, sent with every payout (a
    bank pays only to the name on the card). None for accounts bound before it was asked."""

    __table_args__ = (CheckConstraint("kind IN ('alipay', 'bank')", "kind"),)


class OrgPayoutAccount(CreatedAtMixin, Base):
    """Where an organisation's payouts go (an agency's shares). Bound once by an owner."""

    __tablename__ = "ledger_org_payout_accounts"

    org_id: Mapped[UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    masked: Mapped[str] = mapped_column(String(40))
    account_hash: Mapped[str] = mapped_column(String(64), index=True)
    account_number: Mapped[str] = mapped_column(String(40))
    holder_name: Mapped[str | None] = mapped_column(String(60))
    """The organisation's name as its bank or Alipay has it (see ``PayoutAccount``)."""
    bound_by: Mapped[UUID]

    __table_args__ = (CheckConstraint("kind IN ('alipay', 'bank')", "kind"),)


class Withdrawal(CreatedAtMixin, Base):
    """Money a person (or an organisation, through one of its owners) takes out:
    requested → approved → processing → paid or failed (money back), or rejected by an
    operator (money back)."""

    __tablename__ = "ledger_withdrawals"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    person_id: Mapped[UUID] = mapped_column(index=True)
    """Who asked: the person whose wallet pays, or the owner who asked for ``org_id``."""
    org_id: Mapped[UUID | None] = mapped_column(index=True)
    """Set when the money is an organisation's: it leaves that organisation's account and
    goes to its payout account."""
    amount: Mapped[int] = mapped_column(BigInteger)
    """What leaves the wallet, fee included."""
    fee: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    approvals_needed: Mapped[int] = mapped_column(server_default=text("0"))
    """Operators who must approve: 0 (automatic), 1 (large or flagged), 2 (very large)."""
    review_reasons: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    payout_reservation_id: Mapped[int] = mapped_column(BigInteger)
    fee_reservation_id: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(160))
    request_hash: Mapped[str] = mapped_column(String(64))
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )

    __table_args__ = (
        CheckConstraint("amount > 0 AND fee >= 0 AND fee < amount", "amounts"),
        CheckConstraint(
            "status IN ('requested', 'approved', 'processing', 'paid', 'failed', 'rejected')",
            "status",
        ),
        Index("uq_ledger_withdrawals_key", "person_id", "idempotency_key", unique=True),
        Index("ix_ledger_withdrawals_status", "status", "updated_at"),
        Index("ix_ledger_withdrawals_created_at", "created_at"),
        Index("ix_ledger_withdrawals_updated_at", "updated_at"),
    )


class WithdrawalApproval(CreatedAtMixin, Base):
    """One operator's approval of a withdrawal (four eyes: two different operators)."""

    __tablename__ = "ledger_withdrawal_approvals"

    withdrawal_id: Mapped[UUID] = mapped_column(
        ForeignKey("ledger_withdrawals.id"), primary_key=True
    )
    operator_id: Mapped[UUID] = mapped_column(primary_key=True)


class SandboxPayout(CreatedAtMixin, Base):
    """The sandbox payout provider's own records (it stands for a system outside ours):
    one row per payout id, so paying the same withdrawal twice pays once."""

    __tablename__ = "sandbox_payouts"

    payout_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_number: Mapped[str] = mapped_column(String(40))
    holder_name: Mapped[str | None] = mapped_column(String(60))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))


class SandboxPayment(CreatedAtMixin, Base):
    """The sandbox payment provider's own record of what payers paid (an outside system)."""

    __tablename__ = "sandbox_payments"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))


class ReconciliationReport(CreatedAtMixin, Base):
    """One comparison of the providers' records with the ledger."""

    __tablename__ = "ledger_reconciliation_reports"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    checked: Mapped[int] = mapped_column(BigInteger)
    """How many deposits and withdrawals were compared."""
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """Each: kind, object id, what the provider says, what the ledger says."""


class Adjustment(CreatedAtMixin, Base):
    """A manual correction of a balance, applied only when a second operator approves."""

    __tablename__ = "ledger_adjustments"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)
    """Positive credits the account, negative debits it."""
    reason: Mapped[str] = mapped_column(String(200))
    requested_by: Mapped[UUID]
    approved_by: Mapped[UUID | None]
    status: Mapped[str] = mapped_column(String(10), server_default=text("'requested'"))
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("amount <> 0", "amount_not_zero"),
        CheckConstraint("status IN ('requested', 'applied', 'rejected')", "status"),
        CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", "four_eyes"),
    )


class Refund(CreatedAtMixin, Base):
    """Money given back to a brand's payer, against a paid deposit:
    requested (reserved) → processing → refunded, or failed (money back in the balance)."""

    __tablename__ = "ledger_refunds"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    deposit_id: Mapped[UUID] = mapped_column(ForeignKey("ledger_deposits.id"), index=True)
    org_id: Mapped[UUID] = mapped_column(index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    requested_by: Mapped[UUID]
    idempotency_key: Mapped[str] = mapped_column(String(160))
    request_hash: Mapped[str] = mapped_column(String(64))
    reservation_id: Mapped[int] = mapped_column(BigInteger)
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )

    __table_args__ = (
        CheckConstraint("amount > 0", "amount_positive"),
        CheckConstraint("status IN ('requested', 'processing', 'refunded', 'failed')", "status"),
        Index("uq_ledger_refunds_key", "requested_by", "idempotency_key", unique=True),
        Index("ix_ledger_refunds_created_at", "created_at"),
        Index("ix_ledger_refunds_updated_at", "updated_at"),
        Index(
            "ix_ledger_refunds_under_way",
            "status",
            postgresql_where=text("status IN ('requested', 'processing')"),
        ),
    )


class SandboxRefund(CreatedAtMixin, Base):
    """The sandbox payment provider's record of refunds (an outside system)."""

    __tablename__ = "sandbox_refunds"

    refund_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))


class IdempotencyKeyUse(CreatedAtMixin, Base):
    """Which kind of request each person's ``Idempotency-Key`` was first used for: one
    namespace per person across every keyed request, so a key reused on another kind of
    request is refused instead of acting again."""

    __tablename__ = "idempotency_keys"

    person_id: Mapped[UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    """``top_up``, ``refund``, ``campaign`` (submit and close), ``withdrawal`` (a person's
    own and the payouts of their agencies), ``claim`` or ``draft`` (a campaign created)."""
    request_hash: Mapped[str | None] = mapped_column(String(64))
    """For kinds whose own records keep no digest of the request (drafts)."""
    object_id: Mapped[UUID | None]
    """What the first request made, for kinds whose own records keep no key (drafts)."""
