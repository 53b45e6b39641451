"""Web routes of the evidence domain: the bytes of one file, for the people allowed to
see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.i18n import N_
from xingdong.core.policy import Action, Actor, can
from xingdong.core.runtime import Runtime
from xingdong.evidence import service
from xingdong.evidence.errors import EvidenceNotFound, NotAnImage
from xingdong.evidence.models import EvidenceFile
from xingdong.evidence.small_pictures import small_picture
from xingdong.web.deps import DbSession, OptionalPageActor, RuntimeDep

router = APIRouter(include_in_schema=False)

ExtraViewer = Callable[[AsyncSession, Actor, EvidenceFile], Awaitable[bool]]

EXTRA_VIEWERS: list[ExtraViewer] = []
"""More rules for who may see a file, beyond its owner and review staff: another domain
appends an async ``(session, actor, file) -> bool`` (the work domain lets the brand of
the task a file proves see it). Any one answering True is enough."""

STAFF_VIEWER_ACTIONS = (Action.REVIEW_QUEUE, Action.STAFF_CONSOLE)


async def may_view(session: AsyncSession, actor: Actor, file: EvidenceFile) -> bool:
    # An organisation's key sees what its organisation may, not its maker's own uploads.
    if file.owner_id == actor.person_id and actor.api_key_id is None:
        return True
    if any(can(actor, action) for action in STAFF_VIEWER_ACTIONS):
        return True
    for viewer in EXTRA_VIEWERS:
        if await viewer(session, actor, file):
            return True
    return False


def _not_found() -> EvidenceNotFound:
    return EvidenceNotFound(detail=N_("No such evidence file."))


SMALL_KEPT_BY_BROWSER_S = 3600
"""How long a browser may keep a small picture: a list looked at again within the hour
loads at once, and a file deleted with its uploader's account is gone from browsers an
hour later at most."""


@router.get("/evidence/{file_id}")
async def evidence_file(
    file_id: str,
    session: DbSession,
    runtime: RuntimeDep,
    actor: OptionalPageActor,
    size: Literal["small"] | None = None,
) -> Response:
    """The original bytes (``size=small``: a picture's small JPEG version, for lists).
    Anyone not allowed to see the file (signed out included) gets the same "not found" as
    for an id that does not exist, so ids cannot be probed."""
    return await file_response(session, runtime, actor, file_id, size)


async def file_response(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor | None,
    file_id: str,
    size: Literal["small"] | None,
) -> Response:
    """A file's bytes for ``actor`` (the page's and the API's answer alike)."""
    try:
        parsed_id = UUID(file_id)
    except ValueError:
        raise _not_found() from None
    if actor is None:
        raise _not_found()
    file = await service.get_file(session, parsed_id)
    if not await may_view(session, actor, file):
        raise _not_found()
    if size == "small" and file.kind != "image":
        raise NotAnImage(detail=N_("Only pictures have a small version; open the video itself."))
    data = await service.read_bytes(runtime.evidence, file)
    media_type, caching = file.content_type, "private"
    if size == "small":
        # Decoding a large picture takes tens of milliseconds: off the event loop.
        data = await run_in_threadpool(small_picture, data)
        media_type, caching = "image/jpeg", f"private, max-age={SMALL_KEPT_BY_BROWSER_S}"
    return Response(
        content=data,
        media_type=media_type,
        headers={
            "Cache-Control": caching,
            "X-Content-Type-Options": "nosniff",
            # Opened on its own, an uploaded file runs nothing and loads nothing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
