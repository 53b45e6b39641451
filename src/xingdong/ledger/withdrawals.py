"""Withdrawals: a person takes money out of their wallet to a bound payout account.

requested → approved → processing → paid, or failed (money back); a request that needs
review waits for operators, who approve (two different ones above the four-eyes amount,
never their own) or reject (money back). The money is reserved at the request and
settled or released at the end, so it can be neither spent twice nor lost.

The payout provider is called outside our transaction, keyed by the withdrawal id, so a
crash between its answer and our settlement is repaired by asking it again
(:func:`settle_stuck_withdrawals`): it pays at most once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core import security
from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.jobs import defer_in_transaction
from xingdong.core.money import yuan
from xingdong.core.numbers import ascii_digits
from xingdong.core.pagination import in_pages, next_cursor
from xingdong.core.policy import Action, Actor, require
from xingdong.core.settings import Settings
from xingdong.identity.validation import normalise_phone
from xingdong.ledger import service as ledger
from xingdong.ledger import wallets
from xingdong.ledger.errors import IdempotencyKeyReused, InsufficientFunds
from xingdong.ledger.idempotency import claim_key
from xingdong.ledger.models import OrgPayoutAccount, PayoutAccount, Withdrawal, WithdrawalApproval
from xingdong.ledger.payments import PayoutProvider, PayoutResult
from xingdong.ledger.wallets import available_account

PAYOUTS_ACCOUNT = "external:payouts"
REVENUE_ACCOUNT = "platform:revenue"
PAY_OUT_JOB = "ledger:pay_out_withdrawal"


@dataclass(frozen=True)
class OrgSource:
    """An organisation's money to withdraw: whose, and the ledger account it is in."""

    org_id: UUID
    account: str


class PayoutAccountRequired(ValidationFailed):
    code = "payout_account_required"
    title = N_("Bind a payout account first")


class PayoutAccountAlreadyBound(Conflict):
    code = "payout_account_already_bound"
    title = N_("A payout account is already bound")
    sends_to_support = True


class WithdrawalLimitReached(Conflict):
    code = "withdrawal_limit_reached"
    title = N_("The daily withdrawal limit is reached")


class WithdrawalNotPending(Conflict):
    code = "withdrawal_not_pending"
    title = N_("This withdrawal is not waiting for review")


class OwnWithdrawal(Forbidden):
    code = "own_withdrawal"
    title = N_("Nobody may approve their own withdrawal")


class AlreadyApproved(Conflict):
    code = "already_approved"
    title = N_("You have already approved this withdrawal")


REVIEW_REASON_LABELS = {
    "organisation_payout": N_("An organisation's payout (always reviewed)"),
    "large_amount": N_("Large amount"),
    "shared_payout_account": N_("Payout account shared with another person or organisation"),
}


def mask_account(number: str) -> str:
    """Enough of a payout account to recognise it, not to use it: a card's last four
    digits, an Alipay phone number's first three and last four, an e-mail address's first
    letter and its domain."""
    if "@" in number:
        name, _, domain = number.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(number) == 11 and number.isdigit() and number.startswith("1"):
        return f"{number[:3]}****{number[-4:]}"
    return "**** " + number[-4:]


