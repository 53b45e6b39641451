"""Ids, tokens, cursors and locale negotiation."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from xingdong.core import security
from xingdong.core.errors import ValidationFailed
from xingdong.core.i18n import from_accept_language, normalise_locale
from xingdong.core.ids import new_id
from xingdong.core.pagination import decode_cursor, encode_cursor


def test_ids_are_version_7_and_ordered_by_time() -> None:
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    assert first.version == 7
    assert first.variant == uuid.RFC_4122
    assert first < second
    assert len({new_id() for _ in range(10_000)}) == 10_000


def test_password_hashes_verify_only_the_right_password() -> None:
    hashed = security.hash_password("goodPass2026")
    assert hashed.startswith("$argon2id$")
    assert security.verify_password(hashed, "goodPass2026")
    assert not security.verify_password(hashed, "goodPass2027")
    assert not security.verify_password(None, "goodPass2026")
    assert not security.verify_password("not-a-hash", "goodPass2026")


def test_csrf_token_is_bound_to_secret_and_cookie() -> None:
    token = security.csrf_token_for("s1", "cookie")
    assert security.csrf_token_matches("s1", "cookie", token)
    assert not security.csrf_token_matches("s2", "cookie", token)
    assert not security.csrf_token_matches("s1", "other", token)
    assert not security.csrf_token_matches("s1", None, token)
    assert not security.csrf_token_matches("s1", "cookie", None)


def test_cursor_round_trip_and_garbage() -> None:
    when = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
    row_id = new_id()
    assert decode_cursor(encode_cursor(when, row_id)) == (when, row_id)
    assert decode_cursor(None) is None
    with pytest.raises(ValidationFailed):
        decode_cursor("%%%")
    with pytest.raises(ValidationFailed):
        decode_cursor("bm90IGpzb24")


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
        ("fr-FR", None),
        ("en;q=0.2,zh-TW;q=0.8", "zh_CN"),
        ("", None),
        ("en;q=abc", None),
    ],
)
def test_accept_language(header: str, locale: str | None) -> None:
    assert from_accept_language(header) == locale


def test_normalise_locale() -> None:
    assert normalise_locale("zh_Hans_CN") == "zh_CN"
    assert normalise_locale("EN") == "en"
    assert normalise_locale("xx-??") is None


def test_the_demo_checks_holds_within_its_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fraction of an hour is a period the hold check takes, and the demo's is short
    enough that its half-hourly job looks at least once before an hour's hold ends."""
    from xingdong.core.settings import Settings
    from xingdong.demo.seed import DEMO_HOLD_CHECK_HOURS, DEMO_HOLD_HOURS

    monkeypatch.setenv("XINGDONG_HOLD_CHECK_HOURS", "0.25")
    assert Settings().hold_check_hours == 0.25
    job_looks_every_hours = 0.5
    assert DEMO_HOLD_CHECK_HOURS + job_looks_every_hours < DEMO_HOLD_HOURS
