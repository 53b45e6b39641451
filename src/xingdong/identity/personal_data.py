"""A person's copy of everything Xingdong holds about them (个人信息导出): one JSON
document, gathered through each domain's service functions.

The shape (``FORMAT_VERSION``; docs/privacy.md describes every field)::

    format_version, generated_at, person_id,
    identity   profile, staff_roles, consents, platform_accounts, organisations,
               invitations, api_tokens, web_sessions
    work       assignments, disputes
    evidence   files
    ledger     wallet, movements, payout_account, withdrawals
    creators   agency_contracts
    dispatch   hidden, shown
    withheld   one line for each kind of data left out, and why

Times are ISO 8601 in UTC; money is integer fen (fields ending ``_fen``). Never in it:
password hashes, the digests of sessions and tokens, payout account numbers, anti-cheat
scores, reasons and signals, evidence fingerprints.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.core.audit import record_audit
from xingdong.core.clock import local_time, utc_text, utcnow
from xingdong.core.context import current_locale
from xingdong.core.errors import RateLimited
from xingdong.core.i18n import N_, translate
from xingdong.core.ratelimit import RateLimits
from xingdong.core.settings import Settings
from xingdong.creators import agencies
from xingdong.dispatch import service as dispatch
from xingdong.evidence import service as evidence
from xingdong.identity import repository as repo
from xingdong.identity.models import Person
from xingdong.ledger import wallets, withdrawals
from xingdong.work import service as work

FORMAT_VERSION = 1
"""Raised when a field changes meaning or goes; new fields and sections keep it."""

MOVEMENTS_PAGE = 500

WITHHELD = (
    N_(
        "Anti-cheat assessments: the scores and reasons the risk checks gave your sign-ins, "
        "claims, hand-ins and withdrawals, the device and network signals recorded with them, "
        "and any case or verdict about your account. Withheld to prevent fraud: disclosing "
        "them would show how to get round the checks."
    ),
    N_(
        "Fingerprints of your evidence: the perceptual hashes of your pictures and the text "
        "read from your screenshots, used to find reused or forged proof. Withheld to prevent "
        "fraud; the files themselves are listed under evidence."
    ),
    N_(
        "Your password and the secrets of your sessions and API tokens: only one-way hashes "
        "of them are kept, and those are left out."
    ),
    N_(
        "The audit log, the platform's unalterable record of staff actions and money "
        "movements: it also names other people; what it records of your account is in the "
        "sections above."
    ),
    N_(
        "Work you did for an organisation or as platform staff (campaigns, top-ups, reviews, "
        "decisions): these are the organisation's or the platform's records; ask the "
        "organisation or support about them."
    ),
)
"""What the copy leaves out, one line each, as the file says it (docs/privacy.md)."""


def _id(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _verification(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the platform said when the hand-in was checked (none before one)."""
    if not found:
        return None
    observed = found.get("observed_at")
    return {
        "status": found.get("status"),
        "detail": found.get("detail"),
        "observed_at": utc_text(datetime.fromisoformat(observed)) if observed else None,
        "watched_seconds": found.get("watched_seconds"),
        "stayed_seconds": found.get("stayed_seconds"),
    }


