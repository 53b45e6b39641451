"""Errors as RFC 9457 problem+json for the API, and as a readable page for browsers."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from xingdong.core.context import current_locale
from xingdong.core.errors import (
    DatabaseUnavailable,
    NotAuthenticated,
    ValidationFailed,
    XingdongError,
)
from xingdong.core.i18n import N_, said, translate
from xingdong.core.logging import get_logger
from xingdong.identity.errors import SessionExpired
from xingdong.web.schema_errors import schema_message

log = get_logger(__name__)

PROBLEM_TYPE_BASE = "https://xingdong.dev/problems/"


def _headers_said(status: int, extra: Mapping[str, Any] | None) -> dict[str, str]:
    """The headers an error's own figures call for, on a page as in the API."""
    if status == 429 and extra and "retry_after" in extra:
        return {"Retry-After": str(extra["retry_after"])}
    if status == 416 and extra and "size" in extra:
        # RFC 9110: a refused range says how long the file is.
        return {"Content-Range": f"bytes */{extra['size']}"}
    return {}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    if errors:
        body["errors"] = errors
    if extra:
        # An error's own "status" (of a task, a campaign) must not hide the HTTP status.
        locale = current_locale.get()
        body.update(
            {(f"current_{k}" if k in body else k): said(locale, v) for k, v in extra.items()}
        )
    sent = dict(headers or {}) | _headers_said(status, extra)
    if status == 401:
        # RFC 9110: a 401 names how to authenticate; the API takes bearer tokens.
        sent.setdefault("WWW-Authenticate", 'Bearer realm="xingdong"')
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=sent
    )


PLAIN_DETAILS_PAGE = {
    404: N_("There is no page at this address. Check the link, or start again from the home page."),
    405: N_(
        "This address receives a form; it is not a page to open or reload. Go back to the form "
        "and send it again."
    ),
}
PLAIN_DETAILS_API = {
    404: N_("There is nothing at this path."),
    405: N_("This path does not take this method; the Allow header lists those it takes."),
}
"""What a page or the API says for an HTTP failure the framework raised with only its
status phrase."""
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
"""The methods a 405's ``Allow`` may name."""
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error as RFC 9457 problem details (docs/api.md lists the codes).",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem"},
        "title": {"type": "string", "description": "Short, in the request's language"},
        "status": {"type": "integer", "description": "The HTTP status"},
        "detail": {"type": "string", "description": "What went wrong and what to do"},
        "code": {"type": "string", "description": "Stable code to branch on"},
        "instance": {"type": "string", "description": "The path that was asked for"},
        "request_id": {"type": ["string", "null"], "description": "For support and logs"},
        "errors": {
            "type": "array",
            "description": "One entry per field that was refused",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
"""What every error of the API answers (``problem_response``)."""


def describe_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the API's errors as they are sent: a 422 and every other
    error status as ``application/problem+json`` (FastAPI describes only its own 422, as
    plain JSON of another shape)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in spec.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "The request is not valid", "content": problem}
            responses["default"] = {
                "description": "An error (401, 403, 404, 409, 429, …) as problem details",
                "content": problem,
            }
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec


