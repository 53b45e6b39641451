"""The offline optimum of a day of visits: a linear program solved with HiGHS.

People choose among the tasks shown by a multinomial logit with position bias: a task of
attraction w shown at position i is completed with probability β_i·w / (1 + Σ β_j·w_j),
at most one per visit (β_1 ≥ β_2 ≥ … ≥ β_k ≥ 0). For each visit v the program has the
no-completion probability y0_v and, per eligible task c, an attention variable s_vc (the
task's expected completion is w_vc·s_vc).

A slate puts task c at place i: s_vc = β_i·y0_v, and y0_v + Σ_c w_vc s_vc = 1. Sorted, the
attentions of any slate are β_1·y0, β_2·y0, …, so the j largest add up to at most
(β_1 + … + β_j)·y0 for every j ≤ k. A policy's slate at visit v may depend on everything
before it (and be random), so its expected completions at v are a mixture of slates; the
constraints are linear once scaled by y0, so every mixture satisfies them too:

    y0_v + Σ_c w_vc s_vc = 1,   sum of the j largest s_vc ≤ (β_1 + … + β_j) y0_v  (j = 1…k),

and they describe exactly the mixtures of slates (the sorted-sum constraints are the
vectors weakly majorised by β, whose corners are the slates). No policy can expect more
completions of a task than its quantity, nor of one person more than the per-person limit,
since neither is ever exceeded. Where the limit is one, a person's visits to a task also
come in order: at their k-th visit they can only do it if they have not before, and then
with chance at most p = β_1·w / (1 + β_1·w) (the task alone at the top), so

    x_k ≤ p·(1 - x_1 - … - x_{k-1})   (x_j: expected completions of it at visit j),

which holds for every policy and is exact for one task shown alone at every visit
(1 - (1 - p)^n in all, where the limit alone would allow n·p up to one). Maximising
expected value under these constraints is the sales-based linear program of choice-based
revenue management with positions, with those rows for coming back: it bounds
the expected value of every policy that knows the people's true choice model, even one
that knows in advance who will visit when (it does not know what they will choose).

The duals of the quantity constraints are the prices that make the day's allocation
optimal; the nightly seeding of the pacing prices uses them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix

from xingdong.core.logging import get_logger

log = get_logger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class VisitOptions:
    """One visit: its person (an index) and the tasks it may be shown, with attractions."""

    person: int
    tasks: IntArray
    attraction: FloatArray


@dataclass(frozen=True)
class Optimum:
    value: float
    """Expected value (fen) of the best allocation."""
    completions: FloatArray
    """Expected completions per task."""
    quantity_duals: FloatArray
    """Value (fen) of one more unit of each task's quantity."""
    lower: float | None = None
    """A feasible value at most ``value`` (when ``value`` is only an upper bound)."""


def solve_optimum(
    visits: Sequence[VisitOptions],
    *,
    price: FloatArray,
    quantity: FloatArray,
    per_person_limit: IntArray,
    position_bias: Sequence[float],
) -> Optimum:
    program = _Program.of(
        visits,
        tasks=price.shape[0],
        quantity=quantity,
        per_person_limit=per_person_limit,
        position_bias=position_bias,
    )
    return program.solve(price)


