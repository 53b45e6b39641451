"""Gold items: review items with a known answer, mixed into the queue at a set rate, so
each reviewer's accuracy is measured on real-looking work.

An operator turns a decided submission into a gold item (with the right decision). A
reviewer meets each gold item at most once; their answer is compared with the known one
and nothing else happens: no money moves, the source submission is not touched.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.models import Campaign
from xingdong.core.audit import record_audit
from xingdong.core.i18n import N_, Phrase
from xingdong.core.ids import new_id
from xingdong.core.pagination import contains, in_pages, next_cursor
from xingdong.core.policy import Action, Actor, require
from xingdong.work.errors import (
    AssignmentNotFound,
    AssignmentStateConflict,
    EvidenceRequired,
    OwnWork,
)
from xingdong.work.labels import STATUS_LABELS
from xingdong.work.models import Assignment, GoldAnswer, GoldItem
from xingdong.work.review_filter import EVERYTHING, ReviewFilter

DECIDED = ("approved", "released", "clawed_back", "rejected")


async def make_gold_item(
    session: AsyncSession, *, actor: Actor, assignment_id: UUID, approve: bool, reason: str
) -> GoldItem:
    """Use a decided submission, with evidence, as a gold item with this right answer."""
    require(actor, Action.STAFF_CONSOLE)
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None:
        raise AssignmentNotFound(detail=N_("No such task."))
    if assignment.status not in DECIDED or assignment.submitted_at is None:
        raise AssignmentStateConflict(
            detail=N_("Only decided submissions can become gold items."),
            extra={"status": assignment.status},
        )
    from xingdong.work.service import APPROVE_REASONS, REJECT_REASONS

    if reason not in (APPROVE_REASONS if approve else REJECT_REASONS):
        raise EvidenceRequired(detail=N_("Choose the right reason."))
    existing = await session.scalar(
        select(GoldItem).where(GoldItem.source_assignment_id == assignment_id)
    )
    if existing is not None:
        existing.expected_approve = approve
        existing.expected_reason = reason
        existing.active = True
        item = existing
    else:
        item = GoldItem(
            id=new_id(),
            source_assignment_id=assignment_id,
            expected_approve=approve,
            expected_reason=reason,
            created_by=actor.person_id,
            active=True,
        )
        session.add(item)
    await session.flush()
    await record_audit(
        session, actor_id=actor.person_id, action="work.gold_item_set", object_type="gold_item",
        object_id=item.id, data={"approve": approve, "reason": reason},
    )  # fmt: skip
    return item


GOLD_DRAW = random.SystemRandom()
"""Whether a queue view carries a gold item (pages and API draw from it)."""

GoldShown = tuple[GoldItem, Assignment, Campaign]
GoldQuery = Select[GoldItem, Assignment, Campaign]


def _open_to(actor: Actor) -> GoldQuery:
    """Active gold items this reviewer has not answered, that are not their own work and
    that they did not decide themselves (they would be graded on their own decision), with
    their source and campaign."""
    answered = select(GoldAnswer.gold_item_id).where(GoldAnswer.reviewer_id == actor.person_id)
    return (
        select(GoldItem, Assignment, Campaign)
        .join(Assignment, Assignment.id == GoldItem.source_assignment_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(
            GoldItem.active,
            GoldItem.id.not_in(answered),
            Assignment.person_id != actor.person_id,
            Assignment.reviewed_by.is_distinct_from(actor.person_id),
        )
    )


async def _first(session: AsyncSession, query: GoldQuery) -> GoldShown | None:
    row = (await session.execute(query.limit(1))).first()
    return None if row is None else (row[0], row[1], row[2])


async def pick_gold_item(
    session: AsyncSession,
    *,
    actor: Actor,
    rate: float,
    rng: random.Random,
    at_least: int | None = None,
    narrowed: ReviewFilter = EVERYTHING,
) -> GoldShown | None:
    """With probability ``rate``, a gold item this reviewer has not answered (and that is
    not their own work), shown like any queue item: one that the queue's filter
    (``narrowed``) keeps. With ``at_least``, one whose risk score is that high if there
    is one, so that it can stand first in a queue ordered by score without its place
    giving it away."""
    require(actor, Action.REVIEW_QUEUE)
    if rate <= 0 or rng.random() >= rate:
        return None
    open_here = _open_to(actor).where(*narrowed.conditions()).order_by(func.random())
    if at_least is not None:
        fitting = await _first(session, open_here.where(Assignment.risk_score >= at_least))
        if fitting is not None:
            return fitting
    return await _first(session, open_here)


async def is_gold_item(session: AsyncSession, item_id: UUID) -> bool:
    return await session.scalar(select(GoldItem.id).where(GoldItem.id == item_id)) is not None


async def unanswered_gold_item(
    session: AsyncSession,
    *,
    actor: Actor,
    gold_item_id: UUID,
    narrowed: ReviewFilter = EVERYTHING,
) -> GoldShown | None:
    """The gold item, its source and campaign, if this reviewer may still answer it (and
    it fits the queue's filter, ``narrowed``)."""
    require(actor, Action.REVIEW_QUEUE)
    return await _first(
        session, _open_to(actor).where(GoldItem.id == gold_item_id, *narrowed.conditions())
    )


async def why_closed(session: AsyncSession, *, actor: Actor, gold_item_id: UUID) -> str:
    """Why this reviewer may not answer ``gold_item_id``, as the code a submission in its
    place would give: none such (no gold item by that id, or a retired one), their own
    work, or decided (answered, or made from their own decision)."""
    item = await session.get(GoldItem, gold_item_id)
    if item is None or not item.active:
        return AssignmentNotFound.code
    source = await session.get(Assignment, item.source_assignment_id)
    if source is not None and source.person_id == actor.person_id:
        return OwnWork.code
    return AssignmentStateConflict.code


async def source_task_type(session: AsyncSession, gold_item_id: UUID) -> str:
    """The task type of the work a gold item was made from (its hold is that type's)."""
    task_type = await session.scalar(
        select(Campaign.task_type)
        .join(Assignment, Assignment.campaign_id == Campaign.id)
        .join(GoldItem, GoldItem.source_assignment_id == Assignment.id)
        .where(GoldItem.id == gold_item_id)
    )
    return task_type or ""


async def answer_gold_item(
    session: AsyncSession, *, actor: Actor, gold_item_id: UUID, approve: bool, reason: str
) -> bool:
    """Record the reviewer's answer; True when it matches the known decision."""
    require(actor, Action.REVIEW_QUEUE)
    item = await session.get(GoldItem, gold_item_id)
    if item is None or not item.active:
        raise AssignmentNotFound(detail=N_("No such task."))
    source = await session.get(Assignment, item.source_assignment_id)
    if source is not None and source.person_id == actor.person_id:
        raise OwnWork(detail=N_("You cannot review your own work."))
    correct = approve == item.expected_approve and (approve or reason == item.expected_reason)
    inserted = await session.execute(
        insert(GoldAnswer)
        .values(
            id=new_id(),
            gold_item_id=item.id,
            reviewer_id=actor.person_id,
            approve=approve,
            reason=reason,
            correct=correct,
        )
        .on_conflict_do_nothing(index_elements=["gold_item_id", "reviewer_id"])
        .returning(GoldAnswer.id)
    )
    if inserted.first() is None:
        # Said as a submission decided already is, so that the answer does not tell a
        # gold item from real work: the status its earlier answer gave it.
        earlier = await session.scalar(
            select(GoldAnswer.approve).where(
                GoldAnswer.gold_item_id == item.id, GoldAnswer.reviewer_id == actor.person_id
            )
        )
        status = "approved" if earlier else "rejected"
        raise AssignmentStateConflict(
            detail=N_("The task is “{status_label}”."),
            extra={"status": status, "status_label": Phrase(STATUS_LABELS[status])},
        )
    return correct


@dataclass(frozen=True)
class ReviewerAccuracy:
    reviewer_id: UUID
    answered: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


async def reviewer_accuracy(session: AsyncSession, *, actor: Actor) -> list[ReviewerAccuracy]:
    """Each reviewer's answers to gold items and how many were right."""
    require(actor, Action.STAFF_CONSOLE)
    rows = await session.execute(
        select(
            GoldAnswer.reviewer_id,
            func.count(),
            func.sum(case((GoldAnswer.correct, 1), else_=0)),
        )
        .group_by(GoldAnswer.reviewer_id)
        .order_by(GoldAnswer.reviewer_id)
    )
    return [ReviewerAccuracy(r[0], int(r[1]), int(r[2] or 0)) for r in rows]


@dataclass(frozen=True)
class GoldItemView:
    item: GoldItem
    source: Assignment
    campaign: Campaign
    answered: int
    correct: int


GOLD_PAGE = 50
"""Gold items a page, on the review-quality page and in its API."""


async def gold_items(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int = GOLD_PAGE,
    offset: int = 0,
    only: UUID | None = None,
) -> list[GoldItemView]:
    """Gold items, active ones first, newest first, with how often reviewers answered them
    right (``only``: that one item, wherever it would come in the list)."""
    require(actor, Action.STAFF_CONSOLE)
    answers = (
        select(
            GoldAnswer.gold_item_id.label("item_id"),
            func.count().label("answered"),
            func.sum(case((GoldAnswer.correct, 1), else_=0)).label("correct"),
        )
        .group_by(GoldAnswer.gold_item_id)
        .subquery()
    )
    query = (
        select(GoldItem, Assignment, Campaign, answers.c.answered, answers.c.correct)
        .join(Assignment, Assignment.id == GoldItem.source_assignment_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .outerjoin(answers, answers.c.item_id == GoldItem.id)
        .order_by(GoldItem.active.desc(), GoldItem.created_at.desc(), GoldItem.id)
        .offset(max(offset, 0))
        .limit(limit)
    )
    if only is not None:
        query = query.where(GoldItem.id == only)
    rows = await session.execute(query)
    return [GoldItemView(g, a, c, int(n or 0), int(k or 0)) for g, a, c, n, k in rows.all()]


async def count_gold_items(session: AsyncSession, *, actor: Actor) -> int:
    require(actor, Action.STAFF_CONSOLE)
    return int(await session.scalar(select(func.count()).select_from(GoldItem)) or 0)


@dataclass(frozen=True)
class Candidates:
    """Decided submissions to choose gold items from, a page of them."""

    items: list[tuple[Assignment, Campaign]]
    next_cursor: str | None


async def gold_candidates(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int = 20,
    search: str | None = None,
    cursor: str | None = None,
) -> Candidates:
    """Decided submissions with evidence that are not gold items yet, the latest decided
    first (``search``: in the campaign's title or the worker's handle)."""
    require(actor, Action.STAFF_CONSOLE)
    query = (
        select(Assignment, Campaign)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(
            Assignment.status.in_(DECIDED),
            Assignment.submitted_at.is_not(None),
            Assignment.reviewed_at.is_not(None),
            # An erased account's tasks keep no handle, and their proof is deleted.
            Assignment.actor_handle != "",
            Assignment.id.not_in(select(GoldItem.source_assignment_id)),
        )
    )
    if search:
        query = query.where(
            or_(
                contains(Campaign.title, search),
                contains(Assignment.actor_handle, search.removeprefix("@")),
            )
        )
    query = in_pages(query, Assignment.reviewed_at, Assignment.id, cursor, newest_first=True)
    rows = [(a, c) for a, c in (await session.execute(query.limit(limit + 1))).all()]
    return Candidates(
        rows[:limit],
        next_cursor([a for a, _ in rows], limit, at=lambda a: a.reviewed_at),
    )


async def retire_gold_item(session: AsyncSession, *, actor: Actor, gold_item_id: UUID) -> None:
    """Stop showing a gold item; its answers stay in reviewers' accuracy. Retiring one
    already retired changes nothing and writes nothing to the audit log."""
    require(actor, Action.STAFF_CONSOLE)
    item = await session.get(GoldItem, gold_item_id)
    if item is None:
        raise AssignmentNotFound(detail=N_("No such gold item."))
    if not item.active:
        return
    item.active = False
    await record_audit(
        session, actor_id=actor.person_id, action="work.gold_item_retired",
        object_type="gold_item", object_id=item.id, data={},
    )  # fmt: skip
    await session.flush()
