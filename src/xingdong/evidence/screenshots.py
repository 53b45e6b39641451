"""Realistic fake phone screenshots, for the demo's simulated crowd and for tests.

A screenshot shows what a worker's phone would show after the action: the status bar
with the time, the short-video app's profile page of the target, and the button in its
done state (已关注, 已点赞, 已评论 …). What belongs to the target (its cover colours,
avatar, counts) follows from the handle, so every screenshot of one target agrees; what
belongs to the phone (light or dark mode, battery, how far the page is scrolled) follows
from the seed, and the recommended videos under the profile from both, so two workers'
screenshots differ the way two real phones' do.
"""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

PHONE_TIME = ZoneInfo("Asia/Shanghai")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Colour = tuple[int, int, int]

_LIGHT = {"page": (255, 255, 255), "text": (22, 24, 35), "muted": (138, 139, 145)}
_DARK = {"page": (22, 24, 35), "text": (240, 240, 242), "muted": (150, 151, 158)}
_ACCENT = (254, 44, 85)


@cache
def cjk_font_file() -> str | None:
    """A font file with Chinese glyphs, as fontconfig finds it; None when there is none.

    fontconfig always answers with *some* font, so the answer's languages are checked. It
    is asked for ``zh-cn`` first: its language tags are regional, and a bare ``zh`` can
    rank a Latin font above an installed Chinese one.
    """
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    for pattern in (":lang=zh-cn", ":lang=zh"):
        try:
            found = subprocess.run(  # noqa: S603 - a fixed program and arguments, no input
                [fc_match, "-f", "%{file}\n%{lang}", pattern],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        path, _, languages = found.stdout.partition("\n")
        if found.returncode == 0 and path and "zh-cn" in languages.split("|"):
            return path
    return None


@cache
def _font(size: int) -> Font:
    path = cjk_font_file()
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def _stable_random(text: str) -> random.Random:
    """A generator that depends on ``text`` only (``hash()`` changes between runs)."""
    digest = hashlib.sha256(text.encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - pictures, not secrets


def _count(value: int) -> str:
    """Counts as the app shows them: 1234 → 1234, 12345 → 1.2万."""
    if value >= 10_000:
        return f"{value / 10_000:.1f}万"
    return str(value)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, max_width: float) -> str:
    """``text`` cut with an ellipsis to fit ``max_width`` pixels."""
    if draw.textlength(text, font=font) <= max_width:
        return text
    while text and draw.textlength(text + "…", font=font) > max_width:
        text = text[:-1]
    return text + "…"


def _mix(first: Colour, second: Colour, share: float) -> Colour:
    r1, g1, b1 = first
    r2, g2, b2 = second
    return (
        round(r1 + (r2 - r1) * share),
        round(g1 + (g2 - g1) * share),
        round(b1 + (b2 - b1) * share),
    )


def _vivid(rng: random.Random) -> Colour:
    hues: list[Colour] = [
        (255, 80, 80),
        (255, 160, 60),
        (250, 210, 70),
        (80, 200, 120),
        (60, 170, 240),
        (120, 110, 240),
        (230, 90, 200),
        (40, 40, 60),
    ]
    return _mix(rng.choice(hues), (rng.randrange(256), rng.randrange(256), 128), 0.3)


@dataclass(frozen=True)
class _Screen:
    image: Image.Image
    draw: ImageDraw.ImageDraw
    unit: float
    """Pixels per point: the layout is drawn for a 390-point-wide phone and scaled."""
    palette: dict[str, Colour]

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def px(self, points: float) -> int:
        return round(points * self.unit)

    def font(self, points: float) -> Font:
        return _font(self.px(points))

    def text(self, xy: tuple[float, float], text: str, *, points: float, **options: Any) -> None:
        options.setdefault("fill", self.palette["text"])
        self.draw.text(xy, text, font=self.font(points), **options)


def _status_bar(screen: _Screen, *, clock: datetime, phone: random.Random) -> None:
    px, draw, colour = screen.px, screen.draw, screen.palette["text"]
    draw.rectangle((0, 0, screen.width, px(44)), fill=screen.palette["page"])
    # A phone in China shows China time, whatever zone the caller's moment is in.
    shown = clock.astimezone(PHONE_TIME) if clock.tzinfo is not None else clock
    screen.text((px(28), px(14)), shown.strftime("%H:%M"), points=16)
    right = screen.width - px(24)
    left, top, bottom = right - px(25), px(17), px(29)
    draw.rounded_rectangle((left, top, right, bottom), radius=px(3), outline=colour, width=1)
    draw.rectangle((right + 1, top + px(4), right + px(3), bottom - px(4)), fill=colour)
    level = phone.uniform(0.15, 1.0)
    charge = (52, 199, 89) if level > 0.2 else (255, 59, 48)
    draw.rectangle(
        (left + 2, top + 2, left + 2 + (right - left - 4) * level, bottom - 2), fill=charge
    )
    lit = phone.randint(2, 4)
    x = left - px(52)
    for bar in range(4):
        bar_colour = colour if bar < lit else screen.palette["muted"]
        draw.rectangle((x, bottom - px(4 + bar * 3), x + px(3), bottom), fill=bar_colour)
        x += px(5)
    screen.text((x + px(3), px(15)), phone.choice(["5G", "4G", "WiFi"]), points=12)


def _app_header(screen: _Screen, *, title: str) -> None:
    px, draw, colour = screen.px, screen.draw, screen.palette["text"]
    draw.rectangle((0, px(44), screen.width, px(92)), fill=screen.palette["page"])
    chevron = [(px(30), px(58)), (px(20), px(68)), (px(30), px(78))]
    draw.line(chevron, fill=colour, width=max(2, px(3)), joint="curve")
    fitted = _fit(draw, title, screen.font(17), screen.width - px(140))
    screen.text((screen.width / 2, px(68)), fitted, points=17, anchor="mm")
    for dot in range(3):
        cx = screen.width - px(40) + dot * px(8)
        draw.ellipse((cx - px(2), px(66), cx + px(2), px(70)), fill=colour)


def _profile(
    screen: _Screen, *, handle: str, title: str, done_word: str, top: int, target: random.Random
) -> int:
    """The target's profile from ``top`` down; returns where the feed of videos starts."""
    px, draw, palette = screen.px, screen.draw, screen.palette
    cover_bottom = top + px(140)
    first, second = _vivid(target), _vivid(target)
    for y in range(max(top, 0), max(cover_bottom, 0)):
        draw.line((0, y, screen.width, y), fill=_mix(first, second, (y - top) / px(140)))
    avatar = (px(24), cover_bottom - px(40), px(108), cover_bottom + px(44))
    draw.ellipse(avatar, fill=_vivid(target), outline=palette["page"], width=px(4))
    centre = ((avatar[0] + avatar[2]) / 2, (avatar[1] + avatar[3]) / 2)
    screen.text(centre, title[:1] or handle[:1], points=34, fill=(255, 255, 255), anchor="mm")

    y = cover_bottom + px(54)
    screen.text((px(24), y), _fit(draw, title, screen.font(22), screen.width - px(48)), points=22)
    y += px(32)
    at_handle = _fit(draw, "@" + handle, screen.font(14), screen.width - px(48))
    screen.text((px(24), y), at_handle, points=14, fill=palette["muted"])
    y += px(28)
    x: float = px(24)
    for label, value in (
        ("获赞", target.randrange(1_000, 9_000_000)),
        ("关注", target.randrange(10, 900)),
        ("粉丝", target.randrange(500, 3_000_000)),
    ):
        number = _count(value)
        screen.text((x, y), number, points=15)
        x += draw.textlength(number, font=screen.font(15)) + px(4)
        screen.text((x, y), label, points=15, fill=palette["muted"])
        x += draw.textlength(label, font=screen.font(15)) + px(18)

    # The button in its done state, and the message button beside it.
    y += px(36)
    button = (60, 62, 72) if palette is _DARK else (241, 241, 242)
    draw.rounded_rectangle((px(24), y, px(244), y + px(40)), radius=px(6), fill=button)
    screen.text((px(134), y + px(20)), done_word, points=16, fill=palette["muted"], anchor="mm")
    draw.rounded_rectangle(
        (px(256), y, screen.width - px(24), y + px(40)), radius=px(6), fill=button
    )
    message_centre = ((px(256) + screen.width - px(24)) / 2, y + px(20))
    screen.text(message_centre, "私信", points=16, anchor="mm")

    y += px(58)
    for index, tab in enumerate(("作品", "推荐", "喜欢")):
        colour = palette["text"] if index == 1 else palette["muted"]
        centre_x = screen.width * (index * 2 + 1) / 6
        screen.text((centre_x, y), tab, points=15, fill=colour, anchor="mt")
    underline_x = screen.width / 2
    draw.rectangle(
        (underline_x - px(14), y + px(24), underline_x + px(14), y + px(26)), fill=_ACCENT
    )
    return y + px(34)


def _video_tile(size: tuple[int, int], *, unit: float, phone: random.Random) -> Image.Image:
    tile = Image.new("RGB", size, _vivid(phone))
    draw = ImageDraw.Draw(tile)
    for _ in range(phone.randint(1, 3)):
        cx, cy = phone.uniform(0, size[0]), phone.uniform(0, size[1])
        radius = phone.uniform(10, 50) * unit
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        if phone.random() < 0.5:
            draw.ellipse(box, fill=_vivid(phone))
        else:
            draw.rectangle(box, fill=_vivid(phone))
    likes = "♡ " + _count(phone.randrange(20, 200_000))
    draw.text(
        (round(6 * unit), size[1] - round(20 * unit)),
        likes,
        fill=(255, 255, 255),
        font=_font(round(12 * unit)),
    )
    return tile


def _feed(screen: _Screen, *, top: int, phone: random.Random) -> None:
    """Three columns of video covers down to the bottom of the screen."""
    gap = screen.px(2)
    tile_w = (screen.width - 2 * gap) // 3
    tile_h = tile_w * 4 // 3
    y = top
    while y < screen.height:
        for column in range(3):
            tile = _video_tile((tile_w, tile_h), unit=screen.unit, phone=phone)
            screen.image.paste(tile, (column * (tile_w + gap), y))
        y += tile_h + gap


def render_action_screenshot(
    *,
    handle: str,
    target_title: str,
    done_word: str,
    clock: datetime,
    seed: int,
    width: int = 390,
    height: int = 844,
) -> bytes:
    """A PNG of a phone screen showing the target's profile after the action: the clock
    (``HH:MM``) in the status bar, the app's header, the target's title and ``@handle``,
    and a button reading ``done_word``."""
    phone = random.Random(seed)  # noqa: S311 - pictures, not secrets
    target = _stable_random(handle)
    palette = _DARK if phone.random() < 0.3 else _LIGHT
    image = Image.new("RGB", (width, height), palette["page"])
    screen = _Screen(image=image, draw=ImageDraw.Draw(image), unit=width / 390, palette=palette)

    # The page, scrolled a little differently on each phone; the bars are drawn over it.
    top = screen.px(92) - phone.randint(0, 60)
    feed_top = _profile(
        screen, handle=handle, title=target_title, done_word=done_word, top=top, target=target
    )
    # Recommendations depend on who is looking and at whom.
    _feed(screen, top=feed_top, phone=_stable_random(f"{seed}:{handle}"))
    _status_bar(screen, clock=clock, phone=phone)
    _app_header(screen, title=target_title)
    home_bar = (
        width / 2 - screen.px(67),
        height - screen.px(14),
        width / 2 + screen.px(67),
        height - screen.px(9),
    )
    screen.draw.rounded_rectangle(home_bar, radius=screen.px(3), fill=palette["text"])

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
