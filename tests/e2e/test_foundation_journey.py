"""A person registers, fills a profile, switches language, creates an organisation and
invites a colleague, who signs in and joins — on a phone and on a desktop screen."""

from __future__ import annotations

import itertools
import re

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import ARTIFACTS

PASSWORD = "journeyPass2026"
_phones = itertools.count(15000000000)

pytestmark = pytest.mark.e2e


def open_menu(page: Page) -> None:
    """On a phone the navigation is folded behind the menu button."""
    toggle = page.locator("[data-nav-toggle]")
    if toggle.is_visible() and page.locator("[data-nav]").get_attribute("class") == "nav":
        toggle.click()


def nav_to(page: Page, href: str) -> None:
    open_menu(page)
    page.locator(f'nav a[href="{href}"]').click()


def register_in_browser(page: Page, phone: str, name: str) -> None:
    page.goto("/register")
    page.fill("#phone", phone)
    page.click("[data-send-code]")
    code = page.locator("[data-demo-code]").get_attribute("data-demo-code")
    assert code and len(code) == 6
    page.fill("#code", code)
    page.fill("#password", PASSWORD)
    page.fill("#display_name", name)
    page.locator('form[action="/register"] button[type=submit]:not([formaction])').click()
    expect(page).to_have_url("/profile?welcome=1")


def register_by_api(site: str, phone: str, name: str) -> None:
    with httpx.Client(base_url=site) as http:
        code = http.post("/api/v1/auth/sms-codes", json={"phone": phone}).json()["code"]
        response = http.post(
            "/api/v1/auth/register",
            json={"phone": phone, "code": code, "password": PASSWORD, "display_name": name},
        )
        assert response.status_code == 201, response.text


def sign_in(page: Page, phone: str) -> None:
    page.goto("/login")
    page.fill("#phone", phone)
    page.fill("#password", PASSWORD)
    page.locator('form[action="/login"] button[type=submit]').click()


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_register_profile_language_organisation_and_invitation(page: Page, site: str) -> None:
    viewport = page.viewport_name  # type: ignore[attr-defined]
    owner_phone, colleague_phone = str(next(_phones)), str(next(_phones))
    register_by_api(site, colleague_phone, "同事小王")

    # Register, with a mistake first: the message stands next to the phone field.
    page.goto("/register")
    page.fill("#phone", "12345")
    page.click("[data-send-code]")
    expect(page.locator('[data-error-for="phone"]')).to_be_visible()
    register_in_browser(page, owner_phone, "店长小李")
    assert fits_the_screen(page)

    # Profile: a wrong year is refused beside its field and nothing is saved.
    page.fill("#birth_year", "1850")
    page.click("[data-profile-form] button[type=submit]")
    expect(page.locator('[data-error-for="birth_year"]')).to_be_visible()
    page.fill("#birth_year", "1996")
    page.select_option("#region", "浙江")
    page.check('input[name=interests][value="美妆"]')
    page.check('input[name=interests][value="母婴"]')
    page.click("[data-profile-form] button[type=submit]")
    expect(page.locator(".notice.ok")).to_be_visible()
    page.reload()
    expect(page.locator("#birth_year")).to_have_value("1996")
    expect(page.locator("#region")).to_have_value("浙江")
    expect(page.locator('input[name=interests][value="母婴"]')).to_be_checked()

    # The user agreement, then a sandbox account.
    page.locator("#agreement button[type=submit]").click()
    expect(page.locator('[data-consent="accepted"]')).to_be_visible()
    page.fill("#handle", f"shop_{viewport}")
    page.fill("#followers", "1200")
    page.locator('form[action="/profile/platform"] button').click()
    expect(page.locator(f'[data-bound-handle="shop_{viewport}"]')).to_be_visible()

    # Switch language and back.
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    open_menu(page)
    page.click('a[data-lang="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My profile")
    page.goto("/orgs")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the choice is remembered
    open_menu(page)
    page.click('a[data-lang="zh_CN"]')
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    # Create an organisation: an empty name first, then a real one.
    page.goto("/orgs")
    page.locator('form[action="/orgs"] button').click()
    expect(page.locator('[data-error-for="name"]')).to_be_visible()
    page.select_option("#kind", "brand")
    page.fill("#org-name", "小李美妆店")
    page.locator('form[action="/orgs"] button').click()
    expect(page.locator("h1")).to_contain_text("小李美妆店")
    assert fits_the_screen(page)

    # Invite the colleague by phone.
    page.fill("#invite-phone", colleague_phone)
    page.locator('form[action$="/invitations"] button').click()
    expect(page.locator(f'[data-pending-invite="+86{colleague_phone}"]')).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"org-{viewport}.png"), full_page=True)

    # The home page now leads straight to the new organisation's campaigns.
    page.goto("/")
    home_link = page.locator("[data-home-org] a")
    expect(home_link).to_have_text("小李美妆店：推广活动")
    assert fits_the_screen(page)
    home_link.click()
    expect(page).to_have_url(re.compile(r"/orgs/[0-9a-f-]+/campaigns$"))

    # Sign out; the colleague signs in, accepts, and sees both members.
    open_menu(page)
    page.locator('form[action="/logout"] button').click()
    # The message is said once: the address drops it, so a reload does not say it again.
    flash = page.locator('p.notice.ok[role="status"]')
    expect(flash).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.reload()
    expect(flash).to_have_count(0)
    sign_in(page, colleague_phone)
    nav_to(page, "/orgs")
    invitation = page.locator('[data-invitation="小李美妆店"]')
    expect(invitation).to_be_visible()
    invitation.locator('button[value="accept"]').click()
    expect(page.locator("h1")).to_contain_text("小李美妆店")
    expect(page.locator('[data-member="店长小李"]')).to_be_visible()
    expect(page.locator('[data-member="同事小王"]')).to_be_visible()
    # A plain member sees no invitation form.
    expect(page.locator("#invite-phone")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / f"member-{viewport}.png"), full_page=True)


