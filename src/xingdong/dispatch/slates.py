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

from xingdong.dispatch import kernels

FloatArray = NDArray[np.float64]
STEPS = 8


def best_feed_value(
    margin: FloatArray, attraction: FloatArray, place_weights: FloatArray, steps: int = STEPS
) -> float:
    """θ of the best feed of ``len(place_weights)`` places (weights best first), or after
    ``steps`` steps the value of a feed at least that good (never more than the best)."""
    return float(
        kernels.best_value(
            np.ascontiguousarray(margin, dtype=np.float64),
            np.ascontiguousarray(attraction, dtype=np.float64),
            np.ascontiguousarray(place_weights, dtype=np.float64),
            steps,
        )
    )
