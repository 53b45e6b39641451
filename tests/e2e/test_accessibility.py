"""People who use a screen reader, the keyboard or see poorly can use the pages: every
control and navigation has a name, the page and its language links say their language,
errors are read with their fields, the content can be reached past the menu, and text has
enough contrast. Checked through the browser's accessibility tree, on a phone and a desktop
screen, in Chinese and English."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import VIEWPORTS, new_context
from tests.e2e.test_sandbox_journey import run_async
from tests.e2e.test_work_journey import sign_in
from tests.integration.conftest import make_settings
from tests.lifecycle_world import BRAND_HANDLE, build_world, live_campaign, window_nearly_over
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.policy import Actor, OrgRole
from xingdong.core.ratelimit import RateLimits
from xingdong.creators import agencies
from xingdong.identity import api_keys
from xingdong.identity import service as identity
from xingdong.insights import service as insights
from xingdong.platforms.sandbox import ads
from xingdong.platforms.sandbox import service as sandbox
from xingdong.work import service as work

pytestmark = pytest.mark.e2e

PAGE_LANGUAGES = {"zh_CN": "zh-CN", "en": "en"}
# Roles whose elements a person operates, and that need a name to be told apart.
NAMED_ROLES = (
    "button|link|textbox|searchbox|combobox|listbox|checkbox|radio|spinbutton|slider|switch"
)
# In the snapshot a name follows the role in quotes: `- button "Sign in"`, `- textbox: 12`.
UNNAMED_CONTROL = re.compile(rf"^\s*- (?:{NAMED_ROLES})(?: \[[^\]]*\])*(?::.*)?$", re.MULTILINE)
NAVIGATION = re.compile(r'^\s*- navigation(?: "([^"]*)")?', re.MULTILINE)


@dataclass(frozen=True)
class Cast:
    owner: str
    worker: str
    reviewer: str
    operator: str
    org_id: UUID
    campaign_id: UUID
    open_assignment_id: UUID
    agency_id: UUID
    endpoint_id: UUID
    product_id: UUID
    worker_handle: str
    worker_id: UUID


@pytest.fixture
def cast(site: str, database_url: str) -> Cast:
    """A live manual-review campaign with one hand-in waiting for a reviewer, and a second
    worker's claim still open for its evidence; the brand's owner also runs an agency,
    which has signed the first worker and waits for the second one's answer. The brand
    has an API key and a webhook endpoint with a test event sent to it. The brand's shop
    has a product the second worker bought."""

    async def build(_db: Database) -> Cast:
        world = await build_world(database_url, make_settings())
        try:
            campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
            done, waiting = world.workers[:2]
            claimed_at = utcnow() - timedelta(minutes=5)
            async with world.db.session_scope() as s:
                handed_in = await work.claim(
                    s, person=done, campaign_id=campaign.id, settings=world.settings,
                    now=claimed_at,
                )  # fmt: skip
            async with world.db.session_scope() as s:
                await work.submit(
                    s, person=done, assignment_id=handed_in.id,
                    evidence=work.Evidence(link="https://sandbox.example/proof/a11y"),
                    settings=world.settings, now=claimed_at + timedelta(minutes=1),
                )  # fmt: skip
            async with world.db.session_scope() as s:
                open_claim = await work.claim(
                    s, person=waiting, campaign_id=campaign.id, settings=world.settings
                )
            async with world.db.session_scope() as s:
                agency = await identity.create_organisation(
                    s, actor=Actor(person_id=world.owner.id), kind="agency", name="星光 MCN"
                )
                runs = Actor(person_id=world.owner.id, memberships={agency.id: OrgRole.OWNER})
                signed = await agencies.offer_contract(
                    s, actor=runs, org_id=agency.id, phone=done.phone, share_percent=20
                )
                await agencies.answer_offer(s, person=done, contract_id=signed.id, accept=True)
                await agencies.offer_contract(
                    s, actor=runs, org_id=agency.id, phone=waiting.phone, share_percent=15
                )
            owner = await world.actor(world.owner)
            async with world.db.session_scope() as s:
                await api_keys.create_key(
                    s, actor=owner, org_id=world.org_id, name="ERP 同步", access="read"
                )
                # Nothing listens on port 9: the delivery stays pending with its error.
                endpoint = await insights.create_endpoint(
                    s, actor=owner, org_id=world.org_id, url="http://127.0.0.1:9/hook",
                    settings=world.settings.model_copy(update={"webhook_private_targets": True}),
                )  # fmt: skip
                await insights.send_test(
                    s, actor=owner, org_id=world.org_id, endpoint_id=endpoint.id,
                    limits=RateLimits(None), settings=world.settings,
                )  # fmt: skip
            async with world.db.session_scope() as s:
                shop = await sandbox.get_account(s, handle=BRAND_HANDLE)
                product = await sandbox.create_product(
                    s, account=shop, title="保湿精华 30ml", price_fen=12_900
                )
                [bound] = await identity.platform_accounts(s, person=waiting)
                buyer = await sandbox.get_account(s, handle=bound.handle)
                await sandbox.buy(s, account=buyer, product=product, ref="xd-a11y")
                await ads.put_up(s, account=buyer, advertiser=shop, ref="xd-a11y")
            return Cast(
                owner=world.owner.phone,
                worker=waiting.phone,
                reviewer=world.reviewer.phone,
                operator=world.operator.phone,
                org_id=world.org_id,
                campaign_id=campaign.id,
                open_assignment_id=open_claim.id,
                agency_id=agency.id,
                endpoint_id=endpoint.id,
                product_id=product.id,
                worker_handle=bound.handle,
                worker_id=waiting.id,
            )
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


OpenPage = Callable[..., Page]


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def open_page(request: pytest.FixtureRequest, browser: Browser, site: str) -> Iterator[OpenPage]:
    """Opens a page on this screen size, signed in as the person with this phone if given;
    each person in a browser context of their own."""
    contexts = []

    def open_page(phone: str | None = None) -> Page:
        context = new_context(browser, site, request.param)
        contexts.append(context)
        page = context.new_page()
        if phone:
            sign_in(page, phone)
        return page

    yield open_page
    for context in contexts:
        context.close()


def pages_by_person(cast: Cast) -> dict[str | None, list[str]]:
    org, campaign = f"/orgs/{cast.org_id}", f"/campaigns/{cast.campaign_id}"
    agency = f"/orgs/{cast.agency_id}"
    return {
        None: ["/login", "/register", "/", "/password-reset", "/agreement"],
        cast.worker: [
            "/",
            "/tasks",
            f"/tasks/{cast.campaign_id}",
            "/me/tasks",
            f"/me/tasks/{cast.open_assignment_id}",
            "/wallet",
            "/profile",
            "/me/erase",
            "/agency",
            f"/sandbox/products/{cast.product_id}?ref=xd-a11y",
            f"/sandbox/@{cast.worker_handle}",
            f"/sandbox/@{BRAND_HANDLE}?ref=xd-a11y",
        ],
        cast.owner: [
            "/orgs",
            org,
            f"{org}/campaigns",
            f"{org}/campaigns/new",
            campaign,
            f"{campaign}/statement",
            f"{org}/account-statement",
            f"{agency}/account-statement",
            agency,
            f"{agency}/creators",
            f"{agency}/creators?status=offered",
            f"{org}/integrations",
            f"{org}/integrations/webhooks/{cast.endpoint_id}",
            f"{agency}/integrations",
        ],
        cast.reviewer: ["/review"],
        cast.operator: [
            "/ops/campaigns",
            "/ops/disputes",
            "/ops/money",
            "/ops/risk",
            "/ops/people",
            f"/ops/people/{cast.worker_id}",
            "/ops/audit",
            "/ops/dispatch",
            "/ops/review-quality",
            "/ops/jobs?status=",
        ],
    }


def check_page(page: Page, path: str, locale: str) -> None:
    page.goto(path)
    where = f"{path} ({locale})"
    expect(page.locator("html")).to_have_attribute("lang", PAGE_LANGUAGES[locale])
    # The language links are in their own language, and say so.
    for code, tag in PAGE_LANGUAGES.items():
        switch = page.locator(f'a[data-lang="{code}"]')
        if code != locale:
            expect(switch).to_have_attribute("lang", tag)
    # On a phone the menu is folded away; open, it is one of the navigations.
    toggle = page.locator("[data-nav-toggle]")
    if toggle.is_visible():
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    tree = page.locator("body").aria_snapshot()
    unnamed = UNNAMED_CONTROL.findall(tree)
    assert not unnamed, f"{where}: controls without a name: {unnamed}\n{tree}"
    navigations = NAVIGATION.findall(tree)
    assert navigations, f"{where}: no navigation"
    assert all(navigations), f"{where}: a navigation without a name: {navigations}"
    assert len(set(navigations)) == len(navigations), f"{where}: navigations {navigations}"
    for header in page.locator("th").all():
        assert (header.text_content() or "").strip(), f"{where}: an empty table header"


def test_every_page_names_its_controls_navigation_and_language(
    open_page: OpenPage, cast: Cast
) -> None:
    for person, paths in pages_by_person(cast).items():
        page = open_page(person)
        for locale in PAGE_LANGUAGES:
            page.goto(f"/?lang={locale}")
            for path in paths:
                check_page(page, path, locale)


def test_the_keyboard_skips_the_menu_to_the_content(open_page: OpenPage, cast: Cast) -> None:
    page = open_page(cast.worker)
    page.goto("/tasks")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_accessible_name("跳到正文")
    # Shown when focused, where a sighted keyboard user sees it.
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] > 0
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_attribute("href", "/tasks")  # the first filter
    expect(page.locator("main :focus")).to_have_count(1)


def test_field_errors_are_read_with_their_fields(open_page: OpenPage, cast: Cast) -> None:
    page = open_page()
    page.goto("/register?lang=en")
    page.fill("#phone", "12345")
    page.locator('form[action="/register"] button[type=submit]:not([formaction])').click()
    phone = page.locator("#phone")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_accessible_description(
        page.locator('[data-error-for="phone"]').inner_text()
    )
    # The help says what a password needs; the error says what went wrong.
    expect(page.locator("#password")).to_have_accessible_description(
        "At least 8 characters, with letters and digits. "
        + page.locator('[data-error-for="password"]').inner_text()
    )
    expect(page.locator("#display_name")).not_to_have_attribute("aria-invalid", "true")

    worker = open_page(cast.worker)
    worker.goto("/profile")
    worker.fill("#birth_year", "1800")
    worker.locator('form[action="/profile"] button[type=submit]').click()
    expect(worker.locator("#birth_year")).to_have_accessible_description(
        "未满 18 周岁不能接付费任务。 "
        + worker.locator('[data-error-for="birth_year"]').inner_text()
    )
    worker.goto(f"/me/tasks/{cast.open_assignment_id}")
    worker.locator("[data-submit-evidence]").click()
    evidence = worker.locator("#evidence-file")
    expect(evidence).to_have_attribute("aria-invalid", "true")
    expect(evidence).to_have_accessible_description(
        worker.locator('[data-error-for="evidence"]').inner_text()
    )

    owner = open_page(cast.owner)
    owner.goto(f"/orgs/{cast.org_id}/campaigns/new")
    owner.fill("#target", "@nobody_is_here")
    owner.locator("[data-check-target]").click()
    target = owner.locator("#target")
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(target).to_have_accessible_description(owner.locator("[data-target-error]").inner_text())


def relative_luminance(css_colour: str) -> float:
    """WCAG 2's relative luminance of an `rgb(…)` colour as the browser computes it."""

    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (float(v) for v in re.findall(r"[\d.]+", css_colour)[:3])
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted(map(relative_luminance, (foreground, background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_in_the_main_colours_has_enough_contrast(open_page: OpenPage, cast: Cast) -> None:
    page = open_page(cast.worker)
    page.goto("/tasks")
    # The pieces that carry colour, laid on the page itself and on a card.
    page.locator("main").evaluate(
        """main => main.insertAdjacentHTML("beforeend", `
          <div data-sample>
            <a href="#a">link</a> <button class="button">button</button>
            <p class="notice ok">ok</p> <p class="notice warn">warn</p>
            <p class="notice error">error</p> <span class="tag status-live">live</span>
            <span class="tag status-paused">paused</span> <span class="tag pace-on_plan">on</span>
            <span class="badge badge-claimed">claimed</span>
            <span class="badge badge-approved">approved</span>
            <ol class="steps"><li aria-current="step">step</li></ol>
            <section class="card"><a href="#b">link</a> <span class="wk-reward">¥1</span></section>
          </div>`)"""
    )
    # Each piece's text colour and the first background behind it that is not transparent.
    samples = page.locator("[data-sample] :is(a, button, p, span, li)").evaluate_all(
        """elements => elements.map(element => {
          let behind = element;
          while (behind && getComputedStyle(behind).backgroundColor === "rgba(0, 0, 0, 0)") {
            behind = behind.parentElement;
          }
          return [element.outerHTML.slice(0, 60), getComputedStyle(element).color,
                  behind ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)"];
        })"""
    )
    assert len(samples) == 13
    low = [(html, round(contrast(fg, bg), 2)) for html, fg, bg in samples if contrast(fg, bg) < 4.5]
    assert not low, f"text below 4.5:1: {low}"
