"""The sweep of stored evidence bytes that no file row points to, on the real database
and the local folder storage: an upload whose transaction rolled back leaves its bytes
behind; a day later the sweep deletes them, and only them: bytes a row points to, bytes
of an upload still under way, and names this code did not make stay. The folder storage
lists its keys in order, a page at a time, whatever the page size."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from tests.evidence_samples import encoded, screenshot
from tests.integration.conftest import make_settings
from tests.integration.test_evidence import add_person, stored_files
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.ids import new_id
from xingdong.core.settings import Settings
from xingdong.evidence import service
from xingdong.evidence.storage import EvidenceStorage, LocalFolderStorage


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(evidence_dir=tmp_path / "evidence", evidence_ocr=False)


@pytest.fixture
def storage(settings: Settings) -> LocalFolderStorage:
    return LocalFolderStorage(settings.evidence_dir)


async def every_key(storage: EvidenceStorage, page: int) -> list[str]:
    """All the storage's keys, asked for ``page`` at a time (each page checked not to be
    longer)."""
    seen: list[str] = []
    after = ""
    while found := await storage.keys_after(after, page):
        assert len(found) <= page
        seen.extend(found)
        after = found[-1]
    return seen


class RolledBack(Exception):
    pass


async def test_the_sweep_deletes_only_old_bytes_no_row_points_to(
    db: Database, storage: LocalFolderStorage, settings: Settings
) -> None:
    owner = await add_person(db)
    async with db.session_scope() as s:
        kept = await service.store_image(
            s, storage, owner_id=owner, data=encoded(screenshot(), "PNG"), filename="a.png",
            settings=settings,
        )  # fmt: skip
    # An upload whose transaction rolls back: its bytes stay behind, no row.
    lost_keys: list[str] = []

    async def upload_then_fail() -> None:
        async with db.session_scope() as s:
            lost = await service.store_image(
                s, storage, owner_id=owner, data=encoded(screenshot(), "WEBP"),
                filename="b.webp", settings=settings,
            )  # fmt: skip
            lost_keys.append(lost.storage_key)
            raise RolledBack

    with pytest.raises(RolledBack):
        await upload_then_fail()
    foreign = "handwritten-name"
    await storage.put(foreign, b"not ours")
    assert len(stored_files(settings.evidence_dir)) == 3

    async with db.sessionmaker() as s:
        # Within the day, the lost upload might still be on its way: nothing goes.
        assert await service.sweep_unreferenced(s, storage) == 0
        a_day_on = utcnow() + service.UNREFERENCED_AFTER + timedelta(minutes=1)
        assert await service.sweep_unreferenced(s, storage, now=a_day_on, page=1) == 1
        assert await service.sweep_unreferenced(s, storage, now=a_day_on) == 0
    assert sorted(stored_files(settings.evidence_dir)) == sorted(
        [storage.path_for(kept.storage_key), storage.path_for(foreign)]
    )
    assert not storage.path_for(lost_keys[0]).exists()
    assert await storage.get(kept.storage_key)


async def test_the_folder_lists_every_key_in_order_a_page_at_a_time(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path / "store")
    assert await storage.keys_after("", 10) == []
    keys = sorted(service.storage_key_for(new_id(), f"{n:02x}" * 8) for n in range(0, 256, 9))
    for key in keys:
        await storage.put(key, b"x")
    # A write's leftover temporary file is not a key.
    (storage.path_for(keys[0]).parent / ".partial-abc").write_bytes(b"half")
    for page in (1, 2, 7, 100):
        assert await every_key(storage, page) == keys
    assert await storage.keys_after(keys[10], 3) == keys[11:14]


def id_made(ago: timedelta) -> uuid.UUID:
    """An id as a host whose clock runs ``ago`` behind would make it now."""
    made = new_id()
    millis = int((utcnow() - ago).timestamp() * 1000)
    return uuid.UUID(int=(made.int & ((1 << 80) - 1)) | (millis << 80))


async def test_the_store_clock_must_agree_and_interrupted_writes_go(
    db: Database, storage: LocalFolderStorage
) -> None:
    # A host two days behind uploads now: the key says two days old, the file is fresh.
    skewed = service.storage_key_for(id_made(timedelta(days=2)), "ab" * 8)
    await storage.put(skewed, b"an upload whose row is about to commit")
    stale, fresh = storage.root / "ab/cd/.partial-old", storage.root / "ab/cd/.partial-new"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a write from a crash")
    fresh.write_bytes(b"a write under way")
    two_days_ago = (utcnow() - timedelta(days=2)).timestamp()
    os.utime(stale, (two_days_ago, two_days_ago))

    async with db.sessionmaker() as s:
        assert await service.sweep_unreferenced(s, storage) == 1
        assert await storage.get(skewed)
        assert not stale.exists() and fresh.exists()
        a_day_on = utcnow() + service.UNREFERENCED_AFTER + timedelta(minutes=1)
        assert await service.sweep_unreferenced(s, storage, now=a_day_on) == 2
    assert await storage.stored_at(skewed) is None
    assert not fresh.exists()
    assert await every_key(storage, 10) == []
