"""The seeded workload of ``xingdong bench dispatch``: campaigns, people, a day of visits,
and the people's hidden preferences.

Campaigns have budgets (quantity * price), windows and targeting; people have ages,
regions, interests and tiers. How much a person likes a task is hidden from the
dispatcher: it grows with the task type they lean to, with whether the task's topic is
one of their interests and its brand is from their region, and with the reward; newcomers
like onboarding tasks. A visit's person chooses among the slate shown by a multinomial
logit with position bias (``dispatch.optimum`` explains why the optimum bounds every
policy under this choice model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xingdong.dispatch.profiles import TIERS

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
DAY_S = 86_400.0

REGIONS = ("广东", "浙江", "江苏", "山东", "四川", "河南", "北京", "上海", "湖北", "福建")
REGION_WEIGHTS = (0.16, 0.12, 0.12, 0.1, 0.1, 0.1, 0.08, 0.08, 0.07, 0.07)
INTERESTS = (
    *("美妆", "母婴", "美食", "数码", "旅行", "健身"),
    *("游戏", "宠物", "汽车", "家居", "穿搭", "教育"),
)
TIER_WEIGHTS = (0.5, 0.35, 0.15)
TYPES: dict[str, tuple[int, int, float]] = {
    # type: (lowest price, highest price in fen, how much people like it, in log-odds)
    "follow": (30, 80, 0.0),
    "like": (10, 30, 0.4),
    "comment": (30, 70, -0.4),
    "share": (40, 90, -0.6),
    "live_visit": (80, 200, -0.9),
    "shoot": (300, 800, -1.8),
}
DAILY_CURVE = (
    0.5, 0.3, 0.2, 0.15, 0.15, 0.25, 0.5, 0.9, 1.1, 1.0, 1.0, 1.1,
    1.5, 1.4, 1.0, 0.9, 1.0, 1.1, 1.3, 1.6, 1.9, 2.0, 1.7, 1.0,
)  # fmt: skip
"""Visits per hour of day (relative): quiet at night, a lunch peak, an evening peak."""
ORDERS = ("random", "shifted", "adversarial")
DECLARED_CATEGORY = 0.8
"""The share of campaigns whose brand says what it is about (the task's topic); for the
others the topic stays hidden, as it is from the feed's point of view when not said."""
TIGHTNESS = {"tight": 0.5, "loose": 1.5}
"""Quantity as a share of what a campaign would sell on a typical day if budgets did not
count: tight budgets run out, loose ones leave traffic to spare."""


@dataclass(frozen=True)
class Size:
    campaigns: int
    people: int
    visits: int
    slate: int = 3


SIZES = {
    "quick": Size(campaigns=12, people=200, visits=800),
    "default": Size(campaigns=120, people=1_000, visits=3_000),
    "large": Size(campaigns=300, people=3_000, visits=10_000),
}
POSITION_BIAS = (1.0, 0.6, 0.4, 0.3, 0.25, 0.2, 0.17, 0.15, 0.13, 0.12)


@dataclass
class Instance:
    """One day's campaigns and people with their hidden preferences."""

    tasks: list[dict[str, Any]]
    people: list[dict[str, Any]]
    eligible: NDArray[np.bool_]
    """people * tasks: targeting matched (windows aside)."""
    attraction: FloatArray
    """people * tasks: the hidden attraction w of the choice model."""
    price: FloatArray
    start_s: FloatArray
    end_s: FloatArray
    quantity: FloatArray
    per_person_limit: IntArray
    activity: FloatArray
    """How often each person visits (relative)."""
    slate: int
    position_bias: tuple[float, ...]
    hourly: tuple[float, ...] = DAILY_CURVE
    early_regions: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Visits:
    person: IntArray
    time_s: FloatArray


def _matches(task: dict[str, Any], person: dict[str, Any]) -> bool:
    targeting = task["targeting"]
    if "age_min" in targeting and person["age"] < targeting["age_min"]:
        return False
    if "age_max" in targeting and person["age"] > targeting["age_max"]:
        return False
    if targeting.get("regions") and person["region"] not in targeting["regions"]:
        return False
    if targeting.get("interests") and not set(targeting["interests"]) & set(person["interests"]):
        return False
    return not (targeting.get("tiers") and person["tier"] not in targeting["tiers"])


def _person(rng: np.random.Generator, n: int) -> dict[str, Any]:
    count = int(rng.integers(1, 4))
    return {
        "id": f"p{n}",
        "age": int(rng.integers(18, 56)),
        "region": REGIONS[rng.choice(len(REGIONS), p=REGION_WEIGHTS)],
        "interests": sorted(rng.choice(INTERESTS, size=count, replace=False).tolist()),
        "tier": TIERS[rng.choice(3, p=TIER_WEIGHTS)],
    }


def _targeting(rng: np.random.Generator, topic: str, novice: bool) -> dict[str, Any]:
    targeting: dict[str, Any] = {}
    if rng.random() < 0.5:
        low = int(rng.choice([18, 18, 22, 25]))
        targeting["age_min"] = low
        targeting["age_max"] = int(low + rng.choice([12, 17, 25, 40]))
    if rng.random() < 0.4:
        targeting["regions"] = sorted(
            rng.choice(REGIONS, size=int(rng.integers(1, 4)), replace=False).tolist()
        )
    if rng.random() < 0.5:
        others = [i for i in INTERESTS if i != topic]
        extra = rng.choice(others, size=int(rng.integers(0, 3)), replace=False).tolist()
        targeting["interests"] = sorted({topic, *extra})
    if novice:
        targeting["tiers"] = ["novice"]
    elif rng.random() < 0.3:
        targeting["tiers"] = [["growing", "head"], ["head"], ["novice", "growing"]][
            int(rng.integers(0, 3))
        ]
    return targeting


def build_instance(seed: int, size: Size, tightness: float) -> Instance:
    rng = np.random.default_rng(seed)
    people = [_person(rng, n) for n in range(size.people)]
    type_names = list(TYPES)
    brands = max(2, int(size.campaigns * 0.6))
    tasks: list[dict[str, Any]] = []
    hidden: list[tuple[str, str, float]] = []
    # Its own stream, so that whether a brand names its category leaves the rest of the
    # instance as it was.
    declares = np.random.default_rng(seed + 7).random(size.campaigns) < DECLARED_CATEGORY
    for n in range(size.campaigns):
        kind = type_names[int(rng.integers(0, len(type_names)))]
        low, high, _ = TYPES[kind]
        price_fen = int(rng.integers(low, high + 1))
        topic = INTERESTS[int(rng.integers(0, len(INTERESTS)))]
        novice = rng.random() < 0.1
        start_h = int(rng.choice(24, p=np.array([3] * 10 + [1] * 14) / 44))
        hours = int(rng.integers(6, 25))
        task: dict[str, Any] = {
            "id": f"t{n}",
            "type": kind,
            "price_fen": price_fen,
            "reward_fen": int(price_fen * rng.uniform(0.6, 0.8)),
            "quantity": 1,
            "start_s": start_h * 3600.0,
            "end_s": min(start_h + hours, 24) * 3600.0,
            "per_person_limit": 1,
            "targeting": _targeting(rng, topic, novice),
            "brand": f"b{int(rng.integers(0, brands))}",
        }
        if novice:
            task["novice"] = True
        if declares[n]:
            task["category"] = topic
        if rng.random() < 0.1:
            task["quality"] = True
        tasks.append(task)
        home = REGIONS[rng.choice(len(REGIONS), p=REGION_WEIGHTS)]
        hidden.append((topic, home, float(rng.normal(0.0, 0.5))))

    eligible = np.array([[_matches(t, p) for t in tasks] for p in people], dtype=np.bool_)
    leaning = rng.normal(0.0, 0.5, size=(size.people, len(type_names)))
    utility = np.full((size.people, size.campaigns), -2.3)
    for c, (task, (topic, home, quality)) in enumerate(zip(tasks, hidden, strict=True)):
        low, high, liking = TYPES[task["type"]]
        column = type_names.index(task["type"])
        typical = (low + high) / 2 * 0.7
        utility[:, c] += liking + quality + 0.6 * math.log(task["reward_fen"] / typical)
        utility[:, c] += leaning[:, column]
        for p, person in enumerate(people):
            utility[p, c] += 1.2 * (topic in person["interests"])
            utility[p, c] += 0.4 * (home == person["region"])
            if person["tier"] == "novice":
                utility[p, c] += 0.9 if task.get("novice") else -0.3
    attraction = np.exp(utility)
    activity = rng.lognormal(0.0, 0.6, size=size.people)

    price = np.array([t["price_fen"] for t in tasks], dtype=np.float64)
    start = np.array([t["start_s"] for t in tasks])
    end = np.array([t["end_s"] for t in tasks])
    instance = Instance(
        tasks=tasks,
        people=people,
        eligible=eligible,
        attraction=attraction,
        price=price,
        start_s=start,
        end_s=end,
        quantity=np.zeros(size.campaigns),
        per_person_limit=np.ones(size.campaigns, dtype=np.int64),
        activity=activity,
        slate=size.slate,
        position_bias=POSITION_BIAS[: size.slate],
        early_regions=tuple(rng.choice(REGIONS, size=3, replace=False).tolist()),
    )
    _set_quantities(instance, size.visits, tightness, seed + 500)
    return instance


def _set_quantities(instance: Instance, visits: int, tightness: float, seed: int) -> None:
    """Quantity = tightness * what the campaign would get on a typical day if budgets
    did not count: half from the visits' best slates (what the most valuable tasks could
    sell), half from an even split of each visit among the tasks open to it (so that
    tasks nobody would pick first still have a budget to fill)."""
    from xingdong.dispatch.optimum import best_slates

    sample = draw_visits(instance, visits, seed, "random")
    tasks = len(instance.tasks)
    width = int(instance.eligible.sum(axis=1).max()) or 1
    index = np.zeros((visits, width), dtype=np.int64)
    attraction = np.zeros((visits, width))
    even = np.zeros(tasks)
    for row, (person, time_s) in enumerate(
        zip(sample.person.tolist(), sample.time_s.tolist(), strict=True)
    ):
        open_now = (instance.start_s <= time_s) & (instance.end_s > time_s)
        tasks_open = np.flatnonzero(instance.eligible[person] & open_now)
        n = tasks_open.shape[0]
        index[row, :n] = tasks_open
        attraction[row, :n] = instance.attraction[person, tasks_open]
        if n:
            alone = attraction[row, :n] / (1 + attraction[row, :n])
            even[tasks_open] += alone * sum(instance.position_bias) / n
    _, attention = best_slates(
        instance.price[index], attraction, _calibration_attention(instance.position_bias)
    )
    weighted = attention * attraction
    expected = weighted / (1.0 + weighted.sum(axis=1))[:, None]
    best = np.bincount(index.ravel(), weights=expected.ravel(), minlength=tasks)
    even *= best.sum() / max(even.sum(), 1e-12)
    instance.quantity = np.maximum(np.round(tightness * (best + even) / 2), 2.0)
    for task, quantity in zip(instance.tasks, instance.quantity, strict=True):
        task["quantity"] = int(quantity)


def _calibration_attention(position_bias: tuple[float, ...]) -> tuple[float, ...]:
    """The attention quantities were calibrated with: the top place's weight for as many
    places as the slate's total weight allows (1, 1 for weights 1, 0.6, 0.4). More
    generous than a real slate; kept so that workloads, and figures measured on them,
    stay the same from one version to the next."""
    top, total = position_bias[0], sum(position_bias)
    full = int(total // top)
    rest = total - full * top
    return (top,) * full + ((rest,) if rest > 1e-12 else ())


def draw_visits(instance: Instance, visits: int, seed: int, order: str) -> Visits:
    """A day of visits; ``order`` decides which people come when (the same people and
    the same times, in another arrangement)."""
    rng = np.random.default_rng(seed)
    hourly = np.asarray(instance.hourly) / sum(instance.hourly)
    hours = rng.choice(24, size=visits, p=hourly)
    times = np.sort(hours * 3600.0 + rng.uniform(0, 3600.0, size=visits))
    weights = instance.activity / instance.activity.sum()
    person = rng.choice(len(instance.people), size=visits, p=weights)
    noise = rng.random(visits)
    if order == "random":
        key = noise
    elif order == "shifted":
        early = np.array([p["region"] in instance.early_regions for p in instance.people])
        key = noise + 0.7 * ~early[person]
    elif order == "adversarial":
        breadth = instance.eligible.sum(axis=1).astype(np.float64)
        key = -breadth[person] / max(breadth.max(), 1.0) + 0.1 * noise
    else:
        raise ValueError(f"unknown arrival order {order!r}")
    return Visits(person=person[np.argsort(key, kind="stable")], time_s=times)