def join_by_invitation(page: Page, owner_phone: str, member_phone: str) -> None:
    """On the owner's organisation page: invite ``member_phone``, who signs in and
    accepts; the owner is signed in again at the end."""
    page.fill("#invite-phone", member_phone)
    page.locator('form[action$="/invitations"] button').click()
    open_menu(page)
    page.locator('form[action="/logout"] button').click()
    sign_in(page, member_phone)
    page.goto("/orgs")
    page.locator('button[value="accept"]').click()
    open_menu(page)
    page.locator('form[action="/logout"] button').click()
    sign_in(page, owner_phone)


def test_removing_a_member_asks_first(page: Page, site: str) -> None:
    owner_phone, member_phone = str(next(_phones)), str(next(_phones))
    register_by_api(site, member_phone, "要离开的人")
    register_in_browser(page, owner_phone, "老板")
    page.goto("/orgs")
    page.fill("#org-name", "确认测试")
    page.locator('form[action="/orgs"] button').click()
    org_url = page.url.split("?")[0]
    join_by_invitation(page, owner_phone, member_phone)
    page.goto(org_url)
    row = page.locator('[data-member="要离开的人"]')
    # Dismissing the confirmation keeps the member.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("button.danger").click()
    expect(row).to_be_visible()
    # Accepting it removes them.
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.danger").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    expect(page.locator('[data-member="要离开的人"]')).to_have_count(0)


def test_wrong_password_shows_a_message_on_the_form(page: Page, site: str) -> None:
    phone = str(next(_phones))
    register_by_api(site, phone, "某人")
    page.goto("/login?lang=en")
    page.fill("#phone", phone)
    page.fill("#password", "notMyPass1")
    page.locator('form[action="/login"] button[type=submit]').click()
    expect(page.locator(".notice.error")).to_have_text("Wrong phone number or password.")
    expect(page.locator("#phone")).to_have_value(phone)


