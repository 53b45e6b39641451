"""Web routes of the evidence domain: the bytes of one file, for the people allowed to
see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.i18n import N_
from xingdong.core.policy import Action, Actor, can
from xingdong.evidence import service
from xingdong.evidence.errors import EvidenceNotFound
from xingdong.evidence.models import EvidenceFile
from xingdong.web.deps import DbSession, OptionalPageActor, RuntimeDep

router = APIRouter(include_in_schema=False)

ExtraViewer = Callable[[AsyncSession, Actor, EvidenceFile], Awaitable[bool]]

EXTRA_VIEWERS: list[ExtraViewer] = []
"""More rules for who may see a file, beyond its owner and review staff: another domain
appends an async ``(session, actor, file) -> bool`` (the work domain lets the brand of
the task a file proves see it). Any one answering True is enough."""

STAFF_VIEWER_ACTIONS = (Action.REVIEW_QUEUE, Action.STAFF_CONSOLE)


async def may_view(session: AsyncSession, actor: Actor, file: EvidenceFile) -> bool:
    if file.owner_id == actor.person_id:
        return True
    if any(can(actor, action) for action in STAFF_VIEWER_ACTIONS):
        return True
    for viewer in EXTRA_VIEWERS:
        if await viewer(session, actor, file):
            return True
    return False


def _not_found() -> EvidenceNotFound:
    return EvidenceNotFound(detail=N_("No such evidence file."))


@router.get("/evidence/{file_id}")
async def evidence_file(
    file_id: str, session: DbSession, runtime: RuntimeDep, actor: OptionalPageActor
) -> Response:
    """The original bytes. Anyone not allowed to see the file (signed out included) gets
    the same "not found" as for an id that does not exist, so ids cannot be probed."""
    try:
        parsed_id = UUID(file_id)
    except ValueError:
        raise _not_found() from None
    if actor is None:
        raise _not_found()
    file = await service.get_file(session, parsed_id)
    if not await may_view(session, actor, file):
        raise _not_found()
    data = await service.read_bytes(runtime.evidence, file)
    return Response(
        content=data,
        media_type=file.content_type,
        headers={
            "Cache-Control": "private",
            "X-Content-Type-Options": "nosniff",
            # Opened on its own, an uploaded file runs nothing and loads nothing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
