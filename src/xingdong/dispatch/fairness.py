"""Fairness across creator tiers: a tier whose people complete fewer tasks per visit than
the others gets a price relief, so its people see the tasks worth most to them even when
those tasks are paced.

Each tier has a relief in [0, max], a dual variable of the constraint "this tier's
completions per visit ≥ target * the mean": it grows while the tier is behind and shrinks
when it is not. The feed multiplies the pacing price by (1 - relief) for that tier's
people.
"""

from __future__ import annotations

from dataclasses import dataclass

from xingdong.dispatch.weights import DispatchWeights

MIN_VISITS = 50
UPDATE_EVERY = 20


@dataclass
class _TierCounts:
    visits: int = 0
    completions: int = 0
    relief: float = 0.0


@dataclass(frozen=True)
class TierStanding:
    """How a tier is doing in the feed: its visits, the tasks its people took, its relief."""

    tier: str | None
    visits: int
    completions: int
    relief: float

    @property
    def rate(self) -> float:
        """Tasks taken per visit."""
        return self.completions / self.visits if self.visits else 0.0


class TierFairness:
    def __init__(self, weights: DispatchWeights) -> None:
        self.weights = weights
        self._tiers: dict[str, _TierCounts] = {}
        self._visits = 0

    def relief(self, tier: str | None) -> float:
        counts = self._tiers.get(tier or "")
        return 0.0 if counts is None else counts.relief

    def visited(self, tier: str | None) -> None:
        self._tiers.setdefault(tier or "", _TierCounts()).visits += 1
        self._visits += 1
        if self._visits % UPDATE_EVERY == 0:
            self._update()

    def completed(self, tier: str | None) -> None:
        self._tiers.setdefault(tier or "", _TierCounts()).completions += 1

    def cap(self, ceiling: float) -> None:
        """Bring every tier's relief down to ``ceiling`` (the weights changed)."""
        for counts in self._tiers.values():
            counts.relief = min(counts.relief, ceiling)

    def standing(self) -> list[TierStanding]:
        """Each tier seen so far (``None``: people without one), by tier name."""
        return [
            TierStanding(tier or None, counts.visits, counts.completions, counts.relief)
            for tier, counts in sorted(self._tiers.items())
        ]

    def rates(self) -> dict[str, float]:
        return {
            tier: counts.completions / counts.visits
            for tier, counts in self._tiers.items()
            if counts.visits
        }

    def _update(self) -> None:
        step = self.weights.fairness_step
        if step <= 0:
            return
        seen = [c for c in self._tiers.values() if c.visits >= MIN_VISITS]
        visits = sum(c.visits for c in seen)
        if len(seen) < 2 or visits == 0:
            return
        mean = sum(c.completions for c in seen) / visits
        if mean <= 0:
            return
        for counts in seen:
            gap = self.weights.fairness_target - (counts.completions / counts.visits) / mean
            counts.relief = min(
                max(counts.relief + step * gap * UPDATE_EVERY / len(seen) / 10, 0.0),
                self.weights.fairness_max_boost,
            )