@dataclass(frozen=True)
class _Program:
    """The constraints of the program; the prices only enter its objective, so one
    program is solved at many prices (the Lagrangian bound does)."""

    tasks: int
    task_of: IntArray
    weight: FloatArray
    upper: csr_matrix | None
    upper_bounds: FloatArray
    equal: csr_matrix | None
    quantity_rows: IntArray
    columns: int

    @classmethod
    def of(  # noqa: PLR0915 - one block per family of constraints reads best
        cls,
        visits: Sequence[VisitOptions],
        *,
        tasks: int,
        quantity: FloatArray | None,
        per_person_limit: IntArray,
        position_bias: Sequence[float],
    ) -> _Program:
        """``quantity`` None leaves the quantities out (each person's program alone)."""
        bias = _sorted_bias(position_bias)
        sizes = np.array([v.tasks.shape[0] for v in visits], dtype=np.int64)
        pairs = int(sizes.sum())
        n_visits = len(visits)
        empty = np.zeros(0, dtype=np.int64)
        if pairs == 0:
            return cls(tasks, empty, np.zeros(0), None, np.zeros(0), None, empty, 0)
        # Columns: s for every (visit, task) pair, then y0 per visit, then for each middle
        # rank j (1 < j < k) one t per visit and one u per pair (the top-j sum, below).
        visit_of = np.repeat(np.arange(n_visits), sizes)
        task_of = np.concatenate([v.tasks for v in visits]).astype(np.int64)
        weight = np.concatenate([v.attraction for v in visits]).astype(np.float64)
        person_of = np.array([v.person for v in visits], dtype=np.int64)[visit_of]
        s_col = np.arange(pairs)
        y0_col = pairs + np.arange(n_visits)
        middle = list(range(2, len(bias)))
        columns = pairs + n_visits + len(middle) * (n_visits + pairs)

        # Equalities: y0_v + Σ w s = 1.
        equal = coo_matrix(
            (
                np.concatenate([weight, np.ones(n_visits)]),
                (
                    np.concatenate([visit_of, np.arange(n_visits)]),
                    np.concatenate([s_col, y0_col]),
                ),
            ),
            shape=(n_visits, columns),
        )
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        bounds: list[FloatArray] = []
        row = 0
        # Top rank: s_vc - β1 y0_v ≤ 0.
        rows += [np.arange(pairs), np.arange(pairs)]
        cols += [s_col, y0_col[visit_of]]
        vals += [np.ones(pairs), np.full(pairs, -bias[0])]
        bounds.append(np.zeros(pairs))
        row += pairs
        # Middle ranks: the sum of the j largest s_vc is at most (β1 + … + βj) y0_v,
        # written with t_v and u_vc ≥ s_vc - t_v as j t_v + Σ_c u_vc ≤ (β1 + … + βj) y0_v.
        first = pairs + n_visits
        for n, j in enumerate(middle):
            t_col = first + n * (n_visits + pairs) + np.arange(n_visits)
            u_col = first + n * (n_visits + pairs) + n_visits + np.arange(pairs)
            rows += [row + np.arange(pairs)] * 3
            cols += [s_col, t_col[visit_of], u_col]
            vals += [np.ones(pairs), np.full(pairs, -1.0), np.full(pairs, -1.0)]
            bounds.append(np.zeros(pairs))
            row += pairs
            rows += [row + np.arange(n_visits), row + visit_of, row + np.arange(n_visits)]
            cols += [t_col, u_col, y0_col]
            vals += [
                np.full(n_visits, float(j)),
                np.ones(pairs),
                np.full(n_visits, -bias[:j].sum()),
            ]
            bounds.append(np.zeros(n_visits))
            row += n_visits
        # All ranks: Σ_c s_vc - (Σβ) y0_v ≤ 0.
        rows += [row + visit_of, row + np.arange(n_visits)]
        cols += [s_col, y0_col]
        vals += [np.ones(pairs), np.full(n_visits, -bias.sum())]
        bounds.append(np.zeros(n_visits))
        row += n_visits
        # Σ_v w s ≤ quantity_c.
        quantity_rows = empty
        if quantity is not None:
            rows.append(row + task_of)
            cols.append(s_col)
            vals.append(weight)
            bounds.append(np.maximum(quantity, 0.0))
            quantity_rows = row + np.arange(tasks)
            row += tasks
        # Per person and task: Σ_v w s ≤ limit (only where the person has several visits),
        # and where the limit is one, the cuts of the visits in order (``_return_cuts``).
        key = person_of * tasks + task_of
        groups, group_of, counts = np.unique(key, return_inverse=True, return_counts=True)
        repeated = counts[group_of] > 1
        if repeated.any():
            kept_groups, kept_of = np.unique(group_of[repeated], return_inverse=True)
            rows.append(row + kept_of)
            cols.append(s_col[repeated])
            vals.append(weight[repeated])
            bounds.append(per_person_limit[groups[kept_groups] % tasks].astype(np.float64))
            row += kept_groups.shape[0]
            once = np.flatnonzero(repeated & (per_person_limit[task_of] == 1))
            if once.size:
                cut_rows, cut_pairs, cut_values, cut_bounds = _return_cuts(
                    once, group_of, weight, float(bias[0])
                )
                rows.append(row + cut_rows)
                cols.append(s_col[cut_pairs])
                vals.append(cut_values)
                bounds.append(cut_bounds)
                row += cut_bounds.shape[0]
        upper = coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(row, columns),
        )
        return cls(
            tasks,
            task_of,
            weight,
            upper.tocsr(),
            np.concatenate(bounds),
            equal.tocsr(),
            quantity_rows,
            columns,
        )

    def solve(self, price: FloatArray) -> Optimum:
        """The best expected value with ``price`` per completion of each task."""
        pairs = self.task_of.shape[0]
        if pairs == 0:
            return Optimum(0.0, np.zeros(self.tasks), np.zeros(self.tasks))
        cost = np.zeros(self.columns)
        cost[:pairs] = -price[self.task_of] * self.weight
        assert self.equal is not None
        for method in SOLVERS:
            result = linprog(
                cost,
                A_ub=self.upper,
                b_ub=self.upper_bounds,
                A_eq=self.equal,
                b_eq=np.ones(self.equal.shape[0]),
                bounds=(0, None),
                method=method,
            )
            if result.status == 0:
                break
            log.warning("optimum_solver_failed", method=method, message=result.message)
        else:
            raise OptimumNotSolved(f"the optimum could not be solved: {result.message}")
        expected = self.weight * result.x[:pairs]
        completions = np.bincount(self.task_of, weights=expected, minlength=self.tasks)
        duals = np.zeros(self.tasks)
        if self.quantity_rows.size:
            duals = -np.asarray(result.ineqlin.marginals)[self.quantity_rows]
        value = float(-result.fun)
        return Optimum(value, completions.astype(np.float64), duals, value)


