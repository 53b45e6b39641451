"""Webhooks on a real PostgreSQL to a real HTTP receiver: what happens to a brand's
campaigns and completions reaches its endpoint signed, is retried on the published
schedule, and is kept as an event; a rolled-back change tells nobody."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select, text

from tests.integration.conftest import make_settings
from tests.lifecycle_world import World, build_world, follow_on_sandbox, live_campaign
from tests.webhook_receiver import Receiver, running_receiver
from xingdong.campaigns import service as campaigns
from xingdong.core.clock import utcnow
from xingdong.core.errors import NotFound, RateLimited, XingdongError
from xingdong.core.jobs import build_job_app
from xingdong.core.policy import Actor
from xingdong.core.ratelimit import RateLimits
from xingdong.identity import service as identity
from xingdong.insights import delivery, service, signing
from xingdong.insights.errors import EndpointDisabled, UnknownEventType, WebhookUrlNotAllowed
from xingdong.insights.models import Event, WebhookDelivery, WebhookEndpoint
from xingdong.work import service as work

LIMITS = RateLimits(None)


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(
        clean_db, make_settings(hold_hours=24, webhook_private_targets=True), funds=1_000_000
    )
    yield built
    await built.db.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def by_hand(world: World) -> dict[str, Any]:
    """What a test event or redelivery is counted with (a limiter of its own)."""
    return {"limits": RateLimits(None), "settings": world.settings}


async def add_endpoint(world: World, url: str, *types: str) -> WebhookEndpoint:
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        return await service.create_endpoint(
            s, actor=owner, org_id=world.org_id, url=url, event_types=types,
            settings=world.settings,
        )  # fmt: skip


async def pending_ids(world: World) -> list[UUID]:
    async with world.db.sessionmaker() as s:
        rows = await s.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.created_at)
        )
        return list(rows)


async def deliver_due(world: World) -> list[str]:
    return [
        await delivery.attempt(world.db, delivery_id, settings=world.settings)
        for delivery_id in await pending_ids(world)
    ]


async def delivery_row(world: World, delivery_id: UUID) -> WebhookDelivery:
    async with world.db.sessionmaker() as s:
        row = await s.get(WebhookDelivery, delivery_id)
        assert row is not None
        return row


def bodies(receiver: Receiver) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in receiver.received]


async def claim_and_do(world: World, campaign_id: UUID) -> UUID:
    """The first worker takes a unit and follows the brand (auto-approved on the sandbox)."""
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=worker, campaign_id=campaign_id, settings=world.settings)
    async with world.db.sessionmaker() as s:
        handle = (await identity.platform_accounts(s, person=worker))[0].handle
    await follow_on_sandbox(handle, world.db)
    async with world.db.session_scope() as s:
        done = await work.submit(
            s, person=worker, assignment_id=taken.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings, now=taken.claimed_at + timedelta(seconds=60),
        )  # fmt: skip
    assert done.status == "approved"
    return taken.id


async def test_a_completion_reaches_the_endpoint_signed_as_approved_then_released(
    world: World, receiver: Receiver
) -> None:
    endpoint = await add_endpoint(world, receiver.url)
    campaign = await live_campaign(world)
    assignment_id = await claim_and_do(world, campaign.id)
    assert set(await deliver_due(world)) == {"delivered"}
    async with world.db.session_scope() as s:
        await s.execute(text("UPDATE assignments SET hold_until = now() - interval '1 second'"))
    async with world.db.session_scope() as s:
        await work.settle_holds(s)
    assert await deliver_due(world) == ["delivered"]

    sent = bodies(receiver)
    assert [b["type"] for b in sent] == [
        "campaign.approved",
        "completion.approved",
        "completion.released",
    ]
    released = sent[-1]
    assert released["org_id"] == str(world.org_id)
    data = released["data"]
    assert isinstance(data, dict)
    assert data["assignment_id"] == str(assignment_id)
    assert data["campaign_id"] == str(campaign.id)
    assert data["status"] == "released"
    assert data["unit_price_fen"] == campaign.unit_price
    # Never who did it.
    assert str(world.workers[0].id) not in json.dumps(sent)

    last = receiver.received[-1]
    assert last.path == "/hooks/xingdong"
    assert last.headers["content-type"] == "application/json"
    assert last.headers["xingdong-event-type"] == "completion.released"
    assert last.headers["xingdong-event-id"] == released["id"]
    assert last.headers["xingdong-delivery-attempt"] == "1"
    # The signature, checked the way the docs tell a receiver to, not with our helper.
    stamp, mac = (part.split("=", 1)[1] for part in last.headers["xingdong-signature"].split(","))
    expected = hmac.new(
        endpoint.secret.encode(), stamp.encode() + b"." + last.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(mac, expected)
    assert abs(int(stamp) - time.time()) < 60
    assert signing.verify(
        endpoint.secret, last.body, last.headers["xingdong-signature"], now=int(time.time())
    )
    assert not signing.verify(
        endpoint.secret, last.body + b" ", last.headers["xingdong-signature"], now=int(time.time())
    )


async def test_a_refusing_receiver_is_retried_on_the_schedule_then_given_up(
    world: World, receiver: Receiver
) -> None:
    endpoint = await add_endpoint(world, receiver.url, "campaign.paused")
    campaign = await live_campaign(world)
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        await campaigns.pause_campaign(
            s, actor=owner, campaign_id=campaign.id, limits=LIMITS, settings=world.settings
        )
    (delivery_id,) = await pending_ids(world)
    receiver.answer(*([503] * delivery.MAX_ATTEMPTS))

    moment = utcnow()
    waits = []
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        outcome = await delivery.attempt(world.db, delivery_id, settings=world.settings, now=moment)
        row = await delivery_row(world, delivery_id)
        assert row.attempts == attempt
        assert row.last_status_code == 503
        if attempt < delivery.MAX_ATTEMPTS:
            assert outcome == "pending"
            assert row.next_attempt_at is not None
            waits.append(row.next_attempt_at - moment)
            # Not due yet: nothing is sent before its time.
            early = await delivery.attempt(
                world.db, delivery_id, settings=world.settings,
                now=row.next_attempt_at - delivery.CLOCK_SLACK - timedelta(seconds=1),
            )  # fmt: skip
            assert early == "not_due"
            moment = row.next_attempt_at
        else:
            assert outcome == "failed"
            assert row.status == "failed"
            assert row.next_attempt_at is None
    assert waits == list(delivery.RETRY_AFTER)
    assert [r.headers["xingdong-delivery-attempt"] for r in receiver.received] == [
        str(n) for n in range(1, delivery.MAX_ATTEMPTS + 1)
    ]
    # Each retry was queued as a job for its time.
    async with world.db.sessionmaker() as s:
        queued = (
            await s.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task"
                    " AND args->>'delivery_id' = :id"
                ),
                {"task": service.DELIVER_TASK, "id": str(delivery_id)},
            )
        ).scalar_one()
    assert queued == delivery.MAX_ATTEMPTS

    # The owner sends it again once the receiver is mended.
    async with world.db.session_scope() as s:
        await service.redeliver(
            s, actor=owner, org_id=world.org_id, delivery_id=delivery_id, **by_hand(world)
        )
    assert await delivery.attempt(world.db, delivery_id, settings=world.settings) == "delivered"
    row = await delivery_row(world, delivery_id)
    assert row.status == "delivered" and row.attempts == delivery.MAX_ATTEMPTS + 1
    assert row.delivered_at is not None
    async with world.db.sessionmaker() as s:
        (summary,) = await service.endpoints_of(s, actor=owner, org_id=world.org_id)
    assert summary.endpoint.id == endpoint.id
    assert summary.counts == {"pending": 0, "delivered": 1, "failed": 0}
    assert summary.last_delivery is not None and summary.last_delivery.id == delivery_id


async def test_a_receiver_that_cannot_be_reached_is_recorded_and_retried(world: World) -> None:
    with running_receiver() as gone:
        url = gone.url
    # The receiver has stopped: its port now refuses connections.
    await add_endpoint(world, url)
    await live_campaign(world)
    assert await deliver_due(world) == ["pending"]
    (delivery_id,) = await pending_ids(world)
    row = await delivery_row(world, delivery_id)
    assert row.last_status_code is None
    # Said as one of the delivery's own codes (which pages put in words), not as the
    # exception's English.
    assert row.last_error == "connection failed"


async def test_endpoints_get_only_their_event_types_and_disabled_ones_nothing(
    world: World, receiver: Receiver
) -> None:
    with running_receiver() as other:
        await add_endpoint(world, receiver.url, "campaign.paused")
        quiet = await add_endpoint(world, other.url)
        owner = await world.actor(world.owner)
        async with world.db.session_scope() as s:
            await service.update_endpoint(
                s, actor=owner, org_id=world.org_id, endpoint_id=quiet.id,
                changes=service.EndpointChanges(enabled=False), settings=world.settings,
            )  # fmt: skip
        campaign = await live_campaign(world)
        async with world.db.session_scope() as s:
            await campaigns.pause_campaign(
                s, actor=owner, campaign_id=campaign.id, limits=LIMITS, settings=world.settings
            )
            await campaigns.resume_campaign(
                s, actor=owner, campaign_id=campaign.id, limits=LIMITS, settings=world.settings
            )
        await deliver_due(world)
        assert [b["type"] for b in bodies(receiver)] == ["campaign.paused"]
        assert other.received == []
        # A test event goes even to a disabled endpoint, and only there.
        async with world.db.session_scope() as s:
            ping = await service.send_test(
                s, actor=owner, org_id=world.org_id, endpoint_id=quiet.id, **by_hand(world)
            )
        assert await delivery.attempt(world.db, ping.id, settings=world.settings) == "delivered"
        assert [b["type"] for b in bodies(other)] == ["ping"]
        assert len(receiver.received) == 1
    # Every event is listed, whoever listens.
    async with world.db.sessionmaker() as s:
        page = await service.events_page(s, actor=owner, org_id=world.org_id)
        types = [e.type for e in page.items]
    assert types == ["ping", "campaign.resumed", "campaign.paused", "campaign.approved"]


async def test_a_disabled_endpoint_drops_what_was_queued_for_it(
    world: World, receiver: Receiver
) -> None:
    endpoint = await add_endpoint(world, receiver.url)
    await live_campaign(world)
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        await service.update_endpoint(
            s, actor=owner, org_id=world.org_id, endpoint_id=endpoint.id,
            changes=service.EndpointChanges(enabled=False), settings=world.settings,
        )  # fmt: skip
    assert await deliver_due(world) == ["failed"]
    assert receiver.received == []
    async with world.db.sessionmaker() as s:
        row = await s.scalar(select(WebhookDelivery))
    assert row is not None and row.last_error == "endpoint disabled"
    # Sending it again waits for the endpoint to be enabled.
    async with world.db.session_scope() as s:
        with pytest.raises(EndpointDisabled):
            await service.redeliver(
                s, actor=owner, org_id=world.org_id, delivery_id=row.id, **by_hand(world)
            )
    assert (await delivery_row(world, row.id)).status == "failed"


async def test_a_rolled_secret_signs_from_then_on(world: World, receiver: Receiver) -> None:
    endpoint = await add_endpoint(world, receiver.url)
    old_secret = endpoint.secret
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        rolled = await service.roll_secret(
            s, actor=owner, org_id=world.org_id, endpoint_id=endpoint.id
        )
        new_secret = rolled.secret
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    async with world.db.session_scope() as s:
        ping = await service.send_test(
            s, actor=owner, org_id=world.org_id, endpoint_id=endpoint.id, **by_hand(world)
        )
    await delivery.attempt(world.db, ping.id, settings=world.settings)
    (got,) = receiver.received
    header = got.headers["xingdong-signature"]
    assert signing.verify(new_secret, got.body, header, now=int(time.time()))
    assert not signing.verify(old_secret, got.body, header, now=int(time.time()))


async def test_a_change_that_rolls_back_tells_nobody(world: World, receiver: Receiver) -> None:
    await add_endpoint(world, receiver.url)
    campaign = await live_campaign(world)
    owner = await world.actor(world.owner)
    async with world.db.sessionmaker() as s:
        await campaigns.pause_campaign(
            s, actor=owner, campaign_id=campaign.id, limits=LIMITS, settings=world.settings
        )
        await s.rollback()
    async with world.db.sessionmaker() as s:
        types = list(await s.scalars(select(Event.type)))
        deliveries = await s.scalar(select(func.count()).select_from(WebhookDelivery))
    assert types == ["campaign.approved"]
    assert deliveries == 1


async def test_the_job_worker_delivers_what_a_change_queued(
    world: World, receiver: Receiver
) -> None:
    await add_endpoint(world, receiver.url)
    await live_campaign(world)
    job_app = build_job_app(world.db.url)
    async with job_app.open_async():
        await job_app.run_worker_async(
            queues=["webhooks"], wait=False, install_signal_handlers=False
        )
    assert [b["type"] for b in bodies(receiver)] == ["campaign.approved"]
    async with world.db.sessionmaker() as s:
        row = await s.scalar(select(WebhookDelivery))
    assert row is not None and row.status == "delivered"


async def test_urls_are_checked_when_saved_and_again_when_sent(
    world: World, receiver: Receiver
) -> None:
    owner = await world.actor(world.owner)
    strict = world.settings.model_copy(update={"webhook_private_targets": False})
    for url in ("ftp://example.com/x", "http://example.com/x", "https://127.0.0.1/x"):
        async with world.db.session_scope() as s:
            with pytest.raises(WebhookUrlNotAllowed):
                await service.create_endpoint(
                    s, actor=owner, org_id=world.org_id, url=url, settings=strict
                )
    with pytest.raises(UnknownEventType):
        await add_endpoint(world, receiver.url, "completion.exploded")
    await add_endpoint(world, receiver.url)
    await live_campaign(world)
    (delivery_id,) = await pending_ids(world)
    # Saved while loopback was allowed; refused at the moment of sending once it is not.
    outcome = await delivery.attempt(world.db, delivery_id, settings=strict)
    assert outcome == "pending"
    assert receiver.received == []
    assert (await delivery_row(world, delivery_id)).last_error == "address not allowed"
    async with world.db.sessionmaker() as s:
        count = await s.scalar(select(func.count()).select_from(WebhookEndpoint))
    assert count == 1


async def test_only_owners_change_endpoints_and_other_organisations_see_none(
    world: World, receiver: Receiver
) -> None:
    endpoint = await add_endpoint(world, receiver.url)
    stranger = Actor(person_id=world.workers[0].id)
    reviewer = await world.actor(world.reviewer)
    with pytest.raises(NotFound):
        async with world.db.session_scope() as s:
            await service.endpoints_of(s, actor=stranger, org_id=world.org_id)
    for actor in (stranger, reviewer):
        async with world.db.session_scope() as s:
            with pytest.raises(XingdongError) as refused:
                await service.roll_secret(
                    s, actor=actor, org_id=world.org_id, endpoint_id=endpoint.id
                )
        assert refused.value.status in (403, 404)
    async with world.db.sessionmaker() as s:
        kept = await s.get(WebhookEndpoint, endpoint.id)
    assert kept is not None and kept.secret == endpoint.secret


async def test_deliveries_wait_behind_the_money_jobs(world: World, receiver: Receiver) -> None:
    await add_endpoint(world, receiver.url)
    await live_campaign(world)
    async with world.db.sessionmaker() as s:
        priorities = (
            await s.execute(text("SELECT task_name, priority FROM procrastinate_jobs ORDER BY id"))
        ).all()
    assert (service.DELIVER_TASK, service.DELIVERY_PRIORITY) in priorities
    assert all(p < 0 for name, p in priorities if name == service.DELIVER_TASK)
    assert all(p == 0 for name, p in priorities if name != service.DELIVER_TASK)


async def test_test_events_and_redeliveries_are_bounded_per_organisation(
    world: World, receiver: Receiver
) -> None:
    endpoint = await add_endpoint(world, receiver.url)
    owner = await world.actor(world.owner)
    limits = RateLimits(None)
    strict = world.settings.model_copy(update={"rate_limit_webhook_sends": "2/minute"})
    for _ in range(2):
        async with world.db.session_scope() as s:
            await service.send_test(
                s, actor=owner, org_id=world.org_id, endpoint_id=endpoint.id,
                limits=limits, settings=strict,
            )  # fmt: skip
    async with world.db.session_scope() as s:
        with pytest.raises(RateLimited):
            await service.send_test(
                s, actor=owner, org_id=world.org_id, endpoint_id=endpoint.id,
                limits=limits, settings=strict,
            )  # fmt: skip
    async with world.db.sessionmaker() as s:
        pings = await s.scalar(select(func.count()).select_from(Event).where(Event.type == "ping"))
    assert pings == 2


async def test_events_past_their_retention_go_with_their_deliveries_in_batches(
    world: World,
) -> None:
    endpoint = await add_endpoint(world, "http://127.0.0.1:9/hook", "campaign.approved")
    now = utcnow()
    async with world.db.session_scope() as s:
        s.add_all(
            Event(org_id=world.org_id, type="campaign.approved", data={"n": days},
                  created_at=now - timedelta(days=days))
            for days in (45, 40, 31, 29, 1)
        )  # fmt: skip
        await s.flush()
        old = await s.scalar(select(Event.id).where(Event.data["n"].as_integer() == 45))
        s.add(WebhookDelivery(event_id=old, endpoint_id=endpoint.id, status="failed"))
    settings = make_settings(webhook_event_retention_days=30)
    # Two a transaction: the loop goes round until a short batch.
    assert await service.prune_events(world.db, settings=settings, now=now, batch=2) == 3
    assert await service.prune_events(world.db, settings=settings, now=now, batch=2) == 0
    async with world.db.sessionmaker() as s:
        kept = sorted((await s.scalars(select(Event.data["n"].as_integer()))).all())
        deliveries = await s.scalar(select(func.count()).select_from(WebhookDelivery))
    assert kept == [1, 29]
    assert deliveries == 0
