"""What the feed console reads from a dispatcher (the weights in force, each tier's
standing and relief, a task's pacing price), and how the weights in force are made."""

from __future__ import annotations

import json
import shlex
from dataclasses import fields, replace

import numpy as np
import pytest

from xingdong.core.settings import Settings
from xingdong.dispatch.console import WEIGHT_HELP, bench_command, bench_weights, weight_rows
from xingdong.dispatch.fairness import MIN_VISITS, TierFairness
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.models import WeightChange
from xingdong.dispatch.profiles import PersonProfile, Targeting, TaskSpec
from xingdong.dispatch.tuning import weight_problems, weights_with
from xingdong.dispatch.weights import TUNABLE, DispatchWeights, weights_from


def test_every_weight_operators_may_set_is_listed_and_explained() -> None:
    listed = weight_rows(replace(DispatchWeights(), explore=0.3, max_per_brand=2))
    # In the order of the dataclass (and of docs/dispatch.md's table).
    order = [f.name for f in fields(DispatchWeights) if f.name in TUNABLE]
    assert [w.name for w in listed] == order
    assert set(WEIGHT_HELP) == TUNABLE
    changed = {w.name: (w.value, w.default) for w in listed if w.changed}
    assert changed == {"explore": (0.3, 0.6), "max_per_brand": (2, 1)}


def test_a_lagging_tier_is_given_relief_and_the_others_none() -> None:
    fairness = TierFairness(DispatchWeights())
    for visit in range(4 * MIN_VISITS):
        for tier in ("head", "novice"):
            fairness.visited(tier)
            # Head creators take a task at every other visit, novices at every tenth.
            if (tier == "head" and visit % 2 == 0) or (tier == "novice" and visit % 10 == 0):
                fairness.completed(tier)
    standing = {s.tier: s for s in fairness.standing()}
    assert set(standing) == {"head", "novice"}
    assert standing["head"].rate == pytest.approx(0.5)
    assert standing["novice"].rate == pytest.approx(0.1)
    assert standing["novice"].relief > 0
    assert standing["head"].relief == 0
    assert standing["novice"].relief <= DispatchWeights().fairness_max_boost


def test_people_without_a_tier_stand_as_none() -> None:
    fairness = TierFairness(DispatchWeights())
    fairness.visited(None)
    assert [(s.tier, s.visits, s.rate) for s in fairness.standing()] == [(None, 1, 0.0)]


def test_a_tasks_pacing_price_is_its_seeding_until_it_moves() -> None:
    dispatcher = Dispatcher()
    task = TaskSpec(
        id="t1", type="follow", price_fen=100, reward_fen=80, quantity=10, start_s=0.0,
        end_s=86_400.0, per_person_limit=1, targeting=Targeting(), brand="b",
    )  # fmt: skip
    assert dispatcher.pacing_price("t1") is None
    dispatcher.upsert_task(task)
    assert dispatcher.pacing_price("t1") == 0.0
    dispatcher.seed_prices({"t1": 0.4, "unknown": 0.9})
    assert dispatcher.pacing_price("t1") == pytest.approx(0.4)
    assert dispatcher.pacing_price("unknown") is None