SOLVERS = ("highs", "highs-ipm", "highs-ds")
"""HiGHS's own choice first (its dual simplex), then its interior point and its simplex
asked for by name: a program one of them meets numerical trouble on ("Solve error"), as
a day of a few hundred nearly equal visits can be, another usually solves."""


class OptimumNotSolved(RuntimeError):
    """No solver found the optimum of a program (numerical trouble every time)."""


def _return_cuts(
    pairs: IntArray, group_of: IntArray, weight: FloatArray, top: float
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Rows x_k + p_k·(x_1 + … + x_{k-1}) ≤ p_k over the visits of one person to a task
    they may complete once, in the order of the visits (x_k: the expected completions at
    visit k, p_k: the chance of completing it there shown alone at the top). Returns the
    rows' (row, pair, coefficient) entries and their right-hand sides."""
    order = pairs[np.argsort(group_of[pairs], kind="stable")]
    group = group_of[order]
    chance = top * weight[order] / (1.0 + top * weight[order])
    n = order.shape[0]
    rows = [np.arange(n)]
    cols = [order]
    vals = [weight[order]]
    for back in range(1, n):
        same = np.flatnonzero(group[back:] == group[:-back])
        if same.size == 0:
            break
        later = same + back
        rows.append(later)
        cols.append(order[same])
        vals.append(chance[later] * weight[order[same]])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), chance


