"""The evidence API: a file's bytes for a program with a bearer token (an organisation's
key looking at the proof of its campaign's work, a person's own uploads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from xingdong.evidence.pages import Size, file_response
from xingdong.web.deps import ApiActor, DbSession, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["evidence"])


@router.get(
    "/evidence/{file_id}",
    response_class=Response,
    responses={200: {"content": {"image/*": {}, "video/*": {}}}},
)
async def evidence_file(
    file_id: str,
    session: DbSession,
    runtime: RuntimeDep,
    actor: ApiActor,
    size: Size | None = None,
    range_: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """The file as uploaded, for its uploader and review staff (``size=small``: a picture
    as a JPEG at most 320 pixels on its longest side). The members and keys of the
    organisation whose campaign it proves get pictures as clean copies (nothing but the
    picture) and no videos (``evidence_withheld``); anyone else gets
    ``evidence_not_found``, as for an id that does not exist. A ``Range: bytes=…``
    header asks for a part (206; at most 2 MiB of an open range)."""
    return await file_response(session, runtime, actor, file_id, size, range_)
