"""Dispatch keeps serving on bad input: incomplete profiles, odd targeting, nothing to
show, clocks that disagree."""

from __future__ import annotations

from typing import Any

import pytest

from xingdong.dispatch.offline import OfflineDispatcher
from xingdong.dispatch.pacing import TrafficForecast
from xingdong.dispatch.profiles import LARGEST, PersonProfile, TaskSpec


def task(task_id: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": task_id,
        "type": "like",
        "price_fen": 20,
        "reward_fen": 14,
        "quantity": 100,
        "start_s": 0,
        "end_s": 86_400,
        "targeting": {},
    }
    return base | over


def test_missing_profile_fields_match_untargeted_tasks_only() -> None:
    d = OfflineDispatcher(
        [
            task("anyone", brand="a"),
            task("aged", targeting={"age_min": 18}, brand="b"),
            task("regional", targeting={"regions": ["广东"]}, brand="c"),
            task("interested", targeting={"interests": ["美食"]}, brand="d"),
            task("tiered", targeting={"tiers": ["novice"]}, brand="e"),
        ]
    )
    assert d.recommend({"id": "p1"}, 100.0, 5) == ["anyone"]
    odd = {"id": "p2", "age": "unknown", "region": None, "interests": "美食", "tier": 3}
    assert sorted(d.recommend(odd, 100.0, 5)) == ["anyone", "interested"]


def test_a_person_without_an_id_is_refused() -> None:
    d = OfflineDispatcher([task("t1")])
    with pytest.raises(ValueError, match="id"):
        d.recommend({"age": 30}, 100.0, 3)


@pytest.mark.parametrize(
    "over",
    [
        pytest.param({"targeting": {"age_min": 40, "age_max": 20}}, id="age-min-over-max"),
        pytest.param({"quantity": 0}, id="no-quantity"),
        pytest.param({"quantity": -5}, id="negative-quantity"),
        pytest.param({"start_s": 5_000, "end_s": 1_000}, id="window-backwards"),
        pytest.param({"per_person_limit": 0}, id="no-per-person-limit"),
    ],
)
def test_contradictory_tasks_are_eligible_for_nobody(over: dict[str, Any]) -> None:
    d = OfflineDispatcher([task("bad", **over), task("good", brand="other")])
    assert d.recommend({"id": "p1", "age": 30}, 3_000.0, 5) == ["good"]


def test_malformed_targeting_values_mean_anyone() -> None:
    raw = task("t1", targeting={"regions": 7, "interests": None, "age_min": "x"})
    spec = TaskSpec.from_dict(raw)
    assert spec.targeting.regions == frozenset()
    assert spec.targeting.age_min is None
    assert OfflineDispatcher([raw]).recommend({"id": "p1"}, 100.0, 1) == ["t1"]


def test_numbers_past_any_real_campaign_are_read_as_the_largest() -> None:
    """A quantity of 2**63 or a price of 1e30 is a typing slip, not a reason to stop the
    feed: it is read as LARGEST (a trillion), which no count overflows."""
    huge = task("huge", quantity=2**63, price_fen=1e30, reward_fen=9.3e18, per_person_limit=1e20)
    spec = TaskSpec.from_dict(huge)
    assert (spec.quantity, spec.price_fen, spec.per_person_limit) == (LARGEST,) * 3
    assert TaskSpec.from_dict(task("below", quantity=-(2**70))).quantity == -LARGEST
    d = OfflineDispatcher([huge, task("small", brand="other")])
    assert d.recommend({"id": "p1"}, 100.0, 2) == ["huge", "small"]
    d.record("p1", "huge", 100.0, True)
    assert d.recommend({"id": "p2"}, 200.0, 2)[0] == "huge"


def test_a_task_without_window_runs_over_the_whole_horizon() -> None:
    raw = task("t1")
    del raw["start_s"], raw["end_s"]
    d = OfflineDispatcher([raw], start_s=0.0, end_s=1_000.0)
    assert d.recommend({"id": "p1"}, 999.0, 1) == ["t1"]
    assert d.recommend({"id": "p1"}, 1_000.0, 1) == []


@pytest.mark.parametrize(
    ("tasks", "person", "now_s", "code", "params"),
    [
        pytest.param([], {"id": "p"}, 10.0, "no_live_tasks", {}, id="nothing-live"),
        pytest.param(
            [task("t", targeting={"regions": ["浙江"]})],
            {"id": "p"},
            10.0,
            "profile_incomplete",
            {"fields": "age, region, interests, tier"},
            id="incomplete-profile",
        ),
        pytest.param(
            [task("t", targeting={"regions": ["浙江"]})],
            {"id": "p", "age": 30, "region": "广东", "interests": ["美食"], "tier": "head"},
            10.0,
            "no_matching_tasks",
            {},
            id="targeted-elsewhere",
        ),
        pytest.param(
            [task("t", start_s=5_000)],
            {"id": "p"},
            10.0,
            "not_started",
            {},
            id="later-today",
        ),
        pytest.param(
            [task("t")],
            {"id": "p", "hidden_brands": ["t"]},
            10.0,
            "all_hidden",
            {},
            id="hidden",
        ),
    ],
)
def test_an_empty_feed_says_why(
    tasks: list[dict[str, Any]], person: dict[str, Any], now_s: float, code: str, params: Any
) -> None:
    feed = OfflineDispatcher(tasks).feed(person, now_s, 5)
    assert feed.items == []
    assert feed.empty_reason is not None
    assert (feed.empty_reason.code, feed.empty_reason.params) == (code, params)


def test_an_empty_feed_after_doing_everything() -> None:
    d = OfflineDispatcher([task("t")])
    d.recommend({"id": "p"}, 80_000.0, 1)
    d.record("p", "t", 80_000.0, True)
    feed = d.feed({"id": "p"}, 80_000.0, 1)
    assert feed.empty_reason is not None
    assert feed.empty_reason.code == "all_done"


def test_out_of_order_and_skewed_clocks() -> None:
    d = OfflineDispatcher([task("t", quantity=1_000)])
    assert d.recommend({"id": "a"}, 50_000.0, 1) == ["t"]
    # A request stamped earlier (another server's clock) is served on its own time and
    # does not rewind pacing.
    assert d.recommend({"id": "b"}, 40_000.0, 1) == ["t"]
    assert d.dispatcher.pacer.clock_s == 50_000.0
    d.record("b", "t", 10.0, True)
    d.record("c", "t", -1e12, False)
    assert d.recommend({"id": "c"}, float("inf"), 1) == []
    assert d.dispatcher.pacer.clock_s == 50_000.0
    assert d.recommend({"id": "c"}, 60_000.0, 1) == ["t"]


def test_unknown_task_and_person_in_record_are_ignored() -> None:
    d = OfflineDispatcher([task("t")])
    d.record("ghost", "no-such-task", 10.0, True)
    assert d.dispatcher.index.completed.sum() == 0


def test_a_forecast_needs_24_non_negative_hours() -> None:
    with pytest.raises(ValueError, match="24"):
        TrafficForecast([1.0] * 23)
    with pytest.raises(ValueError, match="24"):
        TrafficForecast([-1.0] + [1.0] * 23)


def test_profiles_read_leniently() -> None:
    who = PersonProfile.from_dict({"id": 7, "age": 30.9, "interests": ["", " 美食 ", 5]})
    assert (who.id, who.age, who.interests) == ("7", 30, frozenset({"美食", "5"}))