def _sorted_bias(position_bias: Sequence[float]) -> FloatArray:
    """Position weights best first. A feed fills its best place first, and any slate's
    attention, sorted, is a prefix of these: that is all the bound relies on."""
    return np.sort(np.maximum(np.asarray(position_bias, dtype=np.float64), 0.0))[::-1]


def _padded(visits: Sequence[VisitOptions]) -> tuple[IntArray, FloatArray]:
    width = max((v.tasks.shape[0] for v in visits), default=0)
    tasks = np.zeros((len(visits), max(width, 1)), dtype=np.int64)
    attraction = np.zeros((len(visits), max(width, 1)))
    for row, visit in enumerate(visits):
        n = visit.tasks.shape[0]
        tasks[row, :n] = visit.tasks
        attraction[row, :n] = visit.attraction
    return tasks, attraction


def best_slates(
    margin: FloatArray, attraction: FloatArray, position_bias: Sequence[float]
) -> tuple[FloatArray, FloatArray]:
    """For each visit (row), the best expected margin of any slate and the attention
    (position weight) each task gets in it.

    The objective Σ m w t / (1 + Σ w t) is linear-fractional, so Dinkelbach's method
    applies: for a guess θ of the optimum, the best slate puts the tasks in order of
    (m - θ)·w into the places in order of weight, while that gain is positive. Each step
    is a real slate, so θ only rises, and it stops at the best slate.
    """
    bias = _sorted_bias(position_bias)
    slots = min(int(np.count_nonzero(bias)), margin.shape[1])
    share_of_rank = bias[:slots]
    rows = np.arange(margin.shape[0])[:, None]
    theta = np.zeros(margin.shape[0])
    attention = np.zeros_like(margin)
    if slots == 0:
        return theta, attention
    for _ in range(12):
        gain = (margin - theta[:, None]) * attraction
        if slots < margin.shape[1]:
            chosen = np.argpartition(-gain, slots - 1, axis=1)[:, :slots]
        else:
            chosen = np.tile(np.arange(margin.shape[1]), (margin.shape[0], 1))
        order = np.argsort(-gain[rows, chosen], axis=1)
        chosen = chosen[rows, order]
        share = np.broadcast_to(share_of_rank, chosen.shape) * (gain[rows, chosen] > 0)
        attention = np.zeros_like(margin)
        attention[rows, chosen] = share
        weighted = attention * attraction
        updated = (weighted * margin).sum(axis=1) / (1.0 + weighted.sum(axis=1))
        if np.allclose(updated, theta, rtol=0, atol=1e-9):
            break
        theta = updated
    # The best slate's value exceeds θ by at most G(θ) - θ, with G(θ) the best
    # Σ (m - θ)·w·t (the denominator is at least 1): adding that keeps θ an upper bound
    # even if the iterations stopped early (at convergence it adds nothing).
    gain = np.maximum((margin - theta[:, None]) * attraction, 0.0)
    if slots < gain.shape[1]:
        # The best ``slots`` of each row, found without sorting the whole row.
        gain = -np.partition(-gain, slots - 1, axis=1)[:, :slots]
    best_gain = np.sort(gain, axis=1)[:, ::-1][:, :slots] @ share_of_rank
    return theta + np.maximum(best_gain - theta, 0.0), attention


def dual_bound(
    visits: Sequence[VisitOptions],
    *,
    price: FloatArray,
    quantity: FloatArray,
    position_bias: Sequence[float],
    iterations: int = 200,
    start: FloatArray | None = None,
) -> Optimum:
    """An upper bound of the same optimum by Lagrangian duality, fast at any size.

    For prices μ ≥ 0 on the quantities, Σ μ·quantity + Σ_v (best expected margin of visit v
    at prices μ, over real slates: ``best_slates``, rounded up) bounds the optimum from
    above (weak duality). Projected subgradient steps on λ = μ / price in [0, 1] lower it;
    the lowest is kept. Per-person limits are left out, which only loosens the bound.
    """
    tasks = price.shape[0]
    index, attraction = _padded(visits)

    def respond(margin: FloatArray) -> tuple[float, FloatArray]:
        theta, completions = _respond(index, attraction, margin, position_bias, tasks)
        return float(theta.sum()), completions

    return _lowest_bound(
        respond,
        price=price,
        quantity=quantity,
        start=start,
        iterations=iterations,
        step=0.5,
        backtrack=False,
    )


