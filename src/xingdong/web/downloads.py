"""Files to save, as HTTP responses: one way for every download the API and pages give."""

from __future__ import annotations

from fastapi import Response


def attachment(
    content: bytes, *, media_type: str, filename: str, private: bool = False
) -> Response:
    """``content`` as a file named ``filename``; ``private`` keeps it out of every cache
    on the way (a person's own data)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if private:
        headers["Cache-Control"] = "no-store"
    return Response(content, media_type=media_type, headers=headers)
