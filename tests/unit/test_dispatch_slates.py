"""The feed is ranked for people who choose one task among those shown, and the model
learns the odds of a task alone at the top whatever it was shown with."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from xingdong.dispatch.completion import CompletionModel
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.profiles import PersonProfile, TaskSpec
from xingdong.dispatch.slates import best_feed_value
from xingdong.dispatch.weights import DispatchWeights


def _best_by_brute_force(margin: np.ndarray, attraction: np.ndarray, bias: np.ndarray) -> float:
    best = 0.0
    for size in range(1, bias.shape[0] + 1):
        for feed in itertools.permutations(range(margin.shape[0]), size):
            w = attraction[list(feed)] * bias[:size]
            best = max(best, float(w @ margin[list(feed)] / (1 + w.sum())))
    return best


def test_best_feed_value_is_the_best_real_feed() -> None:
    rng = np.random.default_rng(3)
    bias = np.array([1.0, 0.6, 0.4])
    for _ in range(40):
        n = int(rng.integers(1, 7))
        margin = rng.uniform(-20, 100, size=n)
        attraction = rng.uniform(0.01, 3.0, size=n)
        assert best_feed_value(margin, attraction, bias) == pytest.approx(
            _best_by_brute_force(margin, attraction, bias), abs=1e-7
        )


def test_a_likely_cheap_task_does_not_crowd_out_a_dear_one() -> None:
    # Shown first, a cheap task people like would take the completions of the dear one.
    d = Dispatcher(DispatchWeights(explore=0.0, fairness_step=0.0), seed=0)
    d.upsert_task(
        TaskSpec.from_dict(
            {"id": "cheap", "type": "like", "price_fen": 10, "quantity": 100, "brand": "a"}
        )
    )
    d.upsert_task(
        TaskSpec.from_dict(
            {"id": "dear", "type": "follow", "price_fen": 60, "quantity": 100, "brand": "b"}
        )
    )
    d.model.task_mean[d.index.slot_of["cheap"]] = 3.0  # odds e^(3 + prior) against e^prior
    d.model.rebase()
    someone = PersonProfile(id="p1")
    feed = d.recommend(someone, 100.0, 2)
    assert feed.task_ids == ["dear", "cheap"]
    slots = np.array([d.index.slot_of["cheap"], d.index.slot_of["dear"]])
    plain_value = np.exp(d.model.log_odds(slots, "p1", [])) * d.price_fen[slots]
    assert plain_value[0] > plain_value[1]  # ranking by value alone would put it first


def test_learning_with_competition_recovers_the_odds_alone() -> None:
    rng = np.random.default_rng(0)
    model = CompletionModel(DispatchWeights(), capacity=4)
    model.reset_task(0, "follow", 4)
    someone = PersonProfile(id="p")
    odds, competition = 0.5, 2.0
    chance = odds / (1 + odds + competition)
    for n in range(4_000):
        done = bool(rng.random() < chance)
        model.learn(0, PersonProfile(id=f"p{n}"), 0, done, competition=competition)
    learned = math.exp(float(model.log_odds(np.array([0]), someone.id, [])[0]))
    assert learned == pytest.approx(odds, rel=0.2)
    # Without the competition the same outcomes read as much lower odds.
    assert chance / (1 - chance) < 0.6 * odds