def _page_error(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    from xingdong.web.templating import render

    page = render(request, "error.html", {"title": title, "detail": detail}, status_code=status)
    page.headers.update(headers or {})
    return page


def _sign_in_address(request: Request, exc: NotAuthenticated) -> str:
    """The sign-in page, which leads back to this page afterwards (with its query: a
    filtered list comes back filtered) and says the session expired only when one did."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # Quoted, so that the page's own "?" and "&" stay inside ``next``.
    address = "/login?next=" + quote(here, safe="/")
    if isinstance(exc, SessionExpired):
        address += "&expired=1"
    return address


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, XingdongError)
    locale = current_locale.get()
    title = translate(locale, exc.title)
    detail = translate(locale, exc.detail or exc.title, **exc.extra)
    if is_api(request):
        return problem_response(
            request,
            status=exc.status,
            code=exc.code,
            title=title,
            detail=detail,
            errors=[
                {
                    "field": f.field,
                    "code": f.code,
                    "message": translate(locale, f.message, **exc.extra),
                }
                for f in exc.fields
            ],
            extra=exc.extra,
        )
    if isinstance(exc, NotAuthenticated):
        return RedirectResponse(_sign_in_address(request, exc), status_code=303)
    return _page_error(request, exc.status, title, detail, _headers_said(exc.status, exc.extra))


def _location(error: Mapping[str, Any]) -> str:
    if error["type"] == "json_invalid":
        return "body"  # its location ends with the character position, not a field
    parts = [str(p) for p in error["loc"] if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    locale = current_locale.get()
    if not is_api(request) and any(e["loc"][:1] == ("path",) for e in exc.errors()):
        # A page's address with a malformed id (/tasks/abc) names no page: not found, as
        # a well-formed id of nothing is.
        title = translate(locale, N_("Not found"))
        return _page_error(request, 404, title, translate(locale, PLAIN_DETAILS_PAGE[404]))
    errors = [
        {"field": _location(e), "code": e["type"], "message": schema_message(e, locale)}
        for e in exc.errors()
    ]
    title = translate(locale, N_("Some fields are not valid"))
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    if is_api(request):
        return problem_response(
            request, status=422, code="validation_failed", title=title, detail=detail, errors=errors
        )
    return _page_error(request, 422, title, detail)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    locale = current_locale.get()
    if exc.status_code == 400:
        # Only the framework raises a bare 400 (our own errors are XingdongError): the
        # body could not even be decoded (JSON not in UTF-8, a broken multipart form).
        return _unreadable_body(request, locale)
    titles = {
        404: N_("Not found"),
        405: N_("Method not allowed"),
        413: N_("The request body is too large"),
    }
    # Named apart: the extractor does not see a message nested in another call's arguments.
    failed = N_("Request failed")
    title = translate(locale, titles.get(exc.status_code, failed))
    detail = translate(locale, str(exc.detail)) if exc.detail else title
    if exc.detail == HTTPStatus(exc.status_code).phrase:
        # The framework's own wording ("Method Not Allowed"): ours says what to do, and in
        # the request's language.
        plain = (PLAIN_DETAILS_API if is_api(request) else PLAIN_DETAILS_PAGE).get(exc.status_code)
        detail = title if plain is None else translate(locale, plain)
    if is_api(request):
        return problem_response(
            request,
            status=exc.status_code,
            code={404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
                exc.status_code, "http_error"
            ),
            title=title,
            detail=detail,
            headers=_headers_of(request, exc),
        )
    return _page_error(request, exc.status_code, title, detail, _headers_of(request, exc))


def _unreadable_body(request: Request, locale: str) -> Response:
    """A JSON body that is not text in UTF-8 is refused as JSON that does not parse is
    (JSON is UTF-8 by RFC 8259); a form that cannot be read says so, in the request's
    language either way."""
    invalid = translate(locale, N_("Some fields are not valid"))
    unread = translate(locale, N_("The form could not be read. Go back to it and send it again."))
    if not is_api(request):
        return _page_error(request, 400, invalid, unread)
    if request.headers.get("content-type", "").startswith("application/json"):
        message = schema_message({"type": "json_invalid"}, locale)
        return problem_response(
            request,
            status=422,
            code="validation_failed",
            title=invalid,
            detail=f"body: {message}",
            errors=[{"field": "body", "code": "json_invalid", "message": message}],
        )
    title = translate(locale, N_("The request body could not be read"))
    return problem_response(request, status=400, code="body_unreadable", title=title, detail=unread)


def _headers_of(request: Request, exc: StarletteHTTPException) -> dict[str, str]:
    """The exception's headers; for a 405, an ``Allow`` (RFC 9110 requires it) naming
    every method the path takes. (The router names only those of the first route it
    found for the path, and a path often has a route per method.)"""
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Asked of the routing table as the router asks it, one method at a time (routes
        # included from routers are not plain routes with their methods in view).
        routes = request.app.router.routes
        methods = [
            method
            for method in HTTP_METHODS
            if any(
                route.matches({**request.scope, "method": method})[0] is Match.FULL
                for route in routes
            )
        ]
        if methods:
            headers["Allow"] = ", ".join(methods)
    return headers


async def handle_unexpected_error(request: Request, _exc: Exception) -> Response:
    log.exception("unhandled_error", path=request.url.path)
    locale = current_locale.get()
    title = translate(locale, N_("Something went wrong on our side"))
    detail = translate(locale, N_("The error has been logged. Please try again later."))
    if is_api(request):
        return problem_response(
            request, status=500, code="internal_error", title=title, detail=detail
        )
    return _page_error(request, 500, title, detail)


async def handle_refused_data(request: Request, exc: Exception) -> Response:
    """Data the driver or the database refused. Text with a NUL character, which
    PostgreSQL cannot store, is the request's fault (a search box, a form or a JSON
    string can carry one, and it is refused as text or, inside JSON, as an untranslatable
    character): 422. So is a number past what a column holds. Anything else is ours."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if "NUL" in str(original) or isinstance(original, psycopg.errors.UntranslatableCharacter):
        detail = N_("The text sent contains a NUL character, which cannot be stored.")
        return await handle_domain_error(request, ValidationFailed(detail=detail))
    if isinstance(original, psycopg.errors.NumericValueOutOfRange):
        detail = N_("A number sent is too large to be stored.")
        return await handle_domain_error(request, ValidationFailed(detail=detail))
    return await handle_unexpected_error(request, exc)


async def handle_lost_database(request: Request, exc: Exception) -> Response:
    """The database cannot be reached (down, restarting, pool exhausted): 503, so clients
    and payment providers retry, instead of a 500 that says our code is wrong."""
    if isinstance(exc, DBAPIError) and not (
        exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError)
    ):
        return await handle_unexpected_error(request, exc)
    log.warning("database_unavailable", path=request.url.path, error=str(exc)[:200])
    response = await handle_domain_error(
        request, DatabaseUnavailable(detail=N_("Please try again in a few seconds."))
    )
    response.headers["Retry-After"] = "5"
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, handle_unexpected_error)
    for lost in (psycopg.OperationalError, PoolTimeout, DBAPIError):
        app.add_exception_handler(lost, handle_lost_database)
    for refused in (psycopg.DataError, DataError):
        app.add_exception_handler(refused, handle_refused_data)
    app.add_exception_handler(XingdongError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
