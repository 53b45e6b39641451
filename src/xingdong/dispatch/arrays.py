"""Small helpers for per-slot NumPy columns that grow with the task index."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

Scalar = TypeVar("Scalar", bound=np.generic)


def grown(array: NDArray[Scalar], length: int, fill: float | bool) -> NDArray[Scalar]:
    """``array`` lengthened (along its first axis) to ``length`` with ``fill``."""
    if array.shape[0] >= length:
        return array
    bigger = np.full((length, *array.shape[1:]), fill, dtype=array.dtype)
    bigger[: array.shape[0]] = array
    return bigger


def widened(array: NDArray[Scalar], columns: int, fill: float = 0.0) -> NDArray[Scalar]:
    """A 2-D ``array`` with at least ``columns`` columns, new ones ``fill``."""
    if array.shape[1] >= columns:
        return array
    width = max(columns, 2 * array.shape[1])
    wider = np.full((array.shape[0], width), fill, dtype=array.dtype)
    wider[:, : array.shape[1]] = array
    return wider


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-z))


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))
