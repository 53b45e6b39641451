"""The offline optimum bounds every policy, and its fast dual bound agrees with HiGHS."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from xingdong.bench import dispatch as bench
from xingdong.bench.dispatch_workload import Size, build_instance, draw_visits
from xingdong.dispatch.optimum import VisitOptions, best_slates, dual_bound, solve_optimum
from xingdong.dispatch.profiles import PersonProfile
from xingdong.dispatch.weights import DispatchWeights

TINY = Size(campaigns=6, people=40, visits=150)


def test_best_slates_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    bias = (1.0, 0.6, 0.4)
    margin = rng.uniform(10, 100, size=(30, 5))
    attraction = rng.uniform(0.01, 2.0, size=(30, 5))
    theta, _ = best_slates(margin, attraction, bias)
    for row in range(30):
        best = 0.0
        for size in (1, 2, 3):
            for slate in itertools.permutations(range(5), size):
                w = attraction[row, list(slate)] * np.asarray(bias[:size])
                best = max(best, float(w @ margin[row, list(slate)] / (1 + w.sum())))
        # Dinkelbach's answer is the best real slate, not a relaxation of it.
        assert theta[row] == pytest.approx(best, abs=1e-7)


def _brute_force_best_slate(
    prices: np.ndarray, attraction: np.ndarray, bias: tuple[float, ...]
) -> float:
    best = 0.0
    for size in range(1, len(bias) + 1):
        for slate in itertools.permutations(range(prices.shape[0]), size):
            w = attraction[list(slate)] * np.asarray(bias[:size])
            best = max(best, float(w @ prices[list(slate)] / (1 + w.sum())))
    return best


def test_with_budgets_to_spare_the_linear_program_is_the_best_real_slate() -> None:
    # One visit, quantities that never bind: the program's optimum must be exactly the
    # best slate, so it does not credit two tasks with the top place's attention.
    rng = np.random.default_rng(1)
    bias = (1.0, 0.6, 0.4)
    for _ in range(20):
        n = int(rng.integers(2, 7))
        prices = rng.uniform(10, 100, size=n)
        attraction = rng.uniform(0.05, 3.0, size=n)
        visit = VisitOptions(0, np.arange(n, dtype=np.int64), attraction)
        exact = solve_optimum(
            [visit],
            price=prices,
            quantity=np.full(n, 10.0),
            per_person_limit=np.ones(n, dtype=np.int64),
            position_bias=bias,
        )
        assert exact.value == pytest.approx(
            _brute_force_best_slate(prices, attraction, bias), rel=1e-6
        )


def test_the_middle_places_bind() -> None:
    # Two equal tasks: a bound with only the top-place and total constraints would give
    # both the top place's attention (2w·m / (1 + 2w) = 66.7); a real slate puts one of
    # them second, (1 + 0.6)·w·m / (1 + 1.6w) = 61.5.
    visit = VisitOptions(0, np.arange(2, dtype=np.int64), np.array([1.0, 1.0]))
    exact = solve_optimum(
        [visit],
        price=np.array([100.0, 100.0]),
        quantity=np.full(2, 10.0),
        per_person_limit=np.ones(2, dtype=np.int64),
        position_bias=(1.0, 0.6, 0.4),
    )
    assert exact.value == pytest.approx(100 * 1.6 / 2.6)


def test_dual_bound_brackets_the_exact_optimum() -> None:
    instance = build_instance(3, Size(campaigns=20, people=150, visits=600), 0.5)
    visits = draw_visits(instance, 600, 4, "random")
    options = bench._options(instance, visits)
    exact = solve_optimum(
        options,
        price=instance.price,
        quantity=instance.quantity,
        per_person_limit=instance.per_person_limit,
        position_bias=instance.position_bias,
    )
    bound = dual_bound(
        options,
        price=instance.price,
        quantity=instance.quantity,
        position_bias=instance.position_bias,
    )
    assert exact.value <= bound.value <= exact.value * 1.05
    assert np.all(exact.completions <= instance.quantity + 1e-6)


def test_a_visit_without_options_is_worth_nothing() -> None:
    empty = VisitOptions(0, np.zeros(0, dtype=np.int64), np.zeros(0))
    result = solve_optimum(
        [empty],
        price=np.array([10.0]),
        quantity=np.array([1.0]),
        per_person_limit=np.array([1]),
        position_bias=(1.0,),
    )
    assert result.value == 0.0


@pytest.mark.parametrize("order", ["random", "shifted", "adversarial"])
def test_the_optimum_bounds_every_policy(order: str) -> None:
    instance = build_instance(5, TINY, 0.5)
    visits = draw_visits(instance, TINY.visits, 6, order)
    optimum, exact = bench.offline_optimum(instance, visits)
    assert exact
    yesterday = draw_visits(instance, TINY.visits, 7, "random")
    history = bench.exposure_log(instance, yesterday, 8)
    forecast = [
        (PersonProfile.from_dict(instance.people[int(p)]), float(t))
        for p, t in zip(yesterday.person, yesterday.time_s, strict=True)
    ]
    # Averaged over many days of choices, no policy's expected value reaches the optimum.
    for name in bench.POLICIES:
        values = []
        for replay in range(12):
            recommend, record = bench._policy(
                name, instance, 5, {}, forecast, history, DispatchWeights()
            )
            run = bench.play(
                instance, visits, recommend, record, seed=100 + replay, optimum=optimum.value
            )
            assert run.overspend == 0
            values.append(run.value)
        assert np.mean(values) <= optimum.value, name
