"""Errors of the ledger."""

from __future__ import annotations

from xingdong.core.errors import Conflict, NotFound, ValidationFailed
from xingdong.core.i18n import N_


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
    title = N_("Insufficient funds")


class CreditLimitExceeded(Conflict):
    code = "credit_limit_exceeded"
    title = N_("The account cannot be credited beyond what it owes")


class UnknownAccount(NotFound):
    code = "unknown_account"
    title = N_("No such ledger account")


class InvalidTransfer(ValidationFailed):
    code = "invalid_transfer"
    title = N_("The transfer is not valid")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = N_("This idempotency key was used for a different request")


class PendingTransferResolved(Conflict):
    code = "pending_transfer_resolved"
    title = N_("The reservation was already posted, voided or expired")


class UnknownPendingTransfer(NotFound):
    code = "unknown_pending_transfer"
    title = N_("No such reservation")


class AccountClosed(Conflict):
    code = "account_closed"
    title = N_("This account is closed")
