"""Events and webhooks: what happened to an organisation's campaigns and completions, kept
as events its systems can list, and sent, signed, to the endpoints it registered.

Other domains call :func:`emit` in the transaction of the change itself, so an event is
recorded (and its deliveries queued) exactly when the change commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.clock import utc_text, utcnow
from xingdong.core.db import DELETE_BATCH, Database, delete_in_batches
from xingdong.core.errors import FieldError, NotFound, RateLimited, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.jobs import defer_in_transaction
from xingdong.core.pagination import CursorPage, clamp_limit, in_pages, next_cursor
from xingdong.core.policy import Action, Actor, require
from xingdong.core.ratelimit import RateLimits
from xingdong.core.settings import Settings
from xingdong.core.text import refuse_control_characters
from xingdong.identity import repository as identity_repo
from xingdong.insights import signing, targets
from xingdong.insights.errors import (
    EndpointDisabled,
    TooManyEndpoints,
    UnknownEventType,
    WebhookUrlNotAllowed,
)
from xingdong.insights.models import Event, WebhookDelivery, WebhookEndpoint

EVENT_TYPES = (
    "campaign.approved",
    "campaign.rejected",
    "campaign.paused",
    "campaign.resumed",
    "campaign.closed",
    "completion.approved",
    "completion.rejected",
    "completion.released",
    "completion.clawed_back",
    "contract.offered",
    "contract.accepted",
    "contract.declined",
    "contract.withdrawn",
    "contract.ended",
    "balance.topped_up",
    "balance.refunded",
    "balance.refund_failed",
    "balance.paid_out",
    "balance.payout_failed",
)
"""What an endpoint can subscribe to; ``ping`` goes only to the endpoint that asked."""
AGENCY_ONLY_EVENTS = frozenset(
    {t for t in EVENT_TYPES if t.startswith("contract.")}
    | {"balance.paid_out", "balance.payout_failed"}
)
"""Contracts with creators and payouts of the balance happen to agencies only."""


def event_types_for(kind: str) -> tuple[str, ...]:
    """The events an organisation of this kind can receive (what its page offers)."""
    return tuple(t for t in EVENT_TYPES if kind == "agency" or t not in AGENCY_ONLY_EVENTS)


PING = "ping"
MAX_ENDPOINTS = 10
DELIVERY_STATUSES = ("pending", "delivered", "failed")
DELIVER_TASK = "insights:deliver_webhook"
DELIVERY_PRIORITY = -1
"""procrastinate takes higher numbers first; every other job has 0."""


@dataclass(frozen=True)
class EndpointChanges:
    url: str | None = None
    description: str | None = None
    event_types: Sequence[str] | None = None
    enabled: bool | None = None


def body_of(event: Event) -> dict[str, Any]:
    """What every delivery of ``event`` sends, and what the events list shows."""
    return {
        "id": str(event.id),
        "type": event.type,
        "created_at": utc_text(event.created_at),
        "org_id": str(event.org_id),
        "data": event.data,
    }


# --- emitting ------------------------------------------------------------------------


async def queue_delivery(
    session: AsyncSession, delivery_id: UUID, *, at: datetime | None = None
) -> None:
    """Queue a job for a delivery's next attempt (at ``at``, or now), in the session's
    transaction. Below every other job in priority: receivers that answer slowly (or an
    organisation that makes many events) hold a worker for at most the webhook timeout
    each, and hold releases, expiries and payouts waiting at that moment go first."""
    await defer_in_transaction(
        session,
        DELIVER_TASK,
        args={"delivery_id": str(delivery_id)},
        queue="webhooks",
        scheduled_at=at,
        priority=DELIVERY_PRIORITY,
    )


async def _deliver(
    session: AsyncSession, event: Event, endpoints: Sequence[WebhookEndpoint], now: datetime
) -> list[WebhookDelivery]:
    deliveries = [
        WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id, next_attempt_at=now)
        for endpoint in endpoints
    ]
    session.add_all(deliveries)
    await session.flush()
    for delivery in deliveries:
        await queue_delivery(session, delivery.id)
    return deliveries


async def emit(
    session: AsyncSession,
    *,
    org_id: UUID,
    type: str,  # noqa: A002 - the event's own word for it
    data: dict[str, Any],
    now: datetime | None = None,
    source: str | None = None,
) -> Event:
    """Record that ``type`` happened to the organisation, and queue its deliveries to the
    enabled endpoints that listen for it. ``source`` names what is reported, for events
    told once each (a second event with it cannot be stored)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    moment = now or utcnow()
    event = Event(org_id=org_id, type=type, data=data, created_at=moment, source=source)
    session.add(event)
    await session.flush()
    listening = await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.org_id == org_id,
            WebhookEndpoint.enabled.is_(True),
            (func.cardinality(WebhookEndpoint.event_types) == 0)
            | WebhookEndpoint.event_types.contains([type]),
        )
    )
    await _deliver(session, event, list(listening), moment)
    return event


