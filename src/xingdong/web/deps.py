"""FastAPI dependencies shared by every domain's API and pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.context import current_api_key, current_locale
from xingdong.core.errors import (
    CsrfFailed,
    FieldError,
    NotAuthenticated,
    RateLimited,
    ValidationFailed,
    XingdongError,
)
from xingdong.core.i18n import N_
from xingdong.core.policy import Actor
from xingdong.core.runtime import Runtime
from xingdong.core.security import csrf_token_matches
from xingdong.core.settings import Settings
from xingdong.identity import api_keys
from xingdong.identity import service as identity
from xingdong.identity.errors import ApiKeyReadOnly, PersonTokenRequired, SessionExpired
from xingdong.identity.models import ApiToken, Person

SESSION_COOKIE = "xd_session"
T = TypeVar("T")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# Dependencies are coroutines even when they need not be: FastAPI runs a plain function
# dependency in a worker thread, which costs more than the work itself.


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_settings(request: Request) -> Settings:
    return runtime_of(request).settings


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler succeeds, rolled back when
    it fails (except for errors whose writes must stand, such as a counted failed sign-in)."""
    async with runtime_of(request).db.sessionmaker() as session:
        try:
            yield session
        except XingdongError as exc:
            if exc.keeps_changes:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def attempt(session: AsyncSession, action: Callable[[], Awaitable[T]]) -> T:
    """Run a service call in a savepoint, for pages that catch its error to show it next to
    the form: a failed call leaves nothing half-written behind."""
    savepoint = await session.begin_nested()
    try:
        result = await action()
    except XingdongError as exc:
        if exc.keeps_changes:
            await savepoint.commit()
        else:
            await savepoint.rollback()
        raise
    except BaseException:
        await savepoint.rollback()
        raise
    await savepoint.commit()
    return result


def pressed(value: str, buttons: Collection[str], *, field: str = "decision") -> str:
    """Which of a page form's buttons was pressed, from the value it sent. Anything else (a
    form cut short or changed by hand) is refused, never read as the other button: a
    missing "approve" must not reject a withdrawal."""
    if value not in buttons:
        raise ValidationFailed(
            detail=N_(
                "The form did not say what to do. Open the page again and press one of its buttons."
            ),
            fields=[FieldError(field, N_("Press one of the form's buttons."))],
        )
    return value


FORM_OUT_OF_DATE = N_("This form is out of date. Open the page again and send it from there.")
"""What a page form missing what its page always puts in it is told."""


def form_key(form_id: str) -> str:
    """The idempotency key of a money form, from the one-off id its page put in it. A form
    without one (cut short, or made by hand) is refused: with an empty id, all such forms
    of a person would share one key, and every one after the first would be refused as a
    replay of it for good."""
    if not form_id.strip():
        raise ValidationFailed(detail=FORM_OUT_OF_DATE)
    return f"page:{form_id}"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# "function" scope: commit before the response leaves, so a client that was told "done"
# always finds the change, and a failed commit is an error response, not a silent loss.
DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CursorQuery = Annotated[str | None, Query(max_length=200)]
"""A long list's opaque cursor: the ``next_cursor`` of the page before."""
LimitQuery = Annotated[int, Query(ge=1, le=100)]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=160)]
"""The header every money-moving POST requires (an empty one is refused like a missing
one: ``validation_failed`` naming ``Idempotency-Key``)."""
OptionalIdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=160)
]
"""The same header where it is welcome but not required (creating a draft)."""


async def _remember(request: Request, session: AsyncSession, person: Person) -> Actor:
    actor = await identity.actor_for(session, person=person)
    request.state.person = person
    request.state.actor = actor
    if person.locale and not request.state.locale_explicit:
        current_locale.set(person.locale)
    return actor


# --- pages (cookie session + CSRF) ---------------------------------------------------


async def optional_page_actor(request: Request, session: DbSession) -> Actor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        person = await identity.person_for_web_session(session, token=token)
    except NotAuthenticated:
        request.state.session_expired = True
        return None
    return await _remember(request, session, person)


