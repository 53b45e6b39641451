"""REST API of the dispatch domain: what a person hides from their feed. (The feed itself
is ``GET /api/v1/tasks`` of the work API.)"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi import status as http_status
from pydantic import BaseModel, ConfigDict

from xingdong.dispatch import service
from xingdong.dispatch.live import live_dispatch
from xingdong.web.deps import ApiPerson, DbSession, RuntimeDep

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
