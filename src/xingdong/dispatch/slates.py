"""The value of the best feed when people choose one task among those shown.

Under a multinomial logit with position bias, a feed showing task c at place i is
completed for c with probability β_i·a_c / (1 + Σ β_j·a_j), where a is the task's
attraction (its odds of being completed alone at the top). With m_c the expected margin
of one completion, the feed is worth Σ m β a / (1 + Σ β a), a linear-fractional function:
for a guess θ of the best value, the best feed puts the tasks in order of (m - θ)·a into
the places in order of β while that is positive (Dinkelbach's method). Each step is a real
feed worth more than the guess, so θ rises to the best feed's value in a few steps.

``xingdong.dispatch.optimum.best_slates`` does the same for many visits at once (the
benchmark's bound); this one serves a single feed request and avoids work it can skip.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
STEPS = 8


def best_feed_value(margin: FloatArray, attraction: FloatArray, place_weights: FloatArray) -> float:
    """θ of the best feed of ``len(place_weights)`` places (weights best first)."""
    places = min(int(place_weights.shape[0]), int(margin.shape[0]))
    if places == 0:
        return 0.0
    # Only tasks with a positive margin can be in a feed worth more than nothing.
    worth = margin > 0
    if not worth.any():
        return 0.0
    margin = margin[worth]
    attraction = attraction[worth]
    places = min(places, int(margin.shape[0]))
    weights = place_weights[:places]
    theta = 0.0
    for _ in range(STEPS):
        gain = (margin - theta) * attraction
        if places < gain.shape[0]:
            chosen = np.argpartition(gain, gain.shape[0] - places)[-places:]
        else:
            chosen = np.arange(gain.shape[0])
        chosen = chosen[np.argsort(gain[chosen])[::-1]]
        kept = gain[chosen] > 0
        a = attraction[chosen] * weights[: chosen.shape[0]] * kept
        value = float(a @ margin[chosen]) / (1.0 + float(a.sum()))
        if value <= theta + 1e-9:
            break
        theta = value
    return theta
