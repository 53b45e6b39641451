"""Per-request context that deep code may read: the locale of the person being served."""

from __future__ import annotations

from contextvars import ContextVar

current_locale: ContextVar[str] = ContextVar("current_locale", default="zh_CN")
