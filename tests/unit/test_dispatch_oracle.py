"""The benchmark's oracle: the feed's model holding the simulated people's true preferences."""

from __future__ import annotations

import numpy as np
import pytest

from xingdong.bench import dispatch as bench
from xingdong.bench.dispatch_oracle import TruePreferences
from xingdong.bench.dispatch_workload import SIZES, Instance, build_instance, draw_visits
from xingdong.dispatch.offline import OfflineDispatcher
from xingdong.dispatch.profiles import PersonProfile


def _errors(dispatcher: OfflineDispatcher, instance: Instance) -> float:
    model = dispatcher.dispatcher.model
    slots = np.array([dispatcher.dispatcher.index.slot_of[t["id"]] for t in instance.tasks])
    worst = 0.0
    for row, raw in enumerate(instance.people):
        person = PersonProfile.from_dict(raw)
        predicted = model.log_odds(slots, person.id, model.label_columns(person))
        worst = max(worst, float(np.abs(predicted - np.log(instance.attraction[row])).max()))
    return worst


def test_the_oracle_predicts_every_attraction_and_does_not_learn() -> None:
    instance = build_instance(3, SIZES["quick"], 1.5)
    oracle = OfflineDispatcher(instance.tasks, seed=3)
    learner = OfflineDispatcher(instance.tasks, seed=3)
    people = [PersonProfile.from_dict(p) for p in instance.people]
    TruePreferences.of(instance).install(oracle.dispatcher, people)
    assert _errors(oracle, instance) < 1e-6
    assert _errors(learner, instance) > 0.5
    assert np.allclose(oracle.dispatcher.model.position_weights(3), instance.position_bias)
    visits = draw_visits(instance, 200, 4, "random")
    for policy in (oracle, learner):
        bench.play(
            instance,
            visits,
            policy.recommend_profile,
            policy.record,
            seed=5,
            optimum=1.0,
        )
    # A day of outcomes leaves the oracle's predictions where they were.
    assert _errors(oracle, instance) < 1e-6
    assert oracle.dispatcher.weights.explore == 0.0


def test_preferences_outside_the_models_form_are_refused() -> None:
    instance = build_instance(3, SIZES["quick"], 1.5)
    noise = np.random.default_rng(0).normal(0.0, 0.3, size=instance.attraction.shape)
    instance.attraction = instance.attraction * np.exp(noise)
    with pytest.raises(ValueError, match="do not have the completion model's form"):
        TruePreferences.of(instance)
