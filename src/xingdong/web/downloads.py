"""Files to save, as HTTP responses: one way for every download the API and pages give."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response

_UNSAFE_IN_NAMES = str.maketrans(dict.fromkeys('\\/:*?"<>|\r\n\t', "_"))


def attachment(
    content: bytes,
    *,
    media_type: str,
    filename: str,
    readable_name: str | None = None,
    private: bool = False,
) -> Response:
    """``content`` as a file named ``filename`` (plain ASCII, what every program can
    read), or ``readable_name`` where the browser can take it (RFC 6266: a name in the
    reader's words, 星动美妆 2026-12.csv); ``private`` keeps it out of every cache on the
    way (a person's own data)."""
    disposition = f'attachment; filename="{filename}"'
    if readable_name:
        safe = readable_name.translate(_UNSAFE_IN_NAMES).strip() or filename
        disposition += f"; filename*=UTF-8''{quote(safe, safe='')}"
    headers = {"Content-Disposition": disposition}
    if private:
        headers["Cache-Control"] = "no-store"
    return Response(content, media_type=media_type, headers=headers)
