"""Small versions of evidence pictures, for lists that show many at once (a brand's
work handed in): a phone screenshot of a few megabytes becomes a JPEG of a few kilobytes.

They are made when asked for and kept nowhere on the server: a file's bytes are deleted
with its uploader's account, and no copy of them may outlive that. The browser keeps them
for a while (the answer says it may).
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

SMALL_EDGE = 320
"""The longest side of a small picture, in pixels (a tall screenshot: 320 high, about
144 wide; enough for a sharp thumbnail on a phone's double-density screen)."""


def small_picture(data: bytes, edge: int = SMALL_EDGE) -> bytes:
    """A JPEG of the picture in ``data`` whose longest side is at most ``edge``, turned
    as the phone's orientation tag says (the bytes were checked as an image on upload)."""
    with Image.open(io.BytesIO(data)) as opened:
        # JPEGs decode straight at a fraction of their size: far less work than all of it.
        opened.draft("RGB", (edge, edge))
        picture = ImageOps.exif_transpose(opened)
        picture.thumbnail((edge, edge), Image.Resampling.LANCZOS, reducing_gap=2.0)
        if picture.mode != "RGB":
            # A transparent PNG's see-through parts read as white, as the page behind it.
            backed = Image.new("RGB", picture.size, (255, 255, 255))
            rgba = picture.convert("RGBA")
            backed.paste(rgba, mask=rgba.getchannel("A"))
            picture = backed
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()
