"""What the OCR text of a screenshot says about the submission it came with.

The checks are the ones that tell an honest screenshot of a popular page from a copy: the
target's handle is on it, the button shows the done state the task asks for, and the
status-bar clock agrees with when it was submitted (a copy carries the clock of the moment
someone else took it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DONE_WORDS = {"follow": "已关注", "like": "已点赞", "comment": "已评论"}

# The status bar comes first in the text OCR reads top to bottom.
_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")
_SPACES = re.compile(r"\s+")


@dataclass(slots=True, frozen=True)
class OcrFindings:
    has_target: bool | None
    """None when the target is unknown."""
    has_done_state: bool | None
    """None when the task type has no known done-state word."""
    clock_minute: int | None
    """Minute of the day the status bar showed; None when no clock was read."""
    clock_agrees: bool | None
    """None when no clock was read."""

    @property
    def is_consistent(self) -> bool:
        return (
            self.has_target is not False
            and self.has_done_state is not False
            and self.clock_agrees is True
        )


def normalise(text: str) -> str:
    return _SPACES.sub("", text).lower()


def handle_of(target: str) -> str:
    """The part of a target a screenshot shows: ``@name`` or ``video/123@name`` → name."""
    name = target.rsplit("@", 1)[-1] if "@" in target else target
    return normalise(name)


def read_clock(text: str) -> int | None:
    match = _CLOCK.search(text)
    if match is None:
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def clock_agrees(
    clock_minute: int,
    submitted_at: float,
    *,
    utc_offset_hours: float,
    before_minutes: int,
    after_minutes: int,
) -> bool:
    """The screenshot was taken at most ``before_minutes`` before the submission and not
    more than ``after_minutes`` after it (phones' clocks drift), on a 24-hour dial."""
    local = datetime.fromtimestamp(submitted_at, UTC) + timedelta(hours=utc_offset_hours)
    submitted_minute = local.hour * 60 + local.minute
    lag = (submitted_minute - clock_minute) % 1440
    return lag <= before_minutes or lag >= 1440 - after_minutes


def inspect(
    text: str,
    *,
    target: str | None,
    task_type: str | None,
    submitted_at: float,
    utc_offset_hours: float,
    before_minutes: int,
    after_minutes: int,
) -> OcrFindings:
    flat = normalise(text)
    has_target = None if not target else handle_of(target) in flat
    word = DONE_WORDS.get(task_type or "")
    has_done = None if word is None else word in flat
    minute = read_clock(text)
    agrees = (
        None
        if minute is None
        else clock_agrees(
            minute,
            submitted_at,
            utc_offset_hours=utc_offset_hours,
            before_minutes=before_minutes,
            after_minutes=after_minutes,
        )
    )
    return OcrFindings(has_target, has_done, minute, agrees)
