"""REST API of the dispatch domain: what a person hides from their feed, and the operators'
console of the live feed. (The feed itself is ``GET /api/v1/tasks`` of the work API.)"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi import status as http_status
from pydantic import BaseModel, ConfigDict, Field, StrictFloat

from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.pagination import MAX_PAGE_SIZE
from xingdong.core.policy import Action, require
from xingdong.dispatch import nightly, service, tuning
from xingdong.dispatch.console import PAGE_SIZE, CampaignPacing, dispatch_console
from xingdong.dispatch.fairness import TierStanding
from xingdong.dispatch.live import live_dispatch
from xingdong.dispatch.models import WeightChange
from xingdong.dispatch.tuning import NOTE_MAX
from xingdong.web.deps import ApiActor, ApiPerson, DbSession, RuntimeDep
from xingdong.work.labels import TASK_TYPE_LABELS

router = APIRouter(prefix="/api/v1", tags=["dispatch"])

HideKind = Literal["campaign", "brand"]


class HideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: HideKind
    ref: UUID
    """The campaign's or the brand organisation's id."""


class HiddenOut(BaseModel):
    kind: str
    ref: UUID
    name: str


@router.get("/feed/hidden")
async def list_hidden(person: ApiPerson, session: DbSession) -> list[HiddenOut]:
    """What you hid from your feed, newest first."""
    rows = await service.hidden_list(session, person=person)
    return [HiddenOut(kind=row.kind, ref=row.ref, name=name) for row, name in rows]


@router.post("/feed/hidden", status_code=http_status.HTTP_204_NO_CONTENT)
async def hide(body: HideIn, person: ApiPerson, session: DbSession, runtime: RuntimeDep) -> None:
    """Hide a campaign, or every campaign of a brand, from your feed (again: no change)."""
    await service.hide(session, person=person, kind=body.kind, ref=body.ref)
    # The next feed from this process reads it (other processes hear it from the database).
    live_dispatch(runtime.db, runtime.settings).facts.forget(str(person.id))


@router.delete("/feed/hidden/{kind}/{ref}", status_code=http_status.HTTP_204_NO_CONTENT)
async def unhide(
    kind: HideKind, ref: UUID, person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> None:
    """Show a hidden campaign or brand again."""
    await service.unhide(session, person=person, kind=kind, ref=ref)
    live_dispatch(runtime.db, runtime.settings).facts.forget(str(person.id))


ConsolePace = Literal["paused", "ahead", "behind", "on_plan"]


class WeightOut(BaseModel):
    name: str
    value: float
    default: float
    changed: bool


class WeightChangeOut(BaseModel):
    id: int
    weights: dict[str, float]
    """The weights it put over the setting's (empty: back to the setting)."""
    note: str
    changed_by: UUID
    changed_at: datetime


class WeightsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strict: JSON's true would otherwise arrive as 1.0 and pass as a count.
    weights: dict[str, StrictFloat]
    """Weights to put in force (names of docs/dispatch.md's table); those equal to what the
    setting gives are left to it. An empty object: back to the setting's weights."""
    note: str = Field(default="", max_length=NOTE_MAX)
    """Why (kept with the change)."""
    based_on: int | None = Field(default=None, strict=True, ge=0)
    """The id of the change in force when you looked (0: none); given, the change is
    refused (409 ``weights_changed_meanwhile``) if another came since."""


class DispatchConsoleOut(BaseModel):
    process: int
    """The server process whose pacing prices and tier counts these are."""
    weights: list[WeightOut]
    tiers: list[TierStanding]
    """Per tier (``None``: people without one): feeds this process served its people, the
    tasks they took from them, its relief."""
    seeded_at: datetime | None
    seeding_failed_at: datetime | None
    """When a seeding job failed since the last that stored prices (null: none did)."""
    campaigns: list[CampaignPacing]
    total: int
    counts: dict[str, int]
    page: int
    pages: int
    changes: list[WeightChangeOut]
    """The operators' latest changes of the weights, newest first."""
    bench_command: str
    """The command that plays simulated days with the weights in force
    (``xingdong bench dispatch``)."""


@router.get("/ops/dispatch", tags=["ops"])
async def console(
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
    q: Annotated[str, Query(max_length=80)] = "",
    type: Annotated[  # noqa: A002 - the query parameter's name, as on the feed
        str | None, Query(max_length=20, json_schema_extra={"enum": list(TASK_TYPE_LABELS)})
    ] = None,
    pace: ConsolePace | None = None,
    quality: Annotated[bool, Query(description="Only campaigns in the quality-task plan")] = False,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> DispatchConsoleOut:
    """Operators: the feed's weights in force, each tier's standing and relief, and the
    live campaigns against their plan, furthest from it first (docs/dispatch.md)."""
    require(actor, Action.STAFF_CONSOLE)
    if type is not None and type not in TASK_TYPE_LABELS:
        raise ValidationFailed(
            detail=N_("Choose a task type."),
            fields=[FieldError("type", N_("Choose a task type."))],
        )
    found = await dispatch_console(
        session,
        live=live_dispatch(runtime.db, runtime.settings),
        now=utcnow(),
        search=q.strip() or None,
        task_type=type,
        pace_code=pace,
        quality_only=quality,
        page=page,
        page_size=limit,
    )
    return DispatchConsoleOut(
        process=found.process,
        weights=[WeightOut.model_validate(w, from_attributes=True) for w in found.weights],
        tiers=found.tiers,
        seeded_at=found.seeded_at,
        seeding_failed_at=found.seeding_failed_at,
        campaigns=found.campaigns.items,
        total=found.campaigns.total,
        counts=found.campaigns.counts,
        page=found.campaigns.page,
        pages=found.campaigns.pages,
        changes=[_change_out(seen.change) for seen in found.changes],
        bench_command=found.bench_command,
    )


def _change_out(change: WeightChange) -> WeightChangeOut:
    return WeightChangeOut.model_validate(change, from_attributes=True)


@router.post("/ops/dispatch/weights", tags=["ops"], status_code=http_status.HTTP_201_CREATED)
async def change_weights(
    body: WeightsIn, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> WeightChangeOut:
    """Operators: put these weights in force over the setting's, in place of the console's
    weights before (send every one you want to keep), for every feed and claim within
    seconds (``{"weights": {}}``: back to the setting's)."""
    change = await tuning.change_weights(
        session, actor=actor, values=body.weights, note=body.note, settings=runtime.settings,
        based_on=body.based_on,
    )  # fmt: skip
    return _change_out(change)


class SeedingOut(BaseModel):
    job_id: int


@router.post("/ops/dispatch/seed-prices", tags=["ops"], status_code=http_status.HTTP_202_ACCEPTED)
async def seed_prices_now(actor: ApiActor, session: DbSession) -> SeedingOut:
    """Operators: have the job worker seed the pacing prices now, not at night (409
    ``seeding_waiting`` while one waits to run)."""
    return SeedingOut(job_id=await nightly.seed_prices_soon(session, actor=actor))
