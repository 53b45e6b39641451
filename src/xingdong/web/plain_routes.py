"""Routes served by Starlette directly, without FastAPI's per-request machinery.

Only for hot endpoints where FastAPI's dependency resolution, validation and response
models are most of the cost of a request and buy nothing: the payment provider's notices
(a raw body in, fixed text out) and the personal feed (one query in, cached bytes out; its
FastAPI route stays in ``work.api`` to describe it in the OpenAPI document). They are
added to the app ahead of the FastAPI routers; errors still go through the app's handlers
(problem+json), as for any other route.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from xingdong.dispatch.route import feed_api
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


def _get_only(route: Route) -> Route:
    # Starlette answers HEAD for every GET route; FastAPI's GET routes answer it with 405,
    # and the route this one stands in for is one of them.
    route.methods = {"GET"}
    return route


NOTICE_PATH = "/api/v1/payments/{provider}/notify"
FEED_PATH = "/api/v1/tasks"


def direct_routes(routes: list[BaseRoute]) -> list[Route]:
    """The routes the app dispatches ahead of FastAPI's layers (see ``XingdongApp``): the
    payment provider's notices and the personal feed."""
    return [r for r in routes if isinstance(r, Route) and r.path in (NOTICE_PATH, FEED_PATH)]


def plain_routes() -> list[BaseRoute]:
    return [
        _get_only(Route(FEED_PATH, feed_api, methods=["GET"], include_in_schema=False)),
        Route(
            NOTICE_PATH,
            payment_notice,
            methods=["POST"],
            include_in_schema=False,
        ),
    ]
