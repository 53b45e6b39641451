"""Closing an organisation (关闭机构): an owner ends a brand or an agency for good.

The row stays, as campaigns, statements, money records and the audit log point to it;
in one transaction, the organisation's row held FOR UPDATE:

    offers     contracts offered to creators and not yet answered are withdrawn
    members    invitations waiting for an answer are withdrawn; every member leaves
    keys       API keys are revoked; webhook endpoints are switched off
    money      top-ups waiting for payment are closed; an agency's balance too small to
               pay out is given up (the owner agreed to it, as the check showed it); the
               balance accounts are marked closed

Refused, and nothing changed, while anything is unsettled (``BLOCKERS``): campaigns not
closed, work on them not settled, money in the balance or on its way, a correction
waiting for approval, creators under contract. Whatever adds to an organisation holds its
row FOR SHARE first (``repository.hold_open_organisation``), so it happens wholly before
the closing (and the check sees it) or after it (and is refused). A top-up the payer
pays after the closing is still credited, the money having arrived, and the
``ledger:refund_closed_balances`` job refunds it. A creator's reward leaving its hold
after the agency closed goes to the creator whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.context import current_locale
from xingdong.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.money import yuan
from xingdong.core.policy import Action, Actor, require
from xingdong.core.ratelimit import RateLimits
from xingdong.core.settings import Settings
from xingdong.creators.agencies import agency_account
from xingdong.creators.models import AgencyContract
from xingdong.identity import erasure
from xingdong.identity import service as identity
from xingdong.identity.errors import OrganisationClosed
from xingdong.identity.models import Invitation, Membership, Organisation, OrgApiKey, Person
from xingdong.insights.models import WebhookEndpoint
from xingdong.ledger import adjustments, withdrawals
from xingdong.ledger.deposits import org_account
from xingdong.ledger.models import Deposit, LedgerAccount
from xingdong.ledger.payments import PaymentProvider
from xingdong.work import service as work


class ClosureBlocked(Conflict):
    code = "closure_blocked"
    title = N_("The organisation cannot be closed yet")


class ClosureChanged(Conflict):
    code = "closure_changed"
    title = N_("What closing the organisation does has changed; look again")


class ClosureNotConfirmed(ValidationFailed):
    code = "closure_not_confirmed"
    title = N_("Type the organisation's name to confirm")


BLOCKERS = {
    "campaigns_open": N_(
        "{count} campaigns are not closed (drafts, waiting for approval, live, paused or "
        "rejected). Close each on its page first."
    ),
    "work_open": N_(
        "{count} tasks on your campaigns are not settled (taken, handed in, in hold or "
        "disputed). Wait until their holds end and their disputes are decided."
    ),
    "money_available": N_(
        "¥{amount} is in the balance. Refund it to the payers of your top-ups (on the "
        "organisation page) first."
    ),
    "agency_money_available": N_("¥{amount} is in the agency's balance. Pay it out first."),
    "money_moving": N_(
        "¥{amount} is on its way in or out of the balance (a refund or a payout under way). "
        "Wait until it is done."
    ),
    "adjustment_pending": N_(
        "A correction of the balance by the platform waits for approval. Ask support, or "
        "wait until it is decided."
    ),
    "contracts_active": N_(
        "{count} creators are under contract with the agency. End the contracts first."
    ),
}
"""Why an organisation cannot be closed yet, by code (docs/agencies.md and docs/api.md
list them): each is money or work that would be lost."""


class Blocker(erasure.Blocker):
    TEXTS = BLOCKERS
    ABOUT_THEM = BLOCKERS  # the same words for staff: they are about the organisation


@dataclass(frozen=True)
class ClosureCheck:
    """What closing the organisation now would do, or what stops it."""

    blockers: list[Blocker]
    members: int
    """People who would stop being members (the owner closing it too)."""
    invitations: int
    offers: int
    """Contracts offered to creators and not answered, which would be withdrawn."""
    api_keys: int
    webhook_endpoints: int
    unpaid_top_ups: int
    remainder: int
    """An agency's balance below the smallest payout (fen), which would be given up."""

    @property
    def allowed(self) -> bool:
        return not self.blockers


@dataclass(frozen=True)
class ClosureReceipt:
    org_id: UUID
    closed_at: datetime


def _money_keys(org_id: UUID) -> list[str]:
    return [org_account(org_id), agency_account(org_id)]


async def _money_accounts(
    session: AsyncSession, org_id: UUID, *, lock: bool
) -> dict[str, LedgerAccount]:
    query = (
        select(LedgerAccount)
        .where(LedgerAccount.key.in_(_money_keys(org_id)))
        .order_by(LedgerAccount.id)
        .execution_options(populate_existing=True)
    )
    # FOR NO KEY UPDATE, as a movement takes: nothing moves in or out until the end.
    rows = await session.scalars(query.with_for_update(key_share=True) if lock else query)
    return {account.key: account for account in rows}


async def _count(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(query) or 0)