def test_weights_in_force_are_the_defaults_then_the_setting_then_the_console() -> None:
    settings = Settings(dispatch_weights={"explore": 0.3, "max_per_brand": 2})
    assert weights_with(settings, None) == replace(DispatchWeights(), explore=0.3, max_per_brand=2)
    change = WeightChange(weights={"explore": 0.9, "pacing_slack": 0.1})
    assert weights_with(settings, change) == replace(
        DispatchWeights(), explore=0.9, max_per_brand=2, pacing_slack=0.1
    )
    # A weight this version does not have (a row from an older one) is passed over.
    gone = WeightChange(weights={"retired_weight": 3.0, "explore": 0.9})
    assert weights_with(settings, gone).explore == 0.9
    # So is a value an older version allowed and this one refuses.
    wild = WeightChange(weights={"learning_rate": 1e300, "explore": 0.9})
    assert weights_with(settings, wild).learning_rate == DispatchWeights().learning_rate
    assert weights_with(settings, wild).explore == 0.9
    # Back to the setting: a change with no weights of its own.
    assert weights_with(settings, WeightChange(weights={})) == weights_with(settings, None)


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        ({"explore": 0.3, "max_per_brand": 3}, []),
        ({"nope": 1.0}, [("nope", "There is no such weight.")]),
        ({"explore": -1.0}, [("explore", "Enter 0 or more.")]),
        ({"explore": float("nan")}, [("explore", "Enter a number.")]),
        ({"explore": float("inf")}, [("explore", "Enter a number.")]),
        ({"candidates": 2.5}, [("candidates", "Enter a whole number of 1 or more.")]),
        ({"max_per_brand": 0}, [("max_per_brand", "Enter a whole number of 1 or more.")]),
        ({"prior_strength": 0.0}, [("prior_strength", "Enter a number above 0.")]),
        ({"default_prior": 1.0}, [("default_prior", "Enter a number above 0 and below 1.")]),
        ({"fairness_max_boost": 1.5}, [("fairness_max_boost", "Enter a number from 0 to 1.")]),
        ({"fairness_target": 1.0, "default_prior": 0.5}, []),
        ({"explore": True}, [("explore", "Enter a number.")]),
        ({"learning_rate": 1e300}, [("learning_rate", "Enter a number no larger than 10.")]),
        ({"learning_rate": 10.0, "max_per_brand": 1000, "pacing_lead_s": 86_400}, []),
        ({"max_per_brand": 1001}, [("max_per_brand", "Enter a number no larger than 1,000.")]),
        (
            {"new_within_s": 1e9, "value": 101},
            [
                ("new_within_s", "Enter at most 604,800 seconds (a week)."),
                ("value", "Enter a number no larger than 100."),
            ],
        ),
    ],
)
def test_each_bad_weight_is_named(
    values: dict[str, float], problems: list[tuple[str, str]]
) -> None:
    assert [(p.field, p.message) for p in weight_problems(values)] == problems


def test_a_step_set_to_zero_turns_its_part_off_at_once() -> None:
    dispatcher = Dispatcher()
    task = TaskSpec(
        id="t1", type="follow", price_fen=100, reward_fen=80, quantity=10, start_s=0.0,
        end_s=86_400.0, targeting=Targeting(), brand="b",
    )  # fmt: skip
    dispatcher.upsert_task(task)
    dispatcher.seed_prices({"t1": 0.8})
    fairness = dispatcher.fairness
    for visit in range(4 * MIN_VISITS):
        for tier in ("head", "novice"):
            fairness.visited(tier)
            if tier == "head" or visit % 10 == 0:
                fairness.completed(tier)
    assert fairness.relief("novice") > 0.05
    # A lower ceiling brings the price and the relief under it.
    dispatcher.set_weights(
        replace(DispatchWeights(), pacing_max_price=0.5, fairness_max_boost=0.05)
    )
    assert dispatcher.pacing_price("t1") == pytest.approx(0.5)
    assert fairness.relief("novice") == pytest.approx(0.05)
    # Steps of 0: no price and no relief, now and for later seedings.
    dispatcher.set_weights(replace(DispatchWeights(), pacing_step=0.0, fairness_step=0.0))
    assert dispatcher.pacing_price("t1") == 0.0
    assert fairness.relief("novice") == 0.0
    dispatcher.seed_prices({"t1": 0.8})
    assert dispatcher.pacing_price("t1") == 0.0


def test_the_bench_command_plays_the_weights_in_force() -> None:
    setting = {"explore": 0.3, "max_per_brand": 2}
    # The console put explore back to its default and raised the slack.
    in_force = weights_with(
        Settings(dispatch_weights=setting),
        WeightChange(weights={"explore": 0.6, "pacing_slack": 0.5}),
    )
    command = bench_command(bench_weights(in_force, setting))
    words = shlex.split(command)
    assert words[:4] == ["xingdong", "bench", "dispatch", "--weights"]
    given = json.loads(words[4])
    assert given == {"pacing_slack": 0.5, "explore": 0.6, "max_per_brand": 2}
    # As the command reads it, over the same setting on the machine that runs it.
    assert weights_from(setting | given) == in_force
    assert bench_command(bench_weights(DispatchWeights(), {})) == "xingdong bench dispatch"


