"""Erasing a person's account (注销账号, DESIGN.md §7, PIPL art. 47).

The person row stays, because completions, wallet movements and withdrawals point to it
and money records are kept as the law requires; everything on it and around it that
identifies the person goes, in one transaction:

    identity   phone (a placeholder frees the number), name, birth year, region,
               interests, language, password; sessions and API tokens; bound
               short-video accounts; memberships; the number on invitations and on
               one-time codes; where consents were given from
    work       the account used, links and notes on every task
    evidence   text read from screenshots now; the files' bytes by a job after commit
    ledger     the payout account
    creators   the contract in force ends, waiting offers are declined, the number on
               contracts and offers goes
    dispatch   hidden tasks and brands, the log of feeds shown

Refused, and nothing changed, while anything is unsettled (``BLOCKERS``): open tasks,
money in the wallet, withdrawals under way, a staff role, the last owner's seat of an
organisation. Kept, and said so in docs/privacy.md: anti-cheat records and evidence
fingerprints (fraud prevention), the audit log, wallet movements and withdrawals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.context import current_locale
from xingdong.core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from xingdong.core.i18n import N_, listed, translate
from xingdong.core.jobs import defer_in_transaction
from xingdong.core.money import yuan
from xingdong.core.policy import Action, Actor, require
from xingdong.core.ratelimit import RateLimits
from xingdong.core.settings import Settings
from xingdong.creators import agencies
from xingdong.dispatch import service as dispatch
from xingdong.evidence import service as evidence
from xingdong.identity import repository as repo
from xingdong.identity import service as identity
from xingdong.identity.errors import PersonErased, SessionExpired
from xingdong.identity.models import Person
from xingdong.identity.validation import ERASED_NAME, erased_phone, phone_error
from xingdong.ledger import adjustments, wallets, withdrawals
from xingdong.risk import service as risk
from xingdong.work import service as work


class ErasureBlocked(Conflict):
    code = "erasure_blocked"
    title = N_("The account cannot be erased yet")


class ErasureChanged(Conflict):
    code = "erasure_changed"
    title = N_("What erasing the account does has changed; look again")


class PersonFrozen(Conflict):
    code = "person_frozen"
    title = N_("This account is frozen")


class ErasureNotConfirmed(ValidationFailed):
    code = "erasure_not_confirmed"
    title = N_("Confirm that you want your account erased")


BLOCKERS = {
    "staff_role": N_(
        "You hold a platform staff role ({roles}). An administrator must take it away first."
    ),
    "last_owner": N_(
        "You are the only owner of {organisations}. Make another member an owner, or "
        "close the organisation, first."
    ),
    "open_work": N_(
        "{count} of your tasks are not settled (taken, handed in, in hold or disputed). "
        "Hand in or give up the ones you have taken (Give the task up, on the task's page), "
        "and wait for the others to be decided and their holds to end."
    ),
    "money_in_hold": N_(
        "¥{amount} of your rewards is still in hold. It becomes available when the holds end."
    ),
    "money_available": N_("¥{amount} is available in your wallet. Withdraw it first."),
    "withdrawal_open": N_(
        "{count} of your withdrawals are still under way. Wait until they are paid or returned."
    ),
    "adjustment_pending": N_(
        "A correction of your wallet by the platform waits for approval. Ask support, or "
        "wait until it is decided."
    ),
}
"""Why an account cannot be erased yet, by code (docs/privacy.md): each is money or work
that would be lost, or a seat someone must fill."""

ABOUT_THEM = {
    "staff_role": N_(
        "They hold a platform staff role ({roles}): take it away first (xingdong admin revoke)."
    ),
    "last_owner": N_(
        "They are the only owner of {organisations}: another member must become an owner, "
        "or the organisation be closed, first."
    ),
    "open_work": N_(
        "Tasks of theirs not settled (taken, handed in, in hold or disputed): {count}. They "
        "hand in or give up the ones they took; the others wait to be decided and for their "
        "holds to end."
    ),
    "money_in_hold": N_("Rewards of theirs still in hold: ¥{amount}."),
    "money_available": N_("Available in their wallet: ¥{amount}. They withdraw it first."),
    "withdrawal_open": N_("Withdrawals of theirs still under way: {count}."),
    "adjustment_pending": N_(
        "A correction of their wallet waits for approval (on the money page)."
    ),
}
"""The same reasons as staff read them about someone else (the person's page)."""


@dataclass(frozen=True)
class Blocker:
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    TEXTS: ClassVar[dict[str, str]] = BLOCKERS
    ABOUT_THEM: ClassVar[dict[str, str]] = ABOUT_THEM
    """Each code's text for staff, about the person."""
    """Each code's text (closing an organisation has its own table)."""

    def text(self, locale: str, *, about_them: bool = False) -> str:
        """The reason as the person reads it, or (``about_them``) as staff read it."""
        params = {
            k: listed(v, locale) if isinstance(v, list) else v for k, v in self.params.items()
        }
        texts = self.ABOUT_THEM if about_them else self.TEXTS
        return translate(locale, texts[self.code], **params)


@dataclass(frozen=True)
class ErasureCheck:
    """What erasing the account now would do, or what stops it."""

    blockers: list[Blocker]
    organisations_left: list[str]
    """Organisations the person would leave (others own them too)."""
    agency: str | None
    """The agency whose contract would end."""
    points: int
    """Points that would be forfeited (they cannot be withdrawn)."""
    remainder: int
    """An available balance below the smallest withdrawal (fen), which would be given up:
    it cannot be taken out, and must not keep an account from being erased."""

    @property
    def allowed(self) -> bool:
        return not self.blockers


@dataclass(frozen=True)
class ErasureReceipt:
    person_id: str
    erased_at: datetime
    files_deleted: int


async def _blockers(
    session: AsyncSession, person: Person, settings: Settings, *, lock: bool
) -> ErasureCheck:
    blockers: list[Blocker] = []
    roles = await repo.staff_roles(session, person.id)
    if roles:
        blockers.append(Blocker("staff_role", {"roles": sorted(roles)}))
    alone: list[str] = []
    leaving: list[str] = []
    for membership, org in await repo.memberships_with_organisations(session, person.id):
        owners = await repo.lock_owners(session, org.id, lock=lock)
        if membership.role == "owner" and owners == [person.id]:
            alone.append(org.name)
        else:
            leaving.append(org.name)
    if alone:
        blockers.append(Blocker("last_owner", {"organisations": alone}))
    open_work = await work.open_work_count(session, person_id=person.id)
    if open_work:
        blockers.append(Blocker("open_work", {"count": open_work}))
    # Held first, then the withdrawals counted: a withdrawal returned meanwhile is either
    # seen open or its money seen back, never neither.
    wallet = (
        await wallets.hold_wallet(session, person.id)
        if lock
        else await wallets.wallet(session, person.id, limit=1)
    )
    if wallet.pending:
        blockers.append(Blocker("money_in_hold", {"amount": yuan(wallet.pending)}))
    remainder = 0
    if wallet.available >= withdrawals.smallest_withdrawal(settings):
        blockers.append(Blocker("money_available", {"amount": yuan(wallet.available)}))
    else:
        remainder = wallet.available
    open_withdrawals = await withdrawals.open_withdrawals_count(session, person.id)
    if open_withdrawals:
        blockers.append(Blocker("withdrawal_open", {"count": open_withdrawals}))
    adjusting = await adjustments.pending_adjustments_count(
        session, [wallets.pending_account(person.id), wallets.available_account(person.id)]
    )
    if adjusting:
        blockers.append(Blocker("adjustment_pending", {"count": adjusting}))
    mine = await agencies.my_agency(session, person=person)
    return ErasureCheck(
        blockers=blockers,
        organisations_left=leaving,
        agency=mine.agency.name if mine.contract is not None and mine.agency else None,
        points=wallet.points,
        remainder=remainder,
    )


async def erasure_check(
    session: AsyncSession, *, person: Person, settings: Settings
) -> ErasureCheck:
    """What erasing the account would do now, or what stops it (for the page and API to
    show before anyone confirms). Takes no locks: :func:`erase_account` checks again."""
    return await _blockers(session, person, settings, lock=False)


SELF_SERVICE = ("page", "api")
"""``via`` of a person erasing their own account (an operator's is ``operator``)."""


def blocked_error(check: ErasureCheck, locale: str, *, own: bool = True) -> ErasureBlocked:
    return ErasureBlocked(
        detail=N_("Your account cannot be erased yet: {reasons}")
        if own
        else N_("The account cannot be erased yet: {reasons}"),
        extra={
            "reasons": " ".join(b.text(locale, about_them=not own) for b in check.blockers),
            "blockers": [
                {"code": b.code, "detail": b.text(locale, about_them=not own)}
                for b in check.blockers
            ],
        },
    )


async def erase_account(
    session: AsyncSession,
    *,
    person: Person,
    password: str,
    confirmed: bool,
    remainder_fen: int,
    settings: Settings,
    limits: RateLimits,
    via: str,
) -> ErasureReceipt:
    """Erase the account (see the module's docstring), once the person confirmed and gave
    their password again. ``via``: ``page`` or ``api``. ``remainder_fen`` is the balance
    too small to withdraw the person agreed to give up (as the check showed it): if it
    changed since, nothing happens and they are asked to look again.

    The person's row is locked first, so this and anything that adds to the account
    (a claim, an accepted offer or invitation, each of which holds the row while it
    checks the account is active) happen one after the other: the check below sees what
    they added, and they see an erased account.
    """
    if not confirmed:
        raise ErasureNotConfirmed(
            detail=N_("Tick the box to confirm that you want your account erased."),
            fields=[FieldError("confirm", N_("Confirm to go on."))],
        )
    await identity.confirm_password(
        session, person=person, password=password, settings=settings, limits=limits
    )
    return await _erase(
        session, person_id=person.id, settings=settings, via=via, by=person.id,
        remainder_fen=remainder_fen,
    )  # fmt: skip


async def erase_on_request(
    session: AsyncSession, *, phone: str, why: str, settings: Settings
) -> ErasureReceipt:
    """Erase the account of ``phone`` for an operator, on the person's request made by
    other means (``xingdong admin erase-account``): the same checks and the same
    erasure, recorded with ``why`` and no acting person."""
    if not why.strip():
        raise ValidationFailed(
            detail=N_("Say why the account is erased (the request's reference)."),
            fields=[FieldError("why", N_("Say why."))],
        )
    number, error = phone_error(phone)
    if error:
        raise ValidationFailed(detail=error.message, fields=[error])
    person = await repo.person_by_phone(session, number or "")
    if person is None:
        raise NotFound(detail=N_("No account with this number."))
    return await _erase(
        session, person_id=person.id, settings=settings, via="operator", by=None, why=why.strip()
    )


async def person_to_erase(session: AsyncSession, *, actor: Actor, person_id: UUID) -> Person:
    """The person whose erasure an admin looks at (``erasure_check`` tells what it would
    do); an erased one answers ``person_erased``."""
    require(actor, Action.ERASE_ON_REQUEST)
    person = await identity.get_person(session, actor=actor, person_id=person_id)
    if person.erased_at is not None:
        raise PersonErased(detail=N_("This account was erased already."))
    return person


async def erase_for_person(
    session: AsyncSession,
    *,
    actor: Actor,
    person_id: UUID,
    why: str,
    confirmed: bool,
    remainder_fen: int,
    settings: Settings,
) -> ErasureReceipt:
    """An admin erases an account from the person's page or the API, on the person's
    request made by other means (a letter, a call to support): the checks of the person's
    own erasure, recorded with ``why`` and the admin. Not one's own account (that is the
    profile's), and not a frozen one: it was stopped for a reason an operator must
    settle first (its risk case), and erasing would take the evidence with it.
    ``remainder_fen``: the balance too small to withdraw that the page showed would be
    given up; if it changed since, nothing happens."""
    require(actor, Action.ERASE_ON_REQUEST)
    if person_id == actor.person_id:
        raise Forbidden(detail=N_("Erase your own account from your profile."))
    clean = identity.operator_reason(why)
    if not confirmed:
        raise ErasureNotConfirmed(
            detail=N_("Tick the box to confirm that the account is to be erased."),
            fields=[FieldError("confirm", N_("Confirm to go on."))],
        )
    return await _erase(
        session, person_id=person_id, settings=settings, via="operator", by=actor.person_id,
        why=clean, remainder_fen=remainder_fen,
    )  # fmt: skip


STRAGGLERS_JOB = "identity:forget_stragglers"
STRAGGLERS_AFTER = timedelta(minutes=2)


async def forget_stragglers(session: AsyncSession, *, person_id: UUID) -> None:
    """What requests of an erased account that were under way wrote after the erasure:
    its feed log and hidden tasks, and text read from its screenshots."""
    await dispatch.forget_person(session, person_id=person_id)
    await evidence.forget_readings(session, owner_id=person_id)


async def _erase(
    session: AsyncSession,
    *,
    person_id: UUID,
    settings: Settings,
    via: str,
    by: UUID | None,
    why: str | None = None,
    remainder_fen: int | None = None,
) -> ErasureReceipt:
    """The erasure itself. ``remainder_fen`` None: an operator's erasure on request, which
    gives up whatever small balance there is (the request covers it)."""
    locked = await repo.lock_person(session, person_id)
    own = via in SELF_SERVICE
    if own and (locked is None or locked.erased_at is not None or not locked.is_active):
        raise SessionExpired(detail=N_("Your session has expired; please sign in again."))
    if locked is None:
        raise NotFound(detail=N_("No such person."))
    if locked.erased_at is not None:
        raise PersonErased(detail=N_("This account was erased already."))
    if not locked.is_active:
        raise PersonFrozen(
            detail=N_(
                "The account is frozen. Settle why first (its risk case), and unfreeze it "
                "before erasing it."
            )
        )
    check = await _blockers(session, locked, settings, lock=True)
    if not check.allowed:
        raise blocked_error(check, current_locale.get(), own=own)
    if remainder_fen is not None and remainder_fen != check.remainder:
        raise ErasureChanged(
            detail=N_(
                "Your wallet changed: ¥{amount} would now be given up. Look at what erasing "
                "does again before you confirm."
            )
            if own
            else N_(
                "The wallet changed: ¥{amount} would now be given up. Look at what erasing "
                "does again before you confirm."
            ),
            extra={"amount": yuan(check.remainder), "remainder_fen": check.remainder},
        )

    moment = utcnow()
    placeholder = erased_phone(locked.id)
    old_phone = locked.phone
    contracts = await agencies.forget_person(session, person=locked, placeholder=placeholder)
    files = await evidence.forget_owner(session, owner_id=locked.id)
    tasks = await work.forget_worker_details(session, person_id=locked.id)
    await dispatch.forget_person(session, person_id=locked.id)
    payout = await withdrawals.forget_payout_account(session, locked.id)
    await withdrawals.give_up_remainder(
        session, account=wallets.available_account(locked.id), amount=check.remainder,
        code="erasure_remainder", reference=f"person:{locked.id}",
    )  # fmt: skip
    await wallets.close_wallet(session, locked.id, now=moment)
    await risk.forget_phone(
        session, person_id=locked.id, phone=old_phone,
        secret=settings.secret_key.get_secret_value(),
    )  # fmt: skip
    # Rows that requests already under way write a moment later (a feed's exposure log
    # goes out within a second): looked for again once they are done.
    await defer_in_transaction(
        session, STRAGGLERS_JOB, args={"person_id": str(locked.id)},
        scheduled_at=moment + STRAGGLERS_AFTER,
    )  # fmt: skip
    removed = await repo.forget_person_rows(
        session, person_id=locked.id, phone=old_phone, placeholder=placeholder, now=moment
    )

    locked.phone = placeholder
    locked.display_name = ERASED_NAME
    locked.password_hash = "!erased"  # noqa: S105 - not a hash: no password can match it
    locked.birth_year = None
    locked.region = None
    locked.interests = []
    locked.locale = None
    locked.is_active = False
    locked.failed_login_count = 0
    locked.locked_until = None
    locked.last_login_at = None
    locked.erased_at = moment
    await record_audit(
        session,
        actor_id=by,
        action="identity.account_erased",
        object_type="person",
        object_id=locked.id,
        data={
            "via": via,
            **({"why": why} if why else {}),
            "contracts": contracts,
            "evidence_files": files,
            "tasks": tasks,
            "payout_account": payout,
            "points_forfeited": check.points,
            "remainder_fen": check.remainder,
            **removed,
        },
    )
    await session.flush()
    return ErasureReceipt(person_id=str(locked.id), erased_at=moment, files_deleted=files)
