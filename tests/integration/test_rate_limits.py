"""Rate limits: in memory by default, shared through Redis when one is configured."""

from __future__ import annotations

import os
import uuid

import pytest

from xingdong.core.errors import RateLimited
from xingdong.core.ratelimit import RateLimits

REDIS_URL = os.environ.get("XINGDONG_TEST_REDIS_URL")


async def exhaust(limits: RateLimits, key: str) -> int:
    """Hit until refused; return how many hits were allowed."""
    allowed = 0
    while allowed < 10:
        try:
            await limits.hit("3/minute", "test", key)
        except RateLimited:
            break
        allowed += 1
    return allowed


async def test_memory_limits_count_per_key() -> None:
    limits = RateLimits(None)
    assert await exhaust(limits, "a") == 3
    assert await exhaust(limits, "b") == 3
    with pytest.raises(RateLimited) as refused:
        await limits.hit("3/minute", "test", "b")
    assert 1 <= refused.value.extra["retry_after"] <= 60
    await limits.clear("3/minute", "test", "a")
    assert await exhaust(limits, "a") == 3


@pytest.mark.skipif(REDIS_URL is None, reason="set XINGDONG_TEST_REDIS_URL to test with Redis")
async def test_redis_limits_are_shared_between_processes() -> None:
    """Two app processes (two RateLimits) count against one budget in Redis."""
    assert REDIS_URL is not None
    key = uuid.uuid4().hex
    first, second = RateLimits(REDIS_URL), RateLimits(REDIS_URL)
    await first.hit("3/minute", "test", key)
    await first.hit("3/minute", "test", key)
    await second.hit("3/minute", "test", key)
    with pytest.raises(RateLimited):
        await second.hit("3/minute", "test", key)
    with pytest.raises(RateLimited):
        await first.hit("3/minute", "test", key)
    await first.clear("3/minute", "test", key)
    await first.aclose()
    await second.aclose()
