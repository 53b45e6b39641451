"""Reading the text on a screenshot (rapidocr-onnxruntime, which ships its models).

Reading takes seconds of CPU, so it runs in a job, never in a request. The engine is
loaded once per process, on first use, and is not safe to call from two threads at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

MIN_CONFIDENCE = 0.5
"""Lines read with less confidence are left out: they are mostly noise."""


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float
    box: tuple[int, int, int, int]
    """left, top, right, bottom in pixels."""


@dataclass(frozen=True)
class Reading:
    lines: list[TextLine]
    readable: bool
    """False when the picture could not be decoded or no text was found."""

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


_engine: Any = None
_engine_lock = threading.Lock()


def _get_engine() -> Any:
    global _engine  # noqa: PLW0603 - one engine per process, loaded on first use
    if _engine is None:
        from rapidocr_onnxruntime import RapidOCR

        _engine = RapidOCR()
    return _engine


def _box(points: Any) -> tuple[int, int, int, int]:
    xs = [int(p[0]) for p in points]
    ys = [int(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def read_screenshot(data: bytes) -> Reading:
    """The lines of text on the picture, top to bottom; an unreadable picture gives an
    empty reading rather than an error."""
    with _engine_lock:
        engine = _get_engine()
        try:
            result, _elapsed = engine(data)
        except Exception:  # noqa: BLE001 - any decoding failure means "nothing readable"
            return Reading(lines=[], readable=False)
    lines = [
        TextLine(text=str(text).strip(), confidence=float(score), box=_box(points))
        for points, text, score in (result or [])
        if float(score) >= MIN_CONFIDENCE and str(text).strip()
    ]
    lines.sort(key=lambda line: (line.box[1], line.box[0]))
    return Reading(lines=lines, readable=bool(lines))
