"""``OfflineDispatcher``: the live feed's allocation code with its state in memory and the
time given by the caller (specs/dispatch-offline.md). Benchmarks and simulations use it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from xingdong.dispatch.feed import Dispatcher, Feed
from xingdong.dispatch.pacing import TrafficForecast
from xingdong.dispatch.profiles import PersonProfile, TaskSpec
from xingdong.dispatch.rest_of_day import RESOLVE_EVERY_S, rest_of_day_prices
from xingdong.dispatch.weights import DispatchWeights


class OfflineDispatcher:
    def __init__(
        self,
        tasks: Iterable[Mapping[str, Any]],
        start_s: float = 0.0,
        end_s: float = 86_400.0,
        *,
        seed: int = 0,
        weights: DispatchWeights | None = None,
        hourly_traffic: Sequence[float] | None = None,
        prices: Mapping[str, float] | None = None,
        forecast_visits: Sequence[tuple[Mapping[str, Any] | PersonProfile, float]] = (),
        resolve_every_s: float = RESOLVE_EVERY_S,
    ) -> None:
        """``hourly_traffic`` (24 figures) is the forecast the pacing plans follow;
        ``prices`` seeds each task's pacing price (for instance yesterday's LP duals).
        ``forecast_visits`` (person, moment), for instance yesterday's visits, are the
        traffic the pacing prices are solved again on every ``resolve_every_s`` seconds
        of the caller's time (:mod:`xingdong.dispatch.rest_of_day`), as the live feed's
        job does; none, and the prices are never solved again."""
        self.start_s = start_s
        self.end_s = end_s
        self.dispatcher = Dispatcher(weights, forecast=TrafficForecast(hourly_traffic), seed=seed)
        for raw in tasks:
            task = TaskSpec.from_dict(raw)
            # A task without a window runs over the dispatcher's whole horizon.
            if not math.isfinite(task.start_s):
                task = replace(task, start_s=start_s)
            if not math.isfinite(task.end_s):
                task = replace(task, end_s=end_s)
            self.dispatcher.upsert_task(task)
        if prices:
            self.dispatcher.seed_prices(prices)
        self.dispatcher.pacer.advance(start_s)
        self.forecast_visits = [
            (p if isinstance(p, PersonProfile) else PersonProfile.from_dict(p), float(t))
            for p, t in forecast_visits
        ]
        self.resolve_every_s = resolve_every_s
        self.resolved_at = start_s

    def _resolve_if_due(self, now_s: float, k: int) -> None:
        if not self.forecast_visits or now_s - self.resolved_at < self.resolve_every_s:
            return
        self.resolved_at = now_s
        prices, _ = rest_of_day_prices(self.dispatcher, self.forecast_visits, now_s, places=k)
        self.dispatcher.seed_prices(prices)

    def feed(self, person: Mapping[str, Any], now_s: float, k: int) -> Feed:
        """The full feed: items with scores and reasons, or why it is empty."""
        self._resolve_if_due(now_s, k)
        return self.dispatcher.recommend(PersonProfile.from_dict(person), now_s, k)

    def recommend(self, person: Mapping[str, Any], now_s: float, k: int) -> list[str]:
        return self.feed(person, now_s, k).task_ids

    def record(self, person_id: str, task_id: str, now_s: float, completed: bool) -> None:
        self.dispatcher.record(str(person_id), str(task_id), now_s, completed)

    def recommend_profile(self, person: PersonProfile, now_s: float, k: int) -> list[str]:
        """``recommend`` for a profile already read (saves re-reading it on every visit)."""
        self._resolve_if_due(now_s, k)
        return self.dispatcher.recommend(person, now_s, k).task_ids
