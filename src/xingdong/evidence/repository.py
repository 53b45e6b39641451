"""Every query on the evidence tables."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import BigInteger, Integer, cast, delete, func, literal, select
from sqlalchemy.dialects.postgresql import BIT, insert
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.evidence.models import EvidenceFile, EvidenceReading


async def insert_file(session: AsyncSession, file: EvidenceFile) -> None:
    session.add(file)
    await session.flush()


async def file_by_id(session: AsyncSession, file_id: UUID) -> EvidenceFile | None:
    return await session.get(EvidenceFile, file_id)


async def files_of_owner(session: AsyncSession, owner_id: UUID) -> list[EvidenceFile]:
    result = await session.execute(
        select(EvidenceFile)
        .where(EvidenceFile.owner_id == owner_id)
        .order_by(EvidenceFile.created_at, EvidenceFile.id)
    )
    return list(result.scalars())


async def files_with_sha256(
    session: AsyncSession, sha256: str, *, exclude_id: UUID | None
) -> list[EvidenceFile]:
    query = select(EvidenceFile).where(EvidenceFile.sha256 == sha256)
    if exclude_id is not None:
        query = query.where(EvidenceFile.id != exclude_id)
    result = await session.execute(query.order_by(EvidenceFile.created_at, EvidenceFile.id))
    return list(result.scalars())


async def files_near_phash(
    session: AsyncSession,
    phash: int,
    *,
    max_distance: int,
    limit: int,
    exclude_id: UUID | None,
) -> list[tuple[EvidenceFile, int]]:
    """Files whose perceptual hash differs from ``phash`` in at most ``max_distance`` bits,
    nearest first. The Hamming distance is computed by PostgreSQL (14+): XOR the two
    bigints, view the result as 64 bits, count the ones. This reads every image row's hash;
    an index for it (hash chunks, a BK-tree) is for when the table is large."""
    distance = cast(
        func.bit_count(cast(EvidenceFile.phash.op("#")(literal(phash, BigInteger)), BIT(64))),
        Integer,
    ).label("distance")
    query = (
        select(EvidenceFile, distance)
        .where(EvidenceFile.phash.is_not(None), distance <= max_distance)
        .order_by(distance, EvidenceFile.created_at, EvidenceFile.id)
        .limit(limit)
    )
    if exclude_id is not None:
        query = query.where(EvidenceFile.id != exclude_id)
    result = await session.execute(query)
    return [(file, distance) for file, distance in result]


async def reading_of(session: AsyncSession, file_id: UUID) -> EvidenceReading | None:
    return await session.scalar(select(EvidenceReading).where(EvidenceReading.file_id == file_id))


async def insert_reading(session: AsyncSession, reading: EvidenceReading) -> None:
    """Keep a reading unless one is there already (two runs of the job at once)."""
    await session.execute(
        insert(EvidenceReading)
        .values(
            file_id=reading.file_id,
            status=reading.status,
            text=reading.text,
            lines=reading.lines,
            read_at=reading.read_at,
        )
        .on_conflict_do_nothing(index_elements=["file_id"])
    )


async def delete_readings_of_owner(session: AsyncSession, owner_id: UUID) -> int:
    result = await session.execute(
        delete(EvidenceReading).where(
            EvidenceReading.file_id.in_(
                select(EvidenceFile.id).where(EvidenceFile.owner_id == owner_id)
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def existing_storage_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Those of ``keys`` that a file row points to."""
    rows = await session.scalars(
        select(EvidenceFile.storage_key).where(EvidenceFile.storage_key.in_(keys))
    )
    return set(rows)


async def kinds_of(session: AsyncSession, file_ids: list[UUID]) -> dict[UUID, str]:
    if not file_ids:
        return {}
    rows = await session.execute(
        select(EvidenceFile.id, EvidenceFile.kind).where(EvidenceFile.id.in_(file_ids))
    )
    return {row.id: row.kind for row in rows}
