"""The part of a file a Range header asks for, as a remote store's videos are sent."""

from __future__ import annotations

import pytest

from xingdong.evidence.byte_ranges import (
    PART_BYTES,
    ByteRange,
    RangeNotSatisfiable,
    requested_range,
)


@pytest.mark.parametrize(
    ("header", "size", "part"),
    [
        ("bytes=0-1", 100, (0, 1)),  # Safari's first probe
        ("bytes=10-19", 100, (10, 19)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=90-500", 100, (90, 99)),  # past the end: up to the end
        ("bytes=-10", 100, (90, 99)),  # the last ten
        ("bytes=-500", 100, (0, 99)),
        ("bytes=99-99", 100, (99, 99)),
        (" bytes = 5 - 6 ", 100, (5, 6)),
        ("Bytes=5-6", 100, (5, 6)),  # the unit in any case
        ("bytes=0-1,5-6", 100, (0, 6)),  # several: one part from the first to the last
        ("bytes=50-59,0-1", 100, (0, 59)),
        ("bytes=0-1,500-600", 100, (0, 1)),  # a range past the end adds nothing
    ],
)
def test_one_range_is_read(header: str, size: int, part: tuple[int, int]) -> None:
    found = requested_range(header, size)
    assert found == ByteRange(*part, size)
    assert found is not None and found.content_range() == f"bytes {part[0]}-{part[1]}/{size}"
    assert found.length == part[1] - part[0] + 1


@pytest.mark.parametrize(
    "header",
    [None, "", "items=0-1", "bytes=-", "bytes=a-b", "bytes=20-10", "0-1", "bytes=0-1,x"],
)
def test_what_is_not_one_readable_range_is_answered_whole(header: str | None) -> None:
    assert requested_range(header, 100) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [("bytes=100-", 100), ("bytes=100-200", 100), ("bytes=-0", 100), ("bytes=100-,200-", 100),
     ("bytes=-5", 0), ("bytes=0-", 0)],
)  # fmt: skip
def test_a_part_with_no_byte_of_the_file_is_refused_with_the_size(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as refused:
        requested_range(header, size)
    assert refused.value.status == 416 and refused.value.extra == {"size": size}


def test_an_open_range_is_sent_a_part_at_a_time() -> None:
    size = 5 * PART_BYTES
    assert requested_range("bytes=0-", size) == ByteRange(0, PART_BYTES - 1, size)
    assert requested_range(f"bytes={PART_BYTES}-", size) == ByteRange(
        PART_BYTES, 2 * PART_BYTES - 1, size
    )
    # A closed range asked for is capped the same way.
    assert requested_range(f"bytes=0-{size - 1}", size) == ByteRange(0, PART_BYTES - 1, size)