def test_a_brand_owner_tops_up_through_the_sandbox_provider(page: Page, site: str) -> None:
    register_in_browser(page, str(next(_phones)), "充值的老板")
    page.goto("/orgs")
    page.fill("#org-name", "充值测试品牌")
    page.locator('form[action="/orgs"] button').click()
    expect(page.locator("[data-balance-fen]")).to_have_attribute("data-balance-fen", "0")
    # A wrong amount is refused beside the field.
    page.fill("#top-up-amount", "12.345")
    page.locator('form[action$="/deposits"] button').click()
    expect(page.locator('[data-error-for="amount"]')).to_be_visible()
    page.fill("#top-up-amount", "500")
    page.locator('form[action$="/deposits"] button').click()
    expect(page.locator("[data-sandbox-checkout]")).to_be_visible()
    checkout_url = page.url
    page.locator('button[value="pay"]').click()
    expect(page.locator("[data-balance-fen]")).to_have_attribute("data-balance-fen", "50000")
    expect(page.locator('[data-deposit-status="paid"]')).to_have_count(1)
    # The checkout page of a paid order no longer offers to pay.
    page.goto(checkout_url)
    expect(page.locator("[data-sandbox-checkout]")).to_be_visible()
    expect(page.locator('button[value="pay"]')).to_have_count(0)


def test_a_button_asks_its_own_question_and_its_siblings_do_not(page: Page) -> None:
    # As on the risk console: "Confirm fraud" asks before freezing accounts, "Clear" in
    # the same form does not.
    page.goto("/login")
    page.evaluate(
        """() => {
          const form = document.createElement("form");
          form.method = "get";
          form.action = "/login";
          form.innerHTML = '<button name="decision" value="confirm" data-confirm="Sure?">A</button>'
            + '<button name="decision" value="clear">B</button>';
          document.body.append(form);
        }"""
    )
    questions: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator('button[value="confirm"]').click()
    page.wait_for_timeout(300)
    assert questions == ["Sure?"]
    assert "decision=" not in page.url  # dismissed: nothing sent
    page.on("dialog", dismiss)  # any question now would be a mistake
    page.locator('button[value="clear"]').click()
    page.wait_for_url("**decision=clear**")
    assert questions == ["Sure?"]


def test_changing_a_role_asks_first_and_the_last_owner_is_told_what_to_do(
    page: Page, site: str
) -> None:
    owner_phone, member_phone = str(next(_phones)), str(next(_phones))
    register_by_api(site, member_phone, "新主管")
    register_in_browser(page, owner_phone, "唯一的老板")
    page.goto("/orgs?lang=en")
    page.fill("#org-name", "角色测试")
    page.locator('form[action="/orgs"] button').click()
    org_url = page.url.split("?")[0]
    # The only owner may not leave, and reads how to (make someone else an owner first)
    # where the button would be, before asking.
    me = page.locator('[data-member="唯一的老板"]')
    expect(me.locator("button.danger")).to_have_count(0)
    expect(me.locator("[data-sole-owner]")).to_have_text(
        "You are the only owner: make another member an owner before you leave."
    )
    join_by_invitation(page, owner_phone, member_phone)
    page.goto(org_url)
    role = page.locator('[data-member="新主管"] select[name="role"]')
    # Dismissing the confirmation changes nothing, and the choice shows the role again.
    questions: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    role.select_option("owner")
    expect(role).to_have_value("member")
    assert questions == [
        "Change the role of 新主管? Owners manage members and the organisation's money."
    ]
    page.reload()
    expect(role).to_have_value("member")
    page.once("dialog", lambda dialog: dialog.accept())
    role.select_option("owner")
    expect(page.locator(".notice.ok")).to_have_text("The role is changed.")
    expect(role).to_have_value("owner")
    # With a second owner, the first may leave.
    expect(me.locator("button.danger")).to_have_text("Leave")
    expect(me.locator("[data-sole-owner]")).to_have_count(0)


def test_a_question_names_an_account_number_as_it_will_be_shown(page: Page) -> None:
    # As the payout form asks before binding: masked as the server masks it once bound.
    page.goto("/login")
    page.evaluate(
        """() => {
          const form = document.createElement("form");
          form.method = "get";
          form.action = "/login";
          form.setAttribute("data-confirm-filled", "Bind {number:masked} of {holder}?");
          form.innerHTML = '<input name="number"><input name="holder" value="林小晴">'
            + '<button id="ask">Bind</button>';
          document.body.append(form);
        }"""
    )
    questions: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    for typed in ("xiaolin@example.com", "138-1234-５６７８", "6222 5000 1111 2222"):
        page.fill('input[name="number"]', typed)
        page.locator("#ask").click()
        page.wait_for_timeout(200)
    assert questions == [
        "Bind x***@example.com of 林小晴?",
        "Bind 138****5678 of 林小晴?",
        "Bind **** 2222 of 林小晴?",
    ]
