"""Compiled loops for the work every feed request does over every task open to a person.

Scoring a person's feed touches each of a few hundred to a few thousand tasks a handful of
times. NumPy would take a dozen or more calls for it, each costing microseconds whatever
the size, which alone exceeds the scoring step's budget; these loops make one pass each.
Numba compiles them to machine code at the first call and keeps the result on disk
(``cache=True``), so a process compiles once per installation; :func:`warm_up` does it
before a server takes requests.

Arrays come in as the dispatcher keeps them: per-slot columns of the task index (float64,
int64 or bool), the person's label columns as int64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

MAX_LOG_ODDS = 30.0
"""Attractions are capped at e^30 so that no odds overflow."""

Function = TypeVar("Function", bound=Callable[..., Any])


def compiled(function: Function) -> Function:
    """Numba's ``njit`` with the disk cache, keeping the function's own signature for
    the type checker."""
    return cast(Function, njit(cache=True)(function))


@compiled
def log_odds_into(
    out: FloatArray,
    base: FloatArray,
    slots: IntArray,
    slot_type: IntArray,
    type_label: FloatArray,
    leaning: FloatArray,
    label_task: FloatArray,
    columns: IntArray,
    fit: float,
    slot_category: IntArray,
    category_label: FloatArray,
    category_interest: IntArray,
    match: FloatArray,
) -> None:
    """``out[i]`` = log-odds of the task in ``slots[i]`` for one person: its ``base``,
    plus ``fit`` times what the person adds (per type, the lifts of the person's labels
    and their ``leaning``; per category, the lifts of their labels, for a task with a
    category, ``slot_category`` ≥ 0, and the lift ``match[0]`` shared by every category
    that is one of the person's interests, ``category_interest`` naming the interest's
    label column of each category or -1; per task, the lifts of their labels on that
    task)."""
    types = type_label.shape[0]
    per_type = np.zeros(types)
    for kind in range(types):
        lift = 0.0
        for column in columns:
            lift += type_label[kind, column]
        if kind < leaning.shape[0]:
            lift += leaning[kind]
        per_type[kind] = lift
    categories = category_label.shape[0]
    per_category = np.zeros(categories)
    for category in range(categories):
        lift = 0.0
        for column in columns:
            lift += category_label[category, column]
            if column == category_interest[category]:
                lift += match[0]
        per_category[category] = lift
    for i in range(slots.shape[0]):
        slot = slots[i]
        lift = per_type[slot_type[slot]]
        category = slot_category[slot]
        if category >= 0:
            lift += per_category[category]
        for column in columns:
            lift += label_task[column, slot]
        out[i] = base[slot] + fit * lift


@compiled
def place_weights(position_mean: FloatArray, places: int) -> FloatArray:
    """What each of the first ``places`` places is worth against the top: the learned odds
    ratio of completing a task there, never rising down the feed."""
    weights = np.empty(places)
    last = position_mean.shape[0] - 1
    best = 1.0
    for place in range(places):
        shift = 0.0 if place == 0 else min(position_mean[min(place, last)], 0.0)
        best = min(best, math.exp(shift))
        weights[place] = best
    return weights


@compiled
def best_value(
    margin: FloatArray, attraction: FloatArray, weights: FloatArray, steps: int
) -> float:
    """θ of the best feed of ``len(weights)`` places for tasks worth ``margin`` each with
    ``attraction`` (see :mod:`xingdong.dispatch.slates`), by Dinkelbach's method in at
    most ``steps`` steps."""
    n = margin.shape[0]
    places = min(weights.shape[0], n)
    if places == 0:
        return 0.0
    gains = np.empty(n)
    chosen = np.empty(n, dtype=np.int64)
    theta = 0.0
    for _ in range(steps):
        for i in range(n):
            gains[i] = (margin[i] - theta) * attraction[i]
        # The places-th largest gain by selection, then the tasks at least that good in
        # order: linear in the number of tasks.
        cut = np.partition(gains, n - places)[n - places]
        count = 0
        for i in range(n):
            if gains[i] >= cut:
                chosen[count] = i
                count += 1
        best = chosen[:count][np.argsort(-gains[chosen[:count]])]
        pulled = 0.0
        worth = 0.0
        # The best places go to the best gains; a task that gains nothing stays out.
        for place in range(places):
            task = best[place]
            if gains[task] <= 0.0:
                break
            pull = weights[place] * attraction[task]
            pulled += pull
            worth += pull * margin[task]
        value = worth / (1.0 + pulled)
        if value <= theta + 1e-9:
            break
        theta = value
    return theta


@compiled
def scores_into(
    out: FloatArray,
    slots: IntArray,
    base: FloatArray,
    slot_type: IntArray,
    type_label: FloatArray,
    leaning: FloatArray,
    label_task: FloatArray,
    columns: IntArray,
    fit: float,
    price: FloatArray,
    dual: FloatArray,
    quality: BoolArray,
    novice: BoolArray,
    terms: FloatArray,
    jitter: FloatArray,
    position_mean: FloatArray,
    places: int,
    steps: int,
    slot_category: IntArray,
    category_label: FloatArray,
    category_interest: IntArray,
    match: FloatArray,
) -> float:
    """``out[i]`` = (margin - θ) * attraction of the task in ``slots[i]`` (see
    ``Dispatcher.scores``); returns θ. The attraction is e to the log-odds of
    :func:`log_odds_into` (its arguments come next after ``slots``).

    ``terms`` holds, in order: the value weight, the quality boost, the novice boost (0
    unless the person is a novice) and the person's tier relief."""
    value, quality_boost, novice_boost, relief = terms[0], terms[1], terms[2], terms[3]
    n = slots.shape[0]
    mean_price = 0.0
    if relief > 0.0 and n > 0:
        for i in range(n):
            mean_price += price[slots[i]]
        mean_price /= n
    attraction = np.empty(n)
    log_odds_into(
        attraction, base, slots, slot_type, type_label, leaning, label_task, columns, fit,
        slot_category, category_label, category_interest, match,
    )  # fmt: skip
    for i in range(n):
        slot = slots[i]
        attraction[i] = math.exp(min(attraction[i], MAX_LOG_ODDS))
        paid = price[slot]
        # For a tier that falls behind, prices are flattened towards their mean, so its
        # people are shown what they are likeliest to complete rather than what pays most.
        valued = (1.0 - relief) * paid + relief * mean_price if relief > 0.0 else paid
        boost = 1.0
        if quality[slot]:
            boost += quality_boost
        if novice[slot]:
            boost += novice_boost
        out[i] = value * valued * boost - dual[slot] * (1.0 - relief) * paid
    theta = best_value(out, attraction, place_weights(position_mean, places), steps)
    for i in range(n):
        out[i] = (out[i] - theta) * attraction[i] + jitter[slots[i]]
    return theta