async def _check(
    session: AsyncSession, org: Organisation, settings: Settings, *, lock: bool
) -> ClosureCheck:
    blockers: list[Blocker] = []
    open_campaigns = await campaigns.not_closed_count(session, org_id=org.id)
    if open_campaigns:
        blockers.append(Blocker("campaigns_open", {"count": open_campaigns}))
    open_work = await work.open_work_on_campaigns_of(session, org_id=org.id)
    if open_work:
        blockers.append(Blocker("work_open", {"count": open_work}))
    accounts = await _money_accounts(session, org.id, lock=lock)
    remainder = 0
    moving = 0
    for key, account in accounts.items():
        available = account.credits_posted - account.debits_posted - account.debits_pending
        moving += account.debits_pending + account.credits_pending
        if available <= 0:
            continue
        if key == org_account(org.id):
            blockers.append(Blocker("money_available", {"amount": yuan(available)}))
        elif available >= withdrawals.smallest_withdrawal(settings):
            blockers.append(Blocker("agency_money_available", {"amount": yuan(available)}))
        else:
            remainder = available
    if moving:
        blockers.append(Blocker("money_moving", {"amount": yuan(moving)}))
    if await adjustments.pending_adjustments_count(session, _money_keys(org.id)):
        blockers.append(Blocker("adjustment_pending"))
    contracts = await _count(
        session,
        select(func.count())
        .select_from(AgencyContract)
        .where(AgencyContract.org_id == org.id, AgencyContract.status == "active"),
    )
    if contracts:
        blockers.append(Blocker("contracts_active", {"count": contracts}))
    return ClosureCheck(
        blockers=blockers,
        members=await _count(session, select(func.count()).where(Membership.org_id == org.id)),
        invitations=await _count(
            session,
            select(func.count()).where(Invitation.org_id == org.id, Invitation.status == "pending"),
        ),
        offers=await _count(
            session,
            select(func.count()).where(
                AgencyContract.org_id == org.id, AgencyContract.status == "offered"
            ),
        ),
        api_keys=await _count(
            session,
            select(func.count()).where(OrgApiKey.org_id == org.id, OrgApiKey.revoked_at.is_(None)),
        ),
        webhook_endpoints=await _count(
            session,
            select(func.count()).where(
                WebhookEndpoint.org_id == org.id, WebhookEndpoint.enabled.is_(True)
            ),
        ),
        unpaid_top_ups=await _count(
            session,
            select(func.count()).where(Deposit.org_id == org.id, Deposit.status == "created"),
        ),
        remainder=remainder,
    )


async def _organisation(
    session: AsyncSession, actor: Actor, org_id: UUID, *, lock: bool
) -> Organisation:
    require(actor, Action.ORG_CLOSE, org_id=org_id)
    return await _open_organisation(session, org_id, lock=lock)


async def _open_organisation(session: AsyncSession, org_id: UUID, *, lock: bool) -> Organisation:
    query = select(Organisation).where(Organisation.id == org_id)
    if lock:
        # FOR NO KEY UPDATE: it waits for, and stops, whatever holds the row FOR SHARE to
        # add to the organisation, but not the foreign-key checks of rows that merely
        # point to it (an event about a campaign closing at this moment), which would
        # otherwise wait for this while holding what this waits for.
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    org = await session.scalar(query)
    if org is None:
        raise NotFound(detail=N_("No such organisation."))
    if org.closed_at is not None:
        raise OrganisationClosed(detail=N_("{name} is already closed."), extra={"name": org.name})
    return org


async def closure_check(
    session: AsyncSession, *, actor: Actor, org_id: UUID, settings: Settings
) -> tuple[Organisation, ClosureCheck]:
    """What closing the organisation would do now, or what stops it (for the page and the
    API to show before an owner confirms). Takes no locks: :func:`close_organisation`
    checks again."""
    org = await _organisation(session, actor, org_id, lock=False)
    return org, await _check(session, org, settings, lock=False)


def blocked_error(check: ClosureCheck, locale: str) -> ClosureBlocked:
    return ClosureBlocked(
        detail=N_("The organisation cannot be closed yet: {reasons}"),
        extra={
            "reasons": " ".join(b.text(locale) for b in check.blockers),
            "blockers": [{"code": b.code, "detail": b.text(locale)} for b in check.blockers],
        },
    )


async def close_organisation(
    session: AsyncSession,
    *,
    actor: Actor,
    person: Person,
    org_id: UUID,
    name: str,
    password: str,
    remainder_fen: int,
    settings: Settings,
    limits: RateLimits,
    via: str,
    payments: PaymentProvider,
) -> ClosureReceipt:
    """Close the organisation (see the module's docstring), once an owner typed its name
    and gave their password again. ``via``: ``page`` or ``api``. ``remainder_fen`` is the
    agency's balance too small to pay out that the owner agreed to give up, as the check
    showed it: if it changed since, nothing happens and they are asked to look again."""
    org = await _organisation(session, actor, org_id, lock=False)
    if name.strip() != org.name:
        raise ClosureNotConfirmed(
            detail=N_("Type the organisation's name exactly as it is shown to confirm."),
            fields=[FieldError("name", N_("Type {name}."))],
            extra={"name": org.name},
        )
    await identity.confirm_password(
        session, person=person, password=password, settings=settings, limits=limits
    )
    return await _close(
        session, org_id=org.id, by=person.id, via=via, settings=settings,
        remainder_fen=remainder_fen, payments=payments,
    )  # fmt: skip


