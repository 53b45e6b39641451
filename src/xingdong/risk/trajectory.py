"""Features of the pointer gesture the worker page recorded before a submission.

A hand moves along a curve and the browser samples it at uneven intervals (frames are
dropped, the finger speeds up and slows down); a script interpolates a straight line and
emits samples on a timer. Two numbers capture that difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class TrajectoryFeatures:
    straightness: float
    """Distance from the first to the last point over the length of the path (1: a line)."""
    interval_cv: float
    """Coefficient of variation of the time between samples (0: perfectly even)."""
    samples: int


def trajectory_features(points: list[tuple[float, float, float]]) -> TrajectoryFeatures | None:
    """Features of a gesture of at least three samples; None when it carries no movement."""
    if len(points) < 3:
        return None
    path = 0.0
    intervals: list[float] = []
    previous = points[0]
    for point in points[1:]:
        path += math.hypot(point[1] - previous[1], point[2] - previous[2])
        intervals.append(point[0] - previous[0])
        previous = point
    if path <= 0.0:
        return None
    chord = math.hypot(points[-1][1] - points[0][1], points[-1][2] - points[0][2])
    mean = sum(intervals) / len(intervals)
    if mean <= 0.0:
        # every sample stamped at once: no human device reports a gesture that way
        return TrajectoryFeatures(straightness=chord / path, interval_cv=0.0, samples=len(points))
    variance = sum((i - mean) ** 2 for i in intervals) / len(intervals)
    return TrajectoryFeatures(
        straightness=chord / path, interval_cv=math.sqrt(variance) / mean, samples=len(points)
    )
