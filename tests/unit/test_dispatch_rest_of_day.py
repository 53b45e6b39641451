"""Pacing prices solved again during the day on the traffic still to come
(``dispatch.rest_of_day``), and the offline dispatcher doing so on its caller's clock."""

from __future__ import annotations

from typing import Any

import pytest

from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.offline import OfflineDispatcher
from xingdong.dispatch.profiles import PersonProfile, TaskSpec
from xingdong.dispatch.rest_of_day import rest_of_day_prices

HOUR = 3_600.0


def spec(task_id: str, quantity: int, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": task_id,
        "type": "follow",
        "price_fen": 100,
        "reward_fen": 70,
        "quantity": quantity,
        "start_s": 0,
        "end_s": 24 * HOUR,
        "per_person_limit": 1,
        "targeting": {},
    }
    return base | over


VISITOR = {"age": 30, "region": "广东", "interests": ["美食"], "tier": "growing"}


def people(n: int, start_s: float, every_s: float) -> list[tuple[PersonProfile, float]]:
    """``n`` visits by different people from ``start_s``, ``every_s`` apart."""
    return [
        (PersonProfile.from_dict(VISITOR | {"id": f"p{i}"}), start_s + i * every_s)
        for i in range(n)
    ]


def dispatcher(*tasks: dict[str, Any]) -> Dispatcher:
    d = Dispatcher()
    for t in tasks:
        d.upsert_task(TaskSpec.from_dict(t))
    return d


def test_a_campaign_the_rest_of_the_day_wants_more_of_than_it_has_gets_a_price() -> None:
    d = dispatcher(spec("scarce", 2), spec("plenty", 10_000))
    prices, _ = rest_of_day_prices(d, people(400, 12 * HOUR, 60.0), 12 * HOUR, places=4)
    assert prices["scarce"] > 0.05
    assert prices["plenty"] == 0.0


def test_visits_already_past_are_not_traffic_to_come() -> None:
    d = dispatcher(spec("scarce", 2), spec("plenty", 10_000))
    # The same 400 visits, all in the morning: by the evening none of them is to come.
    prices, _ = rest_of_day_prices(d, people(400, 6 * HOUR, 60.0), 18 * HOUR, places=4)
    assert prices == {"scarce": 0.0, "plenty": 0.0}


def test_a_campaign_closed_when_the_visits_come_is_not_offered_them() -> None:
    # Scarce, but its window ends before the evening's visits: nothing to hold back.
    d = dispatcher(spec("closes_at_noon", 2, end_s=12 * HOUR), spec("plenty", 10_000))
    prices, _ = rest_of_day_prices(d, people(400, 18 * HOUR, 10.0), 6 * HOUR, places=4)
    assert prices["closes_at_noon"] == 0.0


def test_units_taken_and_reserved_leave_fewer_to_sell() -> None:
    # 300 units for 400 visits that each take a task at most: little to hold back, until
    # most of them are gone.
    d = dispatcher(spec("filling", 300), spec("plenty", 10_000))
    visits = people(400, 12 * HOUR, 60.0)
    before = rest_of_day_prices(d, visits, 12 * HOUR, places=4)[0]["filling"]
    d.set_progress("filling", completed=250, reserved=45)
    after = rest_of_day_prices(d, visits, 12 * HOUR, places=4)[0]["filling"]
    assert after > before + 0.05


def test_a_sample_of_the_visits_is_offered_its_share_of_the_units() -> None:
    # Every visit twice, or once as a half sample: the same day, so the same prices.
    d = dispatcher(spec("filling", 300), spec("scarce", 40), spec("plenty", 10_000))
    d.set_progress("filling", completed=100)
    visits = people(300, 12 * HOUR, 60.0)
    whole, whole_value = rest_of_day_prices(d, visits + visits, 12 * HOUR, places=4)
    half, half_value = rest_of_day_prices(d, visits, 12 * HOUR, places=4, share=0.5)
    assert whole["scarce"] > 0.05
    assert half == pytest.approx(whole, abs=1e-9)
    assert half_value == pytest.approx(whole_value / 2)
    # Offered all the units, the half sample would find them plentiful.
    assert rest_of_day_prices(d, visits, 12 * HOUR, places=4)[0]["scarce"] < whole["scarce"]


def test_a_removed_campaign_gets_no_price() -> None:
    d = dispatcher(spec("scarce", 2), spec("gone", 2))
    d.remove_task("gone")
    prices, _ = rest_of_day_prices(d, people(50, 12 * HOUR, 60.0), 12 * HOUR, places=4)
    assert set(prices) == {"scarce"}


def test_the_offline_dispatcher_solves_its_prices_again_every_few_hours() -> None:
    forecast = people(600, 0.0, 120.0)  # a visit every two minutes, all day

    def price_at_hours(hours: list[float], **over: Any) -> list[float | None]:
        d = OfflineDispatcher([spec("scarce", 3), spec("plenty", 10_000)], **over)
        seen = []
        for h in hours:
            d.recommend(VISITOR | {"id": f"v{h}"}, h * HOUR, 4)
            seen.append(d.dispatcher.pacing_price("scarce"))
        return seen

    # Seeded at 0; at 2 h it still holds (and only the descent has moved it); at 3 h the
    # day's optimum puts it where the traffic to come says.
    hours = [2.0, 3.0, 5.9, 6.0]
    plain = price_at_hours(hours)
    resolved = price_at_hours(hours, forecast_visits=forecast, resolve_every_s=3 * HOUR)
    assert resolved[0] == plain[0]
    assert resolved[1] is not None and plain[1] is not None and resolved[1] > plain[1] + 0.05
    # Not solved again until three hours after the last time.
    assert resolved[2] is not None and resolved[3] is not None
    assert resolved[2] <= resolved[1]
    # Without a forecast it never is.
    off = price_at_hours(hours, resolve_every_s=3 * HOUR)
    assert off == plain
