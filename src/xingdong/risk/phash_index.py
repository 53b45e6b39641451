"""Near-duplicate search over 64-bit perceptual hashes that stays fast at millions of images.

Multi-index hashing: the hash is cut into four 16-bit bands, each with its own table from
band value to image ids. Two hashes within ``r`` bits of each other agree within
``r // 4`` bits on at least one band (pigeonhole), so probing every band value within that
many bits of the query's band finds every match; only those candidates are compared in
full. With ``r`` ≤ 7 that is 4 x 17 table lookups per query, whatever the index size.
A band value that very many images share (one popular page, screenshotted alike by
thousands) keeps only its newest ``bucket_cap`` images, so a query stays bounded.
"""

from __future__ import annotations

from itertools import combinations

_BANDS = 4
_BAND_BITS = 16
_BAND_MASK = (1 << _BAND_BITS) - 1


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _flips(bits: int) -> list[int]:
    """Every 16-bit mask with at most ``bits`` bits set."""
    masks = [0]
    for k in range(1, bits + 1):
        for chosen in combinations(range(_BAND_BITS), k):
            mask = 0
            for bit in chosen:
                mask |= 1 << bit
            masks.append(mask)
    return masks


class PhashIndex:
    """Images by perceptual hash; ``near`` lists those within a distance of a query."""

    __slots__ = ("_flip_masks", "_hashes", "_tables", "bucket_cap", "radius")

    def __init__(self, radius: int = 7, bucket_cap: int = 512) -> None:
        if not 0 <= radius < _BANDS * 3:
            raise ValueError("radius must be between 0 and 11 bits")
        self.radius = radius
        self.bucket_cap = bucket_cap
        self._flip_masks = [_flips(level) for level in range(radius // _BANDS + 1)]
        self._tables: list[dict[int, list[int]]] = [{} for _ in range(_BANDS)]
        self._hashes: list[int] = []

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, phash: int) -> int:
        """Index a hash; returns its id (0, 1, 2 … in insertion order)."""
        image_id = len(self._hashes)
        self._hashes.append(phash)
        cap = self.bucket_cap
        for band, table in enumerate(self._tables):
            value = (phash >> (band * _BAND_BITS)) & _BAND_MASK
            bucket = table.get(value)
            if bucket is None:
                table[value] = [image_id]
            else:
                bucket.append(image_id)
                if len(bucket) > cap:
                    # a page thousands screenshot alike: compare with the newest of them
                    del bucket[: len(bucket) - cap]
        return image_id

    def near(self, phash: int, radius: int | None = None) -> list[tuple[int, int]]:
        """(distance, id) of every indexed hash within ``radius`` bits, nearest first."""
        limit = self.radius if radius is None else min(radius, self.radius)
        candidates: set[int] = set()
        for band, table in enumerate(self._tables):
            value = (phash >> (band * _BAND_BITS)) & _BAND_MASK
            for mask in self._flip_masks[limit // _BANDS]:
                bucket = table.get(value ^ mask)
                if bucket is not None:
                    candidates.update(bucket)
        hashes = self._hashes
        found = [(d, i) for i in candidates if (d := (hashes[i] ^ phash).bit_count()) <= limit]
        found.sort()
        return found
