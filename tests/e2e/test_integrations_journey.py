"""On a phone, in Chinese: a brand's owner opens API & webhooks from the organisation page,
makes an API key and copies it (shown once; the key then works), adds a webhook endpoint
pointing at the demo's receiver, sends a test event and watches it arrive in the
endpoint's deliveries."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import ARTIFACTS, new_context
from tests.e2e.test_foundation_journey import fits_the_screen, register_by_api, sign_in

_phones = itertools.count(15800000000)

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone_page(browser: Browser, site: str) -> Iterator[Page]:
    context = new_context(browser, site, "phone")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    yield context.new_page()
    context.close()


def delivered_within(page: Page, seconds: float) -> bool:
    """Reloads the deliveries page until the test event is no longer pending (the
    server's own worker sends it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = page.locator('tr[data-event-type="ping"]')
        if row.get_attribute("data-delivery-status") == "delivered":
            return True
        time.sleep(0.3)
        page.reload()
    return False


def test_a_brand_owner_sets_up_a_key_and_a_webhook_on_a_phone(phone_page: Page, site: str) -> None:
    page = phone_page
    owner_phone = str(next(_phones))
    register_by_api(site, owner_phone, "品牌开发")
    sign_in(page, owner_phone)
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto("/orgs")
    page.select_option("#kind", "brand")
    page.fill("#org-name", "好物品牌")
    page.locator('form[action="/orgs"] button').click()
    card = page.locator("[data-org-integrations]")
    expect(card).to_contain_text("接口与回调")
    org_url = page.url.split("?")[0]
    card.locator("[data-open-integrations]").click()
    expect(page.locator("h1")).to_have_text("接口与回调")
    integrations = org_url + "/integrations"
    expect(page).to_have_url(integrations)
    assert fits_the_screen(page)

    # A key, shown once with a button that copies it.
    page.fill("#key-name", "ERP 同步")
    page.locator("#key-access-write").check()
    page.locator("[data-key-form] button[type=submit]").click()
    box = page.locator('[data-shown-once="key"]')
    expect(box).to_be_visible()
    expect(box.locator("h2")).to_have_text("你的新 API 密钥“ERP 同步”")
    expect(box).to_contain_text("请立即复制：它不会再次显示。")
    key = box.locator("[data-shown-once-value]").input_value()
    assert key.startswith("xdk_")
    box.locator("[data-copy]").click()
    expect(box.locator("[data-copy-status]")).to_have_text("已复制。")
    assert page.evaluate("navigator.clipboard.readText()") == key
    # The address is the page's own again: reloading does not make a second key.
    expect(page).to_have_url(integrations)
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "integrations-key-phone.png"), full_page=True)
    page.reload()
    expect(page.locator("[data-shown-once]")).to_have_count(0)
    row = page.locator('tr[data-key-name="ERP 同步"]')
    expect(row).to_have_count(1)
    expect(row.locator("[data-key-prefix]")).to_have_text(key[:12] + "…")
    expect(row).to_contain_text("读写")
    org_id = org_url.rsplit("/", 1)[1]
    with httpx.Client(base_url=site, timeout=10) as http:
        listed = http.get(
            f"/api/v1/orgs/{org_id}/campaigns", headers={"Authorization": f"Bearer {key}"}
        )
    assert listed.status_code == 200, listed.text

    # A wrong address is refused beside its field; the demo's receiver is accepted.
    page.fill("#endpoint-url", "ftp://x")
    page.locator("[data-endpoint-form] button[type=submit]").click()
    expect(page.locator('[data-error-for="url"]')).to_have_text(
        "请使用 http:// 或 https:// 开头的网址。"
    )
    expect(page.locator("#endpoint-url")).to_have_attribute("aria-invalid", "true")
    page.fill("#endpoint-url", site + "/sandbox/webhook-inbox")
    page.fill("#endpoint-description", "订单系统")
    page.locator("[data-endpoint-form] button[type=submit]").click()
    secret_box = page.locator('[data-shown-once="secret"]')
    expect(secret_box).to_be_visible()
    assert secret_box.locator("[data-shown-once-value]").input_value().startswith("whsec_")
    endpoint = page.locator("[data-endpoint]")
    expect(endpoint).to_have_count(1)
    expect(endpoint.locator("[data-endpoint-events]")).to_have_text("全部事件")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "integrations-webhook-phone.png"), full_page=True)

    # Thinking better of a roll at the question leaves the secret as it was.
    asked: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    endpoint.locator("[data-roll-secret]").click()
    expect(secret_box).to_be_visible()
    assert asked and "签名密钥" in asked[0]

    # A test event, then its delivery, made by the server's own worker.
    endpoint.locator("[data-send-test]").click()
    expect(page.locator("h1")).to_have_text("推送记录")
    expect(page.locator(".notice.ok")).to_contain_text("测试事件正在发送")
    expect(page.locator('tr[data-event-type="ping"]')).to_have_count(1)
    assert delivered_within(page, 30)
    delivery = page.locator('tr[data-event-type="ping"]')
    expect(delivery.locator("[data-attempt-status]")).to_have_text("HTTP 204")
    expect(delivery.locator("[data-attempts]")).to_have_text("1")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "integrations-deliveries-phone.png"), full_page=True)

    page.locator('[data-delivery-tab="failed"]').click()
    expect(page.locator("[data-no-deliveries]")).to_have_text("没有这个状态的推送。")
    page.locator('[data-delivery-tab="delivered"]').click()
    expect(page.locator('tr[data-event-type="ping"]')).to_have_count(1)
    page.locator("main > p > a").first.click()
    expect(page.locator("[data-endpoint-counts]")).to_have_attribute(
        "data-endpoint-counts", "1/0/0"
    )
