"""Web routes of the evidence domain: the bytes of one file, for the people allowed to
see it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.i18n import N_
from xingdong.core.policy import Action, Actor, can
from xingdong.core.runtime import Runtime
from xingdong.evidence import service
from xingdong.evidence.byte_ranges import requested_range
from xingdong.evidence.errors import CorruptImage, EvidenceNotFound, EvidenceWithheld, NotAnImage
from xingdong.evidence.models import EvidenceFile
from xingdong.evidence.picture_copies import UnreadablePicture, clean_copy, small_copy
from xingdong.web.deps import DbSession, OptionalPageActor, RuntimeDep

router = APIRouter(include_in_schema=False)

ExtraViewer = Callable[[AsyncSession, Actor, EvidenceFile], Awaitable[bool]]

EXTRA_VIEWERS: list[ExtraViewer] = []
"""More rules for who may see a file, beyond its owner and review staff: another domain
appends an async ``(session, actor, file) -> bool`` (the work domain lets the brand of
the task a file proves see it). Any one answering True is enough. Those it lets in see
pictures as clean copies and no videos (``Access.CLEAN``)."""

STAFF_VIEWER_ACTIONS = (Action.REVIEW_QUEUE, Action.STAFF_CONSOLE)

Size = Literal["small"]


class Access(Enum):
    WHOLE = "whole"
    """The file as uploaded: its uploader and review staff."""
    CLEAN = "clean"
    """Pictures without what the phone wrote besides the picture (where it was taken, the
    phone's model), and no videos, whose files can hold where they were recorded: the
    brand the file proves a task for."""


async def access_to(session: AsyncSession, actor: Actor, file: EvidenceFile) -> Access | None:
    """How ``actor`` may see ``file`` (None: not at all)."""
    # An organisation's key sees what its organisation may, not its maker's own uploads.
    if file.owner_id == actor.person_id and actor.api_key_id is None:
        return Access.WHOLE
    if any(can(actor, action) for action in STAFF_VIEWER_ACTIONS):
        return Access.WHOLE
    for viewer in EXTRA_VIEWERS:
        if await viewer(session, actor, file):
            return Access.CLEAN
    return None


def _not_found() -> EvidenceNotFound:
    return EvidenceNotFound(detail=N_("No such evidence file."))


COPY_KEPT_BY_BROWSER_S = 3600
"""How long a browser may keep a copy made for it: a list looked at again within the hour
loads at once, and a file deleted with its uploader's account is gone from browsers an
hour later at most."""


@router.get("/evidence/{file_id}")
async def evidence_file(
    file_id: str,
    session: DbSession,
    runtime: RuntimeDep,
    actor: OptionalPageActor,
    size: Size | None = None,
    range_: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """The file (``size=small``: a picture's small JPEG version, for lists). Anyone not
    allowed to see it (signed out included) gets the same "not found" as for an id that
    does not exist, so ids cannot be probed."""
    return await file_response(session, runtime, actor, file_id, size, range_)


async def file_response(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor | None,
    file_id: str,
    size: Size | None,
    byte_range: str | None = None,
) -> Response:
    """A file's bytes for ``actor`` (the page's and the API's answer alike); of a whole
    file, the part ``byte_range`` (a ``Range`` header) asks for."""
    try:
        parsed_id = UUID(file_id)
    except ValueError:
        raise _not_found() from None
    if actor is None:
        raise _not_found()
    file = await service.get_file(session, parsed_id)
    access = await access_to(session, actor, file)
    if access is None:
        raise _not_found()
    if file.kind != "image":
        if size == "small":
            raise NotAnImage(
                detail=N_("Only pictures have a small version; open the video itself.")
            )
        if access is Access.CLEAN:
            raise EvidenceWithheld(
                detail=N_(
                    "A video file can hold where it was recorded, so it is shown to the "
                    "platform's reviewers only; the link the worker gave, if any, leads to "
                    "the video as published."
                )
            )
    if size is None and access is Access.WHOLE:
        on_disk = runtime.evidence.local_path(file.storage_key)
        if on_disk is not None and await asyncio.to_thread(on_disk.is_file):
            # Sent from the file, a part at a time when a video player asks for a range
            # (phones' players do before they play), never read whole into memory.
            return FileResponse(on_disk, media_type=file.content_type, headers=_HEADERS)
        # A remote store: the part asked for, read from it alone; or the whole, a piece
        # at a time.
        part = requested_range(byte_range, file.byte_size)
        if part is not None:
            data = await service.read_bytes(runtime.evidence, file, part)
            return Response(
                content=data,
                status_code=206,
                media_type=file.content_type,
                headers={**_HEADERS, **_RANGES, "Content-Range": part.content_range()},
            )
        return StreamingResponse(
            await service.stream_bytes(runtime.evidence, file),
            media_type=file.content_type,
            headers={**_HEADERS, **_RANGES, "Content-Length": str(file.byte_size)},
        )
    data = await service.read_bytes(runtime.evidence, file)
    # Each copy is a decoding: counted per person, so one cannot keep the server busy.
    await runtime.limits.hit(
        runtime.settings.rate_limit_evidence_copies, "evidence-copy", str(actor.person_id)
    )
    try:
        copy = await (small_copy(data) if size == "small" else clean_copy(data))
    except UnreadablePicture:
        raise CorruptImage(
            detail=N_("This picture is damaged in storage and cannot be shown.")
        ) from None
    return _file_answer(copy.data, copy.content_type, f"private, max-age={COPY_KEPT_BY_BROWSER_S}")


_HEADERS = {
    "Cache-Control": "private",
    "X-Content-Type-Options": "nosniff",
    # Opened on its own, an uploaded file runs nothing and loads nothing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


_RANGES = {"Accept-Ranges": "bytes"}
"""Said of a whole file, so that a player knows it may ask for parts."""


def _file_answer(
    data: bytes, media_type: str, caching: str, more: dict[str, str] | None = None
) -> Response:
    return Response(
        content=data,
        media_type=media_type,
        headers={**_HEADERS, "Cache-Control": caching, **(more or {})},
    )
