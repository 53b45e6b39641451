"""The part of a file a browser's video player asks for (RFC 9110 ``Range: bytes=…``),
for files a remote store keeps: phones' players ask for parts before they play, and
Safari plays nothing from a server that answers every request whole."""

from __future__ import annotations

import re
from dataclasses import dataclass

from xingdong.core.errors import XingdongError
from xingdong.core.i18n import N_

PART_BYTES = 2 * 1024 * 1024
"""The most sent in one answer to an open range (``bytes=0-``): players ask again for what
follows, and a whole video is never read into memory for one request."""

_RANGES = re.compile(r"bytes=(.+)", re.IGNORECASE)
_ONE_RANGE = re.compile(r"(\d*)-(\d*)")


class RangeNotSatisfiable(XingdongError):
    status = 416
    code = "range_not_satisfiable"
    title = N_("The part asked for is not in the file")


@dataclass(frozen=True)
class ByteRange:
    first: int
    last: int
    """Inclusive, as in ``Content-Range``."""
    size: int
    """The whole file's."""

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    def content_range(self) -> str:
        return f"bytes {self.first}-{self.last}/{self.size}"


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The part of a ``size``-byte file that ``header`` asks for, at most
    :data:`PART_BYTES` long (several ranges: one part from the first of them to the last,
    as RFC 9110 lets a server join them); None to send the whole (no header, or one that
    cannot be read, which RFC 9110 lets a server ignore). A part with no byte of the file
    in it is refused (416)."""
    if not header:
        return None
    found = _RANGES.fullmatch(header.strip().replace(" ", ""))
    if found is None:
        return None
    try:
        parts = [p for spec in found.group(1).split(",") if (p := _one_range(spec, size))]
    except _Unreadable:
        return None
    if not parts:
        raise RangeNotSatisfiable(
            detail=N_("The file has {size} bytes; the part asked for is not in it."),
            extra={"size": size},
        )
    first = min(p[0] for p in parts)
    last = max(p[1] for p in parts)
    return ByteRange(first, min(last, first + PART_BYTES - 1), size)


class _Unreadable(ValueError):
    """A range of the header is no range."""


def _one_range(spec: str, size: int) -> tuple[int, int] | None:
    """One range of a header within the file, None when it has no byte of it."""
    found = _ONE_RANGE.fullmatch(spec)
    if found is None or found.group(1) == found.group(2) == "":
        raise _Unreadable(spec)
    first_text, last_text = found.groups()
    if first_text == "":
        # The last n bytes.
        tail = int(last_text)
        return (max(0, size - tail), size - 1) if tail and size else None
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if last_text and int(last_text) < first:
        raise _Unreadable(spec)
    return (first, last) if first < size else None