CARD_DIGITS = (15, 19)
"""A Chinese bank card number has 15 to 19 digits, the last a Luhn check digit."""
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def card_number_ok(digits: str) -> bool:
    """15 to 19 digits whose Luhn check digit is right (what a typo almost always breaks)."""
    if not digits.isdigit() or not CARD_DIGITS[0] <= len(digits) <= CARD_DIGITS[1]:
        return False
    total = 0
    for place, char in enumerate(reversed(digits)):
        value = int(char) * (2 if place % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _number_problem(kind: str, cleaned: str) -> FieldError | None:
    if kind == "bank" and not card_number_ok(cleaned):
        return FieldError(
            "number",
            N_("Enter the card's 15 to 19 digits as printed on it; this number is not a card's."),
        )
    if kind == "alipay" and not (
        EMAIL.fullmatch(cleaned) or normalise_phone(cleaned) == "+86" + cleaned
    ):
        return FieldError(
            "number", N_("Enter the Alipay account: its mobile number or its e-mail address.")
        )
    return None


async def payout_account(session: AsyncSession, person_id: UUID) -> PayoutAccount | None:
    return await session.get(PayoutAccount, person_id)


@dataclass(frozen=True)
class PayoutAccountForm:
    """A payout account as typed. ``number_again`` is the page's second entry of the
    number (None where nobody typed one, as in the API)."""

    kind: str
    number: str
    holder_name: str
    number_again: str | None = None


HOLDER_NAME_LENGTH = (2, 60)


def _cleaned(number: str) -> str:
    """The number in ASCII (a Chinese input method may type full-width digits, which
    would be stored as typed and never match the card), without spaces and dashes."""
    return ascii_digits(number).replace(" ", "").replace("-", "")


def _payout_details(form: PayoutAccountForm, settings: Settings) -> dict[str, str]:
    """The columns of a payout account as typed, or the fields' errors."""
    cleaned = _cleaned(form.number)
    holder = " ".join(form.holder_name.split())
    errors = []
    if form.kind not in ("alipay", "bank"):
        errors.append(FieldError("kind", N_("Choose Alipay or a bank card.")))
    if not (6 <= len(cleaned) <= 40) or not all(c.isalnum() or c in "@._%+-" for c in cleaned):
        errors.append(FieldError("number", N_("Enter the account number (6 to 40 characters).")))
    elif (problem := _number_problem(form.kind, cleaned)) is not None:
        errors.append(problem)
    elif form.number_again is not None and _cleaned(form.number_again) != cleaned:
        errors.append(
            FieldError("number_again", N_("The two numbers differ: type the number again."))
        )
    low, high = HOLDER_NAME_LENGTH
    if not low <= len(holder) <= high or any(c.isdigit() for c in holder):
        errors.append(
            FieldError(
                "holder_name",
                N_("Enter the holder's name as the bank or Alipay has it (2 to 60 letters)."),
            )
        )
    if errors:
        raise ValidationFailed(detail=N_("Please correct the marked fields."), fields=errors)
    return {
        "kind": form.kind,
        "masked": mask_account(cleaned),
        "account_hash": security.keyed_digest(
            settings.secret_key.get_secret_value(), "payout:" + cleaned
        ),
        "account_number": cleaned,
        "holder_name": holder,
    }


def _already_bound() -> PayoutAccountAlreadyBound:
    return PayoutAccountAlreadyBound(
        detail=N_("A payout account is already bound; contact support to change it.")
    )


async def bind_payout_account(
    session: AsyncSession, *, person_id: UUID, form: PayoutAccountForm, settings: Settings
) -> PayoutAccount:
    """Bind the account withdrawals go to. Bound once: changing it goes through support.
    Refused for an erased account, even one erased while this request was under way."""
    details = _payout_details(form, settings)
    await wallets.require_open_wallet(session, person_id)
    inserted = await session.execute(
        insert(PayoutAccount)
        .values(person_id=person_id, **details)
        .on_conflict_do_nothing(index_elements=["person_id"])
        .returning(PayoutAccount.person_id)
    )
    if inserted.first() is None:
        raise _already_bound()
    account = await session.get(PayoutAccount, person_id)
    assert account is not None
    return account


async def org_payout_account(session: AsyncSession, org_id: UUID) -> OrgPayoutAccount | None:
    return await session.get(OrgPayoutAccount, org_id)


async def bind_org_payout_account(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    form: PayoutAccountForm,
    settings: Settings,
) -> OrgPayoutAccount:
    """An owner binds the account the organisation's payouts go to (once)."""
    require(actor, Action.ORG_PAYOUT_ACCOUNT, org_id=org_id)
    inserted = await session.execute(
        insert(OrgPayoutAccount)
        .values(org_id=org_id, bound_by=actor.person_id, **_payout_details(form, settings))
        .on_conflict_do_nothing(index_elements=["org_id"])
        .returning(OrgPayoutAccount.org_id)
    )
    if inserted.first() is None:
        raise _already_bound()
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="ledger.org_payout_account_bound",
        object_type="organisation",
        object_id=org_id,
        data={"kind": form.kind},
    )
    account = await session.get(OrgPayoutAccount, org_id)
    assert account is not None
    return account


