"""The reason line of a feed item in each language."""

from __future__ import annotations

from uuid import uuid4

import pytest

from xingdong.campaigns.models import Campaign
from xingdong.dispatch.service import reason_text
from xingdong.work.service import OpenTask


def item(reason: str, **params: str | int) -> OpenTask:
    return OpenTask(
        campaign=Campaign(id=uuid4()), units_left=3, taken_by_me=0, reason=reason,
        reason_params=dict(params),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "Matches your interest: Parenting"), ("zh_CN", "符合你的兴趣：母婴")],
)
def test_an_interest_is_named_in_the_page_language(locale: str, expected: str) -> None:
    assert reason_text(item("interest_match", interest="母婴"), locale) == expected


def test_an_interest_without_an_english_name_is_shown_as_stored() -> None:
    assert reason_text(item("interest_match", interest="露营"), "en") == (
        "Matches your interest: 露营"
    )


def test_tiers_and_rewards_are_shown_for_people() -> None:
    assert reason_text(item("tier_task", tier="head"), "en") == "For head creators like you"
    assert reason_text(item("good_reward", reward_fen=1250), "en") == "Pays well: ¥12.50"


def test_a_region_is_named_in_the_page_language() -> None:
    assert reason_text(item("region_match", region="广东"), "en") == "For people in Guangdong"
    assert reason_text(item("region_match", region="广东"), "zh_CN") == "面向广东的用户"


def test_every_region_has_an_english_name() -> None:
    from xingdong.identity.validation import REGION_NAMES, REGIONS

    assert set(REGION_NAMES) == set(REGIONS)
    assert all(name.isascii() for name in REGION_NAMES.values())
