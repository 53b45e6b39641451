"""The evidence API: a file's bytes for a program with a bearer token (an organisation's
key looking at the proof of its campaign's work, a person's own uploads)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response

from xingdong.evidence.pages import file_response
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
    size: Literal["small"] | None = None,
) -> Response:
    """The file's bytes as uploaded (``size=small``: a picture as a JPEG at most 320
    pixels on its longest side). For its uploader, review staff and operators, and the
    members and keys of the organisation whose campaign it proves; anyone else gets
    ``evidence_not_found``, as for an id that does not exist."""
    return await file_response(session, runtime, actor, file_id, size)
