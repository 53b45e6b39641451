"""Where "contact support" is said, the pages say how: the setting's contact is in every
page's footer and beside the refusals that send people to support."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import register
from tests.integration.answers import csrf_from
from tests.integration.conftest import make_settings
from tests.integration.test_money_pages import sign_in
from tests.integration.test_withdrawals import bind
from xingdong.core.settings import Settings

CONTACT = "客服 400-800-1234"


@pytest.fixture
def settings() -> Settings:
    return make_settings(support_contact=CONTACT)


async def test_the_footer_and_a_refusal_say_how_to_reach_support(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    await bind(client, user)
    await sign_in(client, user.phone)
    wallet = await client.get("/wallet?lang=en")
    footer = wallet.text.split('<footer class="footer">', 1)[1].split("</footer>", 1)[0]
    assert f"Support: {CONTACT}" in footer
    # The payout account is bound once; changing it is support's business.
    again = await client.post(
        "/wallet/payout-account?lang=zh_CN",
        data={
            "kind": "bank",
            "number": "6222700011113333",
            "number_again": "6222700011113333",
            "holder_name": "王小明",
            "csrf_token": csrf_from(wallet.text),
        },
    )
    assert again.status_code == 409
    notice = again.text.split('class="notice error"', 1)[1].split("</p>", 1)[0]
    assert f"客服：{CONTACT}" in notice