@compiled
def _bounded(weight: float) -> float:
    """A learned weight kept within ±``MAX_LOG_ODDS``: no outcome can justify more, and a
    weight past it would turn chances into exact 0s and 1s (and the model's precisions,
    made of p(1 - p), into 0)."""
    return min(max(weight, -MAX_LOG_ODDS), MAX_LOG_ODDS)


@compiled
def _category_step(
    slots: IntArray,
    slot_category: IntArray,
    curvature: FloatArray,
    error: FloatArray,
    columns: IntArray,
    share: float,
    category_label: FloatArray,
    category_label_precision: FloatArray,
) -> None:
    """The lifts shared by a feed's tasks of one category take the sum of their steps."""
    categories = category_label.shape[0]
    category_curvature = np.zeros(categories)
    category_error = np.zeros(categories)
    for i in range(slots.shape[0]):
        category = slot_category[slots[i]]
        if category >= 0:
            category_curvature[category] += curvature[i]
            category_error[category] += error[i]
    for category in range(categories):
        if category_curvature[category] == 0.0:
            continue
        for column in columns:
            category_label_precision[category, column] += category_curvature[category]
            category_label[category, column] = _bounded(
                category_label[category, column]
                + share * category_error[category] / category_label_precision[category, column]
            )


@compiled
def learn_slate_step(
    slots: IntArray,
    places: IntArray,
    completed: FloatArray,
    competition: FloatArray,
    columns: IntArray,
    shares: FloatArray,
    learning_rate: float,
    slot_type: IntArray,
    leaning: FloatArray,
    leaning_precision: FloatArray,
    type_mean: FloatArray,
    type_precision: FloatArray,
    task_mean: FloatArray,
    task_precision: FloatArray,
    type_label: FloatArray,
    type_label_precision: FloatArray,
    label_task: FloatArray,
    label_task_precision: FloatArray,
    position_mean: FloatArray,
    position_precision: FloatArray,
    slot_category: IntArray,
    category_label: FloatArray,
    category_label_precision: FloatArray,
    category_interest: IntArray,
    match: FloatArray,
) -> FloatArray:
    """One step of the completion model for the outcomes of one feed (see
    ``CompletionModel.learn_slate``), in place; returns how far each type's rate moved.

    ``shares`` holds, in order, the shares of the error that go to the task's own rate,
    its label lifts, the type's label lifts, the type's rate, the person's leaning, the
    place, the category's label lifts (a task without a category gives that share to
    its own label lifts) and the lift of a category among the person's interests, which
    takes its share beside the others' (``match`` holds its mean and precision)."""
    n = slots.shape[0]
    error = np.empty(n)
    curvature = np.empty(n)
    matched = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        slot = slots[i]
        kind = slot_type[slot]
        z = type_mean[kind] + task_mean[slot] + position_mean[places[i]] + leaning[kind]
        z -= math.log1p(max(competition[i], 0.0))
        category = slot_category[slot]
        for column in columns:
            z += type_label[kind, column] + label_task[column, slot]
            if category >= 0:
                z += category_label[category, column]
                if column == category_interest[category]:
                    z += match[0]
                    matched[i] = True
        chance = 1.0 / (1.0 + math.exp(-z))
        error[i] = (completed[i] - chance) * learning_rate
        curvature[i] = max(chance * (1.0 - chance), 1e-3)
    for i in range(n):
        slot = slots[i]
        task_precision[slot] += curvature[i]
        task_mean[slot] = _bounded(task_mean[slot] + shares[0] * error[i] / task_precision[slot])
        own = shares[1] if slot_category[slot] >= 0 else shares[1] + shares[6]
        for column in columns:
            label_task_precision[column, slot] += curvature[i]
            label_task[column, slot] = _bounded(
                label_task[column, slot] + own * error[i] / label_task_precision[column, slot]
            )
        place = places[i]
        if place > 0:
            position_precision[place] += curvature[i]
            position_mean[place] = _bounded(
                position_mean[place] + shares[5] * error[i] / position_precision[place]
            )
    # Weights shared by the feed's tasks of one type take the sum of their steps.
    types = type_mean.shape[0]
    kind_curvature = np.zeros(types)
    kind_error = np.zeros(types)
    for i in range(n):
        kind = slot_type[slots[i]]
        kind_curvature[kind] += curvature[i]
        kind_error[kind] += error[i]
    moved = np.zeros(types)
    for kind in range(types):
        if kind_curvature[kind] == 0.0:
            continue
        type_precision[kind] += kind_curvature[kind]
        rate = _bounded(type_mean[kind] + shares[3] * kind_error[kind] / type_precision[kind])
        moved[kind] = rate - type_mean[kind]
        type_mean[kind] = rate
        leaning_precision[kind] += kind_curvature[kind]
        leaning[kind] = _bounded(
            leaning[kind] + shares[4] * kind_error[kind] / leaning_precision[kind]
        )
        for column in columns:
            type_label_precision[kind, column] += kind_curvature[kind]
            type_label[kind, column] = _bounded(
                type_label[kind, column]
                + shares[2] * kind_error[kind] / type_label_precision[kind, column]
            )
    _match_step(matched, curvature, error, shares[7], match)
    _category_step(
        slots, slot_category, curvature, error, columns, shares[6],
        category_label, category_label_precision,
    )  # fmt: skip
    return moved