# --- endpoints -----------------------------------------------------------------------


def _clean_types(event_types: Sequence[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise UnknownEventType(
            detail=N_("Unknown event type: {type}."),
            fields=[FieldError("event_types", N_("Unknown event type: {type}."))],
            extra={"type": unknown[0]},
        )
    return [t for t in EVENT_TYPES if t in set(event_types)]


def _clean_description(description: str) -> str:
    clean = " ".join(description.split())
    if len(clean) > 120:
        raise ValidationFailed(
            detail=N_("Use at most 120 characters."),
            fields=[FieldError("description", N_("Use at most 120 characters."))],
        )
    refuse_control_characters(clean, field="description")
    return clean


async def _checked_url(url: str, settings: Settings) -> str:
    clean = url.strip()
    problem = await targets.resolved_problem(
        clean, private_allowed=settings.webhook_private_targets
    )
    if problem is not None:
        raise WebhookUrlNotAllowed(detail=problem, fields=[FieldError("url", problem)])
    return clean


async def endpoint_of(
    session: AsyncSession, *, actor: Actor, org_id: UUID, endpoint_id: UUID, manage: bool = False
) -> WebhookEndpoint:
    require(actor, Action.ORG_MANAGE_INTEGRATIONS if manage else Action.ORG_READ, org_id=org_id)
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=manage)
    if endpoint is None or endpoint.org_id != org_id:
        raise NotFound(detail=N_("No such webhook endpoint."))
    return endpoint


async def create_endpoint(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    url: str,
    description: str = "",
    event_types: Sequence[str] = (),
    settings: Settings,
) -> WebhookEndpoint:
    """Register an endpoint (owners); its secret is in ``endpoint.secret``, to be shown
    once."""
    require(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id)
    await identity_repo.hold_open_organisation(session, org_id)
    types = _clean_types(event_types)
    clean_description = _clean_description(description)
    clean_url = await _checked_url(url, settings)
    # Counted under a lock of the organisation's own, so two requests cannot both take
    # the last place.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"webhook-endpoints:{org_id}")))
    )
    count = await session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id)
    )
    if (count or 0) >= MAX_ENDPOINTS:
        raise TooManyEndpoints(
            detail=N_("Delete an endpoint you no longer use first (at most {limit})."),
            extra={"limit": MAX_ENDPOINTS},
        )
    endpoint = WebhookEndpoint(
        org_id=org_id,
        url=clean_url,
        description=clean_description,
        event_types=types,
        secret=signing.new_secret(),
        created_by=actor.person_id,
    )
    session.add(endpoint)
    await session.flush()
    await _audit(session, actor, "insights.webhook_created", endpoint, {"url": clean_url})
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    endpoint_id: UUID,
    changes: EndpointChanges,
    settings: Settings,
) -> WebhookEndpoint:
    """Change an endpoint's URL, description, events or whether it is enabled (owners).
    Deliveries already queued to it go to its new URL."""
    require(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id)
    # Held as creating one holds it, and before the endpoint's row as closing takes them:
    # an endpoint switched back on while the organisation closes would outlive the
    # closing, which switches off only those on at the time.
    await identity_repo.hold_open_organisation(session, org_id)
    endpoint = await endpoint_of(
        session, actor=actor, org_id=org_id, endpoint_id=endpoint_id, manage=True
    )
    if changes.url is not None:
        endpoint.url = await _checked_url(changes.url, settings)
    if changes.description is not None:
        endpoint.description = _clean_description(changes.description)
    if changes.event_types is not None:
        endpoint.event_types = _clean_types(changes.event_types)
    if changes.enabled is not None:
        endpoint.enabled = changes.enabled
    await session.flush()
    await _audit(
        session,
        actor,
        "insights.webhook_changed",
        endpoint,
        {"url": endpoint.url, "enabled": endpoint.enabled, "events": endpoint.event_types},
    )
    return endpoint


