"""Numbers as people type them into forms: "1,200", "1 200", full-width digits (as Chinese
input methods give them), "¥2.50". The one place that reads them, so every form takes the
same spellings; and "²", a digit to ``str.isdigit`` that ``int`` refuses, is no number."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xFFE5: 0xA5}
"""Full-width ASCII (digits, signs, the comma), the ideographic space and the full-width
yuan sign, as their plain forms (only these: NFKC would also read "²" as 2)."""
SEPARATORS = (",", " ", "_", "'")
"""Thousands separators, dropped before reading where they stand between groups of three
digits ("1,200", "12,000.50"); anywhere else the text is no number ("1,5" is not 15)."""

GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[,_' ]\d{3})+(?:\.\d*)?(?:%)?$")
"""A number written with thousands separators, every one between groups of three digits."""


def ascii_digits(raw: str) -> str:
    """``raw`` with full-width characters folded (a Chinese input method may type the
    digits and the "+" in full width) and every other decimal digit (Arabic-Indic,
    Devanagari…) as its ASCII digit, so that a number is read, stored and found in one
    spelling only. Not NFKC: it would also read "²" or "①", which are no digits, as 2
    and 1."""
    folded = raw.translate(FULL_WIDTH)
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char
        for char in folded
    )


def plain(raw: str) -> str:
    """The typed text with full-width characters folded, the yuan sign dropped and
    thousands separators dropped (or, when they stand anywhere else, left in, so that
    the text reads as no number)."""
    text = raw.translate(FULL_WIDTH).strip().replace("¥", "").strip()
    if any(mark in text for mark in SEPARATORS) and GROUPED.match(text):
        for mark in SEPARATORS:
            text = text.replace(mark, "")
    return text


def whole_number(raw: str, *, digits: int = 12) -> int | None:
    """A whole number of at most ``digits`` digits (a leading minus allowed), or None."""
    text = plain(raw)
    unsigned = text.removeprefix("-")
    if not (unsigned.isascii() and unsigned.isdecimal() and len(unsigned) <= digits):
        return None
    return int(text)


def decimal_number(raw: str) -> Decimal | None:
    """A finite decimal number, or None."""
    text = plain(raw)
    if not text.isascii():
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


LARGEST_YUAN = Decimal(10) ** 12
"""More than any amount the platform handles; larger numbers are refused as typos."""


def fen_of_yuan(raw: str) -> int | None:
    """An amount typed in yuan with at most two decimals, in fen; None for anything else
    (more decimals, no number, a trillion yuan or more)."""
    value = decimal_number(raw)
    if value is None or abs(value) >= LARGEST_YUAN:
        return None
    fen = value * 100
    return int(fen) if fen == fen.to_integral_value() else None
