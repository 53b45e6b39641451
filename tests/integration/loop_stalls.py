"""How long the event loop stood still while some work ran beside it: the check that a
job sharing the web server's loop (``serve`` runs its worker there) does its long work
off it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from xingdong.core import collector

T = TypeVar("T")
TICK_S = 0.005


@dataclass(frozen=True)
class Stalls:
    longest_s: float
    """The longest gap between two turns of the loop."""
    took_s: float
    """How long the work took."""


async def timed_beside_a_ticker(work: Awaitable[T]) -> tuple[T, Stalls]:
    """Await ``work`` while a ticker on the same loop notes the gaps between its turns.

    With the garbage collector settled, as a serving process runs (``core.collector``):
    unsettled, a full collection over the test process's heap (everything pytest and
    the app imported) stopped every thread for 0.25-0.35 s on a loaded machine, a pause
    of the test's making, not the work's. The risk scan beside two busy processes: the
    longest stall 0.51-0.56 s unsettled, 0.03-0.04 s settled (it failed once in CI at
    0.67 s of 3.3 s)."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(TICK_S)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    with collector.settled():
        ticker = asyncio.create_task(tick())
        started = time.perf_counter()
        try:
            result = await work
        finally:
            took = time.perf_counter() - started
            done.set()
            await ticker
    return result, Stalls(max(gaps, default=0.0), took)
