"""The policies ``xingdong bench dispatch`` compares, all on the dispatcher's own
eligibility and completion model so that only the allocation rule differs:

- ``xingdong``: the feed as it runs in production (``OfflineDispatcher``);
- ``random``: a random slate of eligible tasks;
- ``greedy``: highest predicted value (completion * price) first;
- ``balance``: BALANCE/MSVV, value * (1 - e^(f - 1)) with f the share of budget spent;
- ``resolving_lp``: bid prices from the optimum of the forecast rest of the day, solved
  again every few hours on what the model has learned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from xingdong.dispatch.arrays import sigmoid
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.pacing import TrafficForecast
from xingdong.dispatch.profiles import PersonProfile, TaskSpec
from xingdong.dispatch.rest_of_day import rest_of_day_duals
from xingdong.dispatch.weights import DispatchWeights

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PLAIN = DispatchWeights(
    pacing_step=0.0,
    pacing_slack=10.0,
    fairness_step=0.0,
    novice_boost=0.0,
    quality_boost=0.0,
    max_per_brand=1_000,
)
"""Baselines rank by their rule alone: no pacing, fairness, boosts or diversity."""


class Policy(Protocol):
    def recommend(self, person: PersonProfile, now_s: float, k: int) -> list[str]: ...

    def record(self, person_id: str, task_id: str, now_s: float, completed: bool) -> None: ...


class _Baseline(Dispatcher):
    def __init__(self, tasks: Sequence[TaskSpec], seed: int, hourly: Sequence[float]) -> None:
        super().__init__(PLAIN, forecast=TrafficForecast(hourly), seed=seed)
        for task in tasks:
            self.upsert_task(task)
        self.random = np.random.default_rng(seed + 7)

    def value(self, person: PersonProfile, slots: IntArray) -> tuple[FloatArray, FloatArray]:
        """Optimistic and plain predicted completion * price."""
        columns = self.model.label_columns(person)
        z = self.model.log_odds(slots, person.id, columns)
        bold = self.model.bold_log_odds(slots, person.id, columns)
        price = self.price_fen[slots]
        return sigmoid(bold) * price, sigmoid(z)

    def recommend_ids(self, person: PersonProfile, now_s: float, k: int) -> list[str]:
        return self.recommend(person, now_s, k).task_ids


class RandomPolicy(_Baseline):
    def scores(self, person: PersonProfile, slots: IntArray, k: int = 0) -> FloatArray:  # noqa: ARG002 - random ignores who asks
        drawn: FloatArray = self.random.random((int(slots.shape[0]),))
        return drawn


class GreedyPolicy(_Baseline):
    def scores(self, person: PersonProfile, slots: IntArray, k: int = 0) -> FloatArray:  # noqa: ARG002 - a baseline ranks by its rule, whatever the feed size
        return self.value(person, slots)[0] + self.jitter[slots]


class BalancePolicy(_Baseline):
    def scores(self, person: PersonProfile, slots: IntArray, k: int = 0) -> FloatArray:  # noqa: ARG002 - a baseline ranks by its rule, whatever the feed size
        spent = self.index.completed[slots] / np.maximum(self.index.quantity[slots], 1)
        return self.value(person, slots)[0] * (1.0 - np.exp(spent - 1.0)) + self.jitter[slots]


class ResolvingLpPolicy(_Baseline):
    """Bid prices μ from the optimum of the rest of the day, with yesterday's visits after
    the current time as the forecast and the model's predictions as attractions."""

    def __init__(
        self,
        tasks: Sequence[TaskSpec],
        seed: int,
        hourly: Sequence[float],
        *,
        forecast_visits: Sequence[tuple[PersonProfile, float]],
        position_bias: Sequence[float],
        every_s: float = 3 * 3600.0,
    ) -> None:
        super().__init__(tasks, seed, hourly)
        self.forecast_visits = forecast_visits
        self.position_bias = position_bias
        self.every_s = every_s
        self.solved_at = -np.inf
        self.bid = np.zeros(self.index.capacity)

    def _resolve(self, now_s: float) -> None:
        self.bid, _ = rest_of_day_duals(
            self, self.forecast_visits, now_s, position_bias=self.position_bias, start=self.bid
        )

    def scores(self, person: PersonProfile, slots: IntArray, k: int = 0) -> FloatArray:  # noqa: ARG002 - a baseline ranks by its rule, whatever the feed size
        now = self.pacer.clock_s
        if now - self.solved_at >= self.every_s:
            self.solved_at = now
            self._resolve(now)
        _, p = self.value(person, slots)
        return p * (self.price_fen[slots] - self.bid[slots]) + self.jitter[slots]


PolicyFactory = Callable[[], Policy]


def without_fairness(weights: DispatchWeights) -> DispatchWeights:
    return replace(weights, fairness_step=0.0)
