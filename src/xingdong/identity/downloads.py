"""Files a person downloads, as HTTP responses (shared by the API and the pages)."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from xingdong.identity.personal_data import as_file, file_name
from xingdong.web.downloads import attachment


def personal_data_response(export: dict[str, Any]) -> Response:
    """A person's copy of their data as a file to save; never kept by a cache on the way."""
    return attachment(
        as_file(export),
        media_type="application/json; charset=utf-8",
        filename=file_name(export),
        private=True,
    )
