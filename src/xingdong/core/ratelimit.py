"""Rate limits through the ``limits`` library: Redis when configured, memory otherwise."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from xingdong.core.errors import RateLimited
from xingdong.core.i18n import N_


class RateLimits:
    def __init__(self, redis_url: str | None) -> None:
        self.storage: Storage = _redis_storage(redis_url) if redis_url else MemoryStorage()
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def _items(self, spec: str) -> list[RateLimitItem]:
        if spec not in self._parsed:
            self._parsed[spec] = parse_many(spec)
        return self._parsed[spec]

    async def hit(self, spec: str, *identifiers: str) -> None:
        """Count one attempt against every limit in ``spec``; raise when one is used up."""
        for item in self._items(spec):
            if not await self.limiter.hit(item, *identifiers):
                stats = await self.limiter.get_window_stats(item, *identifiers)
                raise RateLimited(
                    detail=N_("Too many attempts. Try again in {retry_after} seconds."),
                    extra={"retry_after": max(1, int(stats.reset_time - time.time()))},
                )

    async def aclose(self) -> None:
        """Close Redis connections. ``limits`` offers no close call of its own, so this
        reaches the client's pool through the storage's bridge."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()

    async def clear(self, spec: str, *identifiers: str) -> None:
        for item in self._items(spec):
            await self.limiter.clear(item, *identifiers)


def _redis_storage(redis_url: str) -> Storage:
    storage = storage_from_string("async+" + redis_url)
    assert isinstance(storage, Storage)
    return storage
