"""The weights operators tune (docs/dispatch.md explains each and its effect).

One frozen dataclass so a feed request reads a consistent set; change weights by building
a new one (``dataclasses.replace``) and handing it to the dispatcher.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from xingdong.core.i18n import N_

DEFAULT_TYPE_PRIORS: dict[str, float] = {
    "follow": 0.30,
    "like": 0.35,
    "comment": 0.20,
    "share": 0.15,
    "shoot": 0.05,
    "live_visit": 0.12,
    "purchase": 0.03,
    "profile_ad": 0.05,
}
"""Completion rate per task type before any outcome is seen (cold start)."""


@dataclass(frozen=True)
class DispatchWeights:
    value: float = 1.0
    """Weight of the predicted value (completion probability * price) in the score."""
    fit: float = 1.0
    """How much the learned fit of a person to a task moves the predicted completion
    (0 ignores what was learned about people and uses the campaign's rate alone)."""
    pacing_step: float = 1.0
    """Step of the dual price per unit of budget share spent ahead of (or behind) plan."""
    pacing_max_price: float = 1.0
    """Ceiling of the dual price (1 = a campaign ahead of plan can lose all its value)."""
    pacing_slack: float = 0.02
    """Share of budget a campaign may run ahead of its plan before the hard guard pauses
    it."""
    pacing_lead_s: float = 900.0
    """The hard guard compares spend with the plan this many seconds ahead, so early
    traffic can still be served."""
    pacing_behind_slack: float = 0.05
    """Share of units (beyond one unit) a campaign may fall behind its plan before its
    pacing price is let go (0 until it is back within it; 1 or more: never)."""
    fairness_step: float = 0.5
    """How fast the boost for a tier that falls behind grows (0 turns fairness off)."""
    fairness_target: float = 0.94
    """A tier falls behind when its completion rate per visit is below this share of the
    mean."""
    fairness_max_boost: float = 0.3
    """Ceiling of a tier's relief (0 to 1)."""
    novice_boost: float = 0.15
    """Extra share of score for onboarding tasks shown to novices."""
    novice_place: int = 3
    """Until they have done one, a novice's feed holds an onboarding task open to them
    within its first this many places (0: only the boost places them)."""
    quality_boost: float = 0.10
    """Extra share of score for tasks in the quality-task plan."""
    explore: float = 0.6
    """Optimism for campaigns with few exposures (added to their log-odds, shrinking as
    1/√(1 + exposures))."""
    max_per_brand: int = 1
    """At most this many tasks of one brand in a feed."""
    candidates: int = 64
    """How many of the best-scored tasks the diversity pass looks at."""
    prior_strength: float = 20.0
    """How many exposures the type prior is worth against a campaign's own outcomes."""
    learning_rate: float = 1.0
    """Multiplier of the completion model's step (1 = its Bayesian update; larger learns
    faster and forgets faster)."""
    type_priors: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TYPE_PRIORS))
    """Prior completion rate per task type; unknown types use ``default_prior``."""
    default_prior: float = 0.10
    new_within_s: float = 3600.0
    """A task that started this recently is shown as new."""


TUNABLE = frozenset(
    name for name, kind in DispatchWeights.__annotations__.items() if kind in ("float", "int")
)
"""The weights operators may set (``XINGDONG_DISPATCH_WEIGHTS``)."""


AT_LEAST_ONE = frozenset({"max_per_brand", "candidates"})
"""Counts: whole numbers of 1 or more."""
WHOLE = frozenset({"novice_place"})
"""Places: whole numbers of 0 or more."""
ABOVE_ZERO = frozenset({"prior_strength"})
"""A prior worth no showings at all would divide by zero."""
SHARES = frozenset({"fairness_target", "fairness_max_boost"})
"""From 0 to 1."""
RATES = frozenset({"default_prior"})
"""Above 0 and below 1: a completion rate of 0 or 1 has infinite log-odds."""
CEILINGS: dict[str, float] = {
    "value": 100.0,
    "fit": 10.0,
    "pacing_step": 100.0,
    "pacing_max_price": 10.0,
    "pacing_slack": 10.0,
    "pacing_lead_s": 86_400.0,
    "pacing_behind_slack": 10.0,
    "fairness_step": 100.0,
    "novice_boost": 10.0,
    "novice_place": 50,
    "quality_boost": 10.0,
    "explore": 10.0,
    "max_per_brand": 1_000,
    "candidates": 10_000,
    "prior_strength": 100_000.0,
    "learning_rate": 10.0,
    "new_within_s": 7 * 86_400.0,
}
"""The largest value each weight may take: far past anything useful, and low enough that
the completion model's steps and the scores stay finite (a learning rate of 1e300 would
blow the learned rates up past what a float holds)."""
AT_MOST = {
    10.0: N_("Enter a number no larger than 10."),
    100.0: N_("Enter a number no larger than 100."),
    50: N_("Enter a whole number no larger than 50."),
    1_000: N_("Enter a number no larger than 1,000."),
    10_000: N_("Enter a number no larger than 10,000."),
    100_000.0: N_("Enter a number no larger than 100,000."),
    86_400.0: N_("Enter at most 86,400 seconds (a day)."),
    7 * 86_400.0: N_("Enter at most 604,800 seconds (a week)."),
}


def weight_problem(name: str, value: float) -> str | None:  # noqa: PLR0911 - one rule a return
    """Why this value cannot be this weight (a message to translate), or None."""
    if name not in TUNABLE:
        return N_("There is no such weight.")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return N_("Enter a number.")
    if name in AT_LEAST_ONE and (value < 1 or value != int(value)):
        return N_("Enter a whole number of 1 or more.")
    if name in WHOLE and value != int(value):
        return N_("Enter a whole number.")
    if name in ABOVE_ZERO and value <= 0:
        return N_("Enter a number above 0.")
    if name in SHARES and not 0 <= value <= 1:
        return N_("Enter a number from 0 to 1.")
    if name in RATES and not 0 < value < 1:
        return N_("Enter a number above 0 and below 1.")
    if value < 0:
        return N_("Enter 0 or more.")
    if value > CEILINGS.get(name, math.inf):
        return AT_MOST[CEILINGS[name]]
    return None


def weights_from(overrides: Mapping[str, float]) -> DispatchWeights:
    """The defaults with these changed; a value a weight cannot take, or an unknown
    name, is refused with a message naming it."""
    wrong = {name: weight_problem(name, value) for name, value in sorted(overrides.items())}
    said = [f"{name}: {problem}" for name, problem in wrong.items() if problem is not None]
    if said:
        raise ValueError(f"dispatch weights not valid: {'; '.join(said)}")
    values: dict[str, float | int] = {
        name: int(value) if DispatchWeights.__annotations__[name] == "int" else float(value)
        for name, value in overrides.items()
    }
    return replace(DispatchWeights(), **values)  # type: ignore[arg-type]


def changed_weights(weights: DispatchWeights) -> dict[str, float]:
    """The tunable weights that differ from the defaults (what an operator set)."""
    defaults = DispatchWeights()
    return {
        name: getattr(weights, name)
        for name in sorted(TUNABLE)
        if getattr(weights, name) != getattr(defaults, name)
    }
