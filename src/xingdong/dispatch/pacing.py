"""Budget pacing: spend each campaign smoothly over its window.

The plan of a campaign is the share of its budget it should have spent by time t: the
share of its window's forecast traffic that has arrived by t (traffic follows a daily
curve, so the plan is steeper in the evening than at night).

Each campaign carries a dual price λ in [0, max], in units of value per unit of spend.
The feed scores a task by predicted value - λ * predicted spend. λ moves by dual mirror
descent (Euclidean mirror map): it falls as the plan advances (by ``step`` * planned share)
and rises when the campaign spends (by ``step`` * spent share), so a campaign ahead of its
plan becomes dearer and one behind it cheaper. The starting λ is seeded each night from
the optimum of the previous day's traffic (the duals of its budget constraints).

On top, a hard guard pauses a campaign whose committed share (completed + reserved units)
runs ahead of its plan, looked up ``lead`` seconds ahead, by more than ``slack``; and a
campaign that falls behind its plan by more than ``behind_slack`` pays no price until it
is back within it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from xingdong.dispatch.arrays import grown
from xingdong.dispatch.weights import DispatchWeights

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
DAY_S = 86_400.0
ADVANCE_EVERY_S = 30.0


class TrafficForecast:
    """Expected visits by hour of day (any positive scale), repeated every day."""

    def __init__(self, hourly: Sequence[float] | None = None) -> None:
        rates = np.ones(24) if hourly is None else np.asarray(hourly, dtype=np.float64)
        if rates.shape != (24,) or not np.all(np.isfinite(rates)) or np.any(rates < 0):
            raise ValueError("a traffic forecast needs 24 non-negative hourly figures")
        if rates.sum() <= 0:
            rates = np.ones(24)
        self.rates = rates / rates.sum()
        self.before_hour = np.concatenate(([0.0], np.cumsum(self.rates)))

    def cumulative(self, t: FloatArray) -> FloatArray:
        """Traffic (in days of traffic) from time 0 to t; t may be any real time."""
        t = np.clip(t, -1e12, 1e12)
        days = np.floor(t / DAY_S)
        within = t - days * DAY_S
        hour = np.minimum((within // 3600).astype(np.int64), 23)
        into_hour = (within - hour * 3600.0) / 3600.0
        traffic: FloatArray = days + self.before_hour[hour] + into_hour * self.rates[hour]
        return traffic

    def moment_of(self, traffic: float) -> float:
        """The first time (epoch seconds) by which ``traffic`` days of traffic have come:
        the inverse of :meth:`cumulative`."""
        days = math.floor(traffic)
        within = traffic - days
        # The first hour whose traffic takes the total to ``within``; hours with none
        # are passed over.
        hour = min(int(np.searchsorted(self.before_hour[1:], within, side="left")), 23)
        into_hour = (within - self.before_hour[hour]) / max(float(self.rates[hour]), 1e-12)
        return float(days * DAY_S + (hour + min(max(into_hour, 0.0), 1.0)) * 3600.0)


class BudgetPacer:
    def __init__(
        self, weights: DispatchWeights, forecast: TrafficForecast, capacity: int = 256
    ) -> None:
        self.weights = weights
        self.forecast = forecast
        self.price: FloatArray = np.zeros(capacity)
        self.plan_from: FloatArray = np.zeros(capacity)
        self.plan_span: FloatArray = np.ones(capacity)
        self.plan_done: FloatArray = np.zeros(capacity)
        self.plan_ahead: FloatArray = np.zeros(capacity)
        self.clock_s = -np.inf
        self.planned_s = -np.inf
        """When the plans last moved (they move every ``ADVANCE_EVERY_S``)."""

    def reset_task(
        self, slot: int, start_s: float, end_s: float, capacity: int, price: float = 0.0
    ) -> None:
        if self.price.shape[0] < capacity:
            self.price = grown(self.price, capacity, 0.0)
            self.plan_from = grown(self.plan_from, capacity, 0.0)
            self.plan_span = grown(self.plan_span, capacity, 1.0)
            self.plan_done = grown(self.plan_done, capacity, 0.0)
            self.plan_ahead = grown(self.plan_ahead, capacity, 0.0)
        self.retime(slot, start_s, end_s)
        self.price[slot] = price
        self.plan_done[slot] = self._plan_at(slot, self.clock_s)

    def retime(self, slot: int, start_s: float, end_s: float) -> None:
        # Open-ended windows are planned over a day from their start (or from now).
        if not np.isfinite(start_s):
            start_s = self.clock_s if np.isfinite(self.clock_s) else 0.0
        if not np.isfinite(end_s) or end_s <= start_s:
            end_s = start_s + DAY_S
        bounds = self.forecast.cumulative(np.array([start_s, end_s]))
        self.plan_from[slot] = bounds[0]
        self.plan_span[slot] = max(bounds[1] - bounds[0], 1e-12)
        # The guard's look ahead as the last move of the plans set it for the others:
        # until the next move, the slot's old figure would be another window's (or, for
        # a slot no task had, a window from the epoch: fully planned, never guarded).
        self.plan_ahead[slot] = self._plan_at(slot, self.planned_s + self.weights.pacing_lead_s)

    def _plan_at(self, slot: int, t: float) -> float:
        if not np.isfinite(t):
            return 0.0
        done = self.forecast.cumulative(np.array([t]))[0] - self.plan_from[slot]
        return float(np.clip(done / self.plan_span[slot], 0.0, 1.0))

    def seed(self, slot: int, price: float) -> None:
        # A step of 0 turns the price off, seeded or not.
        ceiling = self.weights.pacing_max_price if self.weights.pacing_step > 0 else 0.0
        self.price[slot] = float(np.clip(price, 0.0, ceiling))

    def advance(self, now_s: float) -> None:
        """Move the plans to ``now_s``. Time only goes forward here: a request stamped
        earlier than one already seen (clock skew between servers) does not rewind, and a
        time that is not finite is ignored."""
        if not math.isfinite(now_s) or now_s <= self.clock_s:
            return
        self.clock_s = now_s
        if now_s - self.planned_s < ADVANCE_EVERY_S:
            return
        self.planned_s = now_s
        times = self.forecast.cumulative(np.array([now_s, now_s + self.weights.pacing_lead_s]))
        plan = np.clip((times[0] - self.plan_from) / self.plan_span, 0.0, 1.0)
        self.plan_ahead = np.clip((times[1] - self.plan_from) / self.plan_span, 0.0, 1.0)
        self.price -= self.weights.pacing_step * (plan - self.plan_done)
        np.clip(self.price, 0.0, self.weights.pacing_max_price, out=self.price)
        self.plan_done = plan

    def release_behind(self, committed: IntArray, quantity: IntArray) -> None:
        """Let go of the price of every campaign whose ``committed`` units (by slot, of
        its ``quantity``) trail its plan by more than ``pacing_behind_slack`` and a unit
        (a campaign of three units is a third behind until its first sells). The descent
        lowers a price by ``step`` times the plan's advance, too slowly for a campaign
        that fell far behind (the people it suits came later than the day's traffic, or a
        re-solve priced it for units the day then did not want): such a campaign would
        catch up in a burst near the end of its window."""
        n = min(committed.shape[0], self.price.shape[0])
        units = np.maximum(quantity[:n], 1)
        gap = self.plan_done[:n] - committed[:n] / units
        self.price[:n][gap > self.weights.pacing_behind_slack + 1.0 / units] = 0.0

    def spent(self, slot: int, share: float) -> None:
        """The campaign spent ``share`` of its budget (one completion: 1 / quantity)."""
        self.price[slot] = min(
            self.price[slot] + self.weights.pacing_step * share, self.weights.pacing_max_price
        )

    def ahead_of_plan(
        self, committed_share: FloatArray, slots: IntArray | slice = slice(None)
    ) -> NDArray[np.bool_]:
        """Whether the hard guard pauses each slot of ``slots`` (``committed_share`` of
        each)."""
        allowed = self.plan_ahead[slots] + self.weights.pacing_slack
        ahead: NDArray[np.bool_] = committed_share > allowed
        return ahead