async def _withdrawn_today(session: AsyncSession, person_id: UUID, org_id: UUID | None) -> int:
    since = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    whose = (
        Withdrawal.org_id == org_id
        if org_id
        else and_(Withdrawal.person_id == person_id, Withdrawal.org_id.is_(None))
    )
    total = await session.execute(
        select(func.coalesce(func.sum(Withdrawal.amount), 0)).where(
            whose,
            Withdrawal.created_at >= since,
            Withdrawal.status.not_in(("failed", "rejected")),
        )
    )
    return int(total.scalar_one())


async def request_withdrawal(
    session: AsyncSession,
    *,
    person_id: UUID,
    amount: int,
    idempotency_key: str,
    settings: Settings,
    risk_reasons: Sequence[str] = (),
    org: OrgSource | None = None,
) -> Withdrawal:
    """Reserve the amount (fee included) for a payout. It is paid at once unless it needs
    an operator: a large amount, a shared payout account, or ``risk_reasons`` from the risk
    check the caller ran (the ledger itself knows nothing of risk). With ``org``, the
    money is that organisation's, asked for by ``person_id`` (the caller checked that they
    may); an operator always looks at it first."""
    org_id = org.org_id if org else None
    asked: dict[str, object] = {"person": str(person_id), "amount": amount}
    if org_id:
        asked["org"] = str(org_id)
    request_hash = ledger.request_digest(asked)
    await claim_key(session, person_id=person_id, key=idempotency_key, kind="withdrawal")
    earlier = (
        await session.execute(
            select(Withdrawal).where(
                Withdrawal.person_id == person_id, Withdrawal.idempotency_key == idempotency_key
            )
        )
    ).scalar_one_or_none()
    if earlier is not None:
        if earlier.request_hash != request_hash:
            raise IdempotencyKeyReused(
                detail=N_("This idempotency key was used for a different request.")
            )
        return earlier
    account: PayoutAccount | OrgPayoutAccount | None = (
        await org_payout_account(session, org.org_id)
        if org
        else await payout_account(session, person_id)
    )
    if account is None:
        raise PayoutAccountRequired(detail=N_("Bind a payout account before withdrawing."))
    source = org.account if org else available_account(person_id)
    fee = settings.withdrawal_fee_fen
    low = smallest_withdrawal(settings)
    if amount < low:
        raise ValidationFailed(
            detail=N_("The smallest withdrawal is ¥{low_yuan}."),
            fields=[FieldError("amount_fen", N_("At least ¥{low_yuan}."), "out_of_range")],
            extra={"low": low, "low_yuan": yuan(low)},
        )
    # Serialise the payer's withdrawals so two at once cannot both pass the daily limit.
    payer = org_id or person_id
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(str(payer)))))
    today = await _withdrawn_today(session, person_id, org_id)
    if today + amount > settings.withdrawal_daily_limit_fen:
        raise WithdrawalLimitReached(
            detail=N_("Withdrawals are limited to ¥{limit_yuan} a day."),
            extra={
                "limit": settings.withdrawal_daily_limit_fen,
                "limit_yuan": yuan(settings.withdrawal_daily_limit_fen),
            },
        )
    # The account the money leaves: one never credited refuses for want of money below.
    await ledger.open_account(session, ledger.AccountSpec(source, no_overdraft=True))
    # Said here for the whole amount asked (fee included); the ledger's own refusal would
    # name only the first of the movements below. It still guards a race with a spend.
    available = (await ledger.balance(session, source)).available
    if amount > available:
        raise InsufficientFunds(
            detail=N_("You have ¥{available_yuan} to withdraw; ¥{amount_yuan} was asked."),
            extra={
                "available": available, "amount": amount,
                "available_yuan": yuan(available), "amount_yuan": yuan(amount),
            },
        )  # fmt: skip
    await ledger.open_account(session, ledger.AccountSpec(PAYOUTS_ACCOUNT))
    await ledger.open_account(session, ledger.AccountSpec(REVENUE_ACCOUNT))
    withdrawal_id = new_id()
    movements = [
        ledger.TransferRequest(
            idempotency_key=f"withdrawal:{withdrawal_id}:payout",
            debit=source,
            credit=PAYOUTS_ACCOUNT,
            amount=amount - fee,
            code="withdrawal",
            reference=f"withdrawal:{withdrawal_id}",
            pending=True,
        )
    ]
    if fee:
        movements.append(
            ledger.TransferRequest(
                idempotency_key=f"withdrawal:{withdrawal_id}:fee",
                debit=source,
                credit=REVENUE_ACCOUNT,
                amount=fee,
                code="withdrawal_fee",
                reference=f"withdrawal:{withdrawal_id}",
                pending=True,
            )
        )
    reserved = await ledger.transfer_linked(session, movements)
    reasons = ["organisation_payout"] if org else []
    # The day's withdrawals count together, so that splitting an amount into pieces under
    # the thresholds does not pass them.
    day_total = today + amount
    if day_total >= settings.withdrawal_review_fen:
        reasons.append("large_amount")
    if await _payout_account_shared(session, account.account_hash, person_id, org):
        reasons.append("shared_payout_account")
    reasons += [f"risk:{code}" for code in risk_reasons]
    needed = 2 if day_total >= settings.withdrawal_four_eyes_fen else (1 if reasons else 0)
    withdrawal = Withdrawal(
        id=withdrawal_id,
        person_id=person_id,
        org_id=org_id,
        amount=amount,
        fee=fee,
        status="approved" if needed == 0 else "requested",
        approvals_needed=needed,
        review_reasons=reasons,
        payout_reservation_id=reserved[0].id,
        fee_reservation_id=reserved[1].id if fee else None,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    session.add(withdrawal)
    await session.flush()
    if needed == 0:
        await defer_in_transaction(session, PAY_OUT_JOB, args={"withdrawal_id": str(withdrawal_id)})
    await record_audit(
        session,
        actor_id=person_id,
        action="ledger.withdrawal_requested",
        object_type="withdrawal",
        object_id=withdrawal_id,
        data={
            "amount": amount,
            "fee": fee,
            "review": reasons,
            "approvals_needed": needed,
            "org": str(org_id) if org_id else None,
        },
    )
    return withdrawal


async def _payout_account_shared(
    session: AsyncSession, account_hash: str, person_id: UUID, org: OrgSource | None
) -> bool:
    """Whether anyone else (another person, or an organisation other than the one paying)
    has bound the same payout account: money from several accounts meeting in one place
    is how farms cash out."""
    people = select(PayoutAccount.person_id).where(PayoutAccount.account_hash == account_hash)
    if org is None:
        people = people.where(PayoutAccount.person_id != person_id)
    orgs = select(OrgPayoutAccount.org_id).where(OrgPayoutAccount.account_hash == account_hash)
    if org is not None:
        orgs = orgs.where(OrgPayoutAccount.org_id != org.org_id)
    found = await session.execute(people.union_all(orgs).limit(1))
    return found.first() is not None


async def _locked(session: AsyncSession, withdrawal_id: UUID) -> Withdrawal:
    withdrawal = await session.get(
        Withdrawal, withdrawal_id, with_for_update=True, populate_existing=True
    )
    if withdrawal is None:
        raise NotFound(detail=N_("No such withdrawal."))
    await session.refresh(withdrawal)
    return withdrawal


async def approve_withdrawal(
    session: AsyncSession, *, actor: Actor, withdrawal_id: UUID
) -> Withdrawal:
    require(actor, Action.APPROVE_MONEY)
    withdrawal = await _locked(session, withdrawal_id)
    if withdrawal.person_id == actor.person_id:
        raise OwnWithdrawal(detail=N_("Nobody may approve their own withdrawal."))
    if withdrawal.org_id is not None and withdrawal.org_id in actor.memberships:
        # Every member of the organisation has a stake in its money, not only who asked.
        raise OwnWithdrawal(
            detail=N_("Nobody may approve a payout of an organisation they belong to.")
        )
    if withdrawal.status != "requested":
        raise WithdrawalNotPending(detail=N_("This withdrawal is not waiting for review."))
    added = await session.execute(
        insert(WithdrawalApproval)
        .values(withdrawal_id=withdrawal_id, operator_id=actor.person_id)
        .on_conflict_do_nothing()
        .returning(WithdrawalApproval.operator_id)
    )
    if added.first() is None:
        raise AlreadyApproved(
            detail=N_("You have already approved this withdrawal; another operator must.")
        )
    approvals = (
        await session.execute(
            select(func.count())
            .select_from(WithdrawalApproval)
            .where(WithdrawalApproval.withdrawal_id == withdrawal_id)
        )
    ).scalar_one()
    if approvals >= withdrawal.approvals_needed:
        withdrawal.status = "approved"
        withdrawal.updated_at = utcnow()
        await defer_in_transaction(session, PAY_OUT_JOB, args={"withdrawal_id": str(withdrawal_id)})
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="ledger.withdrawal_approved",
        object_type="withdrawal",
        object_id=withdrawal_id,
        data={"approvals": approvals, "needed": withdrawal.approvals_needed},
    )
    await session.flush()
    return withdrawal


