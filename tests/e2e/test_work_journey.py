"""A worker on a phone finds a follow task, claims it, follows the account on the sandbox,
uploads a screenshot and sees the task approved; a reviewer on a desktop works a manual
queue with the keyboard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, expect

from tests.e2e.conftest import ARTIFACTS, VIEWPORTS
from tests.e2e.test_foundation_journey import fits_the_screen
from tests.e2e.test_sandbox_journey import run_async
from tests.integration.conftest import make_settings
from tests.lifecycle_world import (
    BRAND_HANDLE,
    PASSWORD,
    World,
    build_world,
    follow_on_sandbox,
    live_campaign,
    sign_with_agency,
    window_nearly_over,
)
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.evidence.screenshots import render_action_screenshot
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.risk.settings import RiskSettings
from xingdong.work import service as work
from xingdong.work.models import Assignment

pytestmark = pytest.mark.e2e

# The risk engine's least time between a claim and a hand-in a person needs.
FAST_SUBMIT_SECONDS = RiskSettings().min_claim_to_submit_seconds


def context_page(browser: Browser, site: str, viewport: str) -> Iterator[Page]:
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
        base_url=site,
        locale="zh-CN",
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser, site: str) -> Iterator[Page]:
    yield from context_page(browser, site, "phone")


@pytest.fixture
def desktop(browser: Browser, site: str) -> Iterator[Page]:
    yield from context_page(browser, site, "desktop")


def sign_in(page: Page, person_phone: str) -> None:
    page.goto("/login")
    page.fill("#phone", person_phone[-11:])
    page.fill("#password", PASSWORD)
    page.locator('form[action="/login"] button[type=submit]').click()
    expect(page).to_have_url("/")


@dataclass(frozen=True)
class Scene:
    campaign_id: UUID
    phones: list[str]
    reviewer_phone: str
    owner_phone: str
    assignment_ids: list[UUID]


async def handle_of(world: World, person: Person) -> str:
    async with world.db.sessionmaker() as s:
        accounts = await identity.platform_accounts(s, person=person)
    handle: str = accounts[0].handle
    return handle


def set_the_scene(database_url: str, *, review_policy: str, submissions: int) -> Scene:
    """A funded brand with one live follow campaign; ``submissions`` workers have already
    claimed and handed in a link (the first of them also followed)."""

    async def build(_db: Database) -> Scene:
        world = await build_world(database_url, make_settings())
        try:
            # Several hand-ins at once need a plan that has come far enough for them.
            window = (
                window_nearly_over()
                if submissions > 1
                else {"starts_at": utcnow() - timedelta(hours=1)}
            )
            campaign = await live_campaign(world, review_policy=review_policy, **window)
            made = []
            for index, worker in enumerate(world.workers[:submissions]):
                claimed_at = utcnow() - timedelta(minutes=10 - index)
                async with world.db.session_scope() as s:
                    assignment = await work.claim(
                        s, person=worker, campaign_id=campaign.id, settings=world.settings,
                        now=claimed_at,
                    )  # fmt: skip
                if index == submissions - 1:
                    await follow_on_sandbox(await handle_of(world, worker), world.db)
                async with world.db.session_scope() as s:
                    await work.submit(
                        s, person=worker, assignment_id=assignment.id,
                        evidence=work.Evidence(link=f"https://sandbox.example/proof/{index}"),
                        settings=world.settings, now=claimed_at + timedelta(minutes=1),
                    )  # fmt: skip
                made.append(assignment.id)
            return Scene(
                campaign_id=campaign.id,
                phones=[w.phone for w in world.workers],
                reviewer_phone=world.reviewer.phone,
                owner_phone=world.owner.phone,
                assignment_ids=made,
            )
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def assignment(database_url: str, assignment_id: UUID) -> Assignment:
    async def read(db: Database) -> Assignment:
        async with db.sessionmaker() as s:
            found = await s.get(Assignment, assignment_id)
            assert found is not None
            return found

    return run_async(database_url, read)


def task_card(phone: Page, scene: Scene) -> Locator:
    """The scene's campaign in the first worker's task center, signed in on this phone."""
    sign_in(phone, scene.phones[0])
    phone.goto("/tasks")
    card = phone.locator(f'[data-task="{scene.campaign_id}"]')
    expect(card).to_be_visible()
    return card


def test_a_worker_claims_follows_uploads_and_is_approved_on_a_phone(
    phone: Page, database_url: str, tmp_path: Path
) -> None:
    scene = set_the_scene(database_url, review_policy="auto_when_verified", submissions=0)
    card = task_card(phone, scene)
    expect(card.locator("[data-reward-fen]")).to_have_attribute("data-reward-fen", "80")
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "work-tasks-phone.png"), full_page=True)
    card.locator("[data-open-task]").click()
    expect(phone.locator("[data-brief]")).to_be_visible()
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "work-task-phone.png"), full_page=True)
    phone.locator("[data-claim-button]").click()
    claimed = time.monotonic()
    expect(phone.locator('[data-assignment-status="claimed"]')).to_be_visible()
    task_url = phone.url
    assert fits_the_screen(phone)

    # Step 1: do it on the sandbox platform.
    phone.locator("[data-step-target]").click()
    expect(phone.locator(f'[data-profile="{BRAND_HANDLE}"]')).to_be_visible()
    phone.locator("[data-follow-button]").click()
    expect(phone.locator('form[data-following="true"]')).to_be_visible()

    # Steps 2 and 3: a screenshot of the followed account, then submit.
    phone.goto(task_url)
    shot = tmp_path / "followed.png"
    shot.write_bytes(
        render_action_screenshot(
            handle=BRAND_HANDLE, target_title="品牌官方号", done_word="已关注", clock=utcnow(),
            seed=7,
        )
    )  # fmt: skip
    phone.set_input_files("#evidence-file", str(shot))
    phone.screenshot(path=str(ARTIFACTS / "work-assignment-phone.png"), full_page=True)
    # A person takes longer than a few seconds; a faster hand-in is flagged for review.
    time.sleep(max(0.0, FAST_SUBMIT_SECONDS + 1 - (time.monotonic() - claimed)))
    phone.locator("[data-submit-evidence]").click()

    expect(phone.locator('[data-assignment-status="approved"]')).to_be_visible()
    expect(phone.locator('[data-status="approved"]')).to_be_visible()
    expect(phone.locator('[data-verification="verified"]')).to_be_visible()
    expect(phone.locator("[data-evidence-image]")).to_be_visible()
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "work-approved-phone.png"), full_page=True)

    phone.goto("/me/tasks")
    expect(phone.locator('[data-assignment-status="approved"]')).to_have_count(1)

    # The brand, on a phone too, sees the proof beside the hand-in, small.
    phone.context.clear_cookies()
    sign_in(phone, scene.owner_phone)
    phone.goto(f"/campaigns/{scene.campaign_id}#completions")
    thumb = phone.locator("[data-evidence-thumb]")
    expect(thumb).to_have_count(1)
    thumb.scroll_into_view_if_needed()
    expect(thumb).to_be_visible()
    phone.wait_for_function(
        "() => { const i = document.querySelector('[data-evidence-thumb]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert thumb.evaluate("i => i.naturalHeight") == 320  # the small version, not the whole
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "brand-proof-phone.png"), full_page=True)
    assert fits_the_screen(phone)


def creator_under_contract(database_url: str) -> tuple[str, UUID]:
    """A worker signed to an agency that takes 20%, and a live campaign in their feed."""

    async def build(_db: Database) -> tuple[str, UUID]:
        world = await build_world(database_url, make_settings())
        try:
            campaign = await live_campaign(world, starts_at=utcnow() - timedelta(hours=1))
            creator = world.workers[0]
            await sign_with_agency(world, creator, name="星光 MCN", share_percent=20)
            return creator.phone, campaign.id
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def test_a_creator_under_contract_reads_each_card_on_a_phone(
    phone: Page, database_url: str
) -> None:
    """What the agency takes is said on a line of its own under the card's head, so that
    the task type beside the reward stays on one line on a narrow screen."""
    creator_phone, campaign_id = creator_under_contract(database_url)
    sign_in(phone, creator_phone)
    phone.goto("/tasks")
    card = phone.locator(f'[data-task="{campaign_id}"]')
    expect(card.locator("[data-agency-cut]")).to_contain_text("星光 MCN")
    tag = card.locator("[data-task-type-label]")
    height, font = tag.evaluate(
        "e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).fontSize)]"
    )
    assert height < 2 * font, (height, font)  # one line: two would be over 3 font sizes
    head = card.locator(".wk-card-head").bounding_box()
    kept = card.locator("[data-agency-cut]").bounding_box()
    assert head is not None and kept is not None
    assert kept["y"] >= head["y"] + head["height"] - 1
    assert fits_the_screen(phone)


def test_a_worker_hides_a_task_and_a_brand_from_the_feed_and_shows_them_again(
    phone: Page, database_url: str
) -> None:
    scene = set_the_scene(database_url, review_policy="manual", submissions=0)
    card = task_card(phone, scene)

    # "Not for me" opens two buttons big enough for a thumb.
    card.locator(".wk-hide summary").click()
    hide_task = card.locator("[data-hide-task] button")
    expect(hide_task).to_be_visible()
    for button in (hide_task, card.locator("[data-hide-brand] button")):
        box = button.bounding_box()
        assert box is not None and box["height"] >= 36, box
    assert fits_the_screen(phone)
    hide_task.click()
    expect(phone.locator(f'[data-task="{scene.campaign_id}"]')).to_have_count(0)

    # What was hidden is listed, and comes back when shown again.
    phone.goto("/feed/hidden")
    expect(phone.locator(f'[data-hidden="campaign:{scene.campaign_id}"]')).to_be_visible()
    phone.locator("[data-unhide]").click()
    expect(phone.locator("[data-hidden-empty]")).to_be_visible()
    phone.goto("/tasks")
    expect(card).to_be_visible()

    # Hiding a brand asks first: declining keeps the task, accepting hides it.
    card.locator(".wk-hide summary").click()
    phone.once("dialog", lambda dialog: dialog.dismiss())
    card.locator("[data-hide-brand] button").click()
    expect(card).to_be_visible()
    phone.once("dialog", lambda dialog: dialog.accept())
    card.locator("[data-hide-brand] button").click()
    expect(phone.locator(f'[data-task="{scene.campaign_id}"]')).to_have_count(0)
    phone.goto("/feed/hidden")
    expect(phone.locator('[data-hidden^="brand:"]')).to_have_count(1)


def test_an_open_task_center_shows_a_task_held_back_once_another_worker_claims_it(
    phone: Page, desktop: Page, database_url: str
) -> None:
    # Five units over a week, started an hour ago: once one is taken, the campaign is
    # ahead of its plan and takes no other claim for hours.
    scene = set_the_scene(database_url, review_policy="manual", submissions=0)
    card = task_card(phone, scene)
    units = card.locator("[data-units-left]")
    expect(units).to_have_attribute("data-units-left", "5")
    expect(phone.locator("[data-feed-stale]")).to_be_hidden()

    sign_in(desktop, scene.phones[1])
    desktop.goto(f"/tasks/{scene.campaign_id}")
    desktop.locator("[data-claim-button]").click()
    expect(desktop.locator('[data-assignment-status="claimed"]')).to_be_visible()

    # Without a reload, within one refresh of the open task center:
    expect(card).to_have_attribute("data-gone", "paced", timeout=15_000)
    expect(units).to_have_attribute("data-units-left", "4")
    expect(units).to_have_text("剩余 4 / 5 个")
    blocked = card.locator("[data-card-blocked]")
    expect(blocked).to_be_visible()
    expect(blocked).to_contain_text("（北京时间）开放")
    expect(card.locator("[data-open-task]")).to_be_hidden()
    stale = phone.locator("[data-feed-stale]")
    expect(stale).to_be_visible()
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "work-tasks-held-back-phone.png"), full_page=True)

    # Showing the latest tasks reloads the feed, which leaves the held-back task out.
    stale.locator("[data-feed-refresh]").click()
    expect(phone.locator(f'[data-task="{scene.campaign_id}"]')).to_have_count(0)
    # The empty list says when the task opens again, not just "later".
    paced = phone.locator('[data-reason="paced_until"]')
    expect(paced).to_be_visible()
    expect(paced).to_contain_text("（北京时间）开放")


def test_a_reviewer_works_the_queue_with_the_keyboard(desktop: Page, database_url: str) -> None:
    scene = set_the_scene(database_url, review_policy="manual", submissions=3)
    # The two not followed carry a risk reason and come first, oldest first.
    first, second, verified = scene.assignment_ids
    sign_in(desktop, scene.reviewer_phone)
    desktop.goto("/review")
    workbench = desktop.locator("[data-workbench]")
    expect(workbench).to_have_attribute("data-current", str(first))
    expect(desktop.locator('[data-risk-reason="platform_no_follow"]')).to_be_visible()
    desktop.screenshot(path=str(ARTIFACTS / "workbench-desktop.png"), full_page=True)

    # The shortcuts can be turned off, and stay off in this browser.
    toggle = desktop.locator("[data-shortcuts-toggle]")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    desktop.locator("h1").click()  # away from the checkbox, as a stray key press would be
    desktop.keyboard.press("j")
    desktop.wait_for_timeout(300)
    expect(workbench).to_have_attribute("data-current", str(first))
    desktop.reload()
    expect(desktop.locator("[data-shortcuts-toggle]")).not_to_be_checked()
    desktop.locator("[data-shortcuts-toggle]").check()
    desktop.locator("h1").click()

    # Narrowed to what the platform did not find: the two unfollowed ones, and the
    # filter stays on through the keys and the decisions below.
    desktop.locator("[data-filter-check]").select_option("absent")
    desktop.locator("[data-review-filters] button[type=submit]").click()
    expect(desktop.locator("[data-queue-item]")).to_have_count(2)
    expect(desktop.locator("[data-queue-size]")).to_have_attribute("data-queue-size", "2")
    desktop.locator("h1").click()

    desktop.keyboard.press("j")
    expect(workbench).to_have_attribute("data-current", str(second))
    desktop.keyboard.press("k")
    expect(workbench).to_have_attribute("data-current", str(first))
    assert "check=absent" in desktop.url

    # R without a reason asks for one; 3 picks "the action is not there"; R rejects.
    desktop.keyboard.press("r")
    expect(desktop.locator("[data-reason-hint]")).to_be_visible()
    # Enter now (the focus on the first reason) decides nothing: it used to approve.
    desktop.keyboard.press("Enter")
    desktop.wait_for_timeout(300)
    expect(workbench).to_have_attribute("data-current", str(first))
    assert assignment(database_url, first).status == "submitted"
    desktop.keyboard.press("3")
    expect(desktop.locator('[data-reject-reason="3"]')).to_be_checked()
    desktop.keyboard.press("r")
    expect(workbench).to_have_attribute("data-current", str(second))

    # The platform did not see the second one's follow: A asks before approving it.
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    desktop.once("dialog", accept)
    desktop.keyboard.press("a")
    # Nothing else fits the filter; the way back shows the verified one.
    expect(desktop.locator("[data-queue-empty]")).to_be_visible()
    assert len(asked) == 1 and "平台没有查到这个操作" in asked[0]
    desktop.locator("[data-queue-empty] [data-filter-clear]").click()
    expect(workbench).to_have_attribute("data-current", str(verified))
    expect(desktop.locator('[data-verification="verified"]')).to_be_visible()

    desktop.once("dialog", lambda dialog: dialog.accept())
    desktop.locator("[data-bulk-approve]").click()
    expect(desktop.locator("[data-bulk-result]")).to_have_attribute("data-bulk-result", "1")
    expect(desktop.locator("[data-queue-empty]")).to_be_visible()

    rejected = assignment(database_url, first)
    assert (rejected.status, rejected.review_reason) == ("rejected", "action_not_done")
    approved = assignment(database_url, second)
    assert (approved.status, approved.review_reason) == ("approved", "meets_requirements")
    bulk = assignment(database_url, verified)
    assert (bulk.status, bulk.review_reason) == ("approved", "platform_verified")
