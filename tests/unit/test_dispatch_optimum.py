"""The offline optimum bounds every policy, and its fast dual bound agrees with HiGHS."""

from __future__ import annotations

import functools
import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from xingdong.bench import dispatch as bench
from xingdong.bench.dispatch_workload import Size, build_instance, draw_visits
from xingdong.dispatch import optimum as optimum_module
from xingdong.dispatch.optimum import (
    OptimumNotSolved,
    VisitOptions,
    best_slates,
    day_optimum,
    dual_bound,
    person_bound,
    solve_optimum,
)
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
    # Knowing that a task done at one visit is gone at the next brings the bound closer.
    per_person = person_bound(
        options,
        price=instance.price,
        quantity=instance.quantity,
        per_person_limit=instance.per_person_limit,
        position_bias=instance.position_bias,
        start=bound.quantity_duals,
        iterations=8,
    )
    assert exact.value <= per_person.value < bound.value
    assert per_person.value - exact.value < 0.5 * (bound.value - exact.value)


def _best_adaptive_value(
    prices: np.ndarray,
    attraction: np.ndarray,
    open_at: list[np.ndarray],
    bias: tuple[float, ...],
) -> float:
    """The best expected value over one person's visits of any policy that sees what
    they did before each visit (each task at most once): dynamic programming over the
    set of tasks done, trying every slate."""

    @functools.cache
    def best(visit: int, done: int) -> float:
        if visit == len(open_at):
            return 0.0
        left = [int(c) for c in open_at[visit] if not (done >> int(c)) & 1]
        value = best(visit + 1, done)
        for size in range(1, len(bias) + 1):
            for slate in itertools.permutations(left, size):
                pull = attraction[list(slate)] * np.asarray(bias[:size])
                chance = pull / (1 + pull.sum())
                value = max(
                    value,
                    (1 - chance.sum()) * best(visit + 1, done)
                    + sum(
                        p * (prices[c] + best(visit + 1, done | 1 << c))
                        for p, c in zip(chance.tolist(), slate, strict=True)
                    ),
                )
        return value

    return best(0, 0)


def test_one_person_visiting_again_is_bounded_by_what_they_can_still_do() -> None:
    # Someone who may do each task once and comes back: what a visit can add depends on
    # what they did before. The program must stay above the best adaptive policy, and
    # close to it.
    rng = np.random.default_rng(2)
    bias = (1.0, 0.6)
    gaps = []
    for _ in range(60):
        n = int(rng.integers(1, 4))
        prices = rng.uniform(10, 100, size=n)
        attraction = rng.uniform(0.05, 4.0, size=n)
        open_at = [np.flatnonzero(rng.random(n) < 0.8) for _ in range(int(rng.integers(2, 5)))]
        visits = [VisitOptions(0, tasks, attraction[tasks]) for tasks in open_at]
        program = solve_optimum(
            visits,
            price=prices,
            quantity=np.full(n, 100.0),
            per_person_limit=np.ones(n, dtype=np.int64),
            position_bias=bias,
        ).value
        best = _best_adaptive_value(prices, attraction, open_at, bias)
        assert program >= best - 1e-7
        gaps.append(program / best - 1 if best > 0 else 0.0)
    assert np.mean(gaps) < 0.05


def test_one_task_over_several_visits_is_counted_once() -> None:
    # Shown alone each time, a task completed with chance p at each of three visits is
    # done with chance 1 - (1 - p)^3; the program must give exactly that, not 3p.
    w = 0.5
    p = w / (1 + w)
    visits = [VisitOptions(0, np.array([0]), np.array([w])) for _ in range(3)]
    result = solve_optimum(
        visits,
        price=np.array([100.0]),
        quantity=np.array([10.0]),
        per_person_limit=np.array([1]),
        position_bias=(1.0,),
    )
    assert result.value == pytest.approx(100 * (1 - (1 - p) ** 3))


