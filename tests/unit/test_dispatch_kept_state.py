"""What the dispatcher keeps between requests (the open-task mask, targeting masks, the
per-task log-odds, a feed's outcomes waiting to be learned) always agrees with working it
out afresh, and the compiled scoring computes the documented formula."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xingdong.dispatch.completion import CompletionModel
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.profiles import PersonProfile, Targeting, TaskSpec
from xingdong.dispatch.slates import best_feed_value
from xingdong.dispatch.weights import DispatchWeights

REGIONS = ("广东", "浙江", "北京")
INTERESTS = ("母婴", "美食", "美妆")


def _task(n: int, rng: np.random.Generator) -> TaskSpec:
    start = float(rng.integers(0, 3)) * 3_600.0
    return TaskSpec(
        id=f"t{n}",
        type=("follow", "like", "comment")[n % 3],
        price_fen=int(rng.integers(10, 200)),
        reward_fen=int(rng.integers(5, 150)),
        quantity=int(rng.integers(1, 6)),
        start_s=start,
        end_s=start + float(rng.integers(1, 5)) * 3_600.0,
        targeting=Targeting(
            regions=frozenset(rng.choice(REGIONS, size=int(rng.integers(0, 2))).tolist()),
            interests=frozenset(rng.choice(INTERESTS, size=int(rng.integers(0, 2))).tolist()),
        ),
        brand=f"b{n % 4}",
        category=None if n % 4 == 0 else INTERESTS[n % 3],
    )


def _add_plain_tasks(d: Dispatcher, kind: str, price_fen: int) -> None:
    """Eight tasks open to anyone over the first 10,000 s, each of its own brand."""
    for n in range(8):
        d.upsert_task(
            TaskSpec(
                id=f"t{n}",
                type=kind,
                price_fen=price_fen + n,
                reward_fen=30,
                quantity=10,
                start_s=0.0,
                end_s=10_000.0,
                brand=f"b{n}",
            )
        )


def _people(rng: np.random.Generator) -> list[PersonProfile]:
    return [
        PersonProfile(
            id=f"p{n}",
            age=20 + n,
            region=str(rng.choice(REGIONS)),
            interests=frozenset(rng.choice(INTERESTS, size=int(rng.integers(0, 3))).tolist()),
            tier=("novice", "growing", "head")[n % 3],
        )
        for n in range(6)
    ]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_kept_masks_agree_with_fresh_ones(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = Dispatcher(DispatchWeights(), seed=seed)
    people = _people(rng)
    made = 0
    for _ in range(5):
        d.upsert_task(_task(made, rng))
        made += 1
    now = 0.0
    for _ in range(120):
        action = rng.integers(0, 6)
        live = list(d.task_ids())
        if action == 0:
            d.upsert_task(_task(made, rng))
            made += 1
        elif action == 1 and live:
            d.remove_task(str(rng.choice(live)))
        elif action == 2 and live:
            task_id = str(rng.choice(live))
            d.set_progress(
                task_id, completed=int(rng.integers(0, 4)), reserved=int(rng.integers(0, 3))
            )
        else:
            now += float(rng.integers(0, 1_800))
            person = people[int(rng.integers(0, len(people)))]
            feed = d.recommend(person, now, 3)
            for n, item in enumerate(feed.items):
                d.record(person.id, item.task_id, now, n == 0 and bool(rng.random() < 0.5))
        probe = people[int(rng.integers(0, len(people)))]
        kept = d.index.eligible(probe, d._open_now(now))
        fresh = d.index._match_targeting(probe) & d._open_mask(now)
        fresh &= d.index.personal_mask(probe)
        assert np.array_equal(kept, fresh)


def test_a_task_added_between_two_moves_of_the_plans_is_guarded_at_once() -> None:
    """The plans move every ``ADVANCE_EVERY_S``; a task that arrives in between is held to
    its own plan from its first claim, not to what its slot held before (a slot no task
    had was planned as if its window began at the epoch: fully open)."""
    now = 1_796_000_000.0  # a real clock: an empty slot's plan is worked out from it
    week = 7 * 86_400.0
    d = Dispatcher(DispatchWeights(), seed=0)
    someone = PersonProfile(id="p", age=30, region="广东")

    def task(task_id: str, quantity: int) -> TaskSpec:
        return TaskSpec(
            id=task_id, type="follow", price_fen=80, reward_fen=60, quantity=quantity,
            start_s=now - 3_600.0, end_s=now - 3_600.0 + week, brand=task_id,
        )  # fmt: skip

    d.upsert_task(task("first", 100))
    assert d.recommend(someone, now, 5).task_ids == ["first"]  # the plans move to now
    d.upsert_task(task("new", 5))
    assert "new" in d.recommend(someone, now + 1.0, 5).task_ids
    # One of five units an hour into a week is far ahead of its plan.
    d.set_progress("new", completed=0, reserved=1)
    assert d.recommend(someone, now + 2.0, 5).task_ids == ["first"]
    # The same when the task's window changes between two moves.
    d.set_progress("new", completed=0, reserved=0)
    d.upsert_task(replace(task("new", 5), start_s=now - week + 60.0, end_s=now + 60.0))
    d.set_progress("new", completed=0, reserved=4)
    assert "new" in d.recommend(someone, now + 3.0, 5).task_ids
    d.upsert_task(task("new", 5))
    assert d.recommend(someone, now + 4.0, 5).task_ids == ["first"]


def test_a_new_task_reaches_people_whose_targeting_was_kept() -> None:
    d = Dispatcher(DispatchWeights(), seed=0)
    someone = PersonProfile(id="p", age=30, region="广东", interests=frozenset({"美食"}))
    assert d.recommend(someone, 10.0, 5).task_ids == []
    d.upsert_task(
        TaskSpec(
            id="new",
            type="like",
            price_fen=50,
            reward_fen=30,
            quantity=10,
            start_s=0.0,
            end_s=1_000.0,
            targeting=Targeting(regions=frozenset({"广东"})),
        )
    )
    assert d.recommend(someone, 10.0, 5).task_ids == ["new"]


def test_kept_log_odds_agree_with_their_parts_after_learning() -> None:
    rng = np.random.default_rng(4)
    d = Dispatcher(DispatchWeights(), seed=4)
    for n in range(40):
        d.upsert_task(_task(n, rng))
    people = _people(rng)
    for n in range(400):
        person = people[n % len(people)]
        feed = d.recommend(person, 3_600.0 + n, 5)
        for place, item in enumerate(feed.items):
            d.record(person.id, item.task_id, 3_600.0 + n, place == n % 7)
    model = d.model
    slots = np.array(sorted(d.index.slot_of.values()))
    base = model.type_mean[model.slot_type[slots]] + model.task_mean[slots]
    bold = base + d.weights.explore / np.sqrt(model.task_precision[slots])
    assert np.allclose(model.task_base[slots], base)
    assert np.allclose(model.task_bold[slots], bold)
    # And the person's part: label lifts per type, per category (for tasks with one) and
    # per task, and their own leaning.
    person = people[1]
    columns = model.label_columns(person)
    types = model.slot_type[slots]
    lift = model.type_label_mean[types][:, columns].sum(axis=1)
    categories = model.slot_category[slots]
    said = categories >= 0
    assert said.any() and not said.all()
    lift[said] += model.category_label_mean[categories[said]][:, columns].sum(axis=1)
    # A category among the person's interests adds the lift all such matches share.
    matches = said & np.isin(model.category_interest[categories], columns)
    assert matches.any() and model.match[1] > 1.0 and model.match[0] != 0.0
    lift[matches] += model.match[0]
    lift += model.label_task_mean[columns][:, slots].sum(axis=0)
    lift += model._people[person.id].mean[types]
    assert np.allclose(model.log_odds(slots, person.id, columns), base + lift)


def test_scores_follow_the_documented_formula() -> None:
    rng = np.random.default_rng(9)
    d = Dispatcher(DispatchWeights(explore=0.0), seed=9)
    for n in range(60):
        d.upsert_task(_task(n, rng))
    d.pacer.price[:] = rng.uniform(0.0, 0.5, d.pacer.price.shape[0])
    person = PersonProfile(id="q", age=25, region="浙江", interests=frozenset({"母婴"}))
    slots = d._open_slots(person, 4_000.0)
    assert slots.size > 10
    k = 5
    attraction = np.exp(d.model.log_odds(slots, person.id, d.model.label_columns(person)))
    price = d.price_fen[slots]
    margin = price * (1 + d.weights.quality_boost * d.is_quality[slots])
    margin -= d.pacer.price[slots] * price
    theta = best_feed_value(margin, attraction, d.model.position_weights(k), steps=50)
    expected = (margin - theta) * attraction + d.jitter[slots]
    # Three Dinkelbach steps reach θ on a feed this small.
    assert np.allclose(d.scores(person, slots, k), expected, rtol=1e-9, atol=1e-9)


def test_a_feed_is_learned_once_every_shown_task_has_its_outcome() -> None:
    d = Dispatcher(DispatchWeights(), seed=1)
    _add_plain_tasks(d, "follow", 50)
    person = PersonProfile(id="p", age=30)
    feed = d.recommend(person, 4_000.0, 3)
    assert len(feed.items) == 3
    before = d.model.task_mean.copy()
    first, *rest = feed.task_ids
    d.record("p", first, 4_000.0, False)
    assert np.array_equal(d.model.task_mean, before)  # waits for the rest of the feed
    for task_id in rest:
        d.record("p", task_id, 4_000.0, False)
    learned = d.model.task_mean
    moved = [d.index.slot_of[t] for t in feed.task_ids]
    assert all(learned[slot] < before[slot] for slot in moved)
    # A partial feed is learned when the person asks again.
    again = d.recommend(person, 4_100.0, 3)
    d.record("p", again.task_ids[0], 4_100.0, True)
    snapshot = d.model.task_mean.copy()
    d.recommend(person, 4_200.0, 3)
    assert (
        d.model.task_mean[d.index.slot_of[again.task_ids[0]]]
        > snapshot[d.index.slot_of[again.task_ids[0]]]
    )


def test_one_slate_step_equals_single_steps_for_distinct_types_and_no_labels() -> None:
    # With nothing shared between the tasks of a feed, learning them together is the
    # same as learning them one by one.
    together = CompletionModel(DispatchWeights(), capacity=4)
    apart = CompletionModel(DispatchWeights(), capacity=4)
    for model in (together, apart):
        for slot, kind in enumerate(("follow", "like", "comment")):
            model.reset_task(slot, kind, 4)
    slots = np.array([0, 1, 2])
    done = np.array([1.0, 0.0, 0.0])
    competition = np.array([0.3, 0.2, 0.1])
    together.learn_slate(
        slots, PersonProfile(id="a"), np.zeros(3, dtype=np.int64), done, competition
    )
    for slot in range(3):
        apart.learn(
            slot,
            PersonProfile(id=f"b{slot}"),
            0,
            bool(done[slot]),
            competition=float(competition[slot]),
        )
    assert np.allclose(together.task_mean[:3], apart.task_mean[:3])
    assert np.allclose(together.type_mean[:3], apart.type_mean[:3])
    assert math.isclose(float(together.task_spread[0]), 1 / math.sqrt(apart.task_precision[0]))


def test_a_feed_narrowed_to_what_was_shown_is_learned_from_that() -> None:
    d = Dispatcher(DispatchWeights(), seed=2)
    _add_plain_tasks(d, "like", 40)
    placed = d.recommend(PersonProfile(id="p", age=30), 100.0, 5).task_ids
    seen = [placed[0], placed[2]]
    d.shown_only("p", seen)
    before = d.model.task_mean.copy()
    for task_id in seen:
        d.record("p", task_id, 200.0, False)
    # Both shown tasks had their outcome: learned at once, the others untouched.
    moved = {
        t for t in placed if d.model.task_mean[d.index.slot_of[t]] != before[d.index.slot_of[t]]
    }
    assert moved == set(seen)
    # The second shown task was in the second place.
    assert d.model.position_mean[1] != 0.0


def test_declining_a_feed_at_once_is_recording_each_declined_task() -> None:
    at_once, one_by_one = (Dispatcher(DispatchWeights(), seed=4) for _ in range(2))
    for d in (at_once, one_by_one):
        _add_plain_tasks(d, "follow", 60)
    person = PersonProfile(id="p", age=30, region="广东", interests=frozenset({"美食"}))
    for visit in range(3):
        now_s = 100.0 + 1_000.0 * visit
        placed = at_once.recommend(person, now_s, 5).task_ids
        assert one_by_one.recommend(person, now_s, 5).task_ids == placed
        at_once.shown_only("p", placed[:4])
        one_by_one.shown_only("p", placed[:4])
        # One was taken; the rest are declined when the person comes back, plus a task
        # never shown to them (learned on its own) and one that does not exist.
        for d in (at_once, one_by_one):
            d.record("p", placed[0], now_s + 10.0, True)
        later = now_s + 500.0
        declined = [*placed[1:4], placed[4], "gone"]
        at_once.declined("p", declined, later)
        for task_id in declined:
            one_by_one.record("p", task_id, later, False)
    for name in ("task_mean", "task_precision", "type_mean", "position_mean", "label_task_mean"):
        assert np.array_equal(getattr(at_once.model, name), getattr(one_by_one.model, name)), name
    assert np.array_equal(at_once.pacer.price, one_by_one.pacer.price)
    assert at_once.model.task_mean[at_once.index.slot_of[placed[1]]] != 0.0