async def roll_secret(
    session: AsyncSession, *, actor: Actor, org_id: UUID, endpoint_id: UUID
) -> WebhookEndpoint:
    """A new signing secret at once (owners): the old one signs nothing more."""
    endpoint = await endpoint_of(
        session, actor=actor, org_id=org_id, endpoint_id=endpoint_id, manage=True
    )
    endpoint.secret = signing.new_secret()
    endpoint.secret_rolled_at = utcnow()
    await session.flush()
    await _audit(session, actor, "insights.webhook_secret_rolled", endpoint, {})
    return endpoint


async def delete_endpoint(
    session: AsyncSession, *, actor: Actor, org_id: UUID, endpoint_id: UUID
) -> None:
    """Remove an endpoint and its delivery history (owners); its events stay listable."""
    endpoint = await endpoint_of(
        session, actor=actor, org_id=org_id, endpoint_id=endpoint_id, manage=True
    )
    await _audit(session, actor, "insights.webhook_deleted", endpoint, {"url": endpoint.url})
    await session.delete(endpoint)
    await session.flush()


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    endpoint: WebhookEndpoint,
    data: dict[str, Any],
) -> None:
    await record_audit(
        session,
        actor_id=actor.person_id,
        action=action,
        object_type="organisation",
        object_id=endpoint.org_id,
        data={"endpoint": str(endpoint.id), **data},
    )


@dataclass(frozen=True)
class EndpointSummary:
    endpoint: WebhookEndpoint
    counts: dict[str, int]
    """Deliveries by status."""
    last_delivery: WebhookDelivery | None


async def endpoints_of(
    session: AsyncSession, *, actor: Actor, org_id: UUID
) -> list[EndpointSummary]:
    """The organisation's endpoints, oldest first, with how their deliveries went
    (members and keys; never the secrets)."""
    require(actor, Action.ORG_READ, org_id=org_id)
    endpoints = list(
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == org_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )
    ids = [e.id for e in endpoints]
    counts: dict[UUID, dict[str, int]] = {i: dict.fromkeys(DELIVERY_STATUSES, 0) for i in ids}
    for endpoint_id, status, n in await session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.endpoint_id.in_(ids))
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)
    ):
        counts[endpoint_id][status] = int(n)
    latest = {
        d.endpoint_id: d
        for d in await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id.in_(ids))
            .ext(distinct_on(WebhookDelivery.endpoint_id))
            .order_by(
                WebhookDelivery.endpoint_id,
                WebhookDelivery.last_attempt_at.desc().nulls_last(),
            )
        )
    }
    return [EndpointSummary(e, counts[e.id], latest.get(e.id)) for e in endpoints]


# --- deliveries and events --------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    event: Event