async def page_actor(
    request: Request, actor: Annotated[Actor | None, Depends(optional_page_actor)]
) -> Actor:
    if actor is None:
        # Only a browser that brought an ended session is told it expired: someone who never
        # signed in, or signed out, is only asked to sign in.
        if getattr(request.state, "session_expired", False):
            raise SessionExpired(detail=N_("Your session has expired; please sign in again."))
        raise NotAuthenticated(detail=N_("Please sign in."))
    return actor


async def page_person(request: Request, _actor: Annotated[Actor, Depends(page_actor)]) -> Person:
    person: Person = request.state.person
    return person


async def verify_csrf(request: Request) -> None:
    """Pages' POSTs must carry the token rendered into the form (or the header)."""
    submitted = request.headers.get("x-csrf-token")
    if submitted is None:
        form = await request.form()
        value = form.get("csrf_token")
        submitted = value if isinstance(value, str) else None
    secret = runtime_of(request).settings.secret_key.get_secret_value()
    if not csrf_token_matches(secret, request.cookies.get("xd_csrf"), submitted):
        raise CsrfFailed(
            detail=N_("The form expired or was not sent by this site; please try again.")
        )


OptionalPageActor = Annotated[Actor | None, Depends(optional_page_actor)]
PageActor = Annotated[Actor, Depends(page_actor)]
PagePerson = Annotated[Person, Depends(page_person)]
CsrfChecked = Depends(verify_csrf)


# --- API (bearer tokens) --------------------------------------------------------------


def bearer_token(request: Request) -> str:
    """The request's bearer token (refused when there is none)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(detail=N_("Send an Authorization: Bearer <token> header."))
    return token.strip()


def person_bearer_token(request: Request) -> str:
    """The request's bearer token, which must be a person's: an organisation's API key is
    refused here (see :func:`api_actor` for the routes that take one)."""
    token = bearer_token(request)
    if api_keys.is_api_key(token):
        raise PersonTokenRequired(
            detail=N_("An API key acts for its organisation; sign in as a person for this.")
        )
    return token


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A person's token (POST /api/v1/auth/tokens) or an organisation's API key "
    "(xdk_…), as Authorization: Bearer <token>.",
)
"""Read by the routes below only so that the OpenAPI document names the scheme on every
operation that needs it; the token itself is read by :func:`bearer_token`, which the
routes outside FastAPI's routing share."""
Announced = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


async def api_token(
    request: Request, session: DbSession, _bearer: Announced
) -> tuple[Person, ApiToken]:
    """A person's token."""
    token = person_bearer_token(request)
    person, row = await identity.person_for_api_token(session, token=token)
    # Roles and memberships are read only by the routes that ask for an actor.
    request.state.person = person
    if person.locale and not request.state.locale_explicit:
        current_locale.set(person.locale)
    return person, row


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def api_actor(request: Request, session: DbSession, _bearer: Announced) -> Actor:
    """Who is calling: a person by their token, or an organisation by one of its API
    keys."""
    token = bearer_token(request)
    if not api_keys.is_api_key(token):
        person, _row = await api_token(request, session, _bearer)
        return await _remember(request, session, person)
    actor, key = await api_keys.actor_for_key(session, token=token)
    if key.access == "read" and request.method not in SAFE_METHODS:
        raise ApiKeyReadOnly(detail=N_("This API key may only read; make a write key for this."))
    runtime = runtime_of(request)
    try:
        await runtime.limits.hit(runtime.settings.rate_limit_api_key, "api-key", str(key.id))
    except RateLimited as exc:
        raise RateLimited(
            detail=N_(
                "This API key has made as many requests as it may for now. Try again in "
                "{retry_after} seconds."
            ),
            extra=exc.extra,
        ) from exc
    request.state.actor = actor
    current_api_key.set(key.id)
    return actor


async def api_person_actor(
    request: Request,
    session: DbSession,
    token: Annotated[tuple[Person, ApiToken], Depends(api_token)],
) -> Actor:
    """A person acting as themselves (an organisation's API key is refused)."""
    return await _remember(request, session, token[0])


async def api_person(_token: Annotated[tuple[Person, ApiToken], Depends(api_token)]) -> Person:
    return _token[0]


ApiActor = Annotated[Actor, Depends(api_actor)]
ApiPersonActor = Annotated[Actor, Depends(api_person_actor)]
ApiPerson = Annotated[Person, Depends(api_person)]
ApiTokenDep = Annotated[tuple[Person, ApiToken], Depends(api_token)]
