"""The offline dispatcher's contract (specs/dispatch-offline.md): eligibility, limits,
units, windows, determinism and learning."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from xingdong.dispatch.offline import OfflineDispatcher
from xingdong.dispatch.profiles import PersonProfile


def task(task_id: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": task_id,
        "type": "follow",
        "price_fen": 50,
        "reward_fen": 35,
        "quantity": 400,
        "start_s": 0,
        "end_s": 43_200,
        "per_person_limit": 1,
        "targeting": {},
    }
    return base | over


def person(person_id: str = "p7", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": person_id,
        "age": 27,
        "region": "广东",
        "interests": ["母婴", "美食"],
        "tier": "growing",
    }
    return base | over


def test_empty_or_missing_targeting_means_anyone() -> None:
    d = OfflineDispatcher([task("empty", targeting={}), task("missing", targeting=None)])
    assert sorted(d.recommend(person(), 100.0, 5)) == ["empty", "missing"]


@pytest.mark.parametrize(
    ("targeting", "eligible"),
    [
        pytest.param({"age_min": 18, "age_max": 40}, True, id="age-inside"),
        pytest.param({"age_min": 30}, False, id="age-too-young"),
        pytest.param({"age_max": 26}, False, id="age-too-old"),
        pytest.param({"regions": ["广东", "浙江"]}, True, id="region-listed"),
        pytest.param({"regions": ["浙江"]}, False, id="region-not-listed"),
        pytest.param({"interests": ["美妆", "母婴"]}, True, id="one-shared-interest"),
        pytest.param({"interests": ["美妆", "数码"]}, False, id="no-shared-interest"),
        pytest.param({"tiers": ["growing", "head"]}, True, id="tier-listed"),
        pytest.param({"tiers": ["head"]}, False, id="tier-not-listed"),
        pytest.param({"regions": [], "interests": [], "tiers": []}, True, id="empty-lists"),
    ],
)
def test_targeting(targeting: dict[str, Any], eligible: bool) -> None:
    d = OfflineDispatcher([task("t1", targeting=targeting)])
    assert d.recommend(person(), 100.0, 5) == (["t1"] if eligible else [])


def test_window_is_start_inclusive_end_exclusive() -> None:
    d = OfflineDispatcher([task("t1", start_s=1_000, end_s=2_000)])
    assert d.recommend(person(), 999.0, 5) == []
    assert d.recommend(person(), 1_000.0, 5) == ["t1"]
    assert d.recommend(person(), 2_000.0, 5) == []


def test_per_person_limit() -> None:
    d = OfflineDispatcher([task("once"), task("twice", per_person_limit=2)])
    for _ in range(2):
        assert "twice" in d.recommend(person(), 100.0, 5)
        d.record("p7", "once", 100.0, True)
        d.record("p7", "twice", 100.0, True)
    assert d.recommend(person(), 100.0, 5) == []
    assert sorted(d.recommend(person("p8"), 100.0, 5)) == ["once", "twice"]


def test_never_recommends_a_sold_out_task() -> None:
    # Late in the window, so that pacing does not hold the task back.
    d = OfflineDispatcher([task("t1", quantity=2)])
    for n in range(2):
        assert d.recommend(person(f"p{n}"), 43_000.0, 1) == ["t1"]
        d.record(f"p{n}", "t1", 43_000.0, True)
    assert d.recommend(person("p9"), 43_000.0, 1) == []
    empty = d.feed(person("p9"), 43_000.0, 1).empty_reason
    assert empty is not None
    assert empty.code == "sold_out"


def test_reserved_units_count_as_taken() -> None:
    d = OfflineDispatcher([task("t1", quantity=3)])
    d.dispatcher.set_progress("t1", completed=1, reserved=2)
    assert d.recommend(person(), 43_000.0, 1) == []
    d.dispatcher.set_progress("t1", completed=1, reserved=1)
    assert d.recommend(person(), 43_000.0, 1) == ["t1"]


def test_returns_at_most_k_eligible_ids() -> None:
    tasks = [task(f"t{n}", brand=f"b{n}") for n in range(20)]
    d = OfflineDispatcher(tasks)
    slate = d.recommend(person(), 100.0, 4)
    assert len(slate) == 4
    assert len(set(slate)) == 4
    assert d.recommend(person(), 100.0, 0) == []


def test_one_brand_does_not_fill_the_feed() -> None:
    tasks = [task(f"a{n}", brand="A", price_fen=500) for n in range(5)]
    tasks += [task(f"b{n}", brand=f"B{n}") for n in range(5)]
    slate = OfflineDispatcher(tasks).recommend(person(), 100.0, 4)
    assert sum(t.startswith("a") for t in slate) == 1


def test_deterministic_for_a_seed() -> None:
    tasks = [task(f"t{n}", price_fen=50, brand=f"b{n}") for n in range(30)]

    def run(seed: int) -> list[list[str]]:
        d = OfflineDispatcher(tasks, seed=seed)
        slates = []
        for n in range(40):
            slate = d.recommend(person(f"p{n % 7}"), 100.0 + n, 3)
            slates.append(slate)
            for position, task_id in enumerate(slate):
                d.record(f"p{n % 7}", task_id, 100.0 + n, position == n % 4)
        return slates

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_outcomes_change_scores() -> None:
    d = OfflineDispatcher([task("liked", brand="x"), task("ignored", brand="y")])
    feed = d.dispatcher
    before = {i.task_id: i.score for i in d.feed(person(), 42_000.0, 2).items}
    for n in range(60):
        d.recommend(person(f"q{n}"), 42_000.0, 2)
        d.record(f"q{n}", "liked", 42_000.0, n % 2 == 0)
        d.record(f"q{n}", "ignored", 42_000.0, False)
    after = {i.task_id: i.score for i in d.feed(person(), 42_000.0, 2).items}
    assert after["liked"] > before["liked"]
    assert after["ignored"] < before["ignored"]
    assert d.recommend(person(), 42_000.0, 2)[0] == "liked"
    assert feed.index.completed[feed.index.slot_of["liked"]] == 30


def test_learns_which_interests_complete_a_task() -> None:
    tasks = [task("baby", brand="x"), task("food", brand="y")]
    d = OfflineDispatcher(tasks, seed=1)
    for n in range(300):
        who = person(f"m{n}", interests=["母婴"] if n % 2 else ["美食"])
        d.recommend(who, 40_000.0, 2)
        d.record(who["id"], "baby", 40_000.0, n % 2 == 1 and n % 3 == 0)
        d.record(who["id"], "food", 40_000.0, n % 2 == 0 and n % 3 == 0)
    assert d.recommend(person("new1", interests=["母婴"]), 40_000.0, 2)[0] == "baby"
    assert d.recommend(person("new2", interests=["美食"]), 40_000.0, 2)[0] == "food"
    item = d.feed(person("new3", interests=["母婴"]), 40_000.0, 1).items[0]
    # Learned, not targeted: said as what people like them take.
    assert (item.reason.code, item.reason.params) == ("interest_popular", {"interest": "母婴"})


def test_a_task_every_interest_takes_alike_is_not_said_to_be_popular_with_one() -> None:
    # Everyone takes it far more often than its type's prior says, whatever they are into:
    # the lifts of every interest rise above zero with it, and none above the others.
    d = OfflineDispatcher([task("liked", type="shoot")], seed=5)
    fans = (["数码"], ["美妆"], ["母婴"], ["美食"])
    for n in range(240):
        who = person(f"m{n}", interests=fans[n % 4])
        d.recommend(who, 40_000.0, 1)
        d.record(who["id"], "liked", 40_000.0, n % 5 != 0)
    model, slot = d.dispatcher.model, d.dispatcher.index.slot_of["liked"]
    column = model.labels.find("interest:数码")
    assert column is not None and model.label_lift(slot, column) > 0.2
    item = d.feed(person("asks", interests=["数码"]), 40_000.0, 1).items[0]
    assert item.reason.code != "interest_popular"


@pytest.mark.parametrize(("ahead", "said"), [(0.35, True), (0.15, False)])
def test_an_interest_is_said_popular_when_its_lift_beats_the_others_by_a_fifth(
    ahead: float, said: bool
) -> None:
    d = OfflineDispatcher([task("video", type="shoot")], seed=6)
    for n in range(40):
        who = person(f"m{n}", interests=["数码"] if n % 2 else ["美妆"])
        d.recommend(who, 40_000.0, 1)
        d.record(who["id"], "video", 40_000.0, n % 4 == 0)
    model, slot = d.dispatcher.model, d.dispatcher.index.slot_of["video"]
    gadgets, beauty = model.labels.find("interest:数码"), model.labels.find("interest:美妆")
    assert gadgets is not None and beauty is not None
    # Set 数码's lift ``ahead`` of 美妆's, the only other interest shown the task.
    model.label_task_mean[gadgets, slot] += (
        model.label_lift(slot, beauty) + ahead - model.label_lift(slot, gadgets)
    )
    item = d.feed(person("asks", interests=["数码"]), 40_000.0, 1).items[0]
    assert (item.reason.code == "interest_popular") is said


def test_a_new_task_starts_from_what_its_category_taught() -> None:
    from xingdong.dispatch.profiles import TaskSpec

    # Parenting tasks taken by people into 母婴, food tasks by people into 美食; nothing
    # targets anyone.
    tasks = [task(f"baby{n}", brand=f"b{n}", category="母婴") for n in range(3)]
    tasks += [task(f"food{n}", brand=f"f{n}", category="美食") for n in range(3)]
    d = OfflineDispatcher(tasks, seed=2)
    for n in range(600):
        fan = ["母婴"] if n % 2 else ["美食"]
        who = person(f"m{n}", interests=fan)
        d.recommend(who, 40_000.0, 6)
        for t in tasks:
            liked = t["category"] == fan[0] and n % 3 == 0
            d.record(who["id"], t["id"], 40_000.0, liked and t["id"].endswith(str(n % 3)))
    # Two new tasks, never shown: only their categories tell them apart.
    d.dispatcher.upsert_task(TaskSpec.from_dict(task("new-baby", brand="nb", category="母婴")))
    d.dispatcher.upsert_task(TaskSpec.from_dict(task("new-food", brand="nf", category="美食")))
    model, slot_of = d.dispatcher.model, d.dispatcher.index.slot_of
    for interest, liked, other in (
        ("母婴", "new-baby", "new-food"),
        ("美食", "new-food", "new-baby"),
    ):
        asking = PersonProfile.from_dict(person(f"new-{interest}", interests=[interest]))
        slots = np.array([slot_of[liked], slot_of[other]])
        odds = model.log_odds(slots, asking.id, model.label_columns(asking))
        assert odds[0] > odds[1] + 0.5
    # Said as matching the person's interest, though the brand targeted no one.
    items = d.feed(person("asks", interests=["母婴"]), 40_000.0, 8).items
    reason = next(i.reason for i in items if i.task_id == "new-baby")
    assert (reason.code, reason.params) == ("interest_match", {"interest": "母婴"})


def test_a_category_never_shown_gains_from_what_the_others_taught_about_interests() -> None:
    from xingdong.dispatch.profiles import TaskSpec

    # Parenting and food tasks, each taken only by people into its category; people into
    # 数码 or 美妆 are shown them too and take none. A 数码 task has never been shown.
    tasks = [task(f"baby{n}", brand=f"b{n}", category="母婴") for n in range(2)]
    tasks += [task(f"food{n}", brand=f"f{n}", category="美食") for n in range(2)]
    tasks.append(task("gadget", brand="g", category="数码", start_s=50_000))
    d = OfflineDispatcher(tasks, seed=3)
    fans = (["母婴"], ["美食"], ["数码"], ["美妆"])
    for n in range(800):
        fan = fans[n % 4]
        who = person(f"m{n}", interests=fan)
        d.recommend(who, 40_000.0, 4)
        for t in tasks[:4]:
            d.record(who["id"], t["id"], 40_000.0, t["category"] == fan[0] and n % 3 == 0)
    d.dispatcher.upsert_task(TaskSpec.from_dict(task("lipstick", brand="l", category="美妆")))
    model, slot_of = d.dispatcher.model, d.dispatcher.index.slot_of
    # Both categories know the interest of their name, whichever came first.
    for category in ("数码", "美妆"):
        row = model.categories.find(category)
        assert row is not None
        assert model.category_interest[row] == model.labels.find(f"interest:{category}")
    # Neither task has taught anything, and the two people did the same; being about
    # what the person likes is what sets each task apart for each of them.
    gadget_fan = PersonProfile.from_dict(person("new-gadget", interests=["数码"]))
    beauty_fan = PersonProfile.from_dict(person("new-beauty", interests=["美妆"]))
    slots = np.array([slot_of["gadget"], slot_of["lipstick"]])
    for_gadget_fan = model.log_odds(slots, gadget_fan.id, model.label_columns(gadget_fan))
    for_beauty_fan = model.log_odds(slots, beauty_fan.id, model.label_columns(beauty_fan))
    assert model.match[0] > 0.3
    assert for_gadget_fan[0] > for_beauty_fan[0] + 0.3
    assert for_beauty_fan[1] > for_gadget_fan[1] + 0.3


def test_a_task_without_a_category_learns_on_its_own() -> None:
    d = OfflineDispatcher([task("plain"), task("typed", brand="x", category="美食")])
    model, slot_of = d.dispatcher.model, d.dispatcher.index.slot_of
    assert model.slot_category[slot_of["plain"]] == -1
    assert model.categories.find("美食") == model.slot_category[slot_of["typed"]]
    for n in range(100):
        who = person(f"q{n}", interests=["美食"])
        d.recommend(who, 40_000.0, 2)
        d.record(who["id"], "plain", 40_000.0, n % 2 == 0)
        d.record(who["id"], "typed", 40_000.0, False)
    # Outcomes of the task without one moved no category's lifts.
    row = model.category_label_mean[model.categories.find("美食")]
    assert (row <= 0).all() and row.min() < 0


def test_novices_see_onboarding_tasks_first() -> None:
    tasks = [task("plain", brand="x"), task("onboarding", brand="y", novice=True)]
    d = OfflineDispatcher(tasks)
    novice_feed = d.feed(person("n1", tier="novice"), 100.0, 2)
    assert novice_feed.task_ids[0] == "onboarding"
    assert novice_feed.items[0].reason.code == "novice_task"


def test_every_item_has_a_reason() -> None:
    d = OfflineDispatcher(
        [
            task("fresh", start_s=0, brand="a"),
            task("region", start_s=-7_200, targeting={"regions": ["广东"]}, brand="b"),
            task("interest", start_s=-7_200, targeting={"interests": ["美食"]}, brand="c"),
        ],
        start_s=-86_400.0,
    )
    reasons = {i.task_id: i.reason for i in d.feed(person(), 600.0, 3).items}
    assert reasons["fresh"].code == "new_this_hour"
    assert reasons["fresh"].params == {"minutes": 10}
    assert reasons["region"].code == "region_match"
    assert reasons["interest"].params == {"interest": "美食"}


def test_hidden_tasks_and_brands_are_not_shown() -> None:
    d = OfflineDispatcher([task("t1", brand="A"), task("t2", brand="B"), task("t3", brand="C")])
    who = person(hidden_tasks=["t1"], hidden_brands=["B"])
    assert d.recommend(who, 100.0, 5) == ["t3"]


def test_pacing_guard_holds_back_a_campaign_ahead_of_plan() -> None:
    d = OfflineDispatcher([task("t1", quantity=100, end_s=86_400)])
    for n in range(40):
        if not d.recommend(person(f"g{n}"), 60.0, 1):
            break
        d.record(f"g{n}", "t1", 60.0, True)
    held = d.dispatcher.index.completed[0]
    assert 0 < held < 40
    assert d.feed(person("late"), 60.0, 1).empty_reason is not None
    assert d.recommend(person("late"), 80_000.0, 1) == ["t1"]


@pytest.mark.parametrize("behind_slack", [0.05, 1.0])
def test_a_campaign_far_behind_its_plan_pays_no_pacing_price(behind_slack: float) -> None:
    from xingdong.dispatch.weights import DispatchWeights

    weights = DispatchWeights(pacing_behind_slack=behind_slack)
    prices = {"behind": 0.8, "on_plan": 0.8}
    d = OfflineDispatcher(
        [task("behind", end_s=86_400), task("on_plan", end_s=86_400, brand="other")],
        weights=weights,
        prices=prices,
    )
    # A tenth of the day has gone: "on_plan" has done its tenth, "behind" nothing.
    d.dispatcher.set_progress("on_plan", completed=40)
    d.recommend(person(), 8_640.0, 2)
    behind, on_plan = d.dispatcher.pacing_price("behind"), d.dispatcher.pacing_price("on_plan")
    assert on_plan is not None and on_plan > 0.5  # the descent moved it a little at most
    if behind_slack < 1:
        assert behind == 0.0
        # Back within its slack, it is priced again as it spends.
        d.dispatcher.set_progress("behind", completed=38)
        d.record("p7", "behind", 8_700.0, True)
        assert (d.dispatcher.pacing_price("behind") or 0.0) > 0.0
    else:
        assert behind is not None and behind > 0.5


def test_tasks_can_be_added_updated_and_removed_live() -> None:
    d = OfflineDispatcher([task("t1")])
    live = d.dispatcher
    from xingdong.dispatch.profiles import TaskSpec

    live.upsert_task(TaskSpec.from_dict(task("t2", brand="other")))
    assert sorted(d.recommend(person(), 100.0, 5)) == ["t1", "t2"]
    live.upsert_task(TaskSpec.from_dict(task("t2", targeting={"tiers": ["head"]})))
    assert d.recommend(person(), 100.0, 5) == ["t1"]
    live.remove_task("t1")
    assert d.recommend(person(), 100.0, 5) == []
    d.record("p7", "t1", 100.0, True)  # an outcome for a removed task is ignored
    for n in range(600):
        live.upsert_task(TaskSpec.from_dict(task(f"bulk{n}", brand=f"b{n}")))
    assert len(d.recommend(person(), 100.0, 10)) == 10


def test_a_new_task_type_after_people_were_learned() -> None:
    from xingdong.dispatch.profiles import TaskSpec

    d = OfflineDispatcher([task("t1", brand="a")])
    d.recommend(person(), 42_000.0, 1)
    d.record("p7", "t1", 42_000.0, False)
    # More types than the model first made room for: its tables grow.
    for kind in ["shoot", "purchase", "x1", "x2", "x3", "x4", "x5", "x6"]:
        for m in range(3):
            raw = task(f"{kind}{m}", type=kind, brand=f"{kind}{m}")
            d.dispatcher.upsert_task(TaskSpec.from_dict(raw))
    for number in range(20):
        d.dispatcher.upsert_task(TaskSpec.from_dict(task(f"k{number}", type=f"kind{number}")))
    assert len(d.recommend(person(), 42_000.0, 50)) == 45
