"""The whole webhook chain on a running server: a brand's system registers an endpoint
by API, the server's own job worker sends a signed test event over real HTTP, and the
demo's receiver checks the signature and shows it."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import new_context
from tests.e2e.test_foundation_journey import PASSWORD, register_by_api

_phones = itertools.count(15700000000)

pytestmark = pytest.mark.e2e


def test_a_test_event_reaches_the_demo_inbox_signed(browser: Browser, site: str) -> None:
    phone = str(next(_phones))
    register_by_api(site, phone, "品牌开发")
    with httpx.Client(base_url=site, timeout=10) as http:
        token = http.post(
            "/api/v1/auth/tokens", json={"phone": phone, "password": PASSWORD}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        org = http.post("/api/v1/orgs", json={"kind": "brand", "name": "回调品牌"}, headers=auth)
        org_id = org.json()["id"]
        made = http.post(
            f"/api/v1/orgs/{org_id}/webhooks",
            json={"url": site + "/sandbox/webhook-inbox", "description": "收件箱"},
            headers=auth,
        )
        assert made.status_code == 201, made.text
        endpoint = made.json()
        assert endpoint["secret"].startswith("whsec_")
        sent = http.post(f"/api/v1/orgs/{org_id}/webhooks/{endpoint['id']}/test", headers=auth)
        assert sent.status_code == 202, sent.text
        deliveries_url = f"/api/v1/orgs/{org_id}/webhooks/{endpoint['id']}/deliveries"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (delivery,) = http.get(deliveries_url, headers=auth).json()["items"]
            if delivery["status"] != "pending":
                break
            time.sleep(0.3)
        assert delivery["status"] == "delivered", delivery
        assert delivery["last_status_code"] == 204
        event_id = delivery["event_id"]

    context = new_context(browser, site, "phone")
    page = context.new_page()
    page.goto("/sandbox/webhook-inbox")
    receipt = page.locator('[data-event-type="ping"]').filter(has_text=event_id)
    expect(receipt).to_have_attribute("data-signature-ok", "yes")
    context.close()