async def close_on_request(
    session: AsyncSession,
    *,
    org_id: UUID,
    why: str,
    settings: Settings,
    payments: PaymentProvider,
) -> ClosureReceipt:
    """Close the organisation for an operator, on its owners' request made by other means
    (``xingdong admin close-organisation``): the same checks and the same closing,
    recorded with ``why`` and no acting person. An agency's balance too small to pay out
    is given up (the request covers it)."""
    if not why.strip():
        raise ValidationFailed(
            detail=N_("Say why the organisation is closed (the request's reference)."),
            fields=[FieldError("why", N_("Say why."))],
        )
    return await _close(
        session, org_id=org_id, by=None, via="operator", settings=settings,
        remainder_fen=None, why=why.strip(), payments=payments,
    )  # fmt: skip


async def _close(
    session: AsyncSession,
    *,
    org_id: UUID,
    by: UUID | None,
    via: str,
    settings: Settings,
    remainder_fen: int | None,
    payments: PaymentProvider,
    why: str | None = None,
) -> ClosureReceipt:
    """The closing itself. ``by`` None and ``remainder_fen`` None: an operator's closing
    on request."""
    org = await _open_organisation(session, org_id, lock=True)
    moment = utcnow()
    # What could be answered while this runs is settled first, rows locked, so that the
    # check below sees an offer or an invitation accepted meanwhile.
    offers = await session.execute(
        update(AgencyContract)
        .where(AgencyContract.org_id == org.id, AgencyContract.status == "offered")
        .values(status="withdrawn", ended_at=moment, ended_by=by)
    )
    invitations = await session.execute(
        update(Invitation)
        .where(Invitation.org_id == org.id, Invitation.status == "pending")
        .values(status="revoked", responded_at=moment)
    )
    check = await _check(session, org, settings, lock=True)
    if not check.allowed:
        raise blocked_error(check, current_locale.get())
    if remainder_fen is not None and remainder_fen != check.remainder:
        raise ClosureChanged(
            detail=N_(
                "The agency's balance changed: ¥{amount} would now be given up. Look at "
                "what closing does again before you confirm."
            ),
            extra={"amount": yuan(check.remainder), "remainder_fen": check.remainder},
        )
    await withdrawals.give_up_remainder(
        session, account=agency_account(org.id), amount=check.remainder,
        code="closure_remainder", reference=f"organisation:{org.id}",
    )  # fmt: skip
    # Each checkout left open is closed at the provider first, so that nobody pays into
    # the closed organisation; one paid a moment ago changes what closing does.
    unpaid = await session.scalars(
        select(Deposit.id).where(Deposit.org_id == org.id, Deposit.status == "created")
    )
    for deposit_id in unpaid.all():
        record = await payments.close_order(order_id=str(deposit_id))
        if record is not None and record.status == "paid":
            raise ClosureChanged(
                detail=N_(
                    "A top-up was paid a moment ago and is about to reach the balance. Look "
                    "at what closing does again once it has."
                )
            )
    top_ups = await session.execute(
        update(Deposit)
        .where(Deposit.org_id == org.id, Deposit.status == "created")
        .values(status="closed")
    )
    keys = await session.execute(
        update(OrgApiKey)
        .where(OrgApiKey.org_id == org.id, OrgApiKey.revoked_at.is_(None))
        .values(revoked_at=moment, revoked_by=by)
    )
    endpoints = await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.org_id == org.id, WebhookEndpoint.enabled.is_(True))
        .values(enabled=False)
    )
    members = (
        await session.scalars(
            delete(Membership).where(Membership.org_id == org.id).returning(Membership.person_id)
        )
    ).all()
    for account in (await _money_accounts(session, org.id, lock=True)).values():
        account.closed_at = moment
    org.closed_at = moment
    org.closed_by = by
    await record_audit(
        session,
        actor_id=by,
        action="identity.organisation_closed",
        object_type="organisation",
        object_id=org.id,
        data={
            "via": via,
            **({"why": why} if why else {}),
            "members": sorted(str(m) for m in members),
            "offers_withdrawn": offers.rowcount,  # type: ignore[attr-defined]
            "invitations_withdrawn": invitations.rowcount,  # type: ignore[attr-defined]
            "api_keys_revoked": keys.rowcount,  # type: ignore[attr-defined]
            "webhook_endpoints_disabled": endpoints.rowcount,  # type: ignore[attr-defined]
            "top_ups_closed": top_ups.rowcount,  # type: ignore[attr-defined]
            "remainder_fen": check.remainder,
        },
    )
    await session.flush()
    return ClosureReceipt(org_id=org.id, closed_at=moment)