async def _identity(session: AsyncSession, person: Person) -> dict[str, Any]:
    return {
        "profile": {
            "phone": person.phone,
            "display_name": person.display_name,
            "birth_year": person.birth_year,
            "region": person.region,
            "interests": list(person.interests),
            "locale": person.locale,
            "is_active": person.is_active,
            "created_at": utc_text(person.created_at),
            "last_sign_in_at": utc_text(person.last_login_at),
            "failed_sign_ins": person.failed_login_count,
            "locked_until": utc_text(person.locked_until),
        },
        "staff_roles": [
            {"role": g.role, "granted_at": utc_text(g.created_at)}
            for g in await repo.staff_grants_of(session, person.id)
        ],
        "consents": [
            {
                "agreement_version": c.agreement_version,
                "accepted_at": utc_text(c.created_at),
                "ip": c.ip,
                "user_agent": c.user_agent,
            }
            for c in await repo.consents_of(session, person.id)
        ],
        "platform_accounts": [
            {
                "platform": a.platform,
                "handle": a.handle,
                "followers": a.followers,
                "bound_at": utc_text(a.created_at),
            }
            for a in await repo.platform_accounts_of(session, person.id)
        ],
        "organisations": [
            {
                "organisation_id": str(org.id),
                "name": org.name,
                "kind": org.kind,
                "role": m.role,
                "member_since": utc_text(m.created_at),
                "created_by_you": org.created_by == person.id,
            }
            for m, org in await repo.memberships_with_organisations(session, person.id)
        ],
        "invitations": [
            {
                "id": str(i.id),
                "organisation_id": str(org.id),
                "organisation_name": org.name,
                "role": i.role,
                "status": i.status,
                "sent_at": utc_text(i.created_at),
                "answered_at": utc_text(i.responded_at),
            }
            for i, org in await repo.invitations_for_phone(session, person.phone)
        ],
        "api_tokens": [
            {
                "name": t.name,
                "created_at": utc_text(t.created_at),
                "expires_at": utc_text(t.expires_at),
                "revoked_at": utc_text(t.revoked_at),
            }
            for t in await repo.api_tokens_of(session, person.id)
        ],
        "web_sessions": [
            {
                "created_at": utc_text(w.created_at),
                "expires_at": utc_text(w.expires_at),
                "ip": w.ip,
                "user_agent": w.user_agent,
            }
            for w in await repo.web_sessions_of(session, person.id)
        ],
    }


async def _work(session: AsyncSession, person: Person) -> dict[str, Any]:
    record = await work.personal_work(session, person_id=person.id)
    return {
        "assignments": [
            {
                "id": str(a.id),
                "campaign_id": str(c.id),
                "campaign_title": c.title,
                "task_type": c.task_type,
                "reward_fen": c.reward,
                "account_used": a.actor_handle,
                "status": a.status,
                "claimed_at": utc_text(a.claimed_at),
                "claim_expires_at": utc_text(a.expires_at),
                "submitted_at": utc_text(a.submitted_at),
                "evidence_file_id": _id(a.evidence_file_id),
                "evidence_link": a.evidence_link,
                "evidence_note": a.evidence_note,
                "platform_verification": _verification(a.verification),
                "reviewed_at": utc_text(a.reviewed_at),
                "review_reason": a.review_reason,
                "review_note": a.review_note,
                "hold_until": utc_text(a.hold_until),
                "settled_at": utc_text(a.settled_at),
                "settle_reason": a.settle_reason,
            }
            for a, c in record.assignments
        ],
        "disputes": [
            {
                "id": str(d.id),
                "assignment_id": str(d.assignment_id),
                "kind": d.kind,
                "raised_by_you": d.raised_by == person.id,
                "reason": d.reason,
                "status": d.status,
                "decision_note": d.decision_note,
                "raised_at": utc_text(d.created_at),
                "decided_at": utc_text(d.decided_at),
            }
            for d in record.disputes
        ],
    }


async def _evidence(session: AsyncSession, person: Person) -> dict[str, Any]:
    return {
        "files": [
            {
                "id": str(f.id),
                "kind": f.kind,
                "content_type": f.content_type,
                "byte_size": f.byte_size,
                "width": f.width,
                "height": f.height,
                "sha256": f.sha256,
                "uploaded_at": utc_text(f.created_at),
            }
            for f in await evidence.files_of(session, owner_id=person.id)
        ]
    }


async def _ledger(session: AsyncSession, person: Person) -> dict[str, Any]:
    page = await wallets.wallet(session, person.id, limit=MOVEMENTS_PAGE)
    movements = list(page.movements)
    cursor = page.next_cursor
    while cursor is not None:
        older = await wallets.wallet(session, person.id, limit=MOVEMENTS_PAGE, cursor=cursor)
        movements += older.movements
        cursor = older.next_cursor
    payout = await withdrawals.payout_account(session, person.id)
    return {
        "wallet": {
            "pending_fen": page.pending,
            "available_fen": page.available,
            "reserved_fen": page.reserved,
            "points": page.points,
        },
        "movements": [
            {
                "transfer_id": m.transfer_id,
                "at": utc_text(m.at),
                "account": m.account,
                "amount": m.amount,
                "asset": m.asset,
                "code": m.code,
                "reference": m.reference,
                "state": m.state,
            }
            for m in reversed(movements)
        ],
        "payout_account": None
        if payout is None
        else {
            "kind": payout.kind,
            "masked": payout.masked,
            "holder_name": payout.holder_name,
            "bound_at": utc_text(payout.created_at),
        },
        "withdrawals": [
            {
                "id": str(w.id),
                "organisation_id": _id(w.org_id),
                "amount_fen": w.amount,
                "fee_fen": w.fee,
                "status": w.status,
                "requested_at": utc_text(w.created_at),
                "updated_at": utc_text(w.updated_at),
                "failure_reason": w.failure_reason,
                "payout_account": payout.masked if payout and w.org_id is None else None,
            }
            for w in await withdrawals.withdrawals_requested_by(session, person.id)
        ],
    }