def _respond(
    index: IntArray,
    attraction: FloatArray,
    margin_per_task: FloatArray,
    position_bias: Sequence[float],
    tasks: int,
) -> tuple[FloatArray, FloatArray]:
    theta, attention = best_slates(margin_per_task[index], attraction, position_bias)
    weighted = attention * attraction
    expected = weighted / (1.0 + weighted.sum(axis=1))[:, None]
    completions = np.bincount(index.ravel(), weights=expected.ravel(), minlength=tasks)
    return theta, completions.astype(np.float64)


PERSON_STEPS = 8
"""Subgradient steps of :func:`person_bound` after :func:`dual_bound` on a large day: on
the benchmark's default days they take the bound 1.5% (tight budgets) to 3% (loose) lower,
in about a second and a half each."""

PEOPLE_PER_PROGRAM = 20
"""People solved together in one program of :func:`person_bound` (one HiGHS call for each
person alone costs more in calls than in solving)."""


def person_bound(
    visits: Sequence[VisitOptions],
    *,
    price: FloatArray,
    quantity: FloatArray,
    per_person_limit: IntArray,
    position_bias: Sequence[float],
    start: FloatArray,
    iterations: int,
    step: float = 1.0,
) -> Optimum:
    """An upper bound of the optimum by Lagrangian duality on the quantities alone.

    For prices μ ≥ 0, Σ μ·quantity + Σ over people of the program of one person's visits
    at margins price - μ (the same constraints as the whole program, per-person limits
    and their cuts included) bounds the optimum from above. Unlike :func:`dual_bound`,
    it knows that a task done at one visit cannot be done at the next, which on days with
    budgets to spare is most of the difference between the two. Starting from ``start``,
    ``iterations`` projected subgradient steps on λ = μ / price lower it; the lowest is
    kept. Each step solves every person's program, so it is kept to a few steps."""
    tasks = price.shape[0]
    counts = Counter(v.person for v in visits)
    # Someone who comes once needs no program: their best is the best slate.
    once_index, once_attraction = _padded([v for v in visits if counts[v.person] == 1])
    programs = _person_programs(
        [v for v in visits if counts[v.person] > 1], per_person_limit, position_bias
    )

    def respond(margin: FloatArray) -> tuple[float, FloatArray]:
        theta, completions = _respond(once_index, once_attraction, margin, position_bias, tasks)
        value = float(theta.sum())
        for program, task_of_column in programs:
            result = program.solve(margin[task_of_column])
            value += result.value
            np.add.at(completions, task_of_column, result.completions)
        return value, completions

    return _lowest_bound(
        respond,
        price=price,
        quantity=quantity,
        start=start,
        iterations=iterations,
        step=step,
        backtrack=True,
    )


def _lowest_bound(
    respond: Callable[[FloatArray], tuple[float, FloatArray]],
    *,
    price: FloatArray,
    quantity: FloatArray,
    start: FloatArray | None,
    iterations: int,
    step: float,
    backtrack: bool,
) -> Optimum:
    """The lowest of ``iterations`` Lagrangian bounds Σ μ·quantity + (the relaxed day's
    best at margins price - μ, by ``respond``, with its expected completions), moving
    λ = μ / price in [0, 1] by projected subgradient steps of ``step`` / √n. With
    ``backtrack``, a step that does not lower the bound is taken again from the best
    prices, half as long."""
    tasks = price.shape[0]
    quantity = np.maximum(quantity, 0.0)
    share = np.zeros(tasks) if start is None else _share_of_price(start, price)
    best = Optimum(np.inf, np.zeros(tasks), share * price)
    scale = np.maximum(quantity, 1.0)
    for n in range(1, iterations + 1):
        mu = share * price
        value, completions = respond(price - mu)
        bound = float(mu @ quantity) + value
        if bound < best.value:
            best = Optimum(bound, completions, mu)
        elif backtrack:
            step /= 2
            share = _share_of_price(best.quantity_duals, price)
            completions = best.completions
        share = np.clip(share + step / np.sqrt(n) * (completions - quantity) / scale, 0, 1)
    return best


