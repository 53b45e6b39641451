"""How long the event loop stood still while some work ran beside it: the check that a
job sharing the web server's loop (``serve`` runs its worker there) does its long work
off it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
TICK_S = 0.005


@dataclass(frozen=True)
class Stalls:
    longest_s: float
    """The longest gap between two turns of the loop."""
    took_s: float
    """How long the work took."""


async def timed_beside_a_ticker(work: Awaitable[T]) -> tuple[T, Stalls]:
    """Await ``work`` while a ticker on the same loop notes the gaps between its turns."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(TICK_S)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    try:
        result = await work
    finally:
        took = time.perf_counter() - started
        done.set()
        await ticker
    return result, Stalls(max(gaps, default=0.0), took)
