"""Policy profiles: which task types a deployment allows, and with which guardrails
(DESIGN.md §7).

Paying for engagement is regulated, and differently by market: China's regulator targets
faked follower and like counts (刷量, 非自然涨粉); the US FTC rule 16 CFR §465.8 forbids
buying or selling fake indicators of social media influence. A deployment runs under one
profile, chosen by the ``policy_profile`` setting, and every campaign is held to it by
:func:`check_guardrails` before it can be submitted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from xingdong.campaigns.compliance import Finding, FindingCode, Severity
from xingdong.core.i18n import N_
from xingdong.core.money import yuan


class TaskType(StrEnum):
    FOLLOW = "follow"
    LIKE = "like"
    COMMENT = "comment"
    SHARE = "share"
    SHOOT = "shoot"
    """Make a video to the brand's brief."""
    LIVE_VISIT = "live_visit"
    """Stay some minutes in a live room."""
    PURCHASE = "purchase"
    """Buy a product in the platform's shop through the task's link and keep it (CPS)."""
    PROFILE_AD = "profile_ad"
    """Show the brand's ad card on one's own profile; one unit is a thousand impressions
    (CPM)."""


IMPRESSIONS_PER_UNIT = 1000
"""A profile ad's unit: its price is the price of a thousand impressions (CPM)."""


class UnknownPolicyProfile(ValueError):
    """A profile name that is not one of :data:`PROFILES` (a configuration mistake)."""

    def __init__(self, name: str) -> None:
        known = ", ".join(PROFILES)
        super().__init__(f"unknown policy profile {name!r}; known profiles: {known}")
        self.name = name


@dataclass(frozen=True, kw_only=True)
class PolicyProfile:
    """What campaigns may ask of workers under one regulatory regime."""

    name: str
    description: str
    """A message id (``N_``) saying what the profile is for."""
    allowed_task_types: frozenset[str]
    targeting_required_for: frozenset[str]
    """Task types that must target at least one criterion (age range, regions, interests or
    tiers), so that only people with a plausible genuine interest are paid to act."""
    max_per_hour: Mapping[str, int] = dataclasses.field(hash=False)
    """The highest pacing cap (actions per hour on one target: follows per account, likes
    or comments per video, visits per live room) a campaign of the type may set. A campaign
    of a type listed here must set a cap."""
    min_like_watch_seconds: int
    """The least a like task may ask a worker to watch before liking."""
    real_person_check_for: frozenset[str]
    """Task types whose workers must have passed a real-person check (enforced by the
    work domain when it exists)."""
    max_purchase_reward_percent: int = 30
    """The most a purchase task may pay its worker, as a share of the product's price: a
    reward near the price would pay for an order nobody wants (刷单)."""

    def __post_init__(self) -> None:
        # The profiles are shared by the whole process; nobody may change a cap in place.
        object.__setattr__(self, "max_per_hour", MappingProxyType(dict(self.max_per_hour)))

    def allows(self, task_type: str) -> bool:
        return task_type in self.allowed_task_types

    def pacing_cap(self, task_type: str) -> int | None:
        """The highest cap a campaign of ``task_type`` may set; None when it need set none."""
        return self.max_per_hour.get(task_type)

    def requires_real_person_check(self, task_type: str) -> bool:
        return task_type in self.real_person_check_for


DEFAULT_PROFILE = PolicyProfile(
    name="default",
    description=N_(
        "Every task type, with genuine-interest targeting and pacing caps for follows and "
        "likes, a minimum watch time before a like, and real-person checks for follows, "
        "likes and comments."
    ),
    allowed_task_types=frozenset(TaskType),
    targeting_required_for=frozenset({TaskType.FOLLOW, TaskType.LIKE}),
    max_per_hour={TaskType.FOLLOW: 60, TaskType.LIKE: 120},
    min_like_watch_seconds=15,
    real_person_check_for=frozenset({TaskType.FOLLOW, TaskType.LIKE, TaskType.COMMENT}),
    max_purchase_reward_percent=30,
)

STRICT_PROFILE = PolicyProfile(
    name="strict",
    description=N_(
        "For markets such as the US, where 16 CFR §465.8 forbids buying indicators of social "
        "media influence: no paid follows, likes or shares; only comments in the worker's own "
        "words, video creation, live visits, purchases kept by the buyer and ads on a "
        "creator's profile, all disclosed."
    ),
    allowed_task_types=frozenset(
        {
            TaskType.COMMENT,
            TaskType.SHOOT,
            TaskType.LIVE_VISIT,
            TaskType.PURCHASE,
            TaskType.PROFILE_AD,
        }
    ),
    targeting_required_for=frozenset({TaskType.COMMENT, TaskType.LIVE_VISIT}),
    max_per_hour={TaskType.COMMENT: 30, TaskType.LIVE_VISIT: 300},
    min_like_watch_seconds=15,
    real_person_check_for=frozenset({TaskType.COMMENT, TaskType.SHOOT, TaskType.LIVE_VISIT}),
    max_purchase_reward_percent=20,
)

PROFILES: Mapping[str, PolicyProfile] = MappingProxyType(
    {profile.name: profile for profile in (DEFAULT_PROFILE, STRICT_PROFILE)}
)


