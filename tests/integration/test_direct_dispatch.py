"""The payment provider's notices and the task feed skip FastAPI's outer layers
(``XingdongApp``) and answer exactly what the full stack answers."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from xingdong.app import XingdongApp
from xingdong.ledger.payments import SandboxPaymentProvider

NOTIFY = "/api/v1/payments/sandbox/notify"


def _app(client: httpx.AsyncClient) -> XingdongApp:
    app = client.app  # type: ignore[attr-defined]
    assert isinstance(app, XingdongApp)
    return app


def _requests(sandbox: SandboxPaymentProvider) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """Each way a request to the notice path can go: unknown deposit, forged, unreadable,
    another provider, a wrong method, too large, and the language of the error."""
    body = sandbox.notice_body(order_id=str(uuid.UUID(int=7)), amount=100)
    return [
        ("POST", NOTIFY, body, {"X-Signature": sandbox.sign(body)}),
        ("POST", NOTIFY, body, {"X-Signature": "forged"}),
        ("POST", NOTIFY, b"not json", {"X-Signature": sandbox.sign(b"not json")}),
        ("POST", NOTIFY, body, {"X-Signature": sandbox.sign(body), "Accept-Language": "en"}),
        ("POST", "/api/v1/payments/other/notify", body, {"X-Signature": sandbox.sign(body)}),
        ("GET", NOTIFY, b"", {}),
        ("POST", NOTIFY, b"x" * 3_000_000, {"X-Signature": "x"}),
    ]


async def test_a_notice_answers_as_through_the_full_stack(client: httpx.AsyncClient) -> None:
    app = _app(client)
    sandbox = client.app.state.runtime.payments  # type: ignore[attr-defined]
    assert isinstance(sandbox, SandboxPaymentProvider)
    assert [route.path for route, _ in app.direct] == [
        "/api/v1/tasks",
        "/api/v1/payments/{provider}/notify",
    ]
    answers = []
    for direct in (app.direct, ()):
        app.direct = direct
        answered = []
        for method, path, body, headers in _requests(sandbox):
            response = await client.request(
                method, path, content=body, headers={**headers, "X-Request-ID": "fixed"}
            )
            # The body-limit refusal makes up its own request id (as it always has).
            content = re.sub(rb'"request_id":"[0-9a-f]{16}"', b'"request_id":"-"', response.content)
            answered.append((response.status_code, dict(response.headers), content))
        answers.append(answered)
    assert answers[0] == answers[1]
    assert [status for status, _, _ in answers[0]] == [404, 400, 400, 404, 404, 405, 413]


async def test_a_paid_notice_is_counted_under_its_route(client: httpx.AsyncClient) -> None:
    from tests.integration.test_deposits import _payment_world

    url = client.app.state.runtime.db.url  # type: ignore[attr-defined]
    world = _payment_world(url)
    deposit = str(world["ids"]["A"])  # type: ignore[index]
    sandbox = client.app.state.runtime.payments  # type: ignore[attr-defined]
    body = sandbox.notice_body(order_id=deposit, amount=world["amounts"]["A"])  # type: ignore[index]
    response = await client.post(
        NOTIFY, content=body, headers={"X-Signature": sandbox.sign(body), "X-Request-ID": "r1"}
    )
    assert (response.status_code, response.text) == (200, "success")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-request-id"] == "r1"
    metrics = (await client.get("/metrics")).text
    assert (
        'xingdong_http_requests_total{method="POST",'
        'route="/api/v1/payments/{provider}/notify",status="200"}'
    ) in metrics


async def test_an_unexpected_error_is_a_problem_500(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answered by the app's handler, then raised on to the server to log."""
    from xingdong.ledger import deposits

    async def broken(*_: object, **__: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(deposits, "record_payment_notice_alone", broken)
    sandbox = client.app.state.runtime.payments  # type: ignore[attr-defined]
    body = sandbox.notice_body(order_id=str(uuid.UUID(int=7)), amount=100)
    transport = httpx.ASGITransport(app=_app(client), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            NOTIFY, content=body, headers={"X-Signature": sandbox.sign(body)}
        )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
