"""Checking uploaded bytes before anything is stored: what they are (from the bytes, never
the name), whether they are safe to decode, and their hashes.

Pure functions, without the database; the service runs them in a worker thread because
decoding and hashing an image takes a noticeable slice of CPU.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

from xingdong.core.i18n import N_
from xingdong.evidence.errors import (
    CorruptImage,
    FileTooLarge,
    ImageTooLargeInPixels,
    NotAnImage,
    NotAVideo,
    UnsupportedImageType,
)

IMAGE_CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
"""Accepted image formats (Pillow's names) and the media type each is served as. MPO is
how Pillow names a JPEG that carries extra pictures (depth maps from some phone cameras);
only its first picture is used."""

RECOGNISED_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
"""The only header parsers Pillow may try. The formats beyond the accepted ones are here
so a refusal can name what was sent; no other parser ever sees uploaded bytes."""

_INT64_BIAS = 1 << 64
_INT64_MAX = (1 << 63) - 1
_UINT64_MASK = _INT64_BIAS - 1

# Errors Pillow raises for broken data while reading or decoding a file.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


@dataclass(frozen=True)
class ImageFacts:
    content_type: str
    width: int
    height: int
    sha256: str
    phash: int
    """Signed 64-bit perceptual hash, as stored."""
    dhash: int
    """Signed 64-bit difference hash, as stored."""


@dataclass(frozen=True)
class VideoFacts:
    content_type: str
    sha256: str


def _mib(limit_bytes: int) -> str:
    return f"{limit_bytes / (1024 * 1024):g}"


def _filename_extra(filename: str | None) -> dict[str, object]:
    return {"filename": filename} if filename else {}


def hash_as_int64(value: imagehash.ImageHash) -> int:
    """A 64-bit image hash as the signed integer PostgreSQL's ``bigint`` can hold."""
    unsigned = int(str(value), 16)
    return unsigned - _INT64_BIAS if unsigned > _INT64_MAX else unsigned


def hamming_distance(first: int, second: int) -> int:
    """How many of the 64 bits differ between two stored hashes."""
    return ((first ^ second) & _UINT64_MASK).bit_count()


def image_hashes(image: Image.Image) -> tuple[int, int]:
    """(phash, dhash) of a decoded picture, as stored."""
    return hash_as_int64(imagehash.phash(image)), hash_as_int64(imagehash.dhash(image))


def _too_many_pixels(max_pixels: int, filename: str | None) -> ImageTooLargeInPixels:
    return ImageTooLargeInPixels(
        detail=N_(
            "The image has more than {limit_megapixels} million pixels, which is more than "
            "any screenshot or photo needs. Upload a JPEG, PNG or WebP picture of normal size."
        ),
        extra={"limit_megapixels": f"{max_pixels / 1_000_000:g}", **_filename_extra(filename)},
    )


def _corrupt(filename: str | None) -> CorruptImage:
    return CorruptImage(
        detail=N_(
            "The image is damaged or incomplete. Take the screenshot again and upload it as "
            "a JPEG, PNG or WebP picture."
        ),
        extra=_filename_extra(filename),
    )


def _open_header(data: bytes, *, max_pixels: int, filename: str | None) -> Image.Image:
    """Read only the header: the format and the declared size, nothing decoded yet."""
    try:
        return Image.open(io.BytesIO(data), formats=RECOGNISED_IMAGE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (a warning, or an error at twice its limit) fires inside open()
        # for sizes far past ours; either way the answer is the same refusal.
        raise _too_many_pixels(max_pixels, filename) from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage(
            detail=N_(
                "This file is not a picture we can read. Upload a screenshot or photo as "
                "a JPEG, PNG or WebP picture."
            ),
            extra=_filename_extra(filename),
        ) from exc
    except _DECODE_ERRORS as exc:
        raise _corrupt(filename) from exc


def inspect_image(
    data: bytes, *, max_bytes: int, max_pixels: int, filename: str | None = None
) -> ImageFacts:
    """Accept a still JPEG, PNG or WebP picture within the limits, or raise the error that
    says why not. The declared size is checked before any pixel is decoded."""
    if not data:
        raise NotAnImage(
            detail=N_("The file is empty. Upload a screenshot or photo as JPEG, PNG or WebP."),
            extra=_filename_extra(filename),
        )
    if len(data) > max_bytes:
        raise FileTooLarge(
            detail=N_(
                "The image is larger than {limit_mib} MB. Upload a JPEG, PNG or WebP "
                "picture of at most {limit_mib} MB."
            ),
            extra={"limit_mib": _mib(max_bytes), **_filename_extra(filename)},
        )
    with _open_header(data, max_pixels=max_pixels, filename=filename) as header:
        found = header.format or "?"
        content_type = IMAGE_CONTENT_TYPES.get(found)
        if content_type is None:
            raise UnsupportedImageType(
                detail=N_("{found} pictures are not accepted. Upload a JPEG, PNG or WebP picture."),
                extra={"found": found, **_filename_extra(filename)},
            )
        if found != "MPO" and getattr(header, "n_frames", 1) > 1:
            raise UnsupportedImageType(
                detail=N_(
                    "Animated pictures are not accepted. Upload a still JPEG, PNG or WebP picture."
                ),
                extra={"found": found, **_filename_extra(filename)},
            )
        width, height = header.size
        if width <= 0 or height <= 0:
            raise _corrupt(filename)
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels, filename)
        try:
            header.verify()
        except _DECODE_ERRORS as exc:
            raise _corrupt(filename) from exc

    # verify() leaves the image unusable, so decoding starts from a fresh parse.
    with _open_header(data, max_pixels=max_pixels, filename=filename) as image:
        try:
            image.load()
            shown = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, *_DECODE_ERRORS) as exc:
            raise _corrupt(filename) from exc
        phash, dhash = image_hashes(shown)
        return ImageFacts(
            content_type=content_type,
            width=shown.width,
            height=shown.height,
            sha256=hashlib.sha256(data).hexdigest(),
            phash=phash,
            dhash=dhash,
        )


