"""On phones: an agency's owner creates the agency and offers a creator a contract, the
creator accepts it after reading the share in the confirmation, and both see it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import ARTIFACTS, new_context
from tests.e2e.test_foundation_journey import fits_the_screen, register_by_api, sign_in

_phones = itertools.count(15600000000)

pytestmark = pytest.mark.e2e


@pytest.fixture
def phones(browser: Browser, site: str) -> Iterator[tuple[Page, Page]]:
    """Two phones, each with its own cookies: the owner's and the creator's."""
    contexts = [new_context(browser, site, "phone") for _ in range(2)]
    yield contexts[0].new_page(), contexts[1].new_page()
    for context in contexts:
        context.close()


def test_an_agency_signs_a_creator_who_accepts_on_a_phone(
    phones: tuple[Page, Page], site: str
) -> None:
    owner, creator = phones
    owner_phone, creator_phone = str(next(_phones)), str(next(_phones))
    register_by_api(site, owner_phone, "机构老板")
    register_by_api(site, creator_phone, "小美")

    # The owner creates the agency and opens its creators from the organisation page.
    sign_in(owner, owner_phone)
    expect(owner).to_have_url(re.compile(r"/$"))
    owner.goto("/orgs")
    owner.select_option("#kind", "agency")
    owner.fill("#org-name", "星光 MCN")
    owner.locator('form[action="/orgs"] button').click()
    expect(owner.locator("[data-org-creators]")).to_contain_text("生效中：0 · 待回复邀请：0")
    owner.locator("[data-manage-creators]").click()
    expect(owner.locator("h1")).to_have_text("创作者")

    # A share above the limit is refused beside its field; then the offer goes out.
    owner.fill("#offer-phone", creator_phone)
    owner.fill("#offer-share", "60")
    owner.locator("[data-offer-form] button[type=submit]").click()
    expect(owner.locator('[data-error-for="share_percent"]')).to_be_visible()
    expect(owner.locator("#offer-share")).to_have_attribute("aria-invalid", "true")
    owner.fill("#offer-share", "20")
    owner.locator("[data-offer-form] button[type=submit]").click()
    expect(owner.locator(".notice.ok")).to_be_visible()
    offer = owner.locator('tr[data-contract-status="offered"]')
    expect(offer).to_have_count(1)
    expect(offer.locator("[data-contract-phone]")).to_contain_text(creator_phone[-4:])
    expect(owner.locator('[data-contract-count="offered"]')).to_have_text("1")
    assert fits_the_screen(owner)
    owner.screenshot(path=str(ARTIFACTS / "agency-offer-phone.png"), full_page=True)

    # The creator finds the offer from the home page and accepts it, told the share first.
    sign_in(creator, creator_phone)
    expect(creator).to_have_url(re.compile(r"/$"))
    waiting = creator.locator('[data-home-agency-offers="1"] a')
    expect(waiting).to_be_visible()
    waiting.click()
    expect(creator).to_have_url(re.compile(r"/agency$"))
    card = creator.locator('[data-agency-offer="星光 MCN"]')
    expect(card).to_contain_text("星光 MCN 邀请签约你，抽取你任务奖励的 20% 作为分成。")
    assert fits_the_screen(creator)
    asked: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    # Thinking better of it at the question leaves the offer as it was.
    creator.once("dialog", lambda dialog: answer(dialog, accept=False))
    card.locator('button[value="accept"]').click()
    expect(card).to_be_visible()
    creator.once("dialog", lambda dialog: answer(dialog, accept=True))
    card.locator('button[value="accept"]').click()
    expect(creator.locator(".notice.ok")).to_be_visible()
    assert len(asked) == 2 and "20%" in asked[1] and "星光 MCN" in asked[1]
    signed = creator.locator('[data-agency-contract="星光 MCN"]')
    expect(signed).to_be_visible()
    expect(signed.locator("[data-share-percent]")).to_have_text("20%")
    expect(creator.locator("[data-agency-offer]")).to_have_count(0)
    creator.screenshot(path=str(ARTIFACTS / "agency-creator-phone.png"), full_page=True)
    creator.goto("/profile")
    expect(creator.locator('[data-profile-agency="星光 MCN"]')).to_be_visible()

    # The owner sees the creator signed, by name, with the tier and the share.
    owner.goto(owner.url.split("?")[0])
    expect(owner.locator('[data-contract-count="active"]')).to_have_text("1")
    row = owner.locator('tr[data-creator="小美"]')
    expect(row).to_be_visible()
    expect(row.locator("[data-share-percent]")).to_have_text("20%")
    assert fits_the_screen(owner)
