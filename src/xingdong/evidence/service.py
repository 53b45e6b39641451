"""The rules of the evidence domain: accept an upload only after its bytes are checked,
keep the original bytes, and find earlier files like it. Functions take the session first
and flush but never commit (the caller owns the transaction)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.i18n import N_
from xingdong.core.ids import id_time, new_id
from xingdong.core.jobs import defer_in_transaction
from xingdong.core.logging import get_logger
from xingdong.core.settings import Settings, get_settings
from xingdong.evidence import repository as repo
from xingdong.evidence.byte_ranges import ByteRange
from xingdong.evidence.errors import EvidenceNotFound
from xingdong.evidence.models import EvidenceFile, EvidenceReading
from xingdong.evidence.ocr import read_screenshot
from xingdong.evidence.storage import EvidenceStorage
from xingdong.evidence.validation import inspect_image, inspect_video

log = get_logger(__name__)


@dataclass(frozen=True)
class NearDuplicate:
    file: EvidenceFile
    distance: int
    """Bits in which the two perceptual hashes differ (0 to 64)."""


def storage_key_for(file_id: UUID, sha256: str) -> str:
    """Keys start with content hash characters, so the storage's folders fill evenly
    (a UUIDv7 starts with the time), and end with the id, so each row has its own bytes
    even when two people upload the same file."""
    return f"{sha256[:16]}-{file_id.hex}"


async def _keep(
    session: AsyncSession, storage: EvidenceStorage, file: EvidenceFile, data: bytes
) -> EvidenceFile:
    # Bytes first, row second: a failed write leaves no row pointing at nothing. Bytes
    # whose transaction later rolls back stay behind unreferenced, which is harmless.
    await storage.put(file.storage_key, data)
    await repo.insert_file(session, file)
    log.info(
        "evidence_stored",
        file_id=str(file.id),
        kind=file.kind,
        content_type=file.content_type,
        byte_size=file.byte_size,
    )
    return file


async def store_image(
    session: AsyncSession,
    storage: EvidenceStorage,
    *,
    owner_id: UUID,
    data: bytes,
    filename: str | None,
    settings: Settings | None = None,
) -> EvidenceFile:
    """Check and keep a screenshot or photo: a still JPEG, PNG or WebP picture within the
    limits of ``settings`` (the process's settings when not given). Raises the evidence
    errors (``not_an_image``, ``unsupported_image_type``, ``file_too_large``,
    ``image_too_large_in_pixels``, ``corrupt_image``); nothing is stored then."""
    settings = settings or get_settings()
    facts = await asyncio.to_thread(
        inspect_image,
        data,
        max_bytes=settings.evidence_max_image_bytes,
        max_pixels=settings.evidence_max_image_pixels,
        filename=filename,
    )
    file_id = new_id()
    file = EvidenceFile(
        id=file_id,
        owner_id=owner_id,
        kind="image",
        content_type=facts.content_type,
        byte_size=len(data),
        width=facts.width,
        height=facts.height,
        sha256=facts.sha256,
        phash=facts.phash,
        dhash=facts.dhash,
        storage_key=storage_key_for(file_id, facts.sha256),
    )
    kept = await _keep(session, storage, file, data)
    if settings.evidence_ocr:
        await defer_in_transaction(
            session, READ_JOB, args={"file_id": str(file_id)}, queueing_lock=f"ocr:{file_id}"
        )
    return kept


async def store_video(
    session: AsyncSession,
    storage: EvidenceStorage,
    *,
    owner_id: UUID,
    data: bytes,
    filename: str | None,
    settings: Settings | None = None,
) -> EvidenceFile:
    """Check and keep a video (MP4, QuickTime or WebM, judged by its magic bytes) within
    the size limit. Raises ``file_too_large`` or ``not_a_video``; nothing is stored then."""
    settings = settings or get_settings()
    facts = await asyncio.to_thread(
        inspect_video, data, max_bytes=settings.evidence_max_video_bytes, filename=filename
    )
    file_id = new_id()
    file = EvidenceFile(
        id=file_id,
        owner_id=owner_id,
        kind="video",
        content_type=facts.content_type,
        byte_size=len(data),
        sha256=facts.sha256,
        storage_key=storage_key_for(file_id, facts.sha256),
    )
    return await _keep(session, storage, file, data)


async def get_file(session: AsyncSession, file_id: UUID) -> EvidenceFile:
    file = await repo.file_by_id(session, file_id)
    if file is None:
        raise EvidenceNotFound(detail=N_("No such evidence file."))
    return file


async def kinds_of(session: AsyncSession, file_ids: Iterable[UUID]) -> dict[UUID, str]:
    """What each of these files is, ``image`` or ``video``, by id (unknown ids left out)."""
    return await repo.kinds_of(session, list(file_ids))


async def files_of(session: AsyncSession, *, owner_id: UUID) -> list[EvidenceFile]:
    """Every file the person uploaded, oldest first (their descriptions, not the bytes)."""
    return await repo.files_of_owner(session, owner_id)


def _deleted() -> EvidenceNotFound:
    return EvidenceNotFound(
        detail=N_("This file was deleted with the account of the person who uploaded it.")
    )


async def read_bytes(
    storage: EvidenceStorage, file: EvidenceFile, part: ByteRange | None = None
) -> bytes:
    """The original bytes, exactly as uploaded (only ``part`` of them, when given); "not
    found" once they were deleted with their uploader's account."""
    try:
        if part is not None:
            return await storage.get_part(file.storage_key, part.first, part.last)
        return await storage.get(file.storage_key)
    except FileNotFoundError:
        raise _deleted() from None


async def stream_bytes(storage: EvidenceStorage, file: EvidenceFile) -> AsyncIterator[bytes]:
    """The original bytes a piece at a time, after making sure they are there (so that
    "not found" is said before an answer starts); as :func:`read_bytes` otherwise."""
    if await storage.stored_at(file.storage_key) is None:
        raise _deleted()
    return storage.stream(file.storage_key)


DELETE_JOB = "evidence:delete_stored_files"


async def forget_owner(session: AsyncSession, *, owner_id: UUID) -> int:
    """Erase what the person's proof shows (an erased account's): the text read from their
    screenshots now, and the files' bytes by a job once this transaction commits (storage
    is outside the database: deleting before the commit would lose files of an erasure
    that rolled back). The files' descriptions and fingerprints stay, to find the same
    proof used again. The number of files whose bytes go."""
    await forget_readings(session, owner_id=owner_id)
    files = await repo.files_of_owner(session, owner_id)
    if files:
        await defer_in_transaction(
            session, DELETE_JOB, args={"file_ids": [str(f.id) for f in files]}
        )
    return len(files)


async def forget_readings(session: AsyncSession, *, owner_id: UUID) -> int:
    """Delete the text read from the person's screenshots (again: an OCR job that was
    queued before their account was erased may have read one since)."""
    return await repo.delete_readings_of_owner(session, owner_id)


async def delete_stored_files(
    session: AsyncSession, storage: EvidenceStorage, *, file_ids: list[UUID]
) -> int:
    """Delete the bytes of these files from storage (the job's work); files already gone
    count as deleted. How many files were looked at."""
    for file_id in file_ids:
        file = await repo.file_by_id(session, file_id)
        if file is not None:
            await storage.delete(file.storage_key)
    return len(file_ids)


UNREFERENCED_AFTER = timedelta(days=1)
"""How old stored bytes with no row must be before the sweep deletes them: an upload
writes its bytes a moment before its row commits, never a day."""


def uploaded_at(key: str) -> datetime | None:
    """When the bytes under ``key`` were uploaded, read from the row id the key ends with
    (:func:`storage_key_for`); None for a key this code did not make."""
    _, _, tail = key.rpartition("-")
    try:
        return id_time(UUID(hex=tail))
    except ValueError:
        return None


async def sweep_unreferenced(
    session: AsyncSession,
    storage: EvidenceStorage,
    *,
    now: datetime | None = None,
    page: int = 1_000,
) -> int:
    """Delete stored bytes that no file row points to and that were uploaded more than
    :data:`UNREFERENCED_AFTER` ago: an upload whose transaction rolled back after its
    bytes were written (a refused hand-in, a crash). They may be a person's screenshot,
    which an erasure, going by the rows, would never find. Keys this code did not make
    are left alone. Then what interrupted writes left in the storage before the same
    moment. How many were deleted in all."""
    before = (now or utcnow()) - UNREFERENCED_AFTER
    deleted = 0
    after = ""
    while keys := await storage.keys_after(after, page):
        if keys[-1] <= after:
            # A store that ignored where to start would hand the same page back forever.
            raise RuntimeError(f"the evidence storage listed keys out of order after {after!r}")
        after = keys[-1]
        old = [k for k in keys if (at := uploaded_at(k)) is not None and at < before]
        if not old:
            continue
        kept = await repo.existing_storage_keys(session, old)
        for key in old:
            if key in kept:
                continue
            # The key's time is the uploading host's clock; the store's own must agree,
            # so that a host running a day behind cannot have a fresh upload swept
            # before its row commits.
            stored = await storage.stored_at(key)
            if stored is not None and stored < before:
                await storage.delete(key)
                deleted += 1
    return deleted + await storage.remove_leftovers(before)


async def find_by_sha256(
    session: AsyncSession, sha256: str, *, exclude_id: UUID | None = None
) -> list[EvidenceFile]:
    """Files with exactly these bytes, oldest first (evidence reuse: the same file
    submitted again, by the same person or another)."""
    return await repo.files_with_sha256(session, sha256.lower(), exclude_id=exclude_id)


async def near_duplicates(
    session: AsyncSession,
    phash: int,
    *,
    max_distance: int = 6,
    limit: int = 20,
    exclude_id: UUID | None = None,
) -> list[NearDuplicate]:
    """Images whose perceptual hash is within ``max_distance`` bits of ``phash``, nearest
    first: the same picture re-encoded, resized or lightly retouched."""
    rows = await repo.files_near_phash(
        session, phash, max_distance=max_distance, limit=limit, exclude_id=exclude_id
    )
    return [NearDuplicate(file=file, distance=distance) for file, distance in rows]


READ_JOB = "evidence:read_screenshot"


async def read_and_keep_text(
    session: AsyncSession, storage: EvidenceStorage, *, file_id: UUID
) -> EvidenceReading | None:
    """OCR a stored screenshot and keep what was read (the job's work; done once per
    file, a second run keeps the first reading). None for a missing file or a video."""
    existing = await repo.reading_of(session, file_id)
    if existing is not None:
        return existing
    file = await repo.file_by_id(session, file_id)
    if file is None or file.kind != "image":
        return None
    try:
        data = await storage.get(file.storage_key)
    except FileNotFoundError:
        # The bytes are gone (erased with the account, or a storage mishap): nothing to
        # read, and retrying will not bring them back.
        log.warning("evidence_bytes_missing", file_id=str(file_id))
        return None
    reading = await asyncio.to_thread(read_screenshot, data)
    row = EvidenceReading(
        file_id=file_id,
        status="read" if reading.readable else "unreadable",
        text=reading.text,
        lines=[
            {"text": line.text, "confidence": round(line.confidence, 3), "box": list(line.box)}
            for line in reading.lines
        ],
        read_at=utcnow(),
    )
    await repo.insert_reading(session, row)
    log.info("evidence_read", file_id=str(file_id), status=row.status, lines=len(reading.lines))
    return await repo.reading_of(session, file_id)


async def reading_of(session: AsyncSession, file_id: UUID) -> EvidenceReading | None:
    """What OCR read on this file, once the job has run."""
    return await repo.reading_of(session, file_id)
