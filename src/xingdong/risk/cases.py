"""Cases for operators: the accounts the batch detectors judged, grouped the way they were
found (a ring, a lockstep group, a dense block), to confirm as fraud or clear.

A scan replays the recorded traffic of the last days through the same engine and batch
detectors as ``xingdong risk replay`` and keeps one case per group. A confirmed case
freezes its accounts and undoes their unsettled work; either verdict becomes a label per
account, the data the scoring model is trained on.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.errors import NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.policy import Action, Actor, require
from xingdong.risk.errors import CaseDecided
from xingdong.risk.models import RiskCase, RiskLabel
from xingdong.risk.replay import replay
from xingdong.risk.service import recorded_event_lines, rules_from

GROUP_KINDS = ("ring", "lockstep_group", "dense_block")


def _group_of(reasons: list[str]) -> str | None:
    for reason in reasons:
        stem, _, tag = reason.partition(":")
        if stem in GROUP_KINDS and tag:
            return f"{stem}:{tag}"
    return None


LINK_FIELDS = {"device": "device", "ip": "ip", "payout_account": "payout_account"}


def _values_used(events: list[dict[str, Any]]) -> dict[str, dict[str, set[str]]]:
    """For each link kind, the accounts that used each value."""
    used: dict[str, dict[str, set[str]]] = {kind: defaultdict(set) for kind in LINK_FIELDS}
    for event in events:
        account = event.get("account")
        if not isinstance(account, str):
            continue
        for kind, field_name in LINK_FIELDS.items():
            value = event.get(field_name)
            if isinstance(value, str) and value:
                used[kind][value].add(account)
    return used


def _shared(used: dict[str, dict[str, set[str]]], accounts: list[str]) -> dict[str, Any]:
    """The values two or more of these accounts used: the links between them."""
    members = set(accounts)
    links: dict[str, dict[str, list[str]]] = {}
    for kind, values in used.items():
        shared = {
            value: sorted(users & members)
            for value, users in values.items()
            if len(users & members) >= 2
        }
        if shared:
            links[kind] = dict(sorted(shared.items()))
    return links


TARGET_GROUPS = ("lockstep_group", "dense_block")
"""Groups found by what their accounts acted on: their cases list the shared targets."""
TARGETS_SHOWN = 12


def _targets_by_account(events: list[dict[str, Any]]) -> dict[str, dict[str, set[str]]]:
    """For the ``target`` link kind: the accounts that handed in work on each target (the
    actions the batch detectors read)."""
    acted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.get("type") != "submit":
            continue
        account, target = event.get("account"), event.get("target")
        if isinstance(account, str) and isinstance(target, str) and target:
            acted[target].add(account)
    return {"target": acted}


def _shared_targets(acted: dict[str, dict[str, set[str]]], accounts: list[str]) -> dict[str, Any]:
    """The targets two or more of these accounts acted on, the most shared first (at most
    ``TARGETS_SHOWN``): what a lockstep group or a dense block has in common."""
    members = set(accounts)
    shared = [
        (target, sorted(users & members))
        for target, users in acted["target"].items()
        if len(users & members) >= 2
    ]
    shared.sort(key=lambda item: (-len(item[1]), item[0]))
    return {"target": dict(shared[:TARGETS_SHOWN])} if shared else {}


@dataclass(frozen=True)
class ScanResult:
    events: int
    judged_accounts: int
    cases_opened: int
    cases_updated: int


@dataclass(frozen=True)
class _Group:
    """Accounts the batch detectors judged together, and what ties them."""

    kind: str
    members: dict[str, list[str]]
    links: dict[str, Any]
    score: float


def _judge(lines: list[str], rules_file: Path | None) -> tuple[list[_Group], int]:
    """The replay of the events (as JSON ``lines``) and the groups its verdicts make, with
    their links; and how many accounts were judged. Pure work on the events, for a thread
    of its own."""
    summary = replay(lines, io.StringIO(), settings=rules_from(rules_file))
    events = [json.loads(line) for line in lines]
    groups: dict[str, dict[str, list[str]]] = defaultdict(dict)
    scores: dict[str, float] = defaultdict(float)
    verdicts = summary.batch.verdicts if summary.batch is not None else []
    for verdict in verdicts:
        group = _group_of(verdict.reasons) or f"account:{verdict.account}"
        groups[group][verdict.account] = list(verdict.reasons)
        scores[group] = max(scores[group], verdict.score)
    used = _values_used(events)
    acted = _targets_by_account(events)
    found: list[_Group] = []
    for group, members in groups.items():
        kind = group.split(":", 1)[0]
        links = _shared(used, sorted(members))
        if kind in TARGET_GROUPS:
            links |= _shared_targets(acted, sorted(members))
        found.append(_Group(kind, members, links, round(scores[group], 4)))
    return found, len(verdicts)


async def scan(
    session: AsyncSession, *, days: float = 7, rules_file: Path | None = None
) -> ScanResult:
    """Judge the accounts of the last ``days`` of traffic and keep the cases."""
    # Read as text and replayed in a thread: a week of a busy platform's traffic is
    # minutes of work, and the job worker inside `serve` shares the web server's event
    # loop (reading the events as JSON objects decoded them on that loop too).
    lines = await recorded_event_lines(session, since=utcnow() - timedelta(days=days))
    groups, judged = await asyncio.to_thread(_judge, lines, rules_file)
    opened = updated = 0
    for group in groups:
        placed = await _place_group(session, group.kind, group.members, group.links, group.score)
        opened += placed == "opened"
        updated += placed == "updated"
    await session.flush()
    return ScanResult(len(lines), judged, opened, updated)


async def _place_group(
    session: AsyncSession,
    kind: str,
    members: dict[str, list[str]],
    links: dict[str, Any],
    score: float,
) -> str:
    """Keep one group a scan found: ``opened`` a case, ``updated`` the open case it
    overlaps, or ``known`` when nothing is left to decide.

    Accounts already confirmed as fraud are decided (and frozen): they are left out, so
    that no account gets a second, opposite verdict; the links still show what joins the
    rest to them. A group whose accounts a cleared case of its kind already holds was
    decided too. A group that shares an account with an open case of its kind is that
    case, grown or changed since (a ring gains a member, a lockstep group one more
    account): it is updated rather than opened twice."""
    confirmed = set(
        (
            await session.scalars(
                select(RiskLabel.account).where(
                    RiskLabel.account.in_(list(members)), RiskLabel.is_fraud.is_(True)
                )
            )
        ).all()
    )
    left = {account: codes for account, codes in members.items() if account not in confirmed}
    if not left:
        return "known"
    same_kind = list(
        (
            await session.scalars(
                select(RiskCase)
                .where(RiskCase.kind == kind, RiskCase.accounts.has_any(array(sorted(left))))
                .order_by(RiskCase.id)
                .with_for_update()
            )
        ).all()
    )
    if any(c.status == "cleared" and set(left) <= set(c.accounts) for c in same_kind):
        return "known"
    case = next((c for c in same_kind if c.status == "open"), None)
    if case is not None:
        kept = {a: r for a, r in case.reasons.items() if a not in confirmed}
        case.reasons = kept | left
        case.accounts = sorted(case.reasons)
        case.links = links
        case.score = max(score, case.score)
        return "updated"
    accounts = sorted(left)
    digest = hashlib.sha256("|".join(accounts).encode()).hexdigest()[:40]
    session.add(
        RiskCase(
            kind=kind, group_key=f"{kind}:{digest}", accounts=accounts, reasons=left,
            links=links, score=score, status="open",
        )
    )  # fmt: skip
    await session.flush()
    return "opened"


CASES_PAGE = 50
"""Cases a page lists."""


async def cases(
    session: AsyncSession,
    *,
    actor: Actor,
    status: str = "open",
    limit: int = CASES_PAGE,
    offset: int = 0,
) -> list[RiskCase]:
    """Cases of one status, riskiest first, ``offset`` of them skipped (operators)."""
    require(actor, Action.STAFF_CONSOLE)
    return list(
        (
            await session.scalars(
                select(RiskCase)
                .where(RiskCase.status == status)
                .order_by(RiskCase.score.desc(), RiskCase.id)
                .offset(max(offset, 0))
                .limit(limit)
            )
        ).all()
    )


async def count_cases(session: AsyncSession, *, actor: Actor, status: str = "open") -> int:
    """How many cases have this status (the list shows the riskiest of them)."""
    require(actor, Action.STAFF_CONSOLE)
    counted = select(func.count()).select_from(RiskCase).where(RiskCase.status == status)
    return int(await session.scalar(counted) or 0)


async def decide(
    session: AsyncSession,
    *,
    actor: Actor,
    case_id: int,
    fraud: bool,
    note: str,
) -> RiskCase:
    """Confirm (``fraud``) or clear a case; each account gets a label either way. A
    confirmed account is frozen and its unsettled work undone (open claims released,
    waiting hand-ins rejected, rewards in hold back to the campaigns' escrow)."""
    from xingdong.identity import service as identity
    from xingdong.work import service as work

    require(actor, Action.STAFF_CONSOLE)
    if not note.strip():
        raise ValidationFailed(detail=N_("Say why in the note."))
    case = await session.get(RiskCase, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise NotFound(detail=N_("No such case."))
    if case.status != "open":
        raise CaseDecided(detail=N_("This case was already decided."))
    case.status = "confirmed" if fraud else "cleared"
    case.decided_by = actor.person_id
    case.decided_at = utcnow()
    case.note = note.strip()[:500]
    for account in case.accounts:
        session.add(
            RiskLabel(account=account, is_fraud=fraud, case_id=case.id, labelled_by=actor.person_id)
        )
        if fraud:
            try:
                person_id = UUID(account)
            except ValueError:
                continue
            await identity.freeze_person(
                session, actor=actor, person_id=person_id, why=f"risk case {case.id}"
            )
            await work.undo_unsettled_work(session, person_id=person_id, actor=actor)
    await session.flush()
    return case
