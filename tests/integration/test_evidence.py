"""Evidence files on the real database and storage: storing, reading back, the lookups
anti-cheat builds on, and who may fetch a file's bytes."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.evidence_samples import encoded, mp4_header, screenshot
from tests.factories import User, next_phone, register
from tests.integration.conftest import make_settings
from tests.integration.test_pages_http import sign_in
from xingdong.core.db import Database
from xingdong.core.errors import XingdongError
from xingdong.core.policy import Actor
from xingdong.core.settings import Settings
from xingdong.evidence import pages as evidence_pages
from xingdong.evidence import service
from xingdong.evidence.errors import EvidenceNotFound
from xingdong.evidence.models import EvidenceFile
from xingdong.evidence.storage import LocalFolderStorage
from xingdong.evidence.validation import hamming_distance
from xingdong.identity.models import Person


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(evidence_dir=tmp_path / "evidence")


@pytest.fixture
def storage(settings: Settings) -> LocalFolderStorage:
    return LocalFolderStorage(settings.evidence_dir)


async def add_person(db: Database, name: str = "做任务的人") -> UUID:
    async with db.session_scope() as s:
        person = Person(phone="+86" + next_phone(), password_hash="-", display_name=name)
        s.add(person)
        await s.flush()
        return person.id


async def count_files(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(EvidenceFile))).scalar_one()


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def test_store_image_keeps_the_original_and_describes_it(
    db: Database, storage: LocalFolderStorage, settings: Settings
) -> None:
    owner = await add_person(db)
    data = encoded(screenshot(), "WEBP")
    async with db.session_scope() as s:
        stored = await service.store_image(
            s, storage, owner_id=owner, data=data, filename="shot.png", settings=settings
        )
    async with db.sessionmaker() as s:
        file = await service.get_file(s, stored.id)
        assert (file.owner_id, file.kind, file.content_type) == (owner, "image", "image/webp")
        assert (file.width, file.height, file.byte_size) == (390, 844, len(data))
        assert file.phash == stored.phash
        assert file.phash is not None
        assert file.dhash is not None
        assert await service.read_bytes(storage, file) == data
    assert stored_files(settings.evidence_dir) == [storage.path_for(stored.storage_key)]


async def test_store_video_has_no_picture_facts(
    db: Database, storage: LocalFolderStorage, settings: Settings
) -> None:
    owner = await add_person(db)
    data = mp4_header(b"qt  ") + b"\x00" * 4096
    async with db.session_scope() as s:
        stored = await service.store_video(
            s, storage, owner_id=owner, data=data, filename=None, settings=settings
        )
    async with db.sessionmaker() as s:
        file = await service.get_file(s, stored.id)
        assert (file.kind, file.content_type, file.byte_size) == (
            "video",
            "video/quicktime",
            len(data),
        )
        assert (file.width, file.height, file.phash, file.dhash) == (None, None, None, None)
        assert await service.read_bytes(storage, file) == data
        assert await service.near_duplicates(s, 0, max_distance=64) == []


@pytest.mark.parametrize(
    ("data", "limit", "error"),
    [
        pytest.param(b"not a picture at all", 1 << 20, "not_an_image", id="text"),
        pytest.param(screenshot()[:5000], 1 << 20, "corrupt_image", id="truncated"),
        pytest.param(screenshot(), 2048, "file_too_large", id="too-large"),
    ],
)
async def test_refused_image_leaves_nothing_behind(
    db: Database, storage: LocalFolderStorage, data: bytes, limit: int, error: str
) -> None:
    owner = await add_person(db)
    settings = make_settings(evidence_max_image_bytes=limit)
    async with db.sessionmaker() as s:
        with pytest.raises(XingdongError) as caught:
            await service.store_image(
                s, storage, owner_id=owner, data=data, filename="x.png", settings=settings
            )
        assert caught.value.code == error
        assert await count_files(s) == 0
    assert stored_files(storage.root) == []


async def test_unknown_file_is_not_found(db: Database) -> None:
    async with db.sessionmaker() as s:
        with pytest.raises(EvidenceNotFound):
            await service.get_file(s, UUID(int=7))


async def test_same_bytes_are_found_across_people(
    db: Database, storage: LocalFolderStorage, settings: Settings
) -> None:
    first_owner, second_owner = await add_person(db), await add_person(db)
    data = screenshot()
    async with db.session_scope() as s:
        first = await service.store_image(
            s, storage, owner_id=first_owner, data=data, filename=None, settings=settings
        )
        second = await service.store_image(
            s, storage, owner_id=second_owner, data=data, filename=None, settings=settings
        )
        other = await service.store_image(
            s,
            storage,
            owner_id=first_owner,
            data=screenshot(seed=9),
            filename=None,
            settings=settings,
        )
    assert first.storage_key != second.storage_key
    async with db.sessionmaker() as s:
        found = await service.find_by_sha256(s, first.sha256)
        assert [f.id for f in found] == [first.id, second.id]
        found = await service.find_by_sha256(s, first.sha256.upper(), exclude_id=second.id)
        assert [f.id for f in found] == [first.id]
        assert [f.id for f in await service.find_by_sha256(s, other.sha256)] == [other.id]
    # Each row has its own bytes: both copies are on disk.
    assert len(stored_files(settings.evidence_dir)) == 3


async def test_near_duplicates_are_found_by_hamming_distance_in_sql(
    db: Database, storage: LocalFolderStorage, settings: Settings
) -> None:
    owner, cheat = await add_person(db), await add_person(db)
    original = screenshot(seed=3)
    async with db.session_scope() as s:
        first = await service.store_image(
            s, storage, owner_id=owner, data=original, filename=None, settings=settings
        )
        reused = await service.store_image(
            s,
            storage,
            owner_id=cheat,
            filename=None,
            settings=settings,
            data=encoded(original, "JPEG", scale=0.85, quality=40),
        )
        others = [
            await service.store_image(
                s,
                storage,
                owner_id=owner,
                filename=None,
                settings=settings,
                data=screenshot(handle=f"target_{n}", seed=100 + n),
            )
            for n in range(4)
        ]
        await service.store_video(
            s, storage, owner_id=owner, data=mp4_header(), filename=None, settings=settings
        )
    assert first.phash is not None
    assert reused.phash is not None
    expected_distance = hamming_distance(first.phash, reused.phash)
    assert expected_distance <= 6
    async with db.sessionmaker() as s:
        near = await service.near_duplicates(s, first.phash, exclude_id=first.id)
        assert [(n.file.id, n.distance) for n in near] == [(reused.id, expected_distance)]
        near = await service.near_duplicates(s, first.phash)
        assert [n.file.id for n in near] == [first.id, reused.id]
        assert near[0].distance == 0
        # Every image, with the distance PostgreSQL computed equal to Python's.
        everything = await service.near_duplicates(s, first.phash, max_distance=64)
        assert len(everything) == 6
        for match in everything:
            assert match.file.phash is not None
            assert match.distance == hamming_distance(first.phash, match.file.phash)
        assert [m.distance for m in everything] == sorted(m.distance for m in everything)
        assert all(m.distance > 6 for m in everything if m.file.id in {o.id for o in others})
        assert len(await service.near_duplicates(s, first.phash, max_distance=64, limit=2)) == 2


async def test_hashes_with_the_top_bit_set_are_compared_as_64_bits(
    db: Database, storage: LocalFolderStorage, settings: Settings
) -> None:
    """Stored hashes are signed; the distance must not depend on the sign."""
    owner = await add_person(db)
    async with db.session_scope() as s:
        file = await service.store_image(
            s, storage, owner_id=owner, data=screenshot(), filename=None, settings=settings
        )
        assert file.phash is not None
        flipped = file.phash ^ -(2**63)  # the same hash with only the top bit changed
        await s.execute(text("UPDATE evidence_files SET phash = :p"), {"p": flipped})
    async with db.sessionmaker() as s:
        near = await service.near_duplicates(s, file.phash, max_distance=1)
        assert [(n.file.id, n.distance) for n in near] == [(file.id, 1)]


# --- who may fetch the bytes -------------------------------------------------------------


async def store_for(client: httpx.AsyncClient, user: User, data: bytes) -> EvidenceFile:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.session_scope() as s:
        file: EvidenceFile = await service.store_image(
            s,
            runtime.evidence,
            owner_id=UUID(user.id),
            data=data,
            filename=None,
            settings=runtime.settings,
        )
    return file


async def grant(db: Database, user: User, role: str) -> None:
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, :role)"),
            {"id": user.id, "role": role},
        )


async def fetch_as(client: httpx.AsyncClient, user: User | None, path: str) -> httpx.Response:
    client.cookies.clear()
    if user is not None:
        assert (await sign_in(client, user.phone)).status_code == 303
    return await client.get(path)


async def test_owner_gets_the_bytes_with_safe_headers(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    owner = await register(client)
    data = encoded(screenshot(), "JPEG")
    file = await store_for(client, owner, data)
    response = await fetch_as(client, owner, f"/evidence/{file.id}")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "private"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert stored_files(settings.evidence_dir) != []


@pytest.mark.parametrize("role", ["reviewer", "operator", "admin"])
async def test_review_and_operations_staff_get_the_bytes(
    client: httpx.AsyncClient, db: Database, role: str
) -> None:
    owner, staff = await register(client), await register(client)
    file = await store_for(client, owner, screenshot())
    assert (await fetch_as(client, staff, f"/evidence/{file.id}")).status_code == 404
    await grant(db, staff, role)
    response = await fetch_as(client, staff, f"/evidence/{file.id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"


async def test_everyone_else_gets_not_found(client: httpx.AsyncClient) -> None:
    owner, stranger = await register(client), await register(client)
    file = await store_for(client, owner, screenshot())
    for user, path in (
        (stranger, f"/evidence/{file.id}"),
        (None, f"/evidence/{file.id}"),
        (owner, f"/evidence/{UUID(int=42)}"),
        (owner, "/evidence/not-a-uuid"),
        (owner, "/evidence/..%2F..%2Fetc%2Fpasswd"),
    ):
        response = await fetch_as(client, user, path)
        assert response.status_code == 404, (user, path)
        assert "text/html" in response.headers["content-type"]
        assert response.content.find(b"\x89PNG") == -1


async def test_other_domains_can_allow_more_viewers(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, brand, stranger = [await register(client) for _ in range(3)]
    file = await store_for(client, owner, screenshot())
    asked: list[tuple[UUID, UUID]] = []

    async def brand_of_the_task(_session: AsyncSession, actor: Actor, seen: EvidenceFile) -> bool:
        asked.append((actor.person_id, seen.id))
        return actor.person_id == UUID(brand.id)

    monkeypatch.setattr(evidence_pages, "EXTRA_VIEWERS", [brand_of_the_task])
    assert (await fetch_as(client, brand, f"/evidence/{file.id}")).status_code == 200
    assert (await fetch_as(client, stranger, f"/evidence/{file.id}")).status_code == 404
    assert (await fetch_as(client, owner, f"/evidence/{file.id}")).status_code == 200
    # The owner needs no extra rule: only the two others were asked about.
    assert asked == [(UUID(brand.id), file.id), (UUID(stranger.id), file.id)]
