"""The one place that reads the time, so tests and replays can reason about it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8), "UTC+8")
"""Pages show and read times in Beijing time (China has no daylight saving)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_text(moment: datetime | None) -> str | None:
    """A moment as the API's files and events write it: ISO 8601 in UTC, ending in ``Z``
    (None for no moment)."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_time(moment: datetime | None, pattern: str = "%m-%d %H:%M") -> str:
    """A moment as people read it on the pages: Beijing time, month to minute unless
    ``pattern`` says otherwise; empty for no moment."""
    if moment is None:
        return ""
    return moment.astimezone(CHINA_TIME).strftime(pattern)
