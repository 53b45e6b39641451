"""Reason codes: one line per feed item saying why it is there, and one for an empty feed.

Pages translate a code with its parameters (docs/dispatch.md lists them all); the codes
are stable, the texts below are the English defaults for the message catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xingdong.core.i18n import N_

ITEM_REASONS = {
    "novice_task": N_("A good first task for newcomers"),
    "new_this_hour": N_("New this hour"),
    "interest_match": N_("Matches your interest: {interest}"),
    "interest_popular": N_("Often taken by people into {interest}"),
    "region_match": N_("For people in {region}"),
    "tier_task": N_("For {tier} creators like you"),
    "quality_task": N_("A quality task"),
    "good_reward": N_("Pays well: ¥{reward_fen}"),
    "recommended": N_("Recommended for you"),
}
"""Why a task is in someone's feed, by reason code."""

EMPTY_REASONS = {
    "no_live_tasks": N_("No tasks are running right now. Come back later."),
    "profile_incomplete": N_("Fill in your profile ({fields}) to see tasks meant for you."),
    "no_matching_tasks": N_("No running task is meant for your profile right now."),
    "not_started": N_("Tasks for you start later. Come back soon."),
    "all_done": N_("You have done every task open to you."),
    "sold_out": N_("The tasks for you are fully taken for now."),
    "paced": N_("The tasks for you open up again later today."),
    "all_hidden": N_("You hid every task open to you."),
}
"""Why someone's feed is empty, by reason code."""


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, str | int] = field(default_factory=dict)