async def _release(session: AsyncSession, withdrawal: Withdrawal, tag: str) -> None:
    for reservation in (withdrawal.payout_reservation_id, withdrawal.fee_reservation_id):
        if reservation is not None:
            await ledger.void_pending(
                session,
                idempotency_key=f"withdrawal:{withdrawal.id}:{tag}:{reservation}",
                pending_id=reservation,
            )


REJECT_REASON_MAX = 200
"""The longest reason a rejected withdrawal is given (the column holds no more)."""


async def reject_withdrawal(
    session: AsyncSession, *, actor: Actor, withdrawal_id: UUID, reason: str
) -> Withdrawal:
    require(actor, Action.APPROVE_MONEY)
    if not reason.strip():
        raise ValidationFailed(
            detail=N_("Say why the withdrawal is rejected."),
            fields=[FieldError("reason", N_("Required."))],
        )
    if len(reason.strip()) > REJECT_REASON_MAX:
        # The person reads it: refused rather than cut mid-sentence.
        raise ValidationFailed(
            detail=N_("Use at most {high} characters."),
            fields=[FieldError("reason", N_("Use at most {high} characters."))],
            extra={"high": REJECT_REASON_MAX},
        )
    withdrawal = await _locked(session, withdrawal_id)
    if withdrawal.status != "requested":
        raise WithdrawalNotPending(detail=N_("This withdrawal is not waiting for review."))
    await _release(session, withdrawal, "reject")
    withdrawal.status = "rejected"
    withdrawal.failure_reason = reason.strip()
    withdrawal.updated_at = utcnow()
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="ledger.withdrawal_rejected",
        object_type="withdrawal",
        object_id=withdrawal_id,
        data={"reason": withdrawal.failure_reason},
    )
    await session.flush()
    return withdrawal


