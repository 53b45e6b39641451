"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from xingdong.core import collector
from xingdong.core.logging import configure_logging, get_logger
from xingdong.core.runtime import Runtime, build_runtime, resolve_database_url
from xingdong.core.settings import Settings, get_settings
from xingdong.web.middleware import BodySizeLimit, RequestContext
from xingdong.web.problems import install_error_handlers
from xingdong.web.templating import PACKAGE_DIR

log = get_logger(__name__)


@contextlib.asynccontextmanager
async def _in_process_worker(runtime: Runtime) -> AsyncIterator[None]:
    """Run a job worker inside the server process (``serve``/``demo``)."""
    from xingdong.core.jobs import build_job_app, keep_running

    job_app = build_job_app(runtime.db.url)
    async with job_app.open_async():
        worker = asyncio.create_task(
            keep_running(
                lambda: job_app.run_worker_async(
                    concurrency=runtime.settings.worker_concurrency,
                    install_signal_handlers=False,
                    name="in-process",
                ),
                name="in-process",
            )
        )
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker


@contextlib.asynccontextmanager
async def _simulated_crowd(runtime: Runtime) -> AsyncIterator[None]:
    """The demo's crowd acting beside the app (``xingdong demo``)."""
    from xingdong.demo.crowd import run_crowd

    crowd = asyncio.create_task(run_crowd(runtime))
    try:
        yield
    finally:
        crowd.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await crowd


class XingdongApp(FastAPI):
    """FastAPI, with the payment provider's notices and the task feed dispatched ahead of
    its own layers.

    These are the hottest requests there are and need only what the app's middleware does
    (request id, locale, log line, metrics, body limit) and its error handlers. FastAPI's
    outer layers (its telemetry hooks, its own body limit, which this app leaves unset,
    the exit stack for uploaded files) and the walk through the routing table cost them
    a good share of their CPU in the process and do nothing for them, so a matching request
    goes straight to a stack of the same middleware and error handlers around its route.
    Anything else, including a wrong method on the same path, takes the usual way."""

    direct: tuple[tuple[Route, ASGIApp], ...] = ()

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            from xingdong.web.problems import describe_problems

            self.openapi_schema = describe_problems(super().openapi())
        return self.openapi_schema

    def dispatch_directly(self, routes: list[Route]) -> None:
        """Serve ``routes`` (already in the routing table) through their own stack; call
        after the middleware and the error handlers are installed."""
        error_handler = None
        handlers = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                handlers[key] = value
        stacks = []
        for route in routes:
            app: ASGIApp = ExceptionMiddleware(route.handle, handlers=handlers, debug=self.debug)
            for middleware in reversed(self.user_middleware):
                app = middleware.cls(app, *middleware.args, **middleware.kwargs)
            stacks.append(
                (route, ServerErrorMiddleware(app, handler=error_handler, debug=self.debug))
            )
        self.direct = tuple(stacks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route, stack in self.direct:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    # What Starlette and its router would have put in the scope.
                    scope["app"] = self
                    scope["router"] = self.router
                    scope["route"] = route
                    scope.update(child_scope)
                    await stack(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def create_served_app() -> FastAPI:
    """The app of a ``serve`` process (uvicorn's factory for several workers)."""
    return create_app(served=True)


def create_app(
    settings: Settings | None = None, *, database_url: str | None = None, served: bool = False
) -> FastAPI:
    """The application; ``served``: it runs in a server process of its own (``serve``),
    not inside tests or tools, and may tune the process for serving."""
    settings = settings or get_settings()
    configure_logging(
        level=settings.log_level, as_json=settings.log_json, loggers=settings.log_levels
    )
    runtime = build_runtime(settings, database_url or resolve_database_url(settings))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from xingdong.dispatch import kernels

        # The feed's compiled loops load before the first request rather than in it.
        kernels.warm_up()
        async with contextlib.AsyncExitStack() as stack:
            if settings.run_worker_in_process:
                await stack.enter_async_context(_in_process_worker(runtime))
            if settings.demo_crowd:
                await stack.enter_async_context(_simulated_crowd(runtime))
            if served:
                from xingdong.dispatch.live import prepare_live_dispatch

                await prepare_live_dispatch(runtime.db, settings)
                collector.settle()
            log.info("app_started", worker_in_process=settings.run_worker_in_process)
            yield
        from xingdong.dispatch.live import drain_exposures

        await drain_exposures(runtime.db)
        await runtime.limits.aclose()
        await runtime.db.dispose()

    app = XingdongApp(
        title="Xingdong (星动)",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(RequestContext)
    from xingdong.work.api import SUBMISSION_PATHS, upload_limit

    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger=[(SUBMISSION_PATHS, upload_limit(settings.evidence_max_video_bytes))],
    )
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "web" / "static"), name="static")

    _add_routes(app)
    from xingdong.web.plain_routes import direct_routes

    app.dispatch_directly(direct_routes(app.router.routes))
    return app


def _add_routes(app: FastAPI) -> None:
    from xingdong.campaigns import api as campaigns_api
    from xingdong.campaigns import pages as campaigns_pages
    from xingdong.creators import api as creators_api
    from xingdong.creators import pages as creators_pages
    from xingdong.dispatch import api as dispatch_api
    from xingdong.dispatch import pages as dispatch_pages
    from xingdong.evidence import api as evidence_api
    from xingdong.evidence import pages as evidence_pages
    from xingdong.identity import api as identity_api
    from xingdong.identity import pages as identity_pages
    from xingdong.insights import api as insights_api
    from xingdong.insights import pages as insights_pages
    from xingdong.ledger import api as ledger_api
    from xingdong.ledger import pages as ledger_pages
    from xingdong.platforms.sandbox import inbox as sandbox_inbox
    from xingdong.platforms.sandbox import pages as sandbox_pages
    from xingdong.risk import api as risk_api
    from xingdong.risk import pages as risk_pages
    from xingdong.web import jobs_api, ops, pages
    from xingdong.web.plain_routes import plain_routes
    from xingdong.work import api as work_api
    from xingdong.work import pages as work_pages

    # First in the routing table: the router tries routes in order, and these are the
    # hottest paths (the payment provider's notifications).
    app.router.routes[0:0] = plain_routes()
    for router in (
        ops.router, identity_api.router, ledger_api.router, campaigns_api.router,
        work_api.router, dispatch_api.router, pages.router, identity_pages.router,
        ledger_pages.router, sandbox_pages.router, evidence_pages.router,
        campaigns_pages.router, work_pages.router, dispatch_pages.router, risk_api.router,
        risk_pages.router, creators_api.router, creators_pages.router, insights_api.router,
        insights_pages.router, sandbox_inbox.router, evidence_api.router, jobs_api.router,
    ):  # fmt: skip
        app.include_router(router)