async def deliveries_page(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    endpoint_id: UUID,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[DeliveryRow]:
    """An endpoint's deliveries, newest first (members and keys)."""
    await endpoint_of(session, actor=actor, org_id=org_id, endpoint_id=endpoint_id)
    size = clamp_limit(limit)
    query = (
        select(WebhookDelivery, Event)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
    )
    if status is not None:
        if status not in DELIVERY_STATUSES:
            raise ValidationFailed(detail=N_("Unknown status."))
        query = query.where(WebhookDelivery.status == status)
    query = in_pages(
        query, WebhookDelivery.created_at, WebhookDelivery.id, cursor, newest_first=True
    )
    rows = (await session.execute(query.limit(size + 1))).all()
    return CursorPage(
        items=[DeliveryRow(d, e) for d, e in rows[:size]],
        next_cursor=next_cursor([d for d, _ in rows], size),
    )


async def events_page(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    type: str | None = None,  # noqa: A002 - the filter's own word
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[Event]:
    """The organisation's events, newest first, for systems that would rather ask than be
    told, or that missed a delivery (members and keys)."""
    require(actor, Action.ORG_READ, org_id=org_id)
    size = clamp_limit(limit)
    query = select(Event).where(Event.org_id == org_id)
    if type is not None:
        if type not in (*EVENT_TYPES, PING):
            raise UnknownEventType(detail=N_("Unknown event type: {type}."), extra={"type": type})
        query = query.where(Event.type == type)
    query = in_pages(query, Event.created_at, Event.id, cursor, newest_first=True)
    rows = list(await session.scalars(query.limit(size + 1)))
    return CursorPage.cut(rows, size)


async def _sent_by_hand(
    actor: Actor, org_id: UUID, *, limits: RateLimits, settings: Settings
) -> None:
    """Count a test event or redelivery: each sends a request out at once, so their
    number is bounded per organisation (``rate_limit_webhook_sends``)."""
    require(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id)
    try:
        await limits.hit(settings.rate_limit_webhook_sends, "webhook-sends", str(org_id))
    except RateLimited as exc:
        raise RateLimited(
            detail=N_("Too many test events and redeliveries for now. Try again later."),
            extra=exc.extra,
        ) from exc


async def send_test(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    endpoint_id: UUID,
    limits: RateLimits,
    settings: Settings,
) -> WebhookDelivery:
    """A ``ping`` event to this endpoint alone, even when it is disabled (owners)."""
    endpoint = await endpoint_of(
        session, actor=actor, org_id=org_id, endpoint_id=endpoint_id, manage=True
    )
    await _sent_by_hand(actor, org_id, limits=limits, settings=settings)
    moment = utcnow()
    event = Event(
        org_id=org_id, type=PING, data={"endpoint_id": str(endpoint.id)}, created_at=moment
    )
    session.add(event)
    await session.flush()
    (delivery,) = await _deliver(session, event, [endpoint], moment)
    await _audit(session, actor, "insights.webhook_tested", endpoint, {"event": str(event.id)})
    return delivery


async def redeliver(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    delivery_id: UUID,
    limits: RateLimits,
    settings: Settings,
) -> WebhookDelivery:
    """Send a delivery again now, whatever became of it (owners); its attempts go on
    counting."""
    require(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id)
    delivery = await session.get(
        WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True
    )
    endpoint = (
        None if delivery is None else await session.get(WebhookEndpoint, delivery.endpoint_id)
    )
    if delivery is None or endpoint is None or endpoint.org_id != org_id:
        raise NotFound(detail=N_("No such delivery."))
    event = await event_of(session, delivery.event_id)
    if not endpoint.enabled and event.type != PING:
        raise EndpointDisabled(detail=N_("Enable the endpoint first, then send it again."))
    await _sent_by_hand(actor, org_id, limits=limits, settings=settings)
    await _audit(
        session, actor, "insights.webhook_redelivered", endpoint, {"delivery": str(delivery.id)}
    )
    delivery.status = "pending"
    delivery.next_attempt_at = utcnow()
    await session.flush()
    await queue_delivery(session, delivery.id)
    return delivery


_OLDEST_PRUNED = delete(Event).where(
    Event.id.in_(
        select(Event.id)
        .where(Event.created_at < bindparam("cutoff"))
        .order_by(Event.created_at)
        .limit(bindparam("batch"))
    )
)


async def prune_events(
    db: Database, *, settings: Settings, now: datetime | None = None, batch: int = DELETE_BATCH
) -> int:
    """Forget events (and their deliveries) older than the retention period, ``batch`` a
    transaction; answers how many."""
    cutoff = (now or utcnow()) - timedelta(days=settings.webhook_event_retention_days)
    return await delete_in_batches(db, _OLDEST_PRUNED, {"cutoff": cutoff}, batch=batch)


async def event_of(session: AsyncSession, event_id: UUID) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound(detail=N_("No such event."))
    return event


async def secrets_for_path(session: AsyncSession, path: str) -> list[str]:
    """The signing secrets of every endpoint whose URL ends in ``path`` (the demo's own
    receiver checks signatures with them)."""
    rows = await session.scalars(
        select(WebhookEndpoint.secret).where(WebhookEndpoint.url.endswith(path))
    )
    return list(rows)
