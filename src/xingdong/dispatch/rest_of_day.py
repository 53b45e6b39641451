"""Pacing prices from the optimum of the rest of the day, solved again during the day.

The nightly seeding starts each campaign's pacing price where the optimum of the last
day's traffic puts it. By the afternoon the day has gone its own way: some campaigns sold
faster than the forecast, the model has learned what people take, and a price found at
night holds back units the evening no longer needs (or lets go of units it will). So,
every few hours, the visits a forecast still expects today (the last day's visitors at
the times of day still to come) are offered the campaigns that will be open then, with
the units left now and the chances the model predicts now; the dual price of each
campaign's units in that optimum, as a share of its unit price, becomes its pacing price.
Dual mirror descent carries on from there.

The duals come from :func:`xingdong.dispatch.optimum.dual_bound` (a few dozen subgradient
steps started from the prices in force): a linear program of a whole day's visits would
take seconds, and these prices are only a starting point for the descent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from xingdong.dispatch.arrays import sigmoid
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.optimum import VisitOptions, dual_bound
from xingdong.dispatch.profiles import PersonProfile

FloatArray = NDArray[np.float64]

RESOLVE_EVERY_S = 3 * 3600.0
"""How often the prices are solved again."""

ITERATIONS = 40
"""Subgradient steps of a re-solve (from the prices in force, few are needed)."""


def rest_of_day_duals(
    dispatcher: Dispatcher,
    visits: Sequence[tuple[PersonProfile, float]],
    now_s: float,
    *,
    position_bias: Sequence[float],
    start: FloatArray | None = None,
    share: float = 1.0,
) -> tuple[FloatArray, float]:
    """The dual price μ (in fen per unit) of every live slot's units in the optimum of the
    forecast ``visits`` (person, moment) still to come after ``now_s``, each shown a feed
    with places worth ``position_bias`` (0 for slots not live), and the optimum's value
    (an upper bound, in fen). ``start``: the μ to start the descent from (by slot).
    ``share``: the share of the traffic to come that ``visits`` are a sample of; they are
    offered that share of the units left (the value is still the sample's)."""
    index = dispatcher.index
    model = dispatcher.model
    slots = np.flatnonzero(index.alive)
    column = np.full(index.capacity, -1, dtype=np.int64)
    column[slots] = np.arange(slots.shape[0])
    options = []
    for person, moment in visits:
        if moment < now_s:
            continue
        # A removed slot is never runnable, so open_mask leaves it out.
        open_slots = np.flatnonzero(index.targeting_mask(person) & index.open_mask(moment))
        if open_slots.size == 0:
            continue
        p = sigmoid(model.log_odds(open_slots, person.id, model.label_columns(person)))
        options.append(VisitOptions(0, column[open_slots], p / (1 - p)))
    duals = np.zeros(index.capacity)
    if not options or slots.size == 0:
        return duals, 0.0
    left = (index.quantity - index.completed - index.reserved)[slots].clip(0, None)
    optimum = dual_bound(
        options,
        price=dispatcher.price_fen[slots],
        quantity=share * left.astype(np.float64),
        position_bias=position_bias,
        iterations=ITERATIONS,
        start=None if start is None else start[slots],
    )
    duals[slots] = optimum.quantity_duals
    return duals, float(optimum.value)


def rest_of_day_prices(
    dispatcher: Dispatcher,
    visits: Sequence[tuple[PersonProfile, float]],
    now_s: float,
    *,
    places: int,
    share: float = 1.0,
) -> tuple[dict[str, float], float]:
    """Each live task's pacing price from the rest of the day's optimum (its dual as a
    share of its unit price) for feeds of ``places`` tasks, started from the prices in
    force and with the place weights the model has learned; and the optimum's value (of
    the ``visits`` given, a ``share`` of the traffic to come: see ``rest_of_day_duals``)."""
    index = dispatcher.index
    price = dispatcher.price_fen
    duals, value = rest_of_day_duals(
        dispatcher,
        visits,
        now_s,
        position_bias=dispatcher.model.position_weights(places).tolist(),
        start=dispatcher.pacer.price * price,
        share=share,
    )
    shares = np.divide(duals, price, out=np.zeros_like(duals), where=price > 0)
    prices = {
        task.id: float(shares[slot])
        for slot, task in enumerate(index.tasks)
        if task is not None and index.alive[slot]
    }
    return prices, value
