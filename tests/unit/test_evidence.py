"""Evidence uploads without the database: what is accepted, what is refused and why, the
hashes, the local folder storage and the screenshot renderer."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.evidence_samples import (
    CLOCK,
    animated,
    encoded,
    mp4_header,
    png_declaring,
    screenshot,
    webm_header,
)
from xingdong.core.errors import XingdongError
from xingdong.core.settings import Settings
from xingdong.evidence import screenshots
from xingdong.evidence.errors import (
    CorruptImage,
    FileTooLarge,
    ImageTooLargeInPixels,
    NotAnImage,
    NotAVideo,
    UnsupportedImageType,
)
from xingdong.evidence.storage import PIECE, InvalidStorageKey, LocalFolderStorage
from xingdong.evidence.validation import hamming_distance, inspect_image, inspect_video

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000


# --- images that are accepted ------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
def test_still_pictures_are_accepted_and_described(image_format: str, content_type: str) -> None:
    data = encoded(screenshot(), image_format)
    facts = inspect_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, filename="x.gif")
    assert facts.content_type == content_type
    assert (facts.width, facts.height) == (390, 844)
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert -(2**63) <= facts.phash < 2**63
    assert -(2**63) <= facts.dhash < 2**63


def test_size_is_as_shown_after_the_exif_orientation() -> None:
    picture = Image.new("RGB", (40, 30), "white")
    exif = picture.getexif()
    exif[0x0112] = 6  # rotated 90°: shown 30 wide and 40 high
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", exif=exif)
    facts = inspect_image(buffer.getvalue(), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    assert (facts.width, facts.height) == (30, 40)


# --- images that are refused -------------------------------------------------------------


def _refused(data: bytes, *, max_bytes: int = MAX_BYTES) -> XingdongError:
    with pytest.raises(XingdongError) as caught:
        inspect_image(data, max_bytes=max_bytes, max_pixels=MAX_PIXELS, filename="proof.png")
    return caught.value


def test_text_named_png_is_not_an_image() -> None:
    error = _refused(b"I really did follow them, promise.\n" * 20)
    assert isinstance(error, NotAnImage)
    assert (error.code, error.status) == ("not_an_image", 415)
    assert "JPEG, PNG or WebP" in error.detail
    assert error.extra["filename"] == "proof.png"


def test_empty_file_is_not_an_image() -> None:
    assert isinstance(_refused(b""), NotAnImage)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_truncated_picture_is_corrupt(image_format: str) -> None:
    data = encoded(screenshot(), image_format)
    error = _refused(data[: len(data) // 2])
    assert isinstance(error, CorruptImage)
    assert error.code == "corrupt_image"
    assert "JPEG, PNG or WebP" in error.detail


def test_flipped_bits_in_a_png_are_corrupt() -> None:
    data = bytearray(screenshot())
    data[len(data) // 2] ^= 0xFF
    assert isinstance(_refused(bytes(data)), CorruptImage)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(30000, 30000, id="past-pillow-error-limit"),
        pytest.param(10000, 10000, id="past-pillow-warning-limit"),
        pytest.param(7000, 6000, id="past-our-limit-only"),
    ],
)
def test_pixel_bomb_is_refused_from_its_header(width: int, height: int) -> None:
    data = png_declaring(width, height)
    assert len(data) < 200
    error = _refused(data)
    assert isinstance(error, ImageTooLargeInPixels)
    assert error.code == "image_too_large_in_pixels"
    assert error.extra["limit_megapixels"] == "40"


def test_picture_just_within_the_pixel_limit_is_decoded() -> None:
    """The header check lets a legal size through to the real decoder, which then finds
    that this hand-made file holds far fewer pixels than it declares."""
    error = _refused(png_declaring(4000, 3000))
    assert isinstance(error, CorruptImage)


def test_bytes_over_the_limit_are_refused_before_reading() -> None:
    data = encoded(screenshot(), "PNG")
    error = _refused(data, max_bytes=len(data) - 1)
    assert isinstance(error, FileTooLarge)
    assert (error.code, error.status) == ("file_too_large", 413)
    facts = inspect_image(data, max_bytes=len(data), max_pixels=MAX_PIXELS)
    assert facts.content_type == "image/png"


def test_limit_in_the_message_is_in_mebibytes() -> None:
    error = _refused(b"x" * 2_000_000, max_bytes=3 * 1024 * 1024 // 2)
    assert isinstance(error, FileTooLarge)
    assert error.extra["limit_mib"] == "1.5"


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG"], ids=["gif", "webp", "apng"])
def test_animated_pictures_are_refused(image_format: str) -> None:
    error = _refused(animated(image_format))
    assert isinstance(error, UnsupportedImageType)
    assert error.code == "unsupported_image_type"
    if image_format != "GIF":
        assert "Animated" in error.detail


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_named_and_refused(image_format: str) -> None:
    error = _refused(encoded(screenshot(), image_format))
    assert isinstance(error, UnsupportedImageType)
    assert error.extra["found"] == image_format
    assert "JPEG, PNG or WebP" in error.detail


# --- videos ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param(mp4_header(), "video/mp4", id="mp4"),
        pytest.param(mp4_header(b"qt  "), "video/quicktime", id="mov"),
        pytest.param(mp4_header(b"3gp5"), "video/mp4", id="3gp"),
        pytest.param(webm_header(), "video/webm", id="webm"),
    ],
)
def test_videos_are_recognised_by_magic_bytes(data: bytes, content_type: str) -> None:
    facts = inspect_video(data, max_bytes=1024, filename="whatever.txt")
    assert facts.content_type == content_type
    assert facts.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00\x00\x00\x18ftxp" + b"\x00" * 40, id="almost-ftyp"),
        pytest.param(mp4_header(b"heic"), id="heic-photo"),
        pytest.param(mp4_header(b"avif"), id="avif-photo"),
        pytest.param(webm_header(b"matroska"), id="matroska"),
        pytest.param(b"\x1a\x45\xdf\xa3" + b"\x00" * 40, id="ebml-without-doctype"),
        pytest.param(encoded(screenshot(), "PNG"), id="png"),
        pytest.param(b"GIF89a" + b"\x00" * 40, id="gif"),
    ],
)
def test_anything_else_is_not_a_video(data: bytes) -> None:
    with pytest.raises(NotAVideo) as caught:
        inspect_video(data, max_bytes=10 * 1024 * 1024, filename="clip.mp4")
    assert (caught.value.code, caught.value.status) == ("not_a_video", 415)
    assert "MP4, MOV or WebM" in caught.value.detail
    assert caught.value.extra["limit_mib"] == "10"


def test_video_over_the_limit_is_refused() -> None:
    data = mp4_header() + b"\x00" * 2048
    with pytest.raises(FileTooLarge) as caught:
        inspect_video(data, max_bytes=2048, filename=None)
    assert "MP4, MOV or WebM" in caught.value.detail


# --- hashes ------------------------------------------------------------------------------


def phash_of(data: bytes) -> int:
    return inspect_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS).phash


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_reencoded_and_resized_screenshot_stays_near(seed: int) -> None:
    original = screenshot(seed=seed)
    worse = encoded(original, "JPEG", scale=0.9, quality=45)
    assert worse != original
    assert hamming_distance(phash_of(original), phash_of(worse)) <= 6


def test_screenshots_of_different_targets_are_far_apart() -> None:
    first = phash_of(screenshot(handle="meishi_xiaowang", seed=1))
    second = phash_of(screenshot(handle="lvxing_amy", seed=2))
    assert hamming_distance(first, second) > 6


def test_two_workers_screenshots_of_one_target_differ() -> None:
    first = phash_of(screenshot(seed=11))
    second = phash_of(screenshot(seed=12))
    assert hamming_distance(first, second) > 6


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [(0, 0, 0), (0, 1, 1), (-1, 0, 64), (-1, 2**63 - 1, 1), (-(2**63), 2**63 - 1, 64)],
)
def test_hamming_distance_on_signed_hashes(first: int, second: int, distance: int) -> None:
    assert hamming_distance(first, second) == distance


# --- storage -----------------------------------------------------------------------------


async def test_local_storage_round_trip(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    key = "abcdef0123456789-0190aa"
    await storage.put(key, b"first")
    await storage.put(key, b"second")
    assert await storage.get(key) == b"second"
    assert await storage.get_part(key, 1, 3) == b"eco"
    assert await storage.get_part(key, 4, 99) == b"nd"
    assert [piece async for piece in storage.stream(key)] == [b"second"]
    big = bytes(range(256)) * (PIECE // 256 * 2 + 3)
    await storage.put(key, big)
    pieces = [piece async for piece in storage.stream(key)]
    assert b"".join(pieces) == big and len(pieces) == 3 and len(pieces[0]) == PIECE
    assert (tmp_path / "ab" / "cd" / key).read_bytes() == big
    assert [p.name for p in (tmp_path / "ab" / "cd").iterdir()] == [key]
    await storage.delete(key)
    await storage.delete(key)
    with pytest.raises(FileNotFoundError):
        await storage.get(key)
    with pytest.raises(FileNotFoundError):
        await storage.get_part(key, 0, 1)


@pytest.mark.parametrize(
    "key",
    ["../../../etc/passwd", "ab/cd/efghijkl", "..abcdefgh", ".hidden-file", "short", "ABCDEFGHIJ"],
)
async def test_local_storage_refuses_keys_that_could_leave_its_folder(
    tmp_path: Path, key: str
) -> None:
    storage = LocalFolderStorage(tmp_path / "root")
    with pytest.raises(InvalidStorageKey):
        await storage.put(key, b"x")
    with pytest.raises(InvalidStorageKey):
        await storage.get(key)
    with pytest.raises(InvalidStorageKey):
        await storage.delete(key)
    assert not (tmp_path / "root").exists()


def test_evidence_folder_defaults_to_the_data_folder(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).evidence_dir == tmp_path / "evidence"
    assert Settings(data_dir=tmp_path, evidence_dir=tmp_path / "x").evidence_dir == tmp_path / "x"


# --- the screenshot renderer -------------------------------------------------------------


def _pixels(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.convert("RGB")


def test_screenshot_is_a_phone_sized_png_and_repeatable() -> None:
    data = screenshot()
    assert _pixels(data).size == (390, 844)
    assert screenshot() == data
    assert screenshot(seed=2) != data
    wide = screenshots.render_action_screenshot(
        handle="h_12345",
        target_title="标题",
        done_word="已点赞",
        clock=CLOCK,
        seed=1,
        width=1170,
        height=2532,
    )
    assert _pixels(wide).size == (1170, 2532)


def test_clock_and_done_word_change_only_their_own_places() -> None:
    base = _pixels(screenshot())
    later = _pixels(
        screenshots.render_action_screenshot(
            handle="meishi_xiaowang",
            target_title="小王美食日记",
            done_word="已关注",
            clock=CLOCK.replace(hour=23, minute=58),
            seed=1,
        )
    )
    changed = ImageChops.difference(base, later).getbbox()
    assert changed is not None
    assert changed[3] <= 44  # within the status bar
    # Latin words, so that the test means the same where no Chinese font is installed.
    base = _pixels(screenshot(done_word="Followed"))
    liked = _pixels(screenshot(done_word="Liked"))
    changed = ImageChops.difference(base, liked).getbbox()
    assert changed is not None
    assert changed[1] > 300  # on the button, not in the bars


@pytest.fixture
def no_fontconfig(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    screenshots.cjk_font_file.cache_clear()
    screenshots._font.cache_clear()
    yield
    screenshots.cjk_font_file.cache_clear()
    screenshots._font.cache_clear()


@pytest.mark.usefixtures("no_fontconfig")
def test_screenshot_renders_without_fontconfig() -> None:
    assert screenshots.cjk_font_file() is None
    assert _pixels(screenshot()).size == (390, 844)
