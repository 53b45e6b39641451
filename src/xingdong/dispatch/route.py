"""``GET /api/v1/tasks``, the personal feed, served by Starlette directly.

The feed is the hottest read of the platform, and FastAPI's dependencies (a session, the
token, the person as an ORM object) and response models for twenty items cost several
times the work itself. Here the token's person and their facts come from the process's
cache, or one query when not kept (:mod:`xingdong.dispatch.facts_cache`), the in-memory
dispatcher places the slate, and the body is joined from each campaign's serialised item
(:mod:`xingdong.dispatch.bodies`). What the
client sees is what the FastAPI route in ``work.api`` (kept for the API description)
declares: the same fields, refusals and problem+json errors, in the same order.
"""

from __future__ import annotations

from typing import Annotated

from fastapi.exceptions import RequestValidationError
from pydantic import Field, StringConstraints, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from xingdong.core.clock import utcnow
from xingdong.core.context import current_locale
from xingdong.core.errors import FieldError, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.dispatch import service as dispatch
from xingdong.dispatch.bodies import empty_feed
from xingdong.dispatch.live import live_dispatch
from xingdong.web.deps import person_bearer_token, runtime_of
from xingdong.work.labels import TASK_TYPE_LABELS
from xingdong.work.schemas import ReasonOut

TASK_TYPE_MAX = 20
_TASK_TYPE = TypeAdapter(Annotated[str, StringConstraints(max_length=TASK_TYPE_MAX)])
FEED_LIMIT_MAX = 100
_LIMIT = TypeAdapter(Annotated[int, Field(ge=1, le=FEED_LIMIT_MAX)])


def _limit(request: Request) -> int | None:
    """How many tasks the client asks for (``?limit=``, 1 to 100; None: the setting's
    ``dispatch_feed_size``)."""
    value = request.query_params.get("limit")
    if value is None:
        return None
    try:
        limit: int = _LIMIT.validate_python(value, strict=False)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("query", "limit")} for error in exc.errors()]
        ) from None
    return limit


def _task_type(request: Request) -> str | None:
    value = request.query_params.get("type")
    if value is None:
        return None
    try:
        _TASK_TYPE.validate_python(value)
    except ValidationError as exc:
        # As FastAPI reports a query parameter that fails its constraints.
        raise RequestValidationError(
            [{**error, "loc": ("query", "type")} for error in exc.errors()]
        ) from None
    if value and value not in TASK_TYPE_LABELS:
        raise ValidationFailed(
            detail=N_("Choose a task type."),
            fields=[FieldError("type", N_("Choose a task type."))],
        )
    return value or None


async def feed_api(request: Request) -> Response:
    """Your personal feed (see ``work.api.list_tasks``)."""
    runtime = runtime_of(request)
    token = person_bearer_token(request)
    now = utcnow()
    live = live_dispatch(runtime.db, runtime.settings)
    facts = await live.facts.facts(token=token, now=now)
    if facts.locale and not request.state.locale_explicit:
        current_locale.set(facts.locale)
    task_type = _task_type(request)
    limit = _limit(request)
    locale = current_locale.get()
    feed = await dispatch.feed_for(
        db=runtime.db, settings=runtime.settings, facts=facts, task_type=task_type,
        limit=limit, now=now,
    )  # fmt: skip
    if not feed.tasks:
        reasons = [
            ReasonOut.of(code, dispatch.FEED_REASONS, locale, **feed.params)
            for code in feed.reasons
        ]
        return Response(empty_feed(reasons), media_type="application/json")
    body = live.bodies.feed(feed.tasks, now=now, locale=locale, why=dispatch.reason_text)
    return Response(body, media_type="application/json")
