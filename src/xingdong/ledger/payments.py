"""Payment providers: how brands put money in. An interface with a ``sandbox``
implementation that the demo and the tests use; a real provider implements the same.

The sandbox signs its notifications with HMAC-SHA256 under its own secret, as real
providers do, so a forged or altered notification is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from xingdong.core.db import Database
from xingdong.core.errors import XingdongError
from xingdong.core.i18n import N_
from xingdong.ledger.models import SandboxPayment, SandboxRefund


class BadSignature(XingdongError):
    status = 400
    code = "bad_signature"
    title = N_("The notification's signature is not valid")


@dataclass(frozen=True)
class PaymentNotice:
    """What a provider tells us about an order."""

    order_id: str
    amount: int
    status: str
    """``paid`` or ``closed``."""
    provider_txn: str


@dataclass(frozen=True)
class PaymentRecord:
    order_id: str
    amount: int
    status: str
    provider_txn: str
    """The provider's number for the payment (as its notice would carry it)."""

    def as_notice(self) -> PaymentNotice:
        """What the provider's notice of this payment would have said: a notice that never
        arrived is applied from the provider's answer to a query the same way."""
        return PaymentNotice(
            order_id=self.order_id,
            amount=self.amount,
            status=self.status,
            provider_txn=self.provider_txn,
        )


@dataclass(frozen=True)
class RefundResult:
    status: str
    """``refunded`` or ``failed``."""
    reference: str


class PaymentProvider(Protocol):
    name: str

    def checkout_url(self, *, order_id: str, amount: int) -> str:
        """Where the payer goes to pay."""
        ...

    def parse_notice(self, *, body: bytes, signature: str | None) -> PaymentNotice:
        """Verify and read a notification; raise :class:`BadSignature` if forged."""
        ...

    async def query_order(self, *, order_id: str) -> PaymentRecord | None:
        """What the provider recorded for an order, or None if it never saw it."""
        ...

    async def close_order(self, *, order_id: str) -> PaymentRecord | None:
        """Close an order's checkout, so that it can no longer be paid; answers what the
        provider has for it afterwards (``paid`` if the payer was quicker)."""
        ...

    async def refund(self, *, order_id: str, refund_id: str, amount: int) -> RefundResult:
        """Give money back to the payer of an order, idempotently by ``refund_id``."""
        ...

    async def query_refund(self, *, refund_id: str) -> RefundResult | None:
        """What became of a refund, or None if the provider never saw it."""
        ...


class SandboxPaymentProvider:
    """A simulated payment provider built into Xingdong: its checkout page asks the
    payer to confirm, then delivers a signed notification."""

    name = "sandbox"

    def __init__(self, secret: str, db: Database | None = None) -> None:
        self._secret = secret.encode()
        self._db = db

    async def record_payment(self, *, order_id: str, amount: int, status: str) -> None:
        """The payer confirmed or cancelled at the checkout page: the provider's own record."""
        if self._db is None:
            return
        async with self._db.session_scope() as session:
            await session.execute(
                insert(SandboxPayment)
                .values(order_id=order_id, amount=amount, status=status)
                .on_conflict_do_nothing(index_elements=["order_id"])
            )

    async def refund(self, *, order_id: str, refund_id: str, amount: int) -> RefundResult:
        """Refunds succeed while the order's paid amount covers them."""
        if self._db is None:
            return RefundResult(status="failed", reference="no-records")
        async with self._db.session_scope() as session:
            existing = await session.get(SandboxRefund, refund_id)
            if existing is None:
                payment = await session.get(
                    SandboxPayment, order_id, with_for_update=True, populate_existing=True
                )
                refunded = (
                    await session.execute(
                        select(func.coalesce(func.sum(SandboxRefund.amount), 0)).where(
                            SandboxRefund.order_id == order_id, SandboxRefund.status == "refunded"
                        )
                    )
                ).scalar_one()
                covered = payment is not None and payment.status == "paid"
                covered = covered and payment is not None and refunded + amount <= payment.amount
                existing = SandboxRefund(
                    refund_id=refund_id,
                    order_id=order_id,
                    amount=amount,
                    status="refunded" if covered else "failed",
                )
                session.add(existing)
            status = existing.status
        return RefundResult(status=status, reference="sbx-r-" + refund_id[:12])

    async def query_refund(self, *, refund_id: str) -> RefundResult | None:
        if self._db is None:
            return None
        async with self._db.sessionmaker() as session:
            row = await session.get(SandboxRefund, refund_id)
        if row is None:
            return None
        return RefundResult(status=row.status, reference="sbx-r-" + refund_id[:12])

    async def query_order(self, *, order_id: str) -> PaymentRecord | None:
        if self._db is None:
            return None
        async with self._db.sessionmaker() as session:
            row = await session.get(SandboxPayment, order_id)
        if row is None:
            return None
        return PaymentRecord(
            order_id=row.order_id,
            amount=row.amount,
            status=row.status,
            provider_txn=self.transaction_number(row.order_id),
        )

    async def close_order(self, *, order_id: str) -> PaymentRecord | None:
        """An order not yet paid or cancelled is closed; one paid stays paid."""
        if self._db is None:
            return None
        async with self._db.session_scope() as session:
            await session.execute(
                insert(SandboxPayment)
                .values(order_id=order_id, amount=0, status="closed")
                .on_conflict_do_nothing(index_elements=["order_id"])
            )
        return await self.query_order(order_id=order_id)

    def checkout_url(self, *, order_id: str, amount: int) -> str:
        return f"/sandbox/pay/{order_id}?amount={amount}"

    @staticmethod
    def transaction_number(order_id: str) -> str:
        """The sandbox's number for an order's payment (what a payer's statement shows)."""
        return "sbx-" + hashlib.sha256(order_id.encode()).hexdigest()[:16]

    def sign(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def notice_body(self, *, order_id: str, amount: int, status: str = "paid") -> bytes:
        payload = {
            "order_id": order_id,
            "amount": amount,
            "status": status,
            "provider_txn": self.transaction_number(order_id),
        }
        return json.dumps(payload, sort_keys=True).encode()

    def parse_notice(self, *, body: bytes, signature: str | None) -> PaymentNotice:
        if not signature or not hmac.compare_digest(self.sign(body), signature):
            raise BadSignature(detail=N_("The notification's signature is not valid."))
        try:
            data = json.loads(body)
            return PaymentNotice(
                order_id=str(data["order_id"]),
                amount=int(data["amount"]),
                status=str(data["status"]),
                provider_txn=str(data["provider_txn"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadSignature(detail=N_("The notification could not be read.")) from exc


def build_payment_provider(name: str, secret: str, db: Database) -> PaymentProvider:
    if name == "sandbox":
        return SandboxPaymentProvider(secret, db)
    raise ValueError(f"unknown payment provider {name!r}")


@dataclass(frozen=True)
class PayoutResult:
    status: str
    """``paid`` or ``failed``."""
    reference: str
    reason: str | None = None


class PayoutProvider(Protocol):
    name: str

    async def pay(
        self, *, payout_id: str, account_number: str, holder_name: str | None, amount: int
    ) -> PayoutResult:
        """Pay out to the account of ``holder_name`` (None for accounts bound before names
        were asked), idempotently: the same ``payout_id`` pays at most once."""
        ...

    async def query(self, *, payout_id: str) -> PayoutResult | None:
        """What became of a payout, or None if the provider never saw it."""
        ...
