"""One attempt at a webhook delivery, in three steps: take it (a short lease, in its own
transaction), send it (holding no database connection while the receiver thinks), and
record how it went, queueing the next attempt if there is one.

Delivery is at least once: a receiver may see an event twice and should ignore an
``Xingdong-Event-Id`` it has handled.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import httpcore
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.logging import get_logger
from xingdong.core.settings import Settings
from xingdong.insights import signing, targets
from xingdong.insights.models import Event, WebhookDelivery, WebhookEndpoint
from xingdong.insights.service import PING, body_of, queue_delivery

log = get_logger(__name__)

RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
"""The wait after each failed attempt: seven attempts over about a day, then ``failed``."""
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
LEASE_MARGIN = timedelta(seconds=30)
CLOCK_SLACK = timedelta(seconds=5)
"""The job runs when the database's clock says; this host's may be a little behind."""
USER_AGENT = "Xingdong-Webhooks/1"


@dataclass(frozen=True)
class _Taken:
    url: str
    secret: str
    body: bytes
    event_id: UUID
    event_type: str
    attempt: int


@dataclass(frozen=True)
class _Sent:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def encode(event: Event) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(body_of(event), ensure_ascii=False, separators=(",", ":")).encode()


async def _take(
    session: AsyncSession, delivery_id: UUID, *, now: datetime, settings: Settings
) -> _Taken | str:
    delivery = await session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .with_for_update(skip_locked=True)
    )
    if delivery is None:
        return "busy_or_gone"
    if delivery.status != "pending" or (
        delivery.next_attempt_at is not None and delivery.next_attempt_at > now + CLOCK_SLACK
    ):
        return "not_due"
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
    event = await session.get(Event, delivery.event_id)
    if endpoint is None or event is None:
        return "busy_or_gone"
    if not endpoint.enabled and event.type != PING:
        delivery.status = "failed"
        delivery.next_attempt_at = None
        delivery.last_error = "endpoint disabled"
        return "failed"
    delivery.attempts += 1
    delivery.next_attempt_at = (
        now + timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN
    )
    return _Taken(
        url=endpoint.url,
        secret=endpoint.secret,
        body=encode(event),
        event_id=event.id,
        event_type=event.type,
        attempt=delivery.attempts,
    )


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the address that was checked, whatever the URL's host name resolves to
    by then; TLS (its server name and certificate) and the Host header keep the name."""

    def __init__(self, address: str | None) -> None:
        self._address = address
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._network.connect_tcp(
            self._address or host,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,  # noqa: ARG002 - httpcore's signature
        timeout: float | None = None,  # noqa: ARG002, ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,  # noqa: ARG002
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("a webhook goes over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


async def _post(taken: _Taken, headers: dict[str, str], *, settings: Settings) -> _Sent:
    target = await targets.checked_target(
        taken.url, private_allowed=settings.webhook_private_targets
    )
    if target.problem is not None:
        return _Sent(None, "address not allowed")
    seconds = settings.webhook_timeout_seconds
    async with (
        httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            network_backend=_PinnedBackend(target.address),
            max_connections=1,
        ) as pool,
        pool.stream(
            "POST",
            taken.url,
            headers=list(headers.items()),
            content=taken.body,
            extensions={
                "timeout": {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
            },
        ) as response,
    ):
        code = response.status
    return _Sent(code, None if 200 <= code < 300 else f"HTTP {code}")


async def _send(taken: _Taken, delivery_id: UUID, *, settings: Settings) -> _Sent:
    timestamp = int(utcnow().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Xingdong-Event-Id": str(taken.event_id),
        "Xingdong-Event-Type": taken.event_type,
        "Xingdong-Delivery-Id": str(delivery_id),
        "Xingdong-Delivery-Attempt": str(taken.attempt),
        signing.SIGNATURE_HEADER: signing.signature(taken.secret, taken.body, timestamp),
    }
    try:
        # One bound on the whole attempt: the lookup, connecting, sending and the answer.
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            return await _post(taken, headers, settings=settings)
    except (httpcore.TimeoutException, TimeoutError):
        return _Sent(None, "timed out")
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        return _Sent(None, _failure(exc, delivery_id))
    except (ssl.SSLError, OSError) as exc:
        return _Sent(None, _failure(exc, delivery_id))


FAILURES = ("tls failed", "name not resolved", "connection failed", "connection broken")
"""How an attempt that got no answer failed, as the deliveries page says it (in words, in
the reader's language); the exception itself goes to the log."""


def _failure(exc: BaseException, delivery_id: UUID) -> str:
    said = f"{type(exc).__name__}: {exc}"
    log.info("webhook_attempt_failed", delivery=str(delivery_id), error=said[:500])
    if isinstance(exc, ssl.SSLError) or "SSL" in said or "CERTIFICATE" in said:
        return "tls failed"
    if isinstance(exc, socket.gaierror) or any(
        sign in said
        for sign in ("Name or service not known", "name resolution", "nodename nor servname")
    ):
        return "name not resolved"
    if isinstance(exc, (httpcore.ReadError, httpcore.WriteError, httpcore.ProtocolError)):
        return "connection broken"
    return "connection failed"


async def _record(session: AsyncSession, delivery_id: UUID, sent: _Sent, *, now: datetime) -> str:
    delivery = await session.get(
        WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True
    )
    if delivery is None:
        return "busy_or_gone"
    delivery.last_attempt_at = now
    delivery.last_status_code = sent.status_code
    delivery.last_error = sent.error
    if sent.ok:
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "failed"
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + RETRY_AFTER[delivery.attempts - 1]
        await queue_delivery(session, delivery.id, at=delivery.next_attempt_at)
    return delivery.status


async def attempt(
    db: Database,
    delivery_id: UUID,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> str:
    """Try a delivery once if it is due: ``delivered``, ``pending`` (a retry is queued),
    ``failed``, or why nothing was sent (``not_due``, ``busy_or_gone``)."""
    async with db.session_scope() as session:
        taken = await _take(session, delivery_id, now=now or utcnow(), settings=settings)
    if isinstance(taken, str):
        return taken
    sent = await _send(taken, delivery_id, settings=settings)
    async with db.session_scope() as session:
        return await _record(session, delivery_id, sent, now=now or utcnow())


async def overdue(session: AsyncSession, *, now: datetime) -> list[UUID]:
    """Pending deliveries whose attempt should have happened well before now: a job lost
    with a crashed worker, or a lease that ran out."""
    cutoff = now - timedelta(minutes=15)
    rows = await session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at < cutoff)
        .limit(500)
    )
    return list(rows)