def get_profile(name: str) -> PolicyProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownPolicyProfile(name) from None


@dataclass(frozen=True)
class GuardrailInput:
    """The parts of a campaign the guardrails look at."""

    task_type: str
    has_targeting: bool
    """Whether the campaign targets at least one criterion: age range, regions, interests
    or tiers."""
    pacing_per_hour: int | None = None
    """The campaign's cap on actions per hour on one target; None when it sets none."""
    min_watch_seconds: int | None = None
    """For like tasks: how long a worker must watch before liking; None when not asked."""
    reward: int | None = None
    """What the worker is paid per task, in fen."""
    product_price: int | None = None
    """For purchase tasks: the product's price in the shop when the campaign was made."""
    fee_percent: int = 0
    """The platform's share of the unit price (the worker gets the rest, rounded up)."""


def price_split(unit_price: int, fee_percent: int) -> tuple[int, int]:
    """``(reward, fee)``: the platform keeps ``fee_percent`` of the unit price, rounded down."""
    fee = unit_price * fee_percent // 100
    return unit_price - fee, fee


def highest_price(reward: int, fee_percent: int) -> int:
    """The highest unit price whose worker's share (:func:`price_split`) is at most
    ``reward``."""
    if fee_percent >= 100:
        return reward
    price = reward * 100 // (100 - fee_percent) + 2
    while price_split(price, fee_percent)[0] > reward:
        price -= 1
    return price


def check_guardrails(profile: PolicyProfile, spec: GuardrailInput) -> list[Finding]:
    """Every way ``spec`` breaks ``profile``'s guardrails; all of them block submission.

    A task type the profile does not allow is the only finding: its other guardrails mean
    nothing then.
    """
    if not profile.allows(spec.task_type):
        return [
            Finding(
                FindingCode.TASK_TYPE_NOT_ALLOWED,
                Severity.BLOCK,
                "task_type",
                spec.task_type,
                N_("Tasks of type “{excerpt}” are not allowed under this platform's policy."),
            )
        ]
    findings: list[Finding] = []
    if spec.task_type in profile.targeting_required_for and not spec.has_targeting:
        findings.append(
            Finding(
                FindingCode.TARGETING_REQUIRED,
                Severity.BLOCK,
                "targeting",
                spec.task_type,
                N_(
                    "Tasks of type “{excerpt}” must be shown only to people likely to be "
                    "interested: set an age range, regions, interests or creator tiers."
                ),
            )
        )
    cap = profile.pacing_cap(spec.task_type)
    if cap is not None and spec.pacing_per_hour is None:
        findings.append(
            Finding(
                FindingCode.PACING_CAP_REQUIRED,
                Severity.BLOCK,
                "pacing_per_hour",
                spec.task_type,
                N_(
                    "Tasks of type “{excerpt}” need a pacing cap: at most {limit} actions per "
                    "hour on one target."
                ),
                limit=cap,
            )
        )
    elif cap is not None and spec.pacing_per_hour is not None and spec.pacing_per_hour > cap:
        findings.append(
            Finding(
                FindingCode.PACING_CAP_TOO_HIGH,
                Severity.BLOCK,
                "pacing_per_hour",
                str(spec.pacing_per_hour),
                N_(
                    "A pacing cap of {excerpt} actions per hour on one target is above this "
                    "platform's limit of {limit}."
                ),
                limit=cap,
            )
        )
    if spec.task_type == TaskType.LIKE and (
        spec.min_watch_seconds is None or spec.min_watch_seconds < profile.min_like_watch_seconds
    ):
        findings.append(
            Finding(
                FindingCode.WATCH_TIME_TOO_SHORT,
                Severity.BLOCK,
                "min_watch_seconds",
                "" if spec.min_watch_seconds is None else str(spec.min_watch_seconds),
                N_(
                    "Like tasks must ask workers to watch the video for at least {limit} "
                    "seconds before liking."
                ),
                limit=profile.min_like_watch_seconds,
            )
        )
    if spec.task_type == TaskType.PURCHASE:
        findings.extend(_purchase_findings(profile, spec))
    return findings


def _purchase_findings(profile: PolicyProfile, spec: GuardrailInput) -> list[Finding]:
    limit = profile.max_purchase_reward_percent
    if spec.product_price is None:
        return [
            Finding(
                FindingCode.PURCHASE_REWARD_TOO_HIGH,
                Severity.BLOCK,
                "unit_price",
                "",
                N_(
                    "The product's price is not known, so the reward cannot be checked "
                    "against it ({limit}% at most). Choose a product on sale in the shop."
                ),
                limit=limit,
            )
        ]
    if spec.reward is not None and spec.reward * 100 > spec.product_price * limit:
        return [
            Finding(
                FindingCode.PURCHASE_REWARD_TOO_HIGH,
                Severity.BLOCK,
                "unit_price",
                "¥" + yuan(spec.reward),
                N_(
                    "A reward of {excerpt} is more than {limit}% of the product's price: for "
                    "this product the price per completion can be {allowed} at most. More "
                    "would pay for an order nobody wants (刷单). Lower the price, or choose a "
                    "product that costs more."
                ),
                limit=limit,
                allowed="¥"
                + yuan(highest_price(spec.product_price * limit // 100, spec.fee_percent)),
            )
        ]
    return []
