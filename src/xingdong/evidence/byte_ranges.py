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

_ONE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


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
    """The one part of a ``size``-byte file that ``header`` asks for, at most
    :data:`PART_BYTES` long; None to send the whole (no header, several ranges or one that
    cannot be read: RFC 9110 lets a server answer those whole). A part that starts past
    the end is refused (416)."""
    if not header:
        return None
    found = _ONE_RANGE.fullmatch(header.strip().replace(" ", ""))
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first_text, last_text = found.groups()
    if first_text == "":
        # The last n bytes.
        tail = int(last_text)
        if tail == 0:
            raise _not_satisfiable(size)
        first, last = max(0, size - tail), size - 1
    else:
        first = int(first_text)
        if first >= size:
            raise _not_satisfiable(size)
        last = min(int(last_text), size - 1) if last_text else size - 1
        if last < first:
            return None
    return ByteRange(first, min(last, first + PART_BYTES - 1), size)


def _not_satisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        detail=N_("The file has {size} bytes; the part asked for starts past its end."),
        extra={"size": size},
    )
