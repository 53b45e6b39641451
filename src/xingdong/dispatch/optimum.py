"""The offline optimum of a day of visits: a linear program solved with HiGHS.

People choose among the tasks shown by a multinomial logit with position bias: a task of
attraction w shown at position i is completed with probability β_i·w / (1 + Σ β_j·w_j),
at most one per visit. For each visit v the program has the no-completion probability
y0_v and, per eligible task c, an attention variable s_vc (the task's expected completion
is w_vc·s_vc). Every slate of at most k tasks, and every mixture of slates, satisfies

    y0_v + Σ_c w_vc s_vc = 1,   s_vc ≤ β_1 y0_v,   Σ_c s_vc ≤ (β_1 + … + β_k) y0_v,

and no policy can expect more completions of a task than its quantity, nor of one person
more than the per-person limit. Maximising expected value under these constraints bounds
the expected value of every policy (the sales-based linear program of choice-based
revenue management). The duals of the quantity constraints are the prices that make the
day's allocation optimal; the nightly seeding of the pacing prices uses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

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


def solve_optimum(  # noqa: PLR0915 - one block per family of constraints reads best
    visits: Sequence[VisitOptions],
    *,
    price: FloatArray,
    quantity: FloatArray,
    per_person_limit: IntArray,
    position_bias: Sequence[float],
) -> Optimum:
    tasks = price.shape[0]
    top = float(position_bias[0])
    attention = float(sum(position_bias))
    sizes = np.array([v.tasks.shape[0] for v in visits], dtype=np.int64)
    pairs = int(sizes.sum())
    n_visits = len(visits)
    if pairs == 0:
        return Optimum(0.0, np.zeros(tasks), np.zeros(tasks))
    # Columns: s for every (visit, task) pair, then y0 per visit.
    visit_of = np.repeat(np.arange(n_visits), sizes)
    task_of = np.concatenate([v.tasks for v in visits]).astype(np.int64)
    weight = np.concatenate([v.attraction for v in visits])
    person_of = np.array([v.person for v in visits], dtype=np.int64)[visit_of]
    s_col = np.arange(pairs)
    y0_col = pairs + np.arange(n_visits)

    cost = np.concatenate([-price[task_of] * weight, np.zeros(n_visits)])

    # Equalities: y0_v + Σ w s = 1.
    eq = coo_matrix(
        (
            np.concatenate([weight, np.ones(n_visits)]),
            (np.concatenate([visit_of, np.arange(n_visits)]), np.concatenate([s_col, y0_col])),
        ),
        shape=(n_visits, pairs + n_visits),
    )
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    bounds: list[FloatArray] = []
    row = 0
    # s_vc - β1 y0_v ≤ 0.
    rows += [np.arange(pairs), np.arange(pairs)]
    cols += [s_col, y0_col[visit_of]]
    vals += [np.ones(pairs), np.full(pairs, -top)]
    bounds.append(np.zeros(pairs))
    row += pairs
    # Σ_c s_vc - (Σβ) y0_v ≤ 0.
    rows += [row + visit_of, row + np.arange(n_visits)]
    cols += [s_col, y0_col]
    vals += [np.ones(pairs), np.full(n_visits, -attention)]
    bounds.append(np.zeros(n_visits))
    row += n_visits
    # Σ_v w s ≤ quantity_c.
    rows.append(row + task_of)
    cols.append(s_col)
    vals.append(weight)
    bounds.append(np.maximum(quantity, 0.0))
    quantity_rows = row + np.arange(tasks)
    row += tasks
    # Per person and task: Σ_v w s ≤ limit (only where the person has several visits).
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
    upper = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(row, pairs + n_visits),
    )
    result = linprog(
        cost,
        A_ub=upper.tocsr(),
        b_ub=np.concatenate(bounds),
        A_eq=eq.tocsr(),
        b_eq=np.ones(n_visits),
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"the optimum could not be solved: {result.message}")
    expected = weight * result.x[:pairs]
    completions = np.bincount(task_of, weights=expected, minlength=tasks).astype(np.float64)
    duals = -np.asarray(result.ineqlin.marginals)[quantity_rows]
    value = float(-result.fun)
    return Optimum(value, completions, duals, value)


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
    """For each visit (row), the best expected margin over the relaxed slates of the
    linear program (attention t_c in [0, β1], Σ t ≤ Σβ) and the attention achieving it.

    The objective Σ m w t / (1 + Σ w t) is linear-fractional, so Dinkelbach's method
    applies: for a guess θ of the optimum, fill attention in order of (m - θ)·w.
    """
    top = float(position_bias[0])
    total = float(sum(position_bias))
    full = min(int(total // top), margin.shape[1])
    rest = total - full * top
    slots = min(full + (1 if rest > 1e-12 else 0), margin.shape[1])
    rows = np.arange(margin.shape[0])[:, None]
    theta = np.zeros(margin.shape[0])
    attention = np.zeros_like(margin)
    for _ in range(8):
        gain = (margin - theta[:, None]) * attraction
        if slots < margin.shape[1]:
            chosen = np.argpartition(-gain, slots - 1, axis=1)[:, :slots]
        else:
            chosen = np.tile(np.arange(margin.shape[1]), (margin.shape[0], 1))
        order = np.argsort(-gain[rows, chosen], axis=1)
        chosen = chosen[rows, order]
        share = np.full(chosen.shape, top)
        if rest > 1e-12 and chosen.shape[1] > full:
            share[:, full] = rest
        share *= gain[rows, chosen] > 0
        attention = np.zeros_like(margin)
        attention[rows, chosen] = share
        weighted = attention * attraction
        updated = (weighted * margin).sum(axis=1) / (1.0 + weighted.sum(axis=1))
        if np.allclose(updated, theta, rtol=0, atol=1e-9):
            break
        theta = updated
    return theta, attention


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
    at prices μ) bounds the optimum from above (weak duality). Projected subgradient steps
    on λ = μ / price in [0, 1] lower it; the lowest is kept. Per-person limits are left
    out, which only loosens the bound.
    """
    tasks = price.shape[0]
    index, attraction = _padded(visits)
    quantity = np.maximum(quantity, 0.0)
    share = np.zeros(tasks) if start is None else np.clip(start / price, 0.0, 1.0)
    best = Optimum(np.inf, np.zeros(tasks), share * price)
    scale = np.maximum(quantity, 1.0)
    for step in range(1, iterations + 1):
        mu = share * price
        theta, completions = _respond(index, attraction, price - mu, position_bias, tasks)
        bound = float(mu @ quantity + theta.sum())
        if bound < best.value:
            best = Optimum(bound, completions, mu)
        share = np.clip(share + 0.5 / np.sqrt(step) * (completions - quantity) / scale, 0, 1)
    return best


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
