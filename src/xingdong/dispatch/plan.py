"""A campaign's delivery plan, and the pacing guard that keeps it from running ahead.

The plan spreads a campaign's units over its window in proportion to the expected
traffic (the forecast the feed's budget pacing uses). The guard is the feed's
(:meth:`xingdong.dispatch.pacing.BudgetPacer.ahead_of_plan`): a campaign whose units held
or done are more than ``pacing_slack`` ahead of its plan looked up ``pacing_lead_s``
ahead takes no claim until the plan catches up. Claims by id ask it here, so a task
reached from an old feed or a shared link keeps to the plan too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from xingdong.dispatch.pacing import TrafficForecast
from xingdong.dispatch.weights import DispatchWeights

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
FORECAST = TrafficForecast()
"""The live feed's forecast (traffic the same in every hour)."""


class Windowed(Protocol):
    """A campaign's window and units, as a row or a snapshot holds them (read only)."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def quantity(self) -> int: ...
    @property
    def units_open(self) -> int: ...
    @property
    def units_done(self) -> int: ...


def planned_at(campaign: Windowed, moments: FloatArray) -> FloatArray:
    """Share of the campaign's units planned by each moment (epoch seconds)."""
    start, end = windows([campaign])
    return planned_shares(start, end, moments)


def planned_share(campaign: Windowed, now: datetime) -> float:
    """Share of the campaign's units its plan has reached at ``now``."""
    start, end = windows([campaign])
    return float(planned_shares(start, end, now.timestamp())[0])


def planned_shares(
    starts_s: FloatArray, ends_s: FloatArray, moment_s: float | FloatArray
) -> FloatArray:
    """Share of each campaign's units its plan has reached at ``moment_s`` (epoch
    seconds), for campaigns with these windows: :func:`planned_share` of many at once (or,
    for one window, :func:`planned_at` of many moments)."""
    first = FORECAST.cumulative(starts_s)
    last = FORECAST.cumulative(ends_s)
    reached = FORECAST.cumulative(np.clip(moment_s, starts_s, ends_s))
    share: FloatArray = (reached - first) / np.maximum(last - first, 1e-9)
    return share


def held_back(campaigns: Sequence[Windowed], now: datetime, weights: DispatchWeights) -> BoolArray:
    """Whether the guard holds back each campaign at ``now``."""
    start, end = windows(campaigns)
    committed = np.array(
        [(c.units_open + c.units_done) / max(c.quantity, 1) for c in campaigns], dtype=np.float64
    )
    ahead = planned_shares(start, end, now.timestamp() + weights.pacing_lead_s)
    held: BoolArray = committed > ahead + weights.pacing_slack
    return held


def windows(campaigns: Sequence[Windowed]) -> tuple[FloatArray, FloatArray]:
    """The campaigns' starts and ends, in epoch seconds."""
    starts = np.array([c.starts_at.timestamp() for c in campaigns], dtype=np.float64)
    ends = np.array([c.ends_at.timestamp() for c in campaigns], dtype=np.float64)
    return starts, ends


def paced_until(campaign: Windowed, now: datetime, weights: DispatchWeights) -> datetime | None:
    """None when the guard lets the campaign take a claim at ``now``; otherwise the moment
    from which it will (the plan has caught up with the units held or done)."""
    committed = (campaign.units_open + campaign.units_done) / max(campaign.quantity, 1)
    if not _held(campaign, now, weights):
        return None
    start, end = campaign.starts_at.timestamp(), campaign.ends_at.timestamp()
    bounds = FORECAST.cumulative(np.array([start, end]))
    needed = bounds[0] + (committed - weights.pacing_slack) * (bounds[1] - bounds[0])
    reached = min(FORECAST.moment_of(float(needed)), end) - weights.pacing_lead_s
    # Up to the next whole minute, the time people are told; and past it while rounding
    # in the plan still holds the campaign there.
    opens_at = datetime.fromtimestamp(math.ceil(reached / 60) * 60, UTC)
    while opens_at <= now or _held(campaign, opens_at, weights):
        opens_at += timedelta(minutes=1)
    return opens_at


def _held(campaign: Windowed, now: datetime, weights: DispatchWeights) -> bool:
    return bool(held_back([campaign], now, weights)[0])
