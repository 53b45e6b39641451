"""Reading the app's answers in tests: an API problem (RFC 9457) and the hidden fields of a
page's form."""

from __future__ import annotations

import re
from typing import Any

import httpx


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem document of ``response``, checked to be ``status`` with ``code``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"the page has no {name}"
    return match.group(1)


def csrf_from(html: str) -> str:
    return _hidden(html, "csrf_token")


def form_id_from(html: str) -> str:
    return _hidden(html, "form_id")
