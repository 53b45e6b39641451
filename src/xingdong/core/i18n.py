"""Translations from Babel catalogs (``xingdong/locale/<locale>/LC_MESSAGES/messages.po``).

Message ids are English; zh_CN is the default locale. The ``.po`` files are compiled in
memory on first use, so the repository holds no generated binaries.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED_LOCALES = ("zh_CN", "en")
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}


def N_(message: str) -> str:  # noqa: N802 - the conventional name extractors look for
    """Mark a string for extraction; it is translated later, where the locale is known."""
    return message


class Phrase(str):
    """A message id passed as a parameter of another message (an error's ``extra``): it
    is translated with the message, where the locale is known, so that a detail says
    "the task is 已过期" in no language but the reader's."""

    __slots__ = ()


def said(locale: str, value: object) -> object:
    """``value``, translated when it is a :class:`Phrase`."""
    return translate(locale, value) if isinstance(value, Phrase) else value


@cache
def _catalog(locale: str) -> Catalog:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return Catalog(locale=locale)
    with po_path.open("rb") as po_file:
        return read_po(po_file, locale=locale)


def is_known_message(message: str) -> bool:
    """Whether ``message`` is one of our own texts (a catalog entry)."""
    return message in _catalog("zh_CN")


@cache
def translations(locale: str) -> Translations:
    catalog = _catalog(locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def translate(locale: str, message: str, **params: object) -> str:
    text = translations(locale).gettext(message)
    if not params:
        return text
    return text.format(**{key: said(locale, value) for key, value in params.items()})


def listed(items: Iterable[str], locale: str) -> str:
    """Items as a list reads in ``locale`` (、 between Chinese items, a comma in English)."""
    return ("、" if locale == "zh_CN" else ", ").join(items)


def normalise_locale(value: str | None) -> str | None:
    """Map ``zh``, ``zh-CN``, ``zh_Hans_CN``, ``en-US`` … onto a supported locale."""
    if not value:
        return None
    try:
        parsed = Locale.parse(value.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
    if parsed.language == "zh":
        return "zh_CN"
    if parsed.language == "en":
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    if not header:
        return None
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        weighted.append((quality, tag))
    for _, tag in sorted(weighted, key=lambda item: -item[0]):
        locale = normalise_locale(tag)
        if locale:
            return locale
    return None
