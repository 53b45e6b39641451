"""Distinct members per key over a sliding time window (accounts per device, per IP …)."""

from __future__ import annotations

from collections import deque


class SlidingDistinct:
    """How many distinct members were seen with one key during the last ``window`` seconds.

    Each key keeps its sightings in time order and a count per member, so expiring old
    sightings and answering are amortised O(1); the stream is in time order, so sightings
    arrive sorted.
    """

    __slots__ = ("_counts", "_seen", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[str, deque[tuple[float, str]]] = {}
        self._counts: dict[str, dict[str, int]] = {}

    def _expire(self, key: str, now: float) -> dict[str, int]:
        counts = self._counts.get(key)
        if counts is None:
            return {}
        seen = self._seen[key]
        horizon = now - self.window
        while seen and seen[0][0] < horizon:
            _, member = seen.popleft()
            left = counts[member] - 1
            if left:
                counts[member] = left
            else:
                del counts[member]
        return counts

    def add(self, key: str, member: str, now: float) -> int:
        """Record a sighting and return the distinct members now in the window."""
        counts = self._expire(key, now)
        if not counts:
            counts = self._counts.setdefault(key, {})
            self._seen.setdefault(key, deque())
        self._seen[key].append((now, member))
        counts[member] = counts.get(member, 0) + 1
        return len(counts)

    def count(self, key: str, now: float) -> int:
        return len(self._expire(key, now))

    def members(self, key: str, now: float) -> list[str]:
        return sorted(self._expire(key, now))


class SlidingCount:
    """How many events one key had during the last ``window`` seconds."""

    __slots__ = ("_times", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self._times: dict[str, deque[float]] = {}

    def add(self, key: str, now: float) -> int:
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque()
        times.append(now)
        horizon = now - self.window
        while times[0] < horizon:
            times.popleft()
        return len(times)

    def count(self, key: str, now: float) -> int:
        times = self._times.get(key)
        if not times:
            return 0
        horizon = now - self.window
        while times and times[0] < horizon:
            times.popleft()
        return len(times)