async def _settle(session: AsyncSession, withdrawal_id: UUID, result: PayoutResult) -> None:
    withdrawal = await _locked(session, withdrawal_id)
    if withdrawal.status != "processing":
        return
    if result.status == "paid":
        for reservation in (withdrawal.payout_reservation_id, withdrawal.fee_reservation_id):
            if reservation is not None:
                await ledger.post_pending(
                    session,
                    idempotency_key=f"withdrawal:{withdrawal.id}:post:{reservation}",
                    pending_id=reservation,
                )
        withdrawal.status = "paid"
    else:
        await _release(session, withdrawal, "fail")
        withdrawal.status = "failed"
        withdrawal.failure_reason = (result.reason or "the payout failed")[:REJECT_REASON_MAX]
    withdrawal.provider_ref = result.reference
    withdrawal.updated_at = utcnow()
    await record_audit(
        session,
        actor_id=None,
        action=f"ledger.withdrawal_{withdrawal.status}",
        object_type="withdrawal",
        object_id=withdrawal_id,
        data={"reference": result.reference, "reason": result.reason},
    )


async def execute_payout(db: Database, provider: PayoutProvider, withdrawal_id: UUID) -> str:
    """Pay an approved withdrawal: mark it processing, call the provider (outside any of
    our transactions), then settle. Safe to run twice."""
    async with db.session_scope() as session:
        withdrawal = await _locked(session, withdrawal_id)
        if withdrawal.status not in ("approved", "processing"):
            return withdrawal.status
        withdrawal.status = "processing"
        withdrawal.updated_at = utcnow()
        account: PayoutAccount | OrgPayoutAccount | None = (
            await org_payout_account(session, withdrawal.org_id)
            if withdrawal.org_id
            else await payout_account(session, withdrawal.person_id)
        )
        assert account is not None
        number, holder = account.account_number, account.holder_name
        amount = withdrawal.amount - withdrawal.fee
    result = await provider.pay(
        payout_id=str(withdrawal_id), account_number=number, holder_name=holder, amount=amount
    )
    async with db.session_scope() as session:
        await _settle(session, withdrawal_id, result)
    return result.status


