"""Long lists: cursor pagination (the cursor is an opaque token naming the last row seen,
so pages stay stable while rows are added) and the search box's match."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.sql.elements import SQLCoreOperations

from xingdong.core.errors import FieldError, ValidationFailed
from xingdong.core.i18n import N_

T = TypeVar("T")
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")

MAX_PAGE_SIZE = 100
BIGINT_MAX = 2**63 - 1
"""The largest sequence number the database holds (``bigint``)."""


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    """One page of a long list as a service returns it (the API's :class:`Page` is what
    it answers with, its items turned into schemas)."""

    items: list[T]
    next_cursor: str | None

    @classmethod
    def cut(
        cls, rows: list[T], limit: int, at: Callable[[Any], datetime] | None = None
    ) -> CursorPage[T]:
        """The first ``limit`` of ``rows`` (fetched with ``limit + 1``) and the cursor
        of the page after them (see :func:`next_cursor`)."""
        return cls(items=rows[:limit], next_cursor=next_cursor(rows, limit, at))


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor() -> ValidationFailed:
    """The refusal of a cursor no page of this list gave, naming the ``cursor`` field."""
    said = N_("The page cursor is not valid.")
    return ValidationFailed(detail=said, fields=[FieldError("cursor", said)])


def sequence_cursor(raw: str | None) -> int | None:
    """The sequence number a cursor of a list ordered by one (the audit log, the job
    queue) names: the last row seen; none for the first page."""
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > BIGINT_MAX:
        raise bad_cursor()
    return int(raw)


def sequence_cut(
    rows: list[T], limit: int, number: Callable[[T], int]
) -> tuple[list[T], str | None]:
    """The first ``limit`` of ``rows`` (fetched with ``limit + 1``, newest first) and the
    cursor of the page after them, which :func:`sequence_cursor` reads."""
    page = rows[:limit]
    return page, str(number(page[-1])) if len(rows) > limit and page else None


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at), UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise bad_cursor() from exc


def in_pages(
    query: Q, created_at: Any, row_id: Any, cursor: str | None, *, newest_first: bool
) -> Q:
    """``query`` in a list's order (by ``created_at``, then ``row_id``), starting after
    the row ``cursor`` names; the caller adds the limit."""
    key = tuple_(created_at, row_id)
    position = decode_cursor(cursor)
    if position is not None:
        query = query.where(key < tuple_(*position) if newest_first else key > tuple_(*position))
    if newest_first:
        return query.order_by(created_at.desc(), row_id.desc())
    return query.order_by(created_at, row_id)


def clamp_limit(limit: int | None, default: int = 20) -> int:
    if limit is None:
        return default
    return max(1, min(limit, MAX_PAGE_SIZE))


def next_cursor(
    rows: list[Any], limit: int, at: Callable[[Any], datetime] | None = None
) -> str | None:
    """Rows were fetched with ``limit + 1``; a surplus row means there is a next page.
    ``at``: the moment a row is ordered by, for a list that is not in ``created_at``
    order (what :func:`in_pages` was given as ``created_at``)."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(at(last) if at else last.created_at, last.id)


def numbered_page(total: int, page: int, size: int) -> tuple[int, int]:
    """For lists read by page number (ordered by something other than time): the page to
    show (``page`` held between the first and the last) and how many pages there are
    (one, for an empty list)."""
    pages = max(math.ceil(total / size), 1)
    return min(max(page, 1), pages), pages


def contains(column: SQLCoreOperations[str], text: str) -> ColumnElement[bool]:
    """``column`` holds ``text`` anywhere, case aside (a list's search box); ``%``, ``_``
    and ``\\`` in the text match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