@compiled
def _match_step(
    matched: BoolArray, curvature: FloatArray, error: FloatArray, share: float, match: FloatArray
) -> None:
    """The shared lift of a category among the person's interests takes the summed steps
    of the feed's tasks it applies to."""
    match_curvature = 0.0
    match_error = 0.0
    for i in range(error.shape[0]):
        if matched[i]:
            match_curvature += curvature[i]
            match_error += error[i]
    if match_curvature > 0.0:
        match[1] += match_curvature
        match[0] = _bounded(match[0] + share * match_error / match[1])


def warm_up() -> None:
    """Compile (or load from the disk cache) every loop, with the argument types the
    dispatcher passes, so that no request waits for it."""
    floats = np.zeros(4)
    ints = np.zeros(2, dtype=np.int64)
    flags = np.zeros(4, dtype=np.bool_)
    table = np.zeros((2, 4))
    out = np.empty(2)
    log_odds_into(
        out, floats, ints, ints, table, floats, table, ints, 1.0, ints, table, ints, floats
    )
    scores_into(
        out, ints, floats, ints, table, floats, table, ints, 1.0,
        floats, floats, flags, flags, floats, floats, floats, 2, 2, ints, table, ints, floats,
    )  # fmt: skip
    best_value(floats, floats, floats, 8)
    shares = np.zeros(8)
    learn_slate_step(
        ints, ints, floats, floats, ints, shares, 1.0, ints, floats, floats,
        floats, floats, floats, floats, table, table, table, table, floats, floats,
        ints, table, table, ints, floats,
    )  # fmt: skip
