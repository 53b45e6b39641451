"""Copies of evidence pictures made when asked for: a small one for lists that show many
at once, and a clean one for viewers outside the review (a brand), without what the
phone wrote into the file besides the picture (where it was taken, the phone's model).

Neither is kept on the server: a file's bytes are deleted with its uploader's account,
and no copy of them may outlive that. Decoding a large picture takes a good part of a
second and a few hundred megabytes, so only a few are made at once per process, off the
event loop.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool
from PIL import Image, ImageOps

SMALL_EDGE = 320
"""The longest side of a small picture, in pixels (a tall screenshot: 320 high, about
144 wide; enough for a sharp thumbnail on a phone's double-density screen)."""
AT_ONCE = 2
"""Copies made at the same time in one process; more requests wait their turn."""

_turns: asyncio.Semaphore | None = None


class UnreadablePicture(Exception):
    """The stored bytes no longer decode as a picture (damaged in storage)."""


@dataclass(frozen=True)
class Copy:
    data: bytes
    content_type: str


_Maker = Callable[[bytes], Copy]


async def small_copy(data: bytes) -> Copy:
    """A JPEG whose longest side is at most ``SMALL_EDGE``, turned as the phone's
    orientation tag says, with nothing but the picture."""
    return await _in_turn(_small, data)


async def clean_copy(data: bytes) -> Copy:
    """The whole picture, turned upright, with nothing but the picture: a PNG stays a PNG
    (lossless), anything else becomes a JPEG of high quality."""
    return await _in_turn(_clean, data)


async def _in_turn(make: _Maker, data: bytes) -> Copy:
    global _turns  # noqa: PLW0603 - one per process, made on first use inside its event loop
    if _turns is None:
        _turns = asyncio.Semaphore(AT_ONCE)
    async with _turns:
        try:
            return await run_in_threadpool(make, data)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise UnreadablePicture(str(exc)) from exc


def _small(data: bytes) -> Copy:
    with Image.open(io.BytesIO(data)) as opened:
        # JPEGs decode straight at a fraction of their size: far less work than all of it.
        opened.draft("RGB", (SMALL_EDGE, SMALL_EDGE))
        picture = ImageOps.exif_transpose(opened)
        picture.thumbnail((SMALL_EDGE, SMALL_EDGE), Image.Resampling.LANCZOS, reducing_gap=2.0)
        picture.info = {}
        return Copy(_jpeg(picture, quality=80), "image/jpeg")


def _clean(data: bytes) -> Copy:
    with Image.open(io.BytesIO(data)) as opened:
        lossless = opened.format == "PNG"
        picture = ImageOps.exif_transpose(opened)
        # Only the pixels: no EXIF, no text chunks, no colour profile naming the phone.
        picture.info = {}
        if lossless:
            out = io.BytesIO()
            picture.save(out, "PNG")
            return Copy(out.getvalue(), "image/png")
        return Copy(_jpeg(picture, quality=92), "image/jpeg")


def _jpeg(picture: Image.Image, *, quality: int) -> bytes:
    if picture.mode != "RGB":
        # A transparent picture's see-through parts read as white, as the page behind it.
        backed = Image.new("RGB", picture.size, (255, 255, 255))
        rgba = picture.convert("RGBA")
        backed.paste(rgba, mask=rgba.getchannel("A"))
        picture = backed
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality)
    return out.getvalue()
