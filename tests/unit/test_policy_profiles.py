"""Policy profiles and the guardrails they hold campaigns to."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from xingdong.campaigns.compliance import Finding, FindingCode, Severity
from xingdong.campaigns.policy import (
    DEFAULT_PROFILE,
    PROFILES,
    STRICT_PROFILE,
    GuardrailInput,
    PolicyProfile,
    TaskType,
    UnknownPolicyProfile,
    check_guardrails,
    get_profile,
    highest_price,
    price_split,
)
from xingdong.core.settings import Settings

# A follow or like campaign that meets the default profile's guardrails.
GOOD_FOLLOW = GuardrailInput(task_type="follow", has_targeting=True, pacing_per_hour=60)
GOOD_LIKE = GuardrailInput(
    task_type="like", has_targeting=True, pacing_per_hour=120, min_watch_seconds=15
)


def codes(profile: PolicyProfile, spec: GuardrailInput) -> list[tuple[FindingCode, str, str]]:
    findings = check_guardrails(profile, spec)
    assert all(finding.severity is Severity.BLOCK for finding in findings)
    return [(finding.code, finding.field, finding.excerpt) for finding in findings]


def test_profiles_by_name() -> None:
    assert set(PROFILES) == {"default", "strict"}
    assert get_profile("default") is DEFAULT_PROFILE
    assert get_profile("strict") is STRICT_PROFILE


def test_an_unknown_profile_name_is_a_clear_error() -> None:
    with pytest.raises(
        UnknownPolicyProfile, match="unknown policy profile 'lax'; known profiles: default, strict"
    ):
        get_profile("lax")


def test_the_setting_names_a_known_profile() -> None:
    assert Settings().policy_profile == "default"
    assert Settings(policy_profile="strict").policy_profile == "strict"
    with pytest.raises(ValidationError, match="unknown policy profile 'Strict'"):
        Settings(policy_profile="Strict")


def test_profiles_cannot_be_changed() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_PROFILE.min_like_watch_seconds = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        DEFAULT_PROFILE.max_per_hour["follow"] = 1_000  # type: ignore[index]
    assert DEFAULT_PROFILE.pacing_cap("follow") == 60


# --- default -----------------------------------------------------------------------------


@pytest.mark.parametrize("task_type", list(TaskType))
def test_default_allows_every_task_type(task_type: TaskType) -> None:
    assert DEFAULT_PROFILE.allows(task_type)


@pytest.mark.parametrize("spec", [GOOD_FOLLOW, GOOD_LIKE], ids=["follow", "like"])
def test_default_accepts_a_targeted_paced_campaign(spec: GuardrailInput) -> None:
    assert check_guardrails(DEFAULT_PROFILE, spec) == []


@pytest.mark.parametrize(
    "spec",
    [
        GuardrailInput(task_type="comment", has_targeting=False),
        GuardrailInput(task_type="share", has_targeting=False),
        GuardrailInput(task_type="shoot", has_targeting=False, pacing_per_hour=10_000),
        GuardrailInput(task_type="live_visit", has_targeting=False),
    ],
    ids=lambda spec: spec.task_type,
)
def test_default_sets_no_guardrails_on_other_types(spec: GuardrailInput) -> None:
    assert check_guardrails(DEFAULT_PROFILE, spec) == []


@pytest.mark.parametrize("good", [GOOD_FOLLOW, GOOD_LIKE], ids=["follow", "like"])
def test_default_requires_targeting_for_follows_and_likes(good: GuardrailInput) -> None:
    spec = dataclasses.replace(good, has_targeting=False)
    assert codes(DEFAULT_PROFILE, spec) == [
        (FindingCode.TARGETING_REQUIRED, "targeting", good.task_type)
    ]


@pytest.mark.parametrize(
    ("good", "limit"), [(GOOD_FOLLOW, 60), (GOOD_LIKE, 120)], ids=["follow", "like"]
)
def test_default_requires_a_pacing_cap(good: GuardrailInput, limit: int) -> None:
    [finding] = check_guardrails(DEFAULT_PROFILE, dataclasses.replace(good, pacing_per_hour=None))
    assert finding == Finding(
        code=FindingCode.PACING_CAP_REQUIRED,
        severity=Severity.BLOCK,
        field="pacing_per_hour",
        excerpt=good.task_type,
        message=finding.message,
        limit=limit,
    )
    assert finding.text("en") == (
        f"Tasks of type “{good.task_type}” need a pacing cap: at most {limit} actions per "
        "hour on one target."
    )


@pytest.mark.parametrize(
    ("good", "limit"), [(GOOD_FOLLOW, 60), (GOOD_LIKE, 120)], ids=["follow", "like"]
)
def test_default_refuses_a_cap_above_the_maximum(good: GuardrailInput, limit: int) -> None:
    assert check_guardrails(DEFAULT_PROFILE, dataclasses.replace(good, pacing_per_hour=limit)) == []
    [finding] = check_guardrails(
        DEFAULT_PROFILE, dataclasses.replace(good, pacing_per_hour=limit + 1)
    )
    assert (finding.code, finding.excerpt, finding.limit) == (
        FindingCode.PACING_CAP_TOO_HIGH,
        str(limit + 1),
        limit,
    )
    assert finding.text("en") == (
        f"A pacing cap of {limit + 1} actions per hour on one target is above this platform's "
        f"limit of {limit}."
    )


@pytest.mark.parametrize(("seconds", "excerpt"), [(None, ""), (0, "0"), (14, "14")])
def test_default_refuses_a_like_watch_time_below_the_minimum(
    seconds: int | None, excerpt: str
) -> None:
    [finding] = check_guardrails(
        DEFAULT_PROFILE, dataclasses.replace(GOOD_LIKE, min_watch_seconds=seconds)
    )
    assert (finding.code, finding.field, finding.excerpt, finding.limit) == (
        FindingCode.WATCH_TIME_TOO_SHORT,
        "min_watch_seconds",
        excerpt,
        15,
    )
    assert finding.text("en") == (
        "Like tasks must ask workers to watch the video for at least 15 seconds before liking."
    )


def test_every_broken_guardrail_is_reported() -> None:
    spec = GuardrailInput(task_type="like", has_targeting=False, min_watch_seconds=5)
    assert codes(DEFAULT_PROFILE, spec) == [
        (FindingCode.TARGETING_REQUIRED, "targeting", "like"),
        (FindingCode.PACING_CAP_REQUIRED, "pacing_per_hour", "like"),
        (FindingCode.WATCH_TIME_TOO_SHORT, "min_watch_seconds", "5"),
    ]


def test_an_unknown_task_type_is_not_allowed() -> None:
    spec = GuardrailInput(task_type="banner_ad", has_targeting=True)
    assert codes(DEFAULT_PROFILE, spec) == [
        (FindingCode.TASK_TYPE_NOT_ALLOWED, "task_type", "banner_ad")
    ]


def test_real_person_checks() -> None:
    assert [t for t in TaskType if DEFAULT_PROFILE.requires_real_person_check(t)] == [
        TaskType.FOLLOW,
        TaskType.LIKE,
        TaskType.COMMENT,
    ]
    assert [t for t in TaskType if STRICT_PROFILE.requires_real_person_check(t)] == [
        TaskType.COMMENT,
        TaskType.SHOOT,
        TaskType.LIVE_VISIT,
    ]


# --- strict ------------------------------------------------------------------------------


@pytest.mark.parametrize("good", [GOOD_FOLLOW, GOOD_LIKE], ids=["follow", "like"])
def test_strict_refuses_follows_and_likes_however_well_guarded(good: GuardrailInput) -> None:
    [finding] = check_guardrails(STRICT_PROFILE, good)
    assert (finding.code, finding.field, finding.excerpt) == (
        FindingCode.TASK_TYPE_NOT_ALLOWED,
        "task_type",
        good.task_type,
    )
    assert finding.text("en") == (
        f"Tasks of type “{good.task_type}” are not allowed under this platform's policy."
    )


def test_strict_allows_only_disclosed_creation_comments_visits_purchases_and_ads() -> None:
    assert [t for t in TaskType if STRICT_PROFILE.allows(t)] == [
        TaskType.COMMENT,
        TaskType.SHOOT,
        TaskType.LIVE_VISIT,
        TaskType.PURCHASE,
        TaskType.PROFILE_AD,
    ]
    assert check_guardrails(STRICT_PROFILE, GuardrailInput("profile_ad", has_targeting=False)) == []
    assert codes(STRICT_PROFILE, GuardrailInput(task_type="share", has_targeting=True)) == [
        (FindingCode.TASK_TYPE_NOT_ALLOWED, "task_type", "share")
    ]
    assert check_guardrails(STRICT_PROFILE, GuardrailInput("shoot", has_targeting=False)) == []


def test_strict_guards_comments_with_targeting_and_a_cap() -> None:
    assert check_guardrails(STRICT_PROFILE, GuardrailInput("comment", True, 30)) == []
    assert codes(STRICT_PROFILE, GuardrailInput("comment", False, 31)) == [
        (FindingCode.TARGETING_REQUIRED, "targeting", "comment"),
        (FindingCode.PACING_CAP_TOO_HIGH, "pacing_per_hour", "31"),
    ]
    assert codes(STRICT_PROFILE, GuardrailInput("live_visit", True)) == [
        (FindingCode.PACING_CAP_REQUIRED, "pacing_per_hour", "live_visit")
    ]


def test_a_purchase_reward_may_be_at_most_a_share_of_the_price() -> None:
    def purchase(reward: int, price: int | None) -> GuardrailInput:
        return GuardrailInput("purchase", True, reward=reward, product_price=price)

    # 30% of ¥129.00 is ¥38.70: that much passes, a fen more does not.
    assert check_guardrails(DEFAULT_PROFILE, purchase(3_870, 12_900)) == []
    [finding] = check_guardrails(DEFAULT_PROFILE, purchase(3_871, 12_900))
    assert (finding.code, finding.field, finding.excerpt, finding.limit) == (
        FindingCode.PURCHASE_REWARD_TOO_HIGH,
        "unit_price",
        "¥38.71",
        30,
    )
    assert finding.blocks
    assert "38.71" in finding.text("en") and "30%" in finding.text("en")
    # The strict profile allows less, and a product whose price is unknown is refused.
    assert codes(STRICT_PROFILE, purchase(3_000, 12_900)) == [
        (FindingCode.PURCHASE_REWARD_TOO_HIGH, "unit_price", "¥30.00")
    ]
    assert codes(DEFAULT_PROFILE, purchase(100, None)) == [
        (FindingCode.PURCHASE_REWARD_TOO_HIGH, "unit_price", "")
    ]
    # Other task types have no price to be checked against.
    assert check_guardrails(DEFAULT_PROFILE, GuardrailInput("shoot", True, reward=10**6)) == []


@pytest.mark.parametrize("fee_percent", [0, 1, 20, 33, 90])
def test_the_highest_price_is_the_last_whose_reward_fits(fee_percent: int) -> None:
    def reward_of(price: int) -> int:
        return price_split(price, fee_percent)[0]

    for reward in [*range(400), 3_870, 99_999]:
        price = highest_price(reward, fee_percent)
        assert reward_of(price) <= reward < reward_of(price + 1)
