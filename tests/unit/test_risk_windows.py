"""Sliding windows and the bounded buckets of the perceptual-hash index."""

from __future__ import annotations

from xingdong.risk.phash_index import PhashIndex
from xingdong.risk.windows import SlidingCount, SlidingDistinct


def test_distinct_members_expire_with_their_last_sighting() -> None:
    window = SlidingDistinct(100.0)
    assert window.add("ip", "a", 0.0) == 1
    assert window.add("ip", "b", 10.0) == 2
    assert window.add("ip", "a", 50.0) == 2  # a seen again: still two people
    assert window.count("ip", 105.0) == 2  # a's first sighting gone, its second kept
    assert window.count("ip", 111.0) == 1  # b gone
    assert window.members("ip", 111.0) == ["a"]
    assert window.count("ip", 151.0) == 0
    assert window.count("other", 0.0) == 0


def test_counts_expire() -> None:
    window = SlidingCount(60.0)
    assert [window.add("acct", t) for t in (0.0, 30.0, 59.0)] == [1, 2, 3]
    assert window.add("acct", 61.0) == 3
    assert window.count("acct", 200.0) == 0


def test_a_crowded_band_keeps_only_its_newest_images() -> None:
    index = PhashIndex(radius=3, bucket_cap=4)
    page = 0x0123_4567_89AB_CDEF
    for _ in range(10):  # one page screenshotted alike ten times
        index.add(page)
    assert [image for _, image in index.near(page ^ 1)] == [6, 7, 8, 9]
    assert len(index) == 10
