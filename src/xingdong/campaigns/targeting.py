"""Who may take a campaign's tasks: the law (no minors), the platform (a bound account)
and the brand's targeting (age range, regions, interests, tiers)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from xingdong.campaigns.models import Campaign
from xingdong.core.i18n import N_


@dataclass(frozen=True)
class WorkerProfile:
    age: int | None
    region: str | None
    interests: frozenset[str]
    handles: dict[str, str] = field(default_factory=dict)
    """Bound account handle per platform."""
    tiers: dict[str, str] = field(default_factory=dict)
    """Creator tier per platform, from the bound account's audience."""
    consented: bool = True


INELIGIBLE_REASONS = {
    "no_consent": N_("Accept the current user agreement on your profile first."),
    "age_unknown": N_("Add your birth year on your profile first."),
    "minor": N_("Paid tasks are for adults only."),
    "no_bound_account": N_("Bind an account on this platform on your profile first."),
    "outside_age_range": N_("This task is for another age group."),
    "region_not_targeted": N_("This task is for people in other regions."),
    "interests_not_targeted": N_("This task is for people with other interests."),
    "tier_not_targeted": N_("This task is for creators of another tier."),
}
"""Why someone cannot take a task, by reason code."""


class Targeted(Protocol):
    """What eligibility reads of a campaign: a campaign row, or its :class:`TargetTerms`."""

    @property
    def platform(self) -> str: ...
    @property
    def min_age(self) -> int | None: ...
    @property
    def max_age(self) -> int | None: ...
    @property
    def regions(self) -> Collection[str]: ...
    @property
    def interests(self) -> Collection[str]: ...
    @property
    def tiers(self) -> Collection[str]: ...


@dataclass(frozen=True, slots=True)
class TargetTerms:
    """A campaign's platform and targeting as plain values, for checking many people
    against a campaign held in memory (reading a row's mapped attributes costs more)."""

    platform: str
    min_age: int | None
    max_age: int | None
    regions: frozenset[str]
    interests: frozenset[str]
    tiers: frozenset[str]

    @classmethod
    def of(cls, campaign: Campaign) -> TargetTerms:
        return cls(
            platform=campaign.platform,
            min_age=campaign.min_age,
            max_age=campaign.max_age,
            regions=frozenset(campaign.regions or ()),
            interests=frozenset(campaign.interests or ()),
            tiers=frozenset(campaign.tiers or ()),
        )


def why_not_eligible(  # noqa: PLR0911 - one reason per rule reads best
    campaign: Targeted, who: WorkerProfile, *, min_age: int
) -> str | None:
    """The first reason this person cannot take the campaign's tasks, or None."""
    if not who.consented:
        return "no_consent"
    if who.age is None:
        return "age_unknown"
    if who.age < min_age:
        return "minor"
    if campaign.platform not in who.handles:
        return "no_bound_account"
    if (campaign.min_age is not None and who.age < campaign.min_age) or (
        campaign.max_age is not None and who.age > campaign.max_age
    ):
        return "outside_age_range"
    if campaign.regions and who.region not in campaign.regions:
        return "region_not_targeted"
    if campaign.interests and not who.interests.intersection(campaign.interests):
        return "interests_not_targeted"
    if campaign.tiers and who.tiers.get(campaign.platform) not in campaign.tiers:
        return "tier_not_targeted"
    return None
