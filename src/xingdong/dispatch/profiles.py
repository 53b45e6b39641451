"""Tasks and people as dispatch sees them, read leniently from JSON-shaped dicts.

Dispatch must keep serving when a profile lacks a field or a campaign's targeting is odd:
a missing field means "unknown", an unknown value never matches a targeted list, and a
contradictory targeting (an age range with its ends swapped, a negative quantity) makes
the task eligible for nobody rather than raising.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TIERS = ("novice", "growing", "head")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


LARGEST = 10**12
"""Whole numbers are read within ±this: far past any real quantity, price or limit, and
small enough that the index's 64-bit counts and the products of prices and quantities
stay exact."""


def _integer(value: Any, default: int) -> int:
    number = _number(value)
    return default if number is None else int(min(max(number, -LARGEST), LARGEST))


def _texts(value: Any) -> frozenset[str]:
    """A list of labels; a single string counts as a list of one, anything else as empty."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        return frozenset()
    return frozenset(t for t in (_text(v) for v in value) if t)


@dataclass(frozen=True)
class Targeting:
    """Who a task is for. Empty sets and missing bounds mean "anyone"."""

    age_min: int | None = None
    age_max: int | None = None
    regions: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()

    @classmethod
    def from_dict(cls, raw: Any) -> Targeting:
        if not isinstance(raw, Mapping):
            return cls()
        age_min = _number(raw.get("age_min"))
        age_max = _number(raw.get("age_max"))
        return cls(
            age_min=None if age_min is None else math.ceil(age_min),
            age_max=None if age_max is None else math.floor(age_max),
            regions=_texts(raw.get("regions")),
            interests=_texts(raw.get("interests")),
            tiers=_texts(raw.get("tiers")),
        )

    @property
    def is_contradictory(self) -> bool:
        return self.age_min is not None and self.age_max is not None and self.age_min > self.age_max


@dataclass(frozen=True)
class TaskSpec:
    """One live task (a campaign's unit of work) with what dispatch needs to place it.

    ``brand`` groups tasks for diversity (one brand does not fill a feed); without it each
    task is its own brand. ``is_quality`` marks the quality-task plan, ``is_novice`` an
    onboarding task; both earn a boost set in the weights. ``category`` is what the
    account, video or product is about, one of the interests people choose from (None:
    not said); the completion model learns how each kind of person takes each category.
    """

    id: str
    type: str
    price_fen: int
    reward_fen: int
    quantity: int
    start_s: float
    end_s: float
    per_person_limit: int = 1
    targeting: Targeting = Targeting()
    brand: str = ""
    is_quality: bool = False
    is_novice: bool = False
    category: str | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TaskSpec:
        """Read a task; only a missing ``id`` is an error (nothing could refer to it)."""
        task_id = _text(raw.get("id"))
        if task_id is None:
            raise ValueError("a task needs an id")
        start = _number(raw.get("start_s"))
        end = _number(raw.get("end_s"))
        return cls(
            id=task_id,
            type=_text(raw.get("type")) or "unknown",
            price_fen=max(0, _integer(raw.get("price_fen"), 0)),
            reward_fen=max(0, _integer(raw.get("reward_fen"), 0)),
            quantity=_integer(raw.get("quantity"), 0),
            start_s=-math.inf if start is None else start,
            end_s=math.inf if end is None else end,
            per_person_limit=_integer(raw.get("per_person_limit"), 1),
            targeting=Targeting.from_dict(raw.get("targeting")),
            brand=_text(raw.get("brand")) or task_id,
            is_quality=raw.get("quality") is True,
            is_novice=raw.get("novice") is True,
            category=_text(raw.get("category")),
        )

    @property
    def can_ever_run(self) -> bool:
        return (
            self.quantity > 0
            and self.per_person_limit > 0
            and self.end_s > self.start_s
            and not self.targeting.is_contradictory
        )


@dataclass(frozen=True)
class PersonProfile:
    """A person opening the feed. Unknown fields are None or empty and match no targeted
    list (a task that targets an age range needs a known age)."""

    id: str
    age: int | None = None
    region: str | None = None
    interests: frozenset[str] = frozenset()
    tier: str | None = None
    hidden_tasks: frozenset[str] = frozenset()
    hidden_brands: frozenset[str] = frozenset()
    onboarded: bool = False
    """Has done (or holds) an onboarding task, in any campaign, ended ones too (the
    platform's history; the offline contract's people do not say it)."""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PersonProfile:
        person_id = _text(raw.get("id"))
        if person_id is None:
            raise ValueError("a person needs an id")
        age = _number(raw.get("age"))
        return cls(
            id=person_id,
            age=None if age is None else int(age),
            region=_text(raw.get("region")),
            interests=_texts(raw.get("interests")),
            tier=_text(raw.get("tier")),
            hidden_tasks=_texts(raw.get("hidden_tasks")),
            hidden_brands=_texts(raw.get("hidden_brands")),
        )