def _share_of_price(mu: FloatArray, price: FloatArray) -> FloatArray:
    """μ / price in [0, 1] (0 for a task that pays nothing)."""
    share = np.divide(mu, price, out=np.zeros_like(mu, dtype=np.float64), where=price > 0)
    return np.clip(share, 0.0, 1.0)


def _person_programs(
    visits: Sequence[VisitOptions], per_person_limit: IntArray, position_bias: Sequence[float]
) -> list[tuple[_Program, IntArray]]:
    """Programs of a few people each, without quantities: each person's tasks are columns
    of their own, so the people's programs share nothing. Each comes with the task of
    each of its columns."""
    by_person: dict[int, list[VisitOptions]] = {}
    for visit in visits:
        by_person.setdefault(visit.person, []).append(visit)
    people = list(by_person.values())
    programs = []
    for first in range(0, len(people), PEOPLE_PER_PROGRAM):
        local: list[VisitOptions] = []
        task_of_column: list[IntArray] = []
        columns = 0
        for number, own in enumerate(people[first : first + PEOPLE_PER_PROGRAM]):
            tasks = np.unique(np.concatenate([v.tasks for v in own]))
            local.extend(
                VisitOptions(number, columns + np.searchsorted(tasks, v.tasks), v.attraction)
                for v in own
            )
            task_of_column.append(tasks)
            columns += tasks.shape[0]
        task_of = np.concatenate(task_of_column).astype(np.int64)
        program = _Program.of(
            local,
            tasks=columns,
            quantity=None,
            per_person_limit=per_person_limit[task_of],
            position_bias=position_bias,
        )
        programs.append((program, task_of))
    return programs


EXACT_PAIRS = 15_000
"""Up to this many (visit, task) pairs HiGHS solves the program exactly in seconds; above,
its Lagrangian dual gives the prices and an upper bound of the value at any size."""


def day_optimum(
    visits: Sequence[VisitOptions],
    *,
    price: FloatArray,
    quantity: FloatArray,
    per_person_limit: IntArray,
    position_bias: Sequence[float],
    start: FloatArray | None = None,
) -> tuple[Optimum, bool]:
    """The optimum of a day of visits, exact when small enough (then ``True``), else an
    upper bound by duality (``start``: prices to start the descent from): the fast
    per-visit bound, lowered by a few steps of the per-person one from its prices."""
    if sum(v.tasks.shape[0] for v in visits) <= EXACT_PAIRS:
        try:
            exact = solve_optimum(
                visits,
                price=price,
                quantity=quantity,
                per_person_limit=per_person_limit,
                position_bias=position_bias,
            )
        except OptimumNotSolved:
            # The bound by duality needs no program solved whole: prices all the same.
            log.warning("optimum_bounded_instead", visits=len(visits))
        else:
            return exact, True
    bound = dual_bound(
        visits, price=price, quantity=quantity, position_bias=position_bias, start=start
    )
    try:
        per_person = person_bound(
            visits,
            price=price,
            quantity=quantity,
            per_person_limit=per_person_limit,
            position_bias=position_bias,
            start=bound.quantity_duals,
            iterations=PERSON_STEPS,
        )
    except OptimumNotSolved:
        log.warning("optimum_person_bound_skipped", visits=len(visits))
        return bound, False
    return min(bound, per_person, key=lambda o: o.value), False
