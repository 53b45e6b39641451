"""The API & webhooks page over HTTP: an owner makes an API key and sees it once, the key
works until it is revoked; webhook endpoints are added (their secret shown once),
disabled, rolled and deleted; an endpoint's deliveries list a test event, filter by
status and are redelivered. Members only look; strangers find nothing."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from tests.factories import User, add_member, create_org, register
from tests.integration.answers import csrf_from, problem
from tests.integration.conftest import make_settings
from tests.integration.test_agency_pages import CHINESE, ENGLISH, sign_in_as
from tests.webhook_receiver import Receiver, running_receiver
from xingdong.core.audit import AuditEntry
from xingdong.core.db import Database
from xingdong.core.settings import Settings
from xingdong.identity.models import OrgApiKey
from xingdong.insights import delivery
from xingdong.insights.models import WebhookDelivery, WebhookEndpoint

SHOWN_ONCE = re.compile(r'value="([^"]+)"[^>]*data-shown-once-value')
# Nothing is delivered in these tests unless a test says so, and then to a receiver on
# this machine.
LOCAL_URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def settings() -> Settings:
    return make_settings(webhook_private_targets=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def shown_once(page: str) -> str:
    """The key or secret the page shows once."""
    match = SHOWN_ONCE.search(page)
    assert match, "the page shows no key or secret"
    return html.unescape(match.group(1))


def page_url(org_id: str) -> str:
    return f"/orgs/{org_id}/integrations"


async def owner_with_brand(client: httpx.AsyncClient) -> tuple[User, str]:
    owner = await register(client, name="品牌老板")
    org_id = await create_org(client, owner, name="好物品牌")
    await sign_in_as(client, owner)
    return owner, org_id


async def count(db: Database, model: type[OrgApiKey] | type[WebhookEndpoint]) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def add_endpoint(
    client: httpx.AsyncClient, org_id: str, url: str, *events: str, description: str = ""
) -> httpx.Response:
    page = await client.get(page_url(org_id))
    return await client.post(
        f"{page_url(org_id)}/webhooks",
        data={
            "url": url,
            "description": description,
            "event_types": list(events),
            "csrf_token": csrf_from(page.text),
        },
        headers=ENGLISH,
    )


async def endpoint_id_on(client: httpx.AsyncClient, org_id: str) -> str:
    page = await client.get(page_url(org_id))
    ids: list[str] = re.findall(r'data-endpoint="([0-9a-f-]{36})"', page.text)
    assert len(ids) == 1, ids
    return ids[0]


async def test_an_owner_makes_a_key_sees_it_once_and_revokes_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    _owner, org_id = await owner_with_brand(client)
    org_page = await client.get(f"/orgs/{org_id}", headers=CHINESE)
    assert f'href="{page_url(org_id)}" data-open-integrations' in org_page.text
    assert "接口与回调" in org_page.text
    page = await client.get(page_url(org_id), headers=ENGLISH)
    assert page.status_code == 200
    assert "<h1>API & webhooks</h1>" in page.text
    assert "data-key-form" in page.text and "data-endpoint-form" in page.text
    assert "No API key is in use." in page.text

    made = await client.post(
        f"{page_url(org_id)}/keys",
        data={"name": " ERP  同步 ", "access": "read", "csrf_token": csrf_from(page.text)},
        headers=ENGLISH,
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    key = shown_once(made.text)
    assert key.startswith("xdk_") and len(key) == 47
    assert "Copy it now: it will not be shown again." in made.text
    assert "Your new API key “ERP 同步”" in made.text
    assert 'data-key-name="ERP 同步" data-key-access="read"' in made.text

    again = await client.get(page_url(org_id), headers=ENGLISH)
    assert key not in again.text
    assert "data-shown-once" not in again.text
    assert f"<code data-key-prefix>{key[:12]}…</code>" in again.text
    assert '<td data-label="Made by">品牌老板</td>' in again.text
    assert '<td data-label="Last used">Never</td>' in again.text
    assert 'data-keys-in-use="1"' in again.text

    bearer = {"Authorization": f"Bearer {key}"}
    listed = await client.get(f"/api/v1/orgs/{org_id}/campaigns", headers=bearer)
    assert listed.status_code == 200, listed.text
    used = await client.get(page_url(org_id), headers=ENGLISH)
    assert '<td data-label="Last used">Never</td>' not in used.text

    key_id = re.findall(r'data-key="([0-9a-f-]{36})"', used.text)[0]
    assert "Revoke the API key “ERP 同步”?" in used.text
    revoked = await client.post(
        f"{page_url(org_id)}/keys/{key_id}/revoke", data={"csrf_token": csrf_from(used.text)}
    )
    assert revoked.status_code == 303
    after = await client.get(revoked.headers["location"], headers=ENGLISH)
    assert "The API key is revoked: requests that send it are refused from now on." in after.text
    assert f'data-key="{key_id}"' not in after.text
    assert "No API key is in use." in after.text
    with_revoked = await client.get(f"{page_url(org_id)}?revoked=true", headers=ENGLISH)
    assert "data-key-revoked" in with_revoked.text
    assert "data-revoke-key" not in with_revoked.text
    assert "Hide revoked keys" in with_revoked.text

    refused = await client.get(f"/api/v1/orgs/{org_id}/campaigns", headers=bearer)
    problem(refused, 401, "session_expired")
    async with db.sessionmaker() as s:
        actions = list(
            await s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("identity.api_key_%"))
                .order_by(AuditEntry.created_at)
            )
        )
    assert actions == ["identity.api_key_created", "identity.api_key_revoked"]


async def test_a_brand_is_offered_only_the_events_a_brand_receives(
    client: httpx.AsyncClient,
) -> None:
    owner, brand_id = await owner_with_brand(client)
    brand_page = (await client.get(page_url(brand_id), headers=ENGLISH)).text
    agency_id = await create_org(client, owner, name="好物机构", kind="agency")
    agency_page = (await client.get(page_url(agency_id), headers=ENGLISH)).text
    for event in ("contract.offered", "balance.paid_out"):
        assert f'value="{event}"' not in brand_page and f'value="{event}"' in agency_page
    for event in ("campaign.closed", "balance.topped_up"):
        assert f'value="{event}"' in brand_page


async def test_a_bad_key_form_shows_its_errors_and_makes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    _owner, org_id = await owner_with_brand(client)
    page = await client.get(page_url(org_id))
    bad = await client.post(
        f"{page_url(org_id)}/keys",
        data={"name": "   ", "access": "admin", "csrf_token": csrf_from(page.text)},
        headers=ENGLISH,
    )
    assert bad.status_code == 422
    assert 'data-error-for="name"' in bad.text and 'data-error-for="access"' in bad.text
    assert "Use 1 to 60 characters." in bad.text
    assert 'aria-describedby="key-name-help name-error"' in bad.text
    assert "data-shown-once" not in bad.text
    chinese = await client.post(
        f"{page_url(org_id)}/keys",
        data={"name": "x" * 61, "access": "write", "csrf_token": csrf_from(page.text)},
        headers=CHINESE,
    )
    assert chinese.status_code == 422
    assert 'value="write" checked' in chinese.text  # as chosen
    assert await count(db, OrgApiKey) == 0


async def test_a_member_sees_the_page_without_keys_or_forms(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner, org_id = await owner_with_brand(client)
    made = await client.post(
        f"/api/v1/orgs/{org_id}/webhooks",
        json={"url": LOCAL_URL, "description": "订单系统", "event_types": ["campaign.closed"]},
        headers=owner.auth,
    )
    assert made.status_code == 201, made.text
    endpoint_id = made.json()["id"]
    key = await client.post(
        f"/api/v1/orgs/{org_id}/api-keys",
        json={"name": "ERP", "access": "write"},
        headers=owner.auth,
    )
    assert key.status_code == 201
    member = await register(client)
    await add_member(client, org_id, owner, member)
    await sign_in_as(client, member)

    org_page = await client.get(f"/orgs/{org_id}", headers=ENGLISH)
    assert "data-open-integrations" in org_page.text
    page = await client.get(page_url(org_id), headers=ENGLISH)
    assert page.status_code == 200
    assert "Only the organisation's owners make API keys and manage webhooks." in page.text
    assert "data-keys-owners-only" in page.text
    for control in (
        "data-key-form",
        "data-endpoint-form",
        "data-send-test",
        "data-toggle-endpoint",
        "data-roll-secret",
        "data-delete-endpoint",
        'data-key-name="ERP"',
    ):
        assert control not in page.text, control
    assert f'data-endpoint-url="{LOCAL_URL}"' in page.text
    assert "订单系统" in page.text
    assert 'data-endpoint-events="campaign.closed"' in page.text
    deliveries = await client.get(f"{page_url(org_id)}/webhooks/{endpoint_id}", headers=ENGLISH)
    assert deliveries.status_code == 200
    assert "Nothing has been sent to this endpoint yet." in deliveries.text
    assert "data-send-test" not in deliveries.text

    token = csrf_from(page.text)
    refused = await client.post(
        f"{page_url(org_id)}/keys", data={"name": "mine", "access": "read", "csrf_token": token}
    )
    assert refused.status_code == 403
    tested = await client.post(
        f"{page_url(org_id)}/webhooks/{endpoint_id}/test", data={"csrf_token": token}
    )
    assert tested.status_code == 403
    assert await count(db, OrgApiKey) == 1
    async with db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


async def test_an_endpoint_s_address_and_description_have_one_limit_each(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner, org_id = await owner_with_brand(client)
    url = f"/api/v1/orgs/{org_id}/webhooks"
    fits = "https://example.com/" + "h" * (500 - len("https://example.com/"))
    for body, field in (
        ({"url": fits + "h"}, "url"),
        ({"url": fits + "h" * 200}, "url"),
        ({"url": LOCAL_URL, "description": "d" * 121}, "description"),
    ):
        refused = await client.post(url, json=body, headers=owner.auth)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "validation_failed"
        assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
            (field, "string_too_long")
        ]
    hidden = await client.post(
        url, json={"url": LOCAL_URL, "description": "订单\x08系统"}, headers=owner.auth
    )
    assert hidden.status_code == 422
    assert [e["field"] for e in hidden.json()["errors"]] == ["description"]
    async with db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


async def test_a_stranger_finds_nothing(client: httpx.AsyncClient) -> None:
    owner, org_id = await owner_with_brand(client)
    made = await client.post(
        f"/api/v1/orgs/{org_id}/webhooks", json={"url": LOCAL_URL}, headers=owner.auth
    )
    stranger = await register(client)
    await sign_in_as(client, stranger)
    for path in (page_url(org_id), f"{page_url(org_id)}/webhooks/{made.json()['id']}"):
        hidden = await client.get(path, headers=ENGLISH)
        assert hidden.status_code == 404, path
        assert hidden.headers["content-type"].startswith("text/html")
    # Another organisation's endpoint is not found under one's own either.
    own = await create_org(client, stranger, name="别家")
    elsewhere = await client.get(f"{page_url(own)}/webhooks/{made.json()['id']}", headers=ENGLISH)
    assert elsewhere.status_code == 404
    assert "No such webhook endpoint." in elsewhere.text


async def test_a_bad_endpoint_url_is_refused_beside_its_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    _owner, org_id = await owner_with_brand(client)
    bad = await add_endpoint(client, org_id, "ftp://x", "completion.released", description="对账")
    assert bad.status_code == 422
    assert '<span class="field-error" id="url-error" data-error-for="url">' in bad.text
    assert "Use an http:// or https:// URL." in bad.text
    assert 'aria-describedby="endpoint-url-help url-error"' in bad.text
    assert 'value="ftp://x"' in bad.text and 'value="对账"' in bad.text
    assert 'value="completion.released" checked' in bad.text
    assert "data-shown-once" not in bad.text
    chinese = await client.post(
        f"{page_url(org_id)}/webhooks",
        data={
            "url": LOCAL_URL,
            "event_types": ["nothing.happened"],
            "csrf_token": csrf_from(bad.text),
        },
        headers=CHINESE,
    )
    assert chinese.status_code == 422
    assert 'data-error-for="event_types">未知的事件类型：nothing.happened。' in chinese.text
    assert await count(db, WebhookEndpoint) == 0


async def test_an_owner_adds_disables_rolls_and_deletes_an_endpoint(
    client: httpx.AsyncClient, db: Database
) -> None:
    _owner, org_id = await owner_with_brand(client)
    added = await add_endpoint(
        client, org_id, LOCAL_URL, "completion.released", "campaign.closed", description="订单系统"
    )
    assert added.status_code == 200
    assert added.headers["cache-control"] == "no-store"
    secret = shown_once(added.text)
    assert secret.startswith("whsec_")
    assert "Signing secret of the new endpoint" in added.text
    endpoint_id = await endpoint_id_on(client, org_id)
    page = await client.get(page_url(org_id), headers=ENGLISH)
    assert secret not in page.text
    # Shown in the service's order of event types, whatever order they were chosen in.
    assert 'data-endpoint-events="campaign.closed completion.released"' in page.text
    assert 'data-endpoint-counts="0/0/0"' in page.text
    assert "None yet" in page.text
    token = csrf_from(page.text)

    garbled = await client.post(
        f"{page_url(org_id)}/webhooks/{endpoint_id}/enabled",
        data={"enabled": "abc", "csrf_token": token},
    )
    assert garbled.status_code == 422  # not read as "off"
    still = await client.get(page_url(org_id), headers=ENGLISH)
    assert 'data-endpoint-enabled="true"' in still.text
    off = await client.post(
        f"{page_url(org_id)}/webhooks/{endpoint_id}/enabled",
        data={"enabled": "false", "csrf_token": token},
    )
    assert off.status_code == 303
    assert off.headers["location"].endswith(f"#endpoint-{endpoint_id}")
    disabled = await client.get(off.headers["location"], headers=ENGLISH)
    assert "The endpoint is disabled: no new events are sent to it." in disabled.text
    assert 'data-endpoint-enabled="false"' in disabled.text
    on = await client.post(
        f"{page_url(org_id)}/webhooks/{endpoint_id}/enabled",
        data={"enabled": "true", "csrf_token": token},
    )
    enabled = await client.get(on.headers["location"], headers=CHINESE)
    assert 'data-endpoint-enabled="true"' in enabled.text

    rolled = await client.post(
        f"{page_url(org_id)}/webhooks/{endpoint_id}/roll-secret",
        data={"csrf_token": token},
        headers=ENGLISH,
    )
    assert rolled.status_code == 200
    new_secret = shown_once(rolled.text)
    assert new_secret.startswith("whsec_") and new_secret != secret
    assert "The old secret signs nothing from now on" in rolled.text
    async with db.sessionmaker() as s:
        row = await s.get(WebhookEndpoint, UUID(endpoint_id))
        assert row is not None and row.secret == new_secret

    deleted = await client.post(
        f"{page_url(org_id)}/webhooks/{endpoint_id}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 303
    gone = await client.get(deleted.headers["location"], headers=ENGLISH)
    assert "The endpoint and its deliveries are deleted." in gone.text
    assert "No webhook endpoint yet." in gone.text
    assert await count(db, WebhookEndpoint) == 0
    twice = await client.post(
        f"{page_url(org_id)}/webhooks/{endpoint_id}/delete",
        data={"csrf_token": token},
        headers=ENGLISH,
    )
    assert twice.status_code == 404
    assert "No such webhook endpoint." in twice.text


async def test_deliveries_list_a_test_event_by_status_and_redeliver_it(
    client: httpx.AsyncClient, db: Database, settings: Settings, receiver: Receiver
) -> None:
    _owner, org_id = await owner_with_brand(client)
    await add_endpoint(client, org_id, receiver.url)
    endpoint_id = await endpoint_id_on(client, org_id)
    page = await client.get(page_url(org_id))

    sent = await client.post(
        f"{page_url(org_id)}/webhooks/{endpoint_id}/test", data={"csrf_token": csrf_from(page.text)}
    )
    assert sent.status_code == 303
    here = f"{page_url(org_id)}/webhooks/{endpoint_id}"
    assert sent.headers["location"].startswith(f"{here}?done=")
    listed = await client.get(sent.headers["location"], headers=ENGLISH)
    assert "A test event is on its way" in listed.text
    rows = re.findall(r'data-delivery="([0-9a-f-]{36})" data-delivery-status="(\w+)"', listed.text)
    assert [status for _id, status in rows] == ["pending"]
    delivery_id = UUID(rows[0][0])
    assert 'data-event-type="ping"' in listed.text
    assert 'data-attempts="0"' in listed.text

    assert await delivery.attempt(db, delivery_id, settings=settings) == "delivered"
    assert [r.headers["xingdong-event-type"] for r in receiver.received] == ["ping"]
    delivered = await client.get(f"{here}?status=delivered", headers=ENGLISH)
    assert f'data-delivery="{delivery_id}" data-delivery-status="delivered"' in delivered.text
    assert '<span data-attempt-status="200">HTTP 200</span>' in delivered.text
    assert 'data-delivery-tab="delivered" aria-current="page"' in delivered.text
    pending = await client.get(f"{here}?status=pending", headers=ENGLISH)
    assert "data-delivery=" not in pending.text
    assert "No delivery has this status." in pending.text
    unknown = await client.get(f"{here}?status=lost", headers=ENGLISH)
    assert 'data-delivery-tab="all" aria-current="page"' in unknown.text
    summary = await client.get(page_url(org_id), headers=ENGLISH)
    assert 'data-endpoint-counts="1/0/0"' in summary.text
    assert "Delivered 1 · Pending 0 · Failed 0" in summary.text

    # The receiver refuses the redelivery: it waits for its retry, with what went wrong.
    receiver.answer(500)
    again = await client.post(
        f"/orgs/{org_id}/integrations/deliveries/{delivery_id}/redeliver",
        data={
            "endpoint_id": endpoint_id,
            "status": "delivered",
            "csrf_token": csrf_from(delivered.text),
        },
    )
    assert again.status_code == 303
    assert again.headers["location"].startswith(f"{here}?status=delivered&done=")
    assert await delivery.attempt(db, delivery_id, settings=settings) == "pending"
    retried = await client.get(f"{here}?status=pending", headers=CHINESE)
    assert f'data-delivery="{delivery_id}" data-delivery-status="pending"' in retried.text
    assert 'data-attempts="2"' in retried.text
    assert "<span data-attempt-error>HTTP 500</span>" in retried.text
    assert len(receiver.received) == 2


async def test_an_endpoint_at_the_demos_receiver_links_to_what_it_received(
    client: httpx.AsyncClient,
) -> None:
    _owner, org_id = await owner_with_brand(client)
    await add_endpoint(client, org_id, "http://127.0.0.1:8000/sandbox/webhook-inbox")
    await add_endpoint(client, org_id, "http://127.0.0.1:8000/elsewhere")
    page = await client.get(page_url(org_id), headers=ENGLISH)
    links = re.findall(r'<a href="([^"]+)" data-demo-inbox>', page.text)
    assert links == ["/sandbox/webhook-inbox"]
    assert "This is the demo's own receiver" in page.text