_FTYP_IMAGE_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
)
"""ISO base media brands of still pictures (HEIF/HEIC from phone cameras, AVIF), which
share the ``ftyp`` box with MP4 but are not videos."""

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = b"\x42\x82"


def _ebml_doctype(data: bytes) -> bytes | None:
    """The DocType (``webm``, ``matroska``) from an EBML header, if it can be read."""
    head = data[:64]
    at = head.find(_EBML_DOCTYPE_ID, len(_EBML_MAGIC))
    if at < 0 or at + 3 > len(head):
        return None
    first = head[at + 2]
    width = 8 - first.bit_length() + 1  # an EBML size's leading zero bits say its width
    if first == 0 or width > 8:
        return None
    size = first & ((1 << (8 - width)) - 1)
    for byte in head[at + 3 : at + 2 + width]:
        size = (size << 8) | byte
    start = at + 2 + width
    return head[start : start + size] if start + size <= len(head) else None


def video_content_type(data: bytes) -> str | None:
    """The media type of an MP4, QuickTime or WebM video from its first bytes, else None."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        box_size = int.from_bytes(data[:4], "big")
        brand = data[8:12]
        if box_size < 12 or brand in _FTYP_IMAGE_BRANDS:
            return None
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if data.startswith(_EBML_MAGIC) and _ebml_doctype(data) == b"webm":
        return "video/webm"
    return None


def inspect_video(data: bytes, *, max_bytes: int, filename: str | None = None) -> VideoFacts:
    """Accept an MP4, QuickTime (MOV) or WebM video within the size limit, judged by its
    magic bytes (the video itself is not decoded), or raise the error that says why not."""
    if len(data) > max_bytes:
        raise FileTooLarge(
            detail=N_(
                "The video is larger than {limit_mib} MB. Upload an MP4, MOV or WebM video "
                "of at most {limit_mib} MB."
            ),
            extra={"limit_mib": _mib(max_bytes), **_filename_extra(filename)},
        )
    content_type = video_content_type(data)
    if content_type is None:
        raise NotAVideo(
            detail=N_(
                "This file is not a video we accept. Upload an MP4, MOV or WebM video of at "
                "most {limit_mib} MB."
            ),
            extra={"limit_mib": _mib(max_bytes), **_filename_extra(filename)},
        )
    return VideoFacts(content_type=content_type, sha256=hashlib.sha256(data).hexdigest())