async def settle_stuck_withdrawals(
    db: Database, provider: PayoutProvider, *, older_than: timedelta = timedelta(minutes=2)
) -> int:
    """Finish withdrawals left in ``processing`` (the process died around the provider
    call): ask the provider what happened and settle; pay if it never saw them."""
    async with db.sessionmaker() as session:
        stuck = (
            (
                await session.execute(
                    select(Withdrawal.id).where(
                        Withdrawal.status == "processing",
                        Withdrawal.updated_at < utcnow() - older_than,
                    )
                )
            )
            .scalars()
            .all()
        )
    for withdrawal_id in stuck:
        await execute_payout(db, provider, withdrawal_id)
    return len(stuck)


async def withdrawals_of(
    session: AsyncSession, person_id: UUID, limit: int = 20, cursor: str | None = None
) -> list[Withdrawal]:
    """A person's own withdrawals (not those they asked for on an organisation's behalf),
    newest first, from after ``cursor``."""
    query = select(Withdrawal).where(Withdrawal.person_id == person_id, Withdrawal.org_id.is_(None))
    paged = in_pages(query, Withdrawal.created_at, Withdrawal.id, cursor, newest_first=True)
    return list(await session.scalars(paged.limit(limit)))


LISTED = 20
"""Withdrawals a page lists at a time, newest first."""


@dataclass(frozen=True)
class WithdrawalList:
    """A page's withdrawals: ``items``, the cursor of older ones (``older``) and the one
    this list began after (``after``: None on the first page)."""

    items: list[Withdrawal]
    older: str | None
    after: str | None


async def withdrawal_list(
    session: AsyncSession,
    *,
    person_id: UUID | None = None,
    org: tuple[Actor, UUID] | None = None,
    cursor: str | None = None,
) -> WithdrawalList:
    """A person's own withdrawals, or an organisation's payouts (``org``: who asks, and
    which), :data:`LISTED` at a time from after ``cursor``."""
    if org is not None:
        actor, org_id = org
        rows = await withdrawals_of_org(
            session, actor=actor, org_id=org_id, limit=LISTED + 1, cursor=cursor
        )
    else:
        assert person_id is not None
        rows = await withdrawals_of(session, person_id, limit=LISTED + 1, cursor=cursor)
    return WithdrawalList(rows[:LISTED], next_cursor(rows, LISTED), cursor)


