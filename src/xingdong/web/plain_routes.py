"""Routes served by Starlette directly, without FastAPI's per-request machinery.

Only for hot endpoints whose input is a raw body and whose answer is fixed text: here
FastAPI's dependency resolution and validation layers are most of the cost of a request
and buy nothing. They are added to the app ahead of the FastAPI routers; errors still go
through the app's handlers (problem+json), as for any other route.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from xingdong.ledger import deposits
from xingdong.web.deps import runtime_of


async def payment_notice(request: Request) -> Response:
    """Where the payment provider reports payments (signed). One database call, in a
    transaction of its own: nothing else is written with it."""
    runtime = runtime_of(request)
    if request.path_params["provider"] != runtime.payments.name:
        return Response(status_code=404)
    body = await request.body()
    notice = runtime.payments.parse_notice(body=body, signature=request.headers.get("x-signature"))
    await deposits.record_payment_notice_alone(runtime.db, notice=notice)
    return PlainTextResponse("success")


def plain_routes() -> list[BaseRoute]:
    return [
        Route(
            "/api/v1/payments/{provider}/notify",
            payment_notice,
            methods=["POST"],
            include_in_schema=False,
        ),
    ]
