"""Request plumbing shortcuts keep the answers they replaced."""

from __future__ import annotations

import pytest
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from xingdong.web.middleware import (
    CSRF_COOKIE,
    LANG_COOKIE,
    BodySizeLimit,
    set_cookie_header,
)


@pytest.mark.parametrize("secure", [True, False])
def test_cached_cookie_headers_match_starlettes(secure: bool) -> None:
    made = Response()
    made.set_cookie(CSRF_COOKIE, "tok-EN_123", httponly=True, samesite="lax", secure=secure)
    made.set_cookie(LANG_COOKIE, "zh-CN", max_age=365 * 86400, samesite="lax", secure=secure)
    expected = [v.decode("latin-1") for k, v in made.raw_headers if k == b"set-cookie"]
    assert [
        set_cookie_header(CSRF_COOKIE, "tok-EN_123", secure=secure),
        set_cookie_header(LANG_COOKIE, "zh-CN", secure=secure),
    ] == expected


async def _post(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """Status answered and body bytes the app read, through a 10-byte limit."""
    read = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal read
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/x",
        "headers": headers,
        "query_string": b"",
    }
    await BodySizeLimit(app, max_bytes=10)(scope, receive, send)
    return sent[0]["status"], read


async def test_a_declared_length_within_the_limit_passes() -> None:
    assert await _post([(b"content-length", b"8")], [b"12345678"]) == (200, 8)


async def test_a_declared_length_over_the_limit_is_refused_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused: list[int] = []

    async def refuse(self: BodySizeLimit, scope: Scope, r: Receive, send: Send, limit: int) -> None:
        refused.append(limit)
        await send({"type": "http.response.start", "status": 413, "headers": []})

    monkeypatch.setattr(BodySizeLimit, "_refuse", refuse)
    assert await _post([(b"content-length", b"11")], [b"12345678901"]) == (413, 0)
    assert refused == [10]


async def test_a_streamed_body_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(self: BodySizeLimit, scope: Scope, r: Receive, send: Send, limit: int) -> None:
        await send({"type": "http.response.start", "status": 413, "headers": []})

    monkeypatch.setattr(BodySizeLimit, "_refuse", refuse)
    chunked = [(b"transfer-encoding", b"chunked")]
    assert await _post(chunked, [b"123456", b"789"]) == (200, 9)
    status, _ = await _post(chunked, [b"123456", b"789012"])
    assert status == 413
    # A length beside a transfer encoding is not trusted either.
    status, _ = await _post([(b"content-length", b"5"), *chunked], [b"123456", b"789012"])
    assert status == 413
