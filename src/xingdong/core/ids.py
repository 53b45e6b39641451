"""Time-ordered UUIDs (version 7, RFC 9562): unique without coordination, and new rows
land at the right edge of their index instead of all over it."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime


def new_id() -> uuid.UUID:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand >> 68) << 64 & (0xFFF << 64)
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def id_time(value: uuid.UUID) -> datetime | None:
    """When a version 7 id was made (to the millisecond), from its first 48 bits; None
    for an id of another version, which does not say."""
    if value.version != 7:
        return None
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)
