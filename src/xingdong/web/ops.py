"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """The process can serve: its database answers and is migrated.

    One statement on the statement connection, one round trip, as the hot API routes read
    (``bench feed`` measures the feed against this route as the cost of a single-row
    SELECT on this stack; through the engine it also took a ping, BEGIN and ROLLBACK)."""
    runtime = request.app.state.runtime
    try:
        async with runtime.db.statement_connection() as conn:
            cursor = await conn.execute("SELECT version_num FROM alembic_version")
            row = await cursor.fetchone()
        version = None if row is None else row[0]
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
        return JSONResponse(
            {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ready", "schema": version})


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
