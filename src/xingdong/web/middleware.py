"""Request plumbing: body size limit, request id, locale, CSRF cookie, logs and metrics."""

from __future__ import annotations

import functools
import logging
import re
import secrets
import time
from collections.abc import Sequence

import structlog
from fastapi import Request, Response
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xingdong.core import security
from xingdong.core.context import current_api_key, current_locale
from xingdong.core.errors import PayloadTooLarge
from xingdong.core.i18n import N_, from_accept_language, normalise_locale
from xingdong.core.logging import get_logger

log = get_logger("xingdong.http")

REQUESTS = Counter(
    "xingdong_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
LATENCY = Histogram("xingdong_http_request_seconds", "Time to serve a request", ["route"])

LANG_COOKIE = "xd_lang"
CSRF_COOKIE = "xd_csrf"


class BodySizeLimit:
    """Refuse bodies over ``max_bytes``: at once when Content-Length says so, otherwise as
    soon as the streamed body passes the limit. ``larger`` lets some paths (uploads) have
    a larger limit: ``(pattern, bytes)`` pairs, the first pattern matching the path wins."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = tuple(larger)

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.match(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        declared: bytes | None = None
        streamed = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                streamed = True
        if declared is not None and declared.isdigit():
            if int(declared) > max_bytes:
                await self._refuse(scope, receive, send, max_bytes)
                return
            if not streamed:
                # The server reads exactly Content-Length bytes of body, never more, so a
                # length within the limit needs no counting.
                await self.app(scope, receive, send)
                return
        seen = 0
        refused = False

        async def limited_receive() -> Message:
            # Past the limit, answer 413 ourselves and tell the app the client has gone,
            # so whatever it answers after that is dropped.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    refused = True
                    await self._refuse(scope, receive, send, max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        # Answer through the normal error handler so the refusal is problem+json too.
        from xingdong.web.problems import handle_domain_error

        request = Request(scope, receive)
        request.state.request_id = secrets.token_hex(8)
        response = await handle_domain_error(
            request,
            PayloadTooLarge(detail=N_("The limit is {limit} bytes."), extra={"limit": max_bytes}),
        )
        await response(scope, receive, send)


def negotiate_locale(request: Request, default: str) -> str:
    return (
        normalise_locale(request.query_params.get("lang"))
        or normalise_locale(request.cookies.get(LANG_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or default
    )


@functools.cache
def _cookie_attributes(name: str, secure: bool) -> str:
    """What follows the value in our Set-Cookie header for ``name``: the same on every
    request, so built once (through Starlette, which knows the syntax) and reused."""
    cookies = Response()
    if name == CSRF_COOKIE:
        cookies.set_cookie(name, "v", httponly=True, samesite="lax", secure=secure)
    else:
        cookies.set_cookie(name, "v", max_age=365 * 86400, samesite="lax", secure=secure)
    header = next(value for key, value in cookies.raw_headers if key == b"set-cookie")
    return header.decode("latin-1").removeprefix(f"{name}=v")


def set_cookie_header(name: str, value: str, *, secure: bool) -> str:
    """A Set-Cookie header for the CSRF or language cookie; ``value`` is a token or a
    locale code, characters that need no quoting."""
    return f"{name}={value}{_cookie_attributes(name, secure)}"


@functools.cache
def _request_counter(method: str, route: str, status: int) -> Counter:
    # ``labels()`` looks the child up under a lock on every call; the set of label values
    # is small (routes, not paths), so each child is looked up once.
    child: Counter = REQUESTS.labels(method, route, str(status))
    return child


@functools.cache
def _latency_histogram(route: str) -> Histogram:
    child: Histogram = LATENCY.labels(route)
    return child


_http_logger = logging.getLogger("xingdong.http")


def cookie_is_secure(request: Request, setting: str) -> bool:
    if setting == "always":
        return True
    if setting == "never":
        return False
    return request.url.scheme == "https"


class RequestContext:
    """Per request: an id (kept from ``X-Request-ID`` or made), the locale, the CSRF cookie
    and token, a log line, metrics. A plain ASGI middleware: Starlette's
    ``BaseHTTPMiddleware`` runs the app in a task of its own and costs more per request
    than a simple endpoint does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings = request.app.state.runtime.settings
        request_id = request.headers.get("x-request-id", "")[:64] or secrets.token_hex(8)
        state = request.state
        state.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        chosen = normalise_locale(request.query_params.get("lang"))
        current_locale.set(negotiate_locale(request, settings.default_locale))
        current_api_key.set(None)
        state.locale_explicit = bool(chosen or request.cookies.get(LANG_COOKIE))
        new_csrf_cookie = None
        # The API renders no forms (its callers authenticate with a token), so it neither
        # needs the form token nor hands out the cookie behind it.
        if not scope["path"].startswith("/api/"):
            csrf_cookie = request.cookies.get(CSRF_COOKIE)
            if not csrf_cookie:
                csrf_cookie = new_csrf_cookie = secrets.token_urlsafe(24)
            state.csrf_cookie = csrf_cookie
            state.csrf_token = security.csrf_token_for(
                settings.secret_key.get_secret_value(), csrf_cookie
            )
        status_code = 500

        async def send_with_context(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                if new_csrf_cookie or chosen:
                    secure = cookie_is_secure(request, settings.cookie_secure)
                    if new_csrf_cookie:
                        headers.append(
                            "set-cookie",
                            set_cookie_header(CSRF_COOKIE, new_csrf_cookie, secure=secure),
                        )
                    if chosen:
                        headers.append(
                            "set-cookie", set_cookie_header(LANG_COOKIE, chosen, secure=secure)
                        )
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_context)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            _request_counter(method, route, status_code).inc()
            _latency_histogram(route).observe(elapsed)
            # The line is only built when it will be written.
            if route not in ("/metrics", "/healthz", "/readyz") and _http_logger.isEnabledFor(
                logging.INFO
            ):
                log.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    status=status_code,
                    ms=round(elapsed * 1000, 1),
                )