def test_a_wild_learning_step_leaves_the_model_finite_and_new_tasks_fresh() -> None:
    """Even set in code past the ceilings, a step cannot push the learned rates out of
    range: the weights go back and the feed, and a new task's start, keep working."""
    dispatcher = Dispatcher(DispatchWeights())
    for n, kind in enumerate(("follow", "shoot", "like")):
        dispatcher.upsert_task(TaskSpec(
            id=f"t{n}", type=kind, price_fen=100 * (n + 1), reward_fen=70 * (n + 1),
            quantity=100, start_s=0.0, end_s=1e6, brand=f"b{n}",
        ))  # fmt: skip
    person = PersonProfile(id="p1", age=30, interests=frozenset({"美妆"}), tier="novice")
    dispatcher.set_weights(replace(DispatchWeights(), learning_rate=1e300))
    for step in range(4):
        shown = dispatcher.recommend(person, 1_000.0 + 10 * step, 3).items
        dispatcher.declined("p1", [item.task_id for item in shown], 1_005.0 + 10 * step)
    dispatcher.record("p1", "t0", 1_050.0, True)
    dispatcher.set_weights(DispatchWeights())
    model = dispatcher.model
    for learned in (model.type_mean, model.task_mean, model.task_bold, model.label_task_mean):
        assert np.isfinite(learned).all() and np.abs(learned).max() < 100
    dispatcher.upsert_task(TaskSpec(
        id="new", type="shoot", price_fen=3_000, reward_fen=2_400, quantity=10,
        start_s=0.0, end_s=1e6, brand="b9",
    ))  # fmt: skip
    assert dispatcher.pacing_price("new") == 0.0
    assert dispatcher.recommend(person, 1_100.0, 3).items


def test_a_novice_feed_holds_an_onboarding_task_near_the_top() -> None:
    dispatcher = Dispatcher(DispatchWeights())
    for n in range(6):
        dispatcher.upsert_task(TaskSpec(
            id=f"dear{n}", type="follow", price_fen=800, reward_fen=600, quantity=100,
            start_s=0.0, end_s=1e6, brand=f"b{n}",
        ))  # fmt: skip
    dispatcher.upsert_task(TaskSpec(
        id="first", type="follow", price_fen=10, reward_fen=8, quantity=100, start_s=0.0,
        end_s=1e6, brand="school", targeting=Targeting(tiers=frozenset({"novice"})),
        is_novice=True,
    ))  # fmt: skip
    novice = PersonProfile(id="n1", age=25, tier="novice")
    # Scores alone put a task paying a tiny fraction of the others last.
    unboosted = replace(DispatchWeights(), novice_place=0)
    dispatcher.set_weights(unboosted)
    assert "first" not in [i.task_id for i in dispatcher.recommend(novice, 10.0, 3).items]
    dispatcher.set_weights(DispatchWeights())
    placed = [i.task_id for i in dispatcher.recommend(novice, 20.0, 5).items]
    assert len(placed) == 5 and placed.index("first") == 2
    assert dispatcher.recommend(novice, 30.0, 5).items[2].reason.code == "novice_task"
    assert [i.task_id for i in dispatcher.recommend(novice, 40.0, 1).items] == ["first"]
    # Once they have done one, onboarding tasks compete on their score again.
    dispatcher.upsert_task(TaskSpec(
        id="second", type="like", price_fen=10, reward_fen=8, quantity=100, start_s=0.0,
        end_s=1e6, brand="school2", targeting=Targeting(tiers=frozenset({"novice"})),
        is_novice=True,
    ))  # fmt: skip
    dispatcher.set_all_done("n1", {"first": 1})
    assert "second" not in [i.task_id for i in dispatcher.recommend(novice, 45.0, 3).items]
    # So too for one who did one in a campaign the index no longer holds (their profile
    # says so).
    returning = replace(novice, id="n2", onboarded=True)
    top = {i.task_id for i in dispatcher.recommend(returning, 48.0, 3).items}
    assert not top & {"first", "second"}
    # Not for others: the task is not open to them anyway, and nothing is pushed in.
    growing = PersonProfile(id="g1", age=25, tier="growing")
    assert "first" not in [i.task_id for i in dispatcher.recommend(growing, 50.0, 5).items]
