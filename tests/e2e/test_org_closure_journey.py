"""On a phone, in Chinese: the only owner of a brand with money in its balance opens
"close the organisation" from the organisation page and is told why it must wait, with
no form; with the money refunded, they read what closing does, are told when the name is
mistyped (and nothing changes), confirm the dialog, land on their organisations with the
brand gone, and can now erase their own account."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.test_accessibility import check_page
from tests.e2e.test_foundation_journey import fits_the_screen
from tests.e2e.test_work_journey import context_page, sign_in
from tests.factories import PASSWORD, next_phone

pytestmark = pytest.mark.e2e

NAME = "关店测试品牌"


@pytest.fixture
def phone(browser: Browser, site: str) -> Iterator[Page]:
    yield from context_page(browser, site, "phone")


def owner_with_a_top_up(site: str) -> tuple[str, str, str, dict[str, str]]:
    """An owner's number, their brand's id, a top-up's id and their API headers."""
    number = next_phone()
    with httpx.Client(base_url=site) as http:
        code = http.post("/api/v1/auth/sms-codes", json={"phone": number}).json()["code"]
        registered = http.post(
            "/api/v1/auth/register", json={"phone": number, "code": code, "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        org_id = http.post(
            "/api/v1/orgs", json={"kind": "brand", "name": NAME}, headers=auth
        ).json()["id"]
        deposit = http.post(
            f"/api/v1/orgs/{org_id}/deposits", json={"amount_fen": 10_000},
            headers={**auth, "Idempotency-Key": "e2e-close"},
        ).json()  # fmt: skip
    return number, org_id, deposit["id"], auth


def test_the_only_owner_closes_a_brand_on_a_phone(phone: Page, site: str) -> None:
    page = phone
    number, org_id, deposit_id, auth = owner_with_a_top_up(site)
    sign_in(page, number)
    # Paid at the sandbox provider's checkout, as the payer would.
    page.goto(f"/sandbox/pay/{deposit_id}")
    page.locator('button[name=decision][value="pay"]').click()
    expect(page).to_have_url(f"/orgs/{org_id}")

    # Money in the balance: told why, no form.
    page.goto(f"/orgs/{org_id}")
    page.locator("[data-open-close]").click()
    expect(page).to_have_url(f"/orgs/{org_id}/close")
    expect(page.locator("h1")).to_have_text(f"关闭 {NAME}")
    expect(page.locator("[data-closure]")).to_have_attribute("data-closure", "blocked")
    expect(page.locator('[data-blocker="money_available"]')).to_contain_text("¥100.00")
    expect(page.locator("[data-close-organisation]")).to_have_count(0)
    assert fits_the_screen(page)

    # Refunded: what closing does, and the form.
    with httpx.Client(base_url=site) as http:
        refund = http.post(
            f"/api/v1/orgs/{org_id}/deposits/{deposit_id}/refunds", json={"amount_fen": 10_000},
            headers={**auth, "Idempotency-Key": "e2e-refund"},
        )  # fmt: skip
        assert refund.status_code == 201, refund.text
    expect_refunded = 30
    for _ in range(expect_refunded):  # the job asks the sandbox provider within seconds
        page.goto(f"/orgs/{org_id}/close")
        if page.locator("[data-closure]").get_attribute("data-closure") == "allowed":
            break
        page.wait_for_timeout(500)
    expect(page.locator("[data-closure]")).to_have_attribute("data-closure", "allowed")
    expect(page.locator("[data-closure-members]")).to_contain_text("1 人")
    assert fits_the_screen(page)
    check_page(page, f"/orgs/{org_id}/close", "zh_CN")
    page.goto(f"/orgs/{org_id}/close")

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)

    # A mistyped name: told beside the field; nothing closed.
    page.fill("#name", "关店")
    page.fill("#password", PASSWORD)
    page.locator("[data-close-organisation]").click()
    expect(page.locator("#name-error")).to_contain_text(NAME)
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#name")).to_have_value("关店")
    assert dialogs == [f"确定永久关闭 {NAME} 吗？此操作无法撤销。"]

    page.fill("#name", NAME)
    page.fill("#password", PASSWORD)
    page.locator("[data-close-organisation]").click()
    expect(page).to_have_url("/orgs")
    expect(page.locator(".notice.ok")).to_contain_text("机构已关闭。")
    expect(page.get_by_text(NAME)).to_have_count(0)
    page.goto(f"/orgs/{org_id}")
    expect(page.locator("[data-org-close]")).to_have_count(0)

    # Nothing holds the account any more.
    page.goto("/me/erase")
    expect(page.locator("[data-erasure]")).to_have_attribute("data-erasure", "allowed")
