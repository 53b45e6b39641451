"""The feed's weights in force: the defaults, changed by the setting
``XINGDONG_DISPATCH_WEIGHTS``, changed again by the operators on the feed console.

A change made on the console is a row of ``dispatch_weight_changes``; the latest row is in
force. Claims read it as they are made; each serving process reads it at its next sync of
the feed's index (``dispatch_sync_seconds``), so every feed follows within seconds, with no
restart. "Back to the setting" is a change with no weights of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.policy import Action, Actor, require
from xingdong.core.settings import Settings
from xingdong.dispatch.errors import WeightsChangedMeanwhile
from xingdong.dispatch.models import WeightChange
from xingdong.dispatch.weights import DispatchWeights, weight_problem, weights_from
from xingdong.identity.models import Person

HISTORY = 20
"""How many of the latest changes the console lists (the audit log keeps them all)."""
NOTE_MAX = 500


async def latest_change(session: AsyncSession) -> WeightChange | None:
    """The change in force (None: the console never changed the weights)."""
    found: WeightChange | None = await session.scalar(
        select(WeightChange).order_by(WeightChange.id.desc()).limit(1)
    )
    return found


def weights_with(settings: Settings, change: WeightChange | None) -> DispatchWeights:
    """The weights in force with this change the latest. A weight it names that a later
    version no longer has, or a value it no longer allows, is passed over (the feed must
    not stop for it)."""
    own = {
        k: v for k, v in (change.weights if change else {}).items() if weight_problem(k, v) is None
    }
    return weights_from({**settings.dispatch_weights, **own})


async def weights_in_force(session: AsyncSession, settings: Settings) -> DispatchWeights:
    """The weights claims and feeds keep to now."""
    return weights_with(settings, await latest_change(session))


async def change_weights(
    session: AsyncSession,
    *,
    actor: Actor,
    values: Mapping[str, float],
    note: str,
    settings: Settings,
    based_on: int | None = None,
) -> WeightChange:
    """Put these weights in force (each a weight operators may set; those equal to what
    the setting gives are left to it), in place of the console's weights before. An empty
    ``values``: back to the setting. ``based_on``: the change the caller saw in force (0:
    none); refused if another came since, so one operator's form does not undo another's."""
    require(actor, Action.STAFF_CONSOLE)
    problems = weight_problems(values)
    note = note.strip()
    if len(note) > NOTE_MAX:
        problems.append(FieldError("note", N_("At most 500 characters.")))
    if problems:
        raise ValidationFailed(detail=N_("Some weights are not valid."), fields=problems)
    base = weights_from(settings.dispatch_weights)
    own = {
        name: float(value)
        for name, value in sorted(values.items())
        if float(value) != float(getattr(base, name))
    }
    # One change at a time, so the check below and the history see the same latest one.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("dispatch_weights"))))
    previous = await latest_change(session)
    if based_on is not None and based_on != (0 if previous is None else previous.id):
        raise WeightsChangedMeanwhile(
            detail=N_(
                "Another operator changed the weights after you opened the page; "
                "what is in force now is shown. Make your change again if it still holds."
            )
        )
    change = WeightChange(weights=own, note=note, changed_by=actor.person_id, changed_at=utcnow())
    session.add(change)
    await session.flush()
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="dispatch.weights_changed",
        object_type="dispatch_weights",
        object_id=change.id,
        data={"before": previous.weights if previous else {}, "after": own, "note": note},
    )
    return change


def weight_problems(values: Mapping[str, float]) -> list[FieldError]:
    """What is wrong with these weights, by weight (``weights.weight_problem``)."""
    problems = ((name, weight_problem(name, value)) for name, value in values.items())
    return [FieldError(name, problem) for name, problem in problems if problem is not None]


@dataclass(frozen=True)
class ChangeSeen:
    change: WeightChange
    by: str
    """Who made it (their display name)."""
    before: dict[str, float]
    """The console's weights before it."""

    @property
    def changed_at(self) -> datetime:
        return self.change.changed_at

    @property
    def moved(self) -> list[tuple[str, float | None, float | None]]:
        """Each weight it moved: from (None: the setting's) and to (None: back to it)."""
        after = self.change.weights
        names = sorted(set(self.before) | set(after))
        return [
            (name, self.before.get(name), after.get(name))
            for name in names
            if self.before.get(name) != after.get(name)
        ]


async def weight_history(session: AsyncSession, limit: int = HISTORY) -> list[ChangeSeen]:
    """The latest changes, newest first, each with what it moved."""
    rows = (
        await session.execute(
            select(WeightChange, Person.display_name)
            .join(Person, Person.id == WeightChange.changed_by)
            .order_by(WeightChange.id.desc())
            .limit(limit + 1)
        )
    ).all()
    seen: list[ChangeSeen] = []
    for index, (change, name) in enumerate(rows[:limit]):
        before = rows[index + 1][0].weights if index + 1 < len(rows) else {}
        seen.append(ChangeSeen(change, name, dict(before)))
    return seen
