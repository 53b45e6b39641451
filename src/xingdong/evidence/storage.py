"""Where the bytes of evidence files live.

The database keeps what a file is (its row in ``evidence_files``); an
:class:`EvidenceStorage` keeps its bytes under an opaque key. The local folder storage
serves development, the demo, tests and single-host deployments; an S3-compatible bucket
(:mod:`xingdong.evidence.s3_storage`) serves deployments with several hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

PIECE = 256 * 1024
"""How much of a file a stream hands on at a time."""
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{7,119}")
"""Keys are lower-case letters, digits, ``-`` and ``_`` only: no dots and no slashes, so a
key can never name a path outside the storage's root."""


class InvalidStorageKey(ValueError):
    """A key outside :data:`KEY_PATTERN`: a programming error, never a user's input."""


class EvidenceStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there; all or nothing."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; :class:`FileNotFoundError` when there are none."""
        ...

    async def get_part(self, key: str, first: int, last: int) -> bytes:
        """Bytes ``first`` to ``last`` (inclusive) of ``key``; :class:`FileNotFoundError`
        when there are none."""
        ...

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The bytes stored under ``key`` a piece at a time (a whole video, never in
        memory at once)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is not there."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Where ``key``'s bytes lie on this host's disk, for a store that keeps them
        there (they are then sent from the file, a part at a time when a player asks for
        a range); None for a remote store."""
        ...

    async def keys_after(self, after: str, limit: int) -> list[str]:
        """Up to ``limit`` stored keys that sort after ``after`` (``""``: from the first),
        in order: the whole store, a page at a time."""
        ...

    async def stored_at(self, key: str) -> datetime | None:
        """When the store itself last wrote ``key`` (by its own clock); None when it is
        not there."""
        ...

    async def remove_leftovers(self, before: datetime) -> int:
        """Remove what interrupted writes left behind before ``before``; how many."""
        ...


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidStorageKey(f"not a valid evidence storage key: {key!r}")
    return key


class LocalFolderStorage:
    """Files in a folder, two levels of sub-folders named by the key's first characters
    (``ab/cd/abcd…``), so no folder grows past a few thousand entries.

    A write goes to a temporary file in the target folder, is flushed to disk, then
    renamed over the final name: a reader sees the old bytes or the new, never half.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, key: str) -> Path:
        check_key(key)
        path = self.root / key[:2] / key[2:4] / key
        # The pattern already rules out escaping the root; this states it outright.
        if path.parent.parent.parent != self.root:
            raise InvalidStorageKey(f"not a valid evidence storage key: {key!r}")
        return path

    async def put(self, key: str, data: bytes) -> None:
        path = self.path_for(key)
        await asyncio.to_thread(self._write, path, data)

    async def get(self, key: str) -> bytes:
        path = self.path_for(key)
        return await asyncio.to_thread(path.read_bytes)

    async def get_part(self, key: str, first: int, last: int) -> bytes:
        return await asyncio.to_thread(self._read_part, self.path_for(key), first, last)

    @staticmethod
    def _read_part(path: Path, first: int, last: int) -> bytes:
        with path.open("rb") as file:
            file.seek(first)
            return file.read(last - first + 1)

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        position = 0
        while piece := await asyncio.to_thread(
            self._read_part, path, position, position + PIECE - 1
        ):
            yield piece
            position += len(piece)

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self.path_for(key)

    async def keys_after(self, after: str, limit: int) -> list[str]:
        return await asyncio.to_thread(self._keys_after, after, limit)

    async def stored_at(self, key: str) -> datetime | None:
        path = self.path_for(key)
        try:
            modified = (await asyncio.to_thread(path.stat)).st_mtime
        except FileNotFoundError:
            return None
        return datetime.fromtimestamp(modified, UTC)

    async def remove_leftovers(self, before: datetime) -> int:
        return await asyncio.to_thread(self._remove_partials, before.timestamp())

    def _remove_partials(self, before: float) -> int:
        # A write killed between creating its temporary file and the rename (a crash,
        # a full disk) leaves a ``.partial-`` file that no key names.
        removed = 0
        for partial in self.root.glob("*/*/.partial-*"):
            with contextlib.suppress(FileNotFoundError):
                if partial.stat().st_mtime < before:
                    partial.unlink()
                    removed += 1
        return removed

    def _keys_after(self, after: str, limit: int) -> list[str]:
        found: list[str] = []
        if not self.root.is_dir():
            return found
        # Keys sort as their folders do (``ab/cd/abcd…``), so folders before ``after``'s
        # are skipped whole; names that are not keys (a write's ``.partial-`` file) never
        # count.
        for first in sorted(p.name for p in self.root.iterdir() if p.is_dir()):
            if first < after[:2]:
                continue
            for second in sorted(p.name for p in (self.root / first).iterdir() if p.is_dir()):
                if first + second < after[:4]:
                    continue
                names = sorted(
                    p.name
                    for p in (self.root / first / second).iterdir()
                    if KEY_PATTERN.fullmatch(p.name) and p.name > after
                )
                found.extend(names[: limit - len(found)])
                if len(found) >= limit:
                    return found
        return found

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(temporary).unlink()
            raise
