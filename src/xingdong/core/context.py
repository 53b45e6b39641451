"""Per-request context that deep code may read: the locale of the person being served,
and the organisation API key the request came with, if any."""

from __future__ import annotations

from contextvars import ContextVar
from uuid import UUID

current_locale: ContextVar[str] = ContextVar("current_locale", default="zh_CN")
current_api_key: ContextVar[UUID | None] = ContextVar("current_api_key", default=None)
"""Set for a request made with an API key: the audit log names the key beside its maker."""