def test_the_per_person_bound_takes_free_tasks_and_empty_days() -> None:
    # A task paying nothing (its price share is 0, not 0/0) and a person who comes once.
    visits = [
        VisitOptions(0, np.array([0, 1]), np.array([1.0, 2.0])),
        VisitOptions(0, np.array([0, 1]), np.array([1.0, 2.0])),
        VisitOptions(1, np.array([1]), np.array([0.5])),
    ]
    price = np.array([0.0, 50.0])
    quantity = np.array([5.0, 1.0])
    limit = np.ones(2, dtype=np.int64)
    bias = (1.0, 0.6)
    exact = solve_optimum(
        visits, price=price, quantity=quantity, per_person_limit=limit, position_bias=bias
    )
    bound = person_bound(
        visits,
        price=price,
        quantity=quantity,
        per_person_limit=limit,
        position_bias=bias,
        start=np.array([0.0, 10.0]),
        iterations=8,
    )
    assert np.isfinite(bound.value)
    assert exact.value <= bound.value + 1e-9
    assert bound.value <= 50.0  # one unit of the only task that pays
    nothing = person_bound(
        [],
        price=price,
        quantity=quantity,
        per_person_limit=limit,
        position_bias=bias,
        start=np.zeros(2),
        iterations=2,
    )
    assert nothing.value == 0.0


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
    # Averaged over days of other choices, no policy's expected value exceeds the optimum
    # by more than the average's own spread (each day's expected value: what its slates
    # were worth, given the past). On this small day every policy shows nearly everything
    # open, so all of them come close to the optimum; the proof that it is an upper bound
    # is the exact test above, this one checks the benchmark feeds it the same day.
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
            values.append(run.expected_value)
        spread = np.std(values, ddof=1) / np.sqrt(len(values))
        assert np.mean(values) - 3 * spread <= optimum.value, name


def _day() -> tuple[list[VisitOptions], dict[str, object]]:
    visits = [VisitOptions(p % 3, np.array([0, 1]), np.array([0.8, 0.4])) for p in range(6)]
    asked: dict[str, object] = {
        "price": np.array([100.0, 60.0]),
        "quantity": np.array([2.0, 5.0]),
        "per_person_limit": np.ones(2, dtype=np.int64),
        "position_bias": (1.0, 0.6),
    }
    return visits, asked


def test_a_solver_in_numerical_trouble_gives_way_to_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    visits, asked = _day()
    expected = solve_optimum(visits, **asked).value  # type: ignore[arg-type]
    real = optimum_module.linprog  # type: ignore[attr-defined]
    tried: list[str] = []

    def troubled_first(*args: object, method: str, **kwargs: object) -> object:
        tried.append(method)
        if method == "highs":
            return SimpleNamespace(status=4, message="(HiGHS Status 4: Solve error)")
        return real(*args, method=method, **kwargs)

    monkeypatch.setattr(optimum_module, "linprog", troubled_first)
    assert solve_optimum(visits, **asked).value == pytest.approx(expected)  # type: ignore[arg-type]
    assert tried == ["highs", "highs-ipm"]


def test_a_day_no_solver_can_solve_is_bounded_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    visits, asked = _day()
    exact = solve_optimum(visits, **asked).value  # type: ignore[arg-type]

    def always_troubled(*_args: object, **_kwargs: object) -> object:
        return SimpleNamespace(status=4, message="(HiGHS Status 4: Solve error)")

    monkeypatch.setattr(optimum_module, "linprog", always_troubled)
    with pytest.raises(OptimumNotSolved):
        solve_optimum(visits, **asked)  # type: ignore[arg-type]
    bounded, solved = day_optimum(visits, **asked)  # type: ignore[arg-type]
    assert not solved
    assert bounded.value >= exact - 1e-6 and np.isfinite(bounded.value)
    assert bounded.quantity_duals.shape == (2,)
