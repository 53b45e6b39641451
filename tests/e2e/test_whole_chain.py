"""The whole chain in real browsers, each person on their own device: a brand owner
creates and funds a campaign, an operator approves it, a worker claims it, follows the
account on the sandbox platform and uploads a screenshot, a reviewer approves it, the
hold ends (the retention job finds the follow still there), the reward shows as
withdrawable and the worker withdraws it; every ledger invariant holds at the end."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_foundation_journey import fits_the_screen
from tests.e2e.test_sandbox_journey import run_async
from tests.e2e.test_work_journey import context_page, handle_of, sign_in
from tests.integration.conftest import make_settings
from tests.lifecycle_world import BRAND_HANDLE, build_world
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.evidence.screenshots import render_action_screenshot
from xingdong.ledger import service as ledger
from xingdong.work import service as work
from xingdong.work.models import Assignment

pytestmark = pytest.mark.e2e

UNIT_PRICE_YUAN = "15"
REWARD_FEN = 1_200  # 80% of ¥15 with the default platform fee of 20%
WITHDRAW_YUAN = "10"


@dataclass(frozen=True)
class Cast:
    org_id: UUID
    owner: str
    operator: str
    reviewer: str
    worker: str
    worker_handle: str


def cast(database_url: str) -> Cast:
    """A funded brand, an operator, a reviewer and a worker with a bound sandbox account
    (as the foundation and money journeys leave them)."""

    async def build(_db: Database) -> Cast:
        world = await build_world(database_url, make_settings(), workers=1)
        try:
            return Cast(
                org_id=world.org_id,
                owner=world.owner.phone,
                operator=world.operator.phone,
                reviewer=world.reviewer.phone,
                worker=world.workers[0].phone,
                worker_handle=await handle_of(world, world.workers[0]),
            )
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


@pytest.fixture
def devices(browser: Browser, site: str) -> Iterator[dict[str, Page]]:
    opened = {
        "owner": context_page(browser, site, "phone"),
        "operator": context_page(browser, site, "phone"),
        "worker": context_page(browser, site, "phone"),
        "reviewer": context_page(browser, site, "desktop"),
    }
    pages = {name: next(gen) for name, gen in opened.items()}
    yield pages
    for gen in opened.values():
        next(gen, None)


def create_and_submit(owner: Page, org_id: UUID) -> str:
    """The step-by-step form, then submit (funds the escrow); answers the campaign URL."""
    owner.goto(f"/orgs/{org_id}/campaigns/new")
    step = owner.locator
    owner.select_option("#task_type", "follow")
    owner.fill("#target", "@" + BRAND_HANDLE)
    step('fieldset[data-step="1"] [data-go="2"]').click()
    expect(step("[data-target-title]")).to_have_text("品牌官方号")
    owner.fill("#title", "关注品牌官方号，看新品实测")
    owner.fill("#brief", "关注我们的账号，每周五晚八点有新品直播。")
    owner.fill("#disclosure", "广告：本任务由品牌方赞助")
    step('fieldset[data-step="2"] [data-go="3"]').click()
    owner.fill("#quantity", "2")
    owner.fill("#unit_price", UNIT_PRICE_YUAN)
    expect(step("[data-reward]")).to_have_text("12.00")
    expect(step("[data-total]")).to_have_text("30.00")
    step('fieldset[data-step="3"] [data-go="4"]').click()
    step('input[name=interests][value="美妆"]').check()
    owner.fill("#pacing_per_hour", "30")
    owner.select_option("#review_policy", "manual")
    step("[data-review]").click()
    expect(step("[data-findings-clear]")).to_be_visible()
    step("[data-create]").click()
    expect(step('h1 [data-campaign-status="draft"]')).to_be_visible()
    owner.once("dialog", lambda dialog: dialog.accept())  # funding asks first
    step("[data-submit-campaign]").click()
    expect(step('h1 [data-campaign-status="pending_approval"]')).to_be_visible()
    expect(step('[data-progress="escrow"]')).to_have_text("30.00")
    return owner.url.split("?")[0]


def assignment_of(database_url: str, campaign_id: UUID) -> Assignment:
    async def read(db: Database) -> Assignment:
        async with db.sessionmaker() as s:
            rows = (
                await s.execute(
                    Assignment.__table__.select().where(Assignment.campaign_id == campaign_id)
                )
            ).all()
            assert len(rows) == 1
            found = await s.get(Assignment, rows[0].id)
            assert found is not None
            return found

    return run_async(database_url, read)


def end_the_hold(database_url: str, hold_until: datetime | None) -> dict[str, int]:
    """What the settle-holds job does when it runs after the hold."""
    assert hold_until is not None

    async def settle(db: Database) -> dict[str, int]:
        async with db.session_scope() as s:
            return await work.settle_holds(s, now=hold_until + timedelta(minutes=1))

    return run_async(database_url, settle)


def ledger_problems(database_url: str) -> list[str]:
    async def check(db: Database) -> list[str]:
        async with db.sessionmaker() as s:
            return (await ledger.verify(s)).problems

    return run_async(database_url, check)


def test_from_a_brand_s_campaign_to_a_worker_s_withdrawal(
    devices: dict[str, Page], database_url: str, tmp_path: Path
) -> None:
    people = cast(database_url)
    owner, operator, worker, reviewer = (
        devices["owner"], devices["operator"], devices["worker"], devices["reviewer"],
    )  # fmt: skip

    # The brand: create, fund into escrow, ask for approval.
    sign_in(owner, people.owner)
    campaign_url = create_and_submit(owner, people.org_id)
    campaign_id = UUID(campaign_url.rstrip("/").rsplit("/", 1)[-1])

    # The operator approves it on the approval queue.
    sign_in(operator, people.operator)
    operator.goto("/ops/campaigns")
    card = operator.locator(f'[data-ops-campaign="{campaign_id}"]')
    expect(card).to_be_visible()
    card.locator("textarea[name=note]").fill("文案合规")
    operator.once("dialog", lambda dialog: dialog.accept())
    card.locator("[data-approve]").click()
    expect(operator.locator(f'[data-ops-campaign="{campaign_id}"]')).to_have_count(0)

    # The brand keeps its campaign's page open on the phone while workers take it.
    owner.goto(campaign_url)
    taken_line = owner.locator("#delivery polyline[data-actual]")
    before = taken_line.get_attribute("points")
    expect(owner.locator('#delivery [data-delivery="actual_percent"]')).to_have_text("0")
    expect(owner.locator("[data-ahead]")).to_be_hidden()

    # The worker finds it, claims it, follows on the sandbox, hands in a screenshot.
    sign_in(worker, people.worker)
    worker.goto("/tasks")
    task = worker.locator(f'[data-task="{campaign_id}"]')
    expect(task.locator("[data-reward-fen]")).to_have_attribute("data-reward-fen", str(REWARD_FEN))
    task.locator("[data-open-task]").click()
    with worker.expect_request(
        lambda r: r.method == "POST" and r.url.endswith("/claim")
    ) as claim_request:
        worker.locator("[data-claim-button]").click()
    expect(worker.locator('[data-assignment-status="claimed"]')).to_be_visible()
    # The page sent the anti-cheat signals with the claim: its device and the tap's path.
    sent = parse_qs(claim_request.value.post_data or "")
    assert re.fullmatch(r"[0-9a-f]{32}", sent["device_id"][0])
    assert re.fullmatch(r"[0-9a-f]{8}", sent["device_summary"][0])
    path = json.loads(sent["trajectory"][0])
    assert path and all(len(sample) == 3 for sample in path)
    task_url = worker.url

    # The open page redraws its delivery chart as it refreshes (every ten seconds): the
    # line of units taken climbs to one of two, drawn up to now.
    expect(owner.locator('#delivery [data-delivery="actual_percent"]')).to_have_text(
        "50", timeout=15_000
    )
    assert taken_line.get_attribute("points") != before
    taken = taken_line.bounding_box()
    assert taken is not None and taken["height"] > 10, taken
    assert owner.locator("#delivery [data-now]").get_attribute("hidden") is None
    # Half the units minutes into the window is far ahead of the plan: the page says so.
    expect(owner.locator("[data-ahead]")).to_be_visible()
    assert fits_the_screen(owner)

    worker.locator("[data-step-target]").click()
    expect(worker.locator(f'[data-profile="{BRAND_HANDLE}"]')).to_be_visible()
    worker.locator("[data-follow-button]").click()
    expect(worker.locator('form[data-following="true"]')).to_be_visible()
    worker.goto(task_url)
    shot = tmp_path / "followed.png"
    shot.write_bytes(
        render_action_screenshot(
            handle=BRAND_HANDLE, target_title="品牌官方号", done_word="已关注", clock=utcnow(),
            seed=11,
        )
    )  # fmt: skip
    worker.set_input_files("#evidence-file", str(shot))
    worker.locator("[data-submit-evidence]").click()
    expect(worker.locator('[data-assignment-status="submitted"]')).to_be_visible()
    assert fits_the_screen(worker)

    # The reviewer sees the screenshot and the platform's word, and approves (key A).
    sign_in(reviewer, people.reviewer)
    reviewer.goto("/review")
    expect(reviewer.locator("[data-evidence-image]")).to_be_visible()
    expect(reviewer.locator('[data-verification="verified"]')).to_be_visible()
    expect(reviewer.locator("[data-actor-handle]")).to_have_text("@" + people.worker_handle)
    # Beside other runs' hand-ins of the same picture the checks may flag this one (a near
    # copy): approving it then asks first, and the reviewer approves all the same.
    reviewer.once("dialog", lambda dialog: dialog.accept())
    reviewer.keyboard.press("a")
    expect(reviewer.locator("[data-queue-empty]")).to_be_visible()

    # The reward is in hold; the brand sees the completion and the spend.
    worker.goto(task_url)
    expect(worker.locator('[data-assignment-status="approved"]')).to_be_visible()
    worker.goto("/wallet")
    expect(worker.locator("[data-pending-fen]")).to_have_attribute(
        "data-pending-fen", str(REWARD_FEN)
    )
    expect(worker.locator("[data-available-fen]")).to_have_attribute("data-available-fen", "0")
    # The approved reward reads as in hold, not as done, with when it can be withdrawn.
    held = worker.locator('[data-movement="task_reward"] [data-movement-state]')
    expect(held).to_contain_text("已通过，进入保留期")
    expect(held.locator("[data-hold-until]")).to_contain_text("起可提现")

    # After the hold the follow is still there: the reward becomes withdrawable.
    approved = assignment_of(database_url, campaign_id)
    assert approved.status == "approved"
    settled = end_the_hold(database_url, approved.hold_until)
    assert settled.get("released") == 1, settled
    worker.goto("/wallet")
    expect(worker.locator("[data-available-fen]")).to_have_attribute(
        "data-available-fen", str(REWARD_FEN)
    )
    expect(worker.locator("[data-pending-fen]")).to_have_attribute("data-pending-fen", "0")

    # The worker binds a payout account once and withdraws; the sandbox provider pays.
    # Two numbers that differ are the page's to point out, not a question's.
    unasked: list[str] = []

    def refuse(dialog: Dialog) -> None:
        unasked.append(dialog.message)
        dialog.dismiss()

    worker.on("dialog", refuse)
    worker.select_option("#payout-kind", "alipay")
    worker.fill("#payout-holder", "林小晴")
    worker.fill("#payout-number", "13812345678")
    worker.fill("#payout-number-again", "13812345679")
    worker.locator('form[action="/wallet/payout-account"] button[type=submit]').click()
    expect(worker.locator('[data-error-for="number_again"]')).to_be_visible()
    assert unasked == []
    worker.remove_listener("dialog", refuse)
    worker.select_option("#payout-kind", "alipay")
    worker.fill("#payout-holder", "林小晴")
    worker.fill("#payout-number", "13812345678")
    worker.fill("#payout-number-again", "138 1234 5678")
    bind_question: list[str] = []

    def bind_once(dialog: Dialog) -> None:
        bind_question.append(dialog.message)
        dialog.accept()

    worker.once("dialog", bind_once)  # bound once: asked first, naming what is bound
    worker.locator('form[action="/wallet/payout-account"] button[type=submit]').click()
    expect(worker.locator("[data-payout-masked]")).to_be_visible()
    assert len(bind_question) == 1
    assert all(part in bind_question[0] for part in ("支付宝", "138****5678", "林小晴", "一次"))
    # Nothing to confirm at ¥0: the page says what is wrong instead.
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    worker.on("dialog", answer)
    worker.fill("#withdraw-amount", "0")
    worker.locator('form[action="/wallet/withdrawals"] button[type=submit]').click()
    expect(worker.locator('[data-error-for="amount"]')).to_be_visible()
    assert asked == []
    # Nor for three decimals (never rounded in the question) or more than is available.
    for typed in ("9.995", "99999"):
        worker.fill("#withdraw-amount", typed)
        worker.locator('form[action="/wallet/withdrawals"] button[type=submit]').click()
        expect(worker.locator(".notice.error[role=alert]")).to_be_visible()
        expect(worker.locator("#withdraw-amount")).to_have_value(typed)
    assert asked == []
    # The question names the amount, the fee and what arrives.
    worker.fill("#withdraw-amount", WITHDRAW_YUAN)
    worker.locator('form[action="/wallet/withdrawals"] button[type=submit]').click()
    expect(worker.locator("[data-withdrawal-status]")).to_have_count(1)
    worker.remove_listener("dialog", answer)
    assert len(asked) == 1 and all(f"¥{x}" in asked[0] for x in ("10.00", "1.00", "9.00"))
    expect(worker.locator("[data-withdrawal-status]")).to_contain_text("¥9.00")
    for _ in range(60):
        worker.goto("/wallet")
        if worker.locator('[data-withdrawal-status="paid"]').count():
            break
        worker.wait_for_timeout(500)
    expect(worker.locator('[data-withdrawal-status="paid"]')).to_be_visible()
    left = int(worker.locator("[data-available-fen]").get_attribute("data-available-fen") or -1)
    assert left == REWARD_FEN - 1_000  # the fee comes out of the amount withdrawn
    assert fits_the_screen(worker)
    worker.screenshot(path=str(ARTIFACTS / "chain-wallet-phone.png"), full_page=True)

    # The brand's page shows one completion paid from escrow.
    owner.goto(campaign_url)
    expect(owner.locator('[data-progress="units_done"]')).to_have_text("1")
    expect(owner.locator('[data-progress="spent"]')).to_have_text("15.00")
    expect(owner.locator('[data-progress="escrow"]')).to_have_text("15.00")
    assert ledger_problems(database_url) == []