async def _creators(session: AsyncSession, person: Person) -> dict[str, Any]:
    return {
        "agency_contracts": [
            {
                "id": str(c.id),
                "agency_id": str(org.id),
                "agency_name": org.name,
                "offered_to_phone": c.phone,
                "share_percent": c.share_percent,
                "status": c.status,
                "offered_at": utc_text(c.created_at),
                "started_at": utc_text(c.started_at),
                "ended_at": utc_text(c.ended_at),
            }
            for c, org in await agencies.contracts_of(session, person=person)
        ]
    }


async def _dispatch(session: AsyncSession, person: Person) -> dict[str, Any]:
    hidden = await dispatch.hidden_list(session, person=person)
    shown = await dispatch.shown_history(session, person=person)
    titles = {
        str(c.id): c.title
        for c in await campaigns.campaigns_by_ids(
            session, sorted({UUID(t.campaign_id) for t in shown.tasks})
        )
    }
    return {
        "hidden": [
            {"kind": h.kind, "id": str(h.ref), "name": name, "hidden_at": utc_text(h.created_at)}
            for h, name in reversed(hidden)
        ],
        "shown": {
            "feeds": shown.feeds,
            "first_at": utc_text(shown.first_at),
            "last_at": utc_text(shown.last_at),
            "tasks": [
                {
                    "campaign_id": t.campaign_id,
                    "campaign_title": titles.get(t.campaign_id),
                    "reason": t.reason,
                    "times": t.times,
                    "first_at": utc_text(t.first_at),
                    "last_at": utc_text(t.last_at),
                }
                for t in shown.tasks
            ],
        },
    }


async def export_personal_data(session: AsyncSession, *, person: Person) -> dict[str, Any]:
    """Everything held about ``person``, as a JSON-ready dict (see the module's docstring).
    The ``withheld`` lines are in the language of the request (``current_locale``)."""
    locale = current_locale.get()
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": utc_text(utcnow()),
        "person_id": str(person.id),
        "identity": await _identity(session, person),
        "work": await _work(session, person),
        "evidence": await _evidence(session, person),
        "ledger": await _ledger(session, person),
        "creators": await _creators(session, person),
        "dispatch": await _dispatch(session, person),
        "withheld": [translate(locale, line) for line in WITHHELD],
    }


async def download_personal_data(
    session: AsyncSession,
    *,
    person: Person,
    settings: Settings,
    limits: RateLimits,
    via: str,
) -> dict[str, Any]:
    """The person's copy of their data, counted against ``rate_limit_data_export`` (it
    reads every table they are in) and recorded in the audit log. ``via``: ``api`` or
    ``page``."""
    try:
        await limits.hit(settings.rate_limit_data_export, "data-export", str(person.id))
    except RateLimited as exc:
        seconds = int(exc.extra.get("retry_after", 60))
        raise RateLimited(
            detail=N_(
                "You have downloaded your data as often as is allowed for now. "
                "Try again in {minutes} minutes."
            ),
            extra={**exc.extra, "minutes": max(1, math.ceil(seconds / 60))},
        ) from exc
    export = await export_personal_data(session, person=person)
    await record_audit(
        session,
        actor_id=person.id,
        action="identity.data_exported",
        object_type="person",
        object_id=person.id,
        data={"via": via, "format_version": FORMAT_VERSION},
    )
    await session.flush()
    return export


def as_file(export: dict[str, Any]) -> bytes:
    """The copy as people read it: UTF-8, indented, Chinese as itself."""
    return json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8")


def file_name(export: dict[str, Any]) -> str:
    """``xingdong-data-<day>.json``, the day it was made in Beijing time."""
    made = datetime.fromisoformat(export["generated_at"])
    return f"xingdong-data-{local_time(made, '%Y-%m-%d')}.json"
