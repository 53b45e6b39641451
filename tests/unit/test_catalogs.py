"""Every piece of text has its Chinese translation, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from xingdong.core.i18n import LOCALE_DIR, translate

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def source_messages() -> set[str]:
    keywords = {"N_": None, "_": None, "translate": (2,), "gettext": None, "ngettext": (1, 2)}
    method_map = [
        ("**/templates/**.html", "jinja2"),
        ("**.py", "python"),
    ]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "src" / "xingdong"), method_map, options_map=options, keywords=keywords
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


@pytest.fixture(scope="module")
def zh_catalog():  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def test_every_message_in_the_code_is_translated_to_chinese(zh_catalog) -> None:  # type: ignore[no-untyped-def]
    missing = sorted(
        m for m in source_messages() if not (zh_catalog.get(m) and zh_catalog.get(m).string)
    )
    assert missing == [], "run scripts/i18n and translate these"


def test_translations_keep_their_placeholders(zh_catalog) -> None:  # type: ignore[no-untyped-def]
    wrong = [
        message.id
        for message in zh_catalog
        if message.id
        and message.string
        and sorted(PLACEHOLDER.findall(str(message.id)))
        != sorted(PLACEHOLDER.findall(str(message.string)))
    ]
    assert wrong == []


def test_english_is_the_message_itself_and_chinese_differs() -> None:
    assert translate("en", "Sign in") == "Sign in"
    assert translate("zh_CN", "Sign in") != "Sign in"
