"""An operator on a phone opens the background jobs from the menu, finds a failed job,
runs it again after a confirmation, and sees the server's own worker run it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_foundation_journey import fits_the_screen
from tests.e2e.test_sandbox_journey import run_async
from tests.e2e.test_work_journey import context_page, sign_in
from tests.integration.conftest import make_settings
from tests.lifecycle_world import build_world
from xingdong.core.db import Database
from xingdong.core.jobs import defer_in_transaction

pytestmark = pytest.mark.e2e

PURGE = "identity:purge_expired_sms_codes"


@pytest.fixture
def phone(browser: Browser, site: str) -> Iterator[Page]:
    yield from context_page(browser, site, "phone")


def a_failed_job(database_url: str) -> tuple[int, str]:
    """A purge job that failed (deferred and marked failed in one transaction, so the
    server's worker never sees it waiting), and an operator's phone."""

    async def build(db: Database) -> tuple[int, str]:
        world = await build_world(database_url, make_settings())
        try:
            async with db.session_scope() as s:
                await defer_in_transaction(s, PURGE)
                job_id = (
                    await s.execute(
                        text("SELECT max(id) FROM procrastinate_jobs WHERE task_name = :t"),
                        {"t": PURGE},
                    )
                ).scalar_one()
                # Taken, then failed, as a worker's failure goes (the events say so).
                for status in ("doing", "failed"):
                    await s.execute(
                        text("UPDATE procrastinate_jobs SET status = :s WHERE id = :id"),
                        {"s": status, "id": job_id},
                    )
            return int(job_id), world.operator.phone
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def test_an_operator_runs_a_failed_job_again_on_a_phone(phone: Page, database_url: str) -> None:
    job_id, operator_phone = a_failed_job(database_url)
    sign_in(phone, operator_phone)
    phone.locator("[data-nav-toggle]").click()
    phone.locator('[data-role-nav="jobs"]').click()
    expect(phone).to_have_url("/ops/jobs")
    expect(phone.locator("h1")).to_have_text("后台任务")
    row = phone.locator(f'[data-job="{job_id}"]')
    expect(row.locator("[data-job-state]")).to_have_text("失败")
    expect(row.locator("[data-job-event]")).to_have_attribute("data-job-event", "failed")
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "job-board-phone.png"), full_page=True)

    # Dismissed, nothing happens; accepted, the job goes back to its queue.
    phone.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("[data-run-again]").click()
    phone.wait_for_timeout(500)  # a form sent would have left the page by now
    expect(phone).to_have_url("/ops/jobs")
    expect(row.locator("[data-job-state]")).to_have_text("失败")
    phone.once("dialog", lambda dialog: dialog.accept())
    row.locator("[data-run-again]").click()
    expect(phone.locator('[role="status"]')).to_have_text("任务已放回队列，几秒内就会运行。")
    expect(phone.locator(f'[data-job="{job_id}"]')).to_have_count(0)

    # The server's worker takes it within seconds.
    phone.locator('[data-job-status="succeeded"]').click()
    for _ in range(80):  # up to 40 s: the worker polls every few seconds, slower under load
        if phone.locator(f'[data-job="{job_id}"]').count():
            break
        phone.wait_for_timeout(500)
        phone.reload()
    expect(phone.locator(f'[data-job="{job_id}"] [data-job-state]')).to_have_text("已成功")
