"""Tables of the evidence domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin, IdMixin

KINDS = ("image", "video")


class EvidenceFile(IdMixin, CreatedAtMixin, Base):
    """One uploaded file of proof: its description here, its bytes in the evidence
    storage under ``storage_key``. Rows are never changed once written."""

    __tablename__ = "evidence_files"

    owner_id: Mapped[UUID] = mapped_column(ForeignKey("people.id"), index=True)
    """The person who uploaded it."""
    kind: Mapped[str] = mapped_column(String(5))
    """``image`` (a screenshot or photo) or ``video``."""
    content_type: Mapped[str] = mapped_column(String(40))
    """The media type found from the bytes themselves (``image/png``, ``video/mp4`` …),
    never the one the uploader claimed."""
    byte_size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    """Pixels, as shown (after the EXIF orientation); empty for videos."""
    height: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    """Hex SHA-256 of the original bytes: the same file uploaded twice."""
    phash: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """64-bit perceptual hash (DCT) as a signed integer: the same picture re-encoded,
    resized or lightly edited stays within a few bits. Empty for videos."""
    dhash: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """64-bit difference hash (brightness gradients) as a signed integer; empty for videos."""
    storage_key: Mapped[str] = mapped_column(String(120), unique=True)

    __table_args__ = (
        CheckConstraint("kind IN ('image', 'video')", "kind"),
        CheckConstraint("byte_size > 0", "byte_size_positive"),
        CheckConstraint(
            "kind <> 'image' OR (width IS NOT NULL AND height IS NOT NULL "
            "AND phash IS NOT NULL AND dhash IS NOT NULL)",
            "image_described",
        ),
    )


READING_STATUSES = ("read", "unreadable")


class EvidenceReading(Base):
    """The text read from a screenshot by OCR (a job, after the upload). One row per
    file; the file row itself never changes."""

    __tablename__ = "evidence_readings"

    file_id: Mapped[UUID] = mapped_column(ForeignKey("evidence_files.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    """``read``, or ``unreadable`` (not decodable, or no text found)."""
    text: Mapped[str] = mapped_column(Text, server_default="")
    """The lines read, top to bottom, one a line."""
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=sql_text("'[]'"))
    """Each line with its ``confidence`` and ``box`` (left, top, right, bottom)."""
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("status IN ('read', 'unreadable')", "status"),)
