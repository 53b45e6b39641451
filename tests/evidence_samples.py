"""Bytes of sample uploads for the evidence tests: real pictures made with Pillow or the
screenshot renderer, and hand-made headers of files that lie about themselves."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime

from PIL import Image

from xingdong.evidence.screenshots import render_action_screenshot

CLOCK = datetime(2026, 12, 1, 9, 41, tzinfo=UTC)


def screenshot(handle: str = "meishi_xiaowang", seed: int = 1, done_word: str = "已关注") -> bytes:
    return render_action_screenshot(
        handle=handle, target_title="小王美食日记", done_word=done_word, clock=CLOCK, seed=seed
    )


def encoded(data: bytes, image_format: str, *, scale: float = 1.0, quality: int = 90) -> bytes:
    """``data`` decoded and saved again as ``image_format``, optionally resized."""
    with Image.open(io.BytesIO(data)) as image:
        picture = image.convert("RGB")
    if scale != 1.0:
        picture = picture.resize((round(picture.width * scale), round(picture.height * scale)))
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, quality=quality)
    return buffer.getvalue()


def animated(image_format: str) -> bytes:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, format=image_format, save_all=True, append_images=frames[1:], duration=100, loop=0
    )
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares ``width`` by ``height`` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def mp4_header(brand: bytes = b"isom") -> bytes:
    ftyp = brand + b"\x00\x00\x02\x00" + brand + b"mp41"
    return struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp + b"\x00\x00\x00\x08free" * 4


def webm_header(doctype: bytes = b"webm") -> bytes:
    body = b"\x42\x86\x81\x01" + b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return (
        b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67" + b"\x00" * 32
    )
