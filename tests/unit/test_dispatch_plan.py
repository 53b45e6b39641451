"""The delivery plan and the pacing guard that claims by id ask: the same answer as the
feed's guard, and the moment it lets go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from xingdong.dispatch.pacing import BudgetPacer, TrafficForecast
from xingdong.dispatch.plan import FORECAST, held_back, paced_until, planned_share, planned_shares
from xingdong.dispatch.weights import DispatchWeights

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


@dataclass
class Window:
    starts_at: datetime
    ends_at: datetime
    quantity: int
    units_open: int = 0
    units_done: int = 0


@pytest.mark.parametrize(
    "forecast", [TrafficForecast(), TrafficForecast([0.0] * 6 + [1.0] * 12 + [3.0] * 6)]
)
def test_the_moment_a_traffic_total_is_reached_inverts_the_forecast(
    forecast: TrafficForecast,
) -> None:
    for t in np.random.default_rng(3).uniform(-2e6, 2e7, 500):
        traffic = float(forecast.cumulative(np.array([t]))[0])
        moment = forecast.moment_of(traffic)
        assert forecast.cumulative(np.array([moment]))[0] == pytest.approx(traffic, abs=1e-9)
        # The first such moment: at or before t (hours with no traffic are passed over).
        assert moment <= t + 1e-6


def test_the_plan_grows_with_the_window_and_stays_within_it() -> None:
    week = Window(START, START + timedelta(days=7), quantity=70)
    assert planned_share(week, START - timedelta(hours=1)) == 0.0
    assert planned_share(week, START + timedelta(days=1)) == pytest.approx(1 / 7)
    assert planned_share(week, START + timedelta(days=9)) == 1.0


@pytest.mark.parametrize("quantity", [2, 10, 300])
def test_claims_are_held_back_exactly_when_the_feed_holds_the_campaign_back(
    quantity: int,
) -> None:
    weights = DispatchWeights()
    end = START + timedelta(days=2)
    rng = np.random.default_rng(quantity)
    for _ in range(300):
        now = START + timedelta(seconds=float(rng.uniform(0, 2 * 86_400 - 1)))
        held = int(rng.integers(0, quantity))
        campaign = Window(START, end, quantity, units_open=held // 2, units_done=held - held // 2)
        pacer = BudgetPacer(weights, FORECAST, capacity=1)
        pacer.reset_task(0, START.timestamp(), end.timestamp(), capacity=1)
        pacer.advance(now.timestamp())
        feed_holds = bool(pacer.ahead_of_plan(np.array([held / quantity]), slice(0, 1))[0])
        assert (paced_until(campaign, now, weights) is not None) == feed_holds


def test_a_held_back_campaign_says_when_it_takes_claims_again() -> None:
    weights = DispatchWeights()
    week = Window(START, START + timedelta(days=7), quantity=100, units_open=3, units_done=7)
    now = START + timedelta(hours=2)
    opens_at = paced_until(week, now, weights)
    assert opens_at is not None and opens_at > now
    # A whole minute, as people are told it: the plan, looked up the guard's lead ahead,
    # reaches all but the slack within the minute before it.
    assert (opens_at.second, opens_at.microsecond) == (0, 0)
    lead = timedelta(seconds=weights.pacing_lead_s)
    caught_up = planned_share(week, opens_at + lead)
    assert 0.10 - weights.pacing_slack <= caught_up < 0.10 - weights.pacing_slack + 1e-4
    assert paced_until(week, opens_at, weights) is None
    assert paced_until(week, opens_at - timedelta(minutes=1), weights) is not None
    # Nothing held: the first claim is always let through.
    assert paced_until(Window(START, START + timedelta(days=7), 100), START, weights) is None


def test_the_guard_has_let_go_at_the_moment_it_names_whatever_the_rounding() -> None:
    # Windows on whole minutes, as the campaign form enters them, put many opening
    # moments exactly on a minute, where rounding in the plan could still hold them.
    weights = DispatchWeights()
    rng = np.random.default_rng(7)
    for _ in range(3_000):
        quantity = int(rng.integers(2, 40))
        held = int(rng.integers(1, quantity))
        days = int(rng.integers(1, 15))
        campaign = Window(START, START + timedelta(days=days), quantity, units_done=held)
        now = START + timedelta(minutes=int(rng.integers(0, days * 1440)))
        opens_at = paced_until(campaign, now, weights)
        if opens_at is None:
            continue
        assert opens_at > now and opens_at <= campaign.ends_at
        assert paced_until(campaign, opens_at, weights) is None


def test_many_campaigns_at_once_get_the_plans_and_the_guard_of_each() -> None:
    weights = DispatchWeights()
    rng = np.random.default_rng(7)
    campaigns = []
    for _ in range(200):
        start = START + timedelta(hours=float(rng.uniform(-48, 48)))
        quantity = int(rng.integers(1, 300))
        held = int(rng.integers(0, quantity + 1))
        campaigns.append(
            Window(
                start, start + timedelta(hours=float(rng.uniform(0.5, 200))), quantity,
                units_open=held // 3, units_done=held - held // 3,
            )
        )  # fmt: skip
    now = START + timedelta(hours=5)
    starts = np.array([c.starts_at.timestamp() for c in campaigns])
    ends = np.array([c.ends_at.timestamp() for c in campaigns])
    shares = planned_shares(starts, ends, now.timestamp())
    assert shares.tolist() == [planned_share(c, now) for c in campaigns]
    held_now = held_back(campaigns, now, weights)
    assert held_now.tolist() == [paced_until(c, now, weights) is not None for c in campaigns]
    # Some of each, or the comparison says little.
    assert 0 < held_now.sum() < len(campaigns)
    assert held_back([], now, weights).shape == (0,)