OPEN_STATUSES = ("requested", "approved", "processing")
"""A withdrawal in one of these still holds its money and may still be paid."""


async def open_withdrawals_count(session: AsyncSession, person_id: UUID) -> int:
    """The person's own withdrawals not yet paid, failed or rejected."""
    count = await session.scalar(
        select(func.count())
        .select_from(Withdrawal)
        .where(
            Withdrawal.person_id == person_id,
            Withdrawal.org_id.is_(None),
            Withdrawal.status.in_(OPEN_STATUSES),
        )
    )
    return count or 0


def smallest_withdrawal(settings: Settings) -> int:
    """The least a withdrawal may take out (it must also leave more than the fee)."""
    return max(settings.withdrawal_min_fen, settings.withdrawal_fee_fen + 1)


async def give_up_remainder(
    session: AsyncSession, *, account: str, amount: int, code: str, reference: str
) -> int | None:
    """Move ``amount``, an available balance too small to withdraw, from ``account`` to the
    platform, as its owner agreed when erasing their account (code ``erasure_remainder``)
    or closing their organisation (``closure_remainder``). The transfer's id; None when
    there is nothing to move."""
    if amount <= 0:
        return None
    await ledger.open_account(session, ledger.AccountSpec(REVENUE_ACCOUNT))
    moved = await ledger.transfer(
        session,
        ledger.TransferRequest(
            idempotency_key=f"{code}:{reference}",
            debit=account,
            credit=REVENUE_ACCOUNT,
            amount=amount,
            code=code,
            reference=reference,
        ),
    )
    return moved.id


async def forget_payout_account(session: AsyncSession, person_id: UUID) -> bool:
    """Delete the person's payout account, number and keyed hash (an erased account's).
    Withdrawals already made keep their amounts; the provider keeps where it paid."""
    account = await session.get(
        PayoutAccount, person_id, with_for_update=True, populate_existing=True
    )
    if account is None:
        return False
    await session.delete(account)
    await session.flush()
    return True


async def withdrawals_requested_by(session: AsyncSession, person_id: UUID) -> list[Withdrawal]:
    """Every withdrawal the person asked for, oldest first: from their own wallet, and for
    organisations they own (``org_id`` set)."""
    result = await session.execute(
        select(Withdrawal)
        .where(Withdrawal.person_id == person_id)
        .order_by(Withdrawal.created_at, Withdrawal.id)
    )
    return list(result.scalars())


async def withdrawals_of_org(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    limit: int = 20,
    cursor: str | None = None,
) -> list[Withdrawal]:
    """An organisation's payouts, newest first, from after ``cursor``."""
    require(actor, Action.ORG_READ, org_id=org_id)
    query = select(Withdrawal).where(Withdrawal.org_id == org_id)
    paged = in_pages(query, Withdrawal.created_at, Withdrawal.id, cursor, newest_first=True)
    return list(await session.scalars(paged.limit(limit)))


async def review_queue_size(session: AsyncSession, *, actor: Actor) -> int:
    """How many withdrawals wait for review (the queue shows the oldest of them)."""
    require(actor, Action.APPROVE_MONEY)
    counted = select(func.count()).select_from(Withdrawal).where(Withdrawal.status == "requested")
    return int(await session.scalar(counted) or 0)


async def review_queue(session: AsyncSession, *, actor: Actor, limit: int = 50) -> list[Withdrawal]:
    require(actor, Action.APPROVE_MONEY)
    result = await session.execute(
        select(Withdrawal)
        .where(Withdrawal.status == "requested")
        .order_by(Withdrawal.created_at)
        .limit(limit)
    )
    return list(result.scalars())
