"""Phone numbers and passwords."""

from __future__ import annotations

import pytest

from xingdong.identity.validation import normalise_phone, password_problem, phone_search_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("19912345678", "+8619912345678"),
        ("12812345678", None),
        ("1380013800", None),
        ("138001380001", None),
        ("+1 415 555 0100", None),
        ("", None),
        ("一三八", None),
        # Full-width (a Chinese input method), other scripts' decimal digits: read as ASCII.
        ("1380013800０", "+8613800138000"),
        ("＋８６ １３８ ００１３ ８０００", "+8613800138000"),
        ("（138）0013－8000", "+8613800138000"),
        ("١٣٨٠٠١٣٨٠٠٠", "+8613800138000"),
        ("۱۳۸۰۰۱۳۸۰۰۰", "+8613800138000"),
        ("१३८००१३८०००", "+8613800138000"),
        # Digits to ``str.isdigit`` and NFKC that are no decimal digits: no number.
        ("1380013800²", None),
        ("1380013800①", None),
        ("1380013800〇", None),
    ],
)
def test_normalise_phone(raw: str, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),
        ("８０００", "8000"),
        ("138 ００１３", "1380013"),
        ("٨٠٠٠", "8000"),
        ("+８６ １３８", "+86138"),
        ("0086138", "+86138"),
        ("8000²", None),
        ("小李", None),
    ],
)
def test_phone_search_text_is_ascii_digits(raw: str, expected: str | None) -> None:
    assert phone_search_text(raw) == expected


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("goodPass2026", None),
        ("密码很长的abc123", None),
        ("a1", "Use at least 8 characters."),
        ("x1" * 65, "Use at most 128 characters."),
        ("abcdefgh", "Use both letters and digits."),
        ("12345678", "Use both letters and digits."),
        ("Password123", "This password is too common."),
        ("ab13800138000", "Do not use your phone number in the password."),
    ],
)
def test_password_problem(password: str, problem: str | None) -> None:
    assert password_problem(password, "+8613800138000") == problem


def test_a_mainland_number_is_shown_in_groups() -> None:
    from xingdong.identity.validation import spaced_phone

    assert spaced_phone("+8613800138000") == "+86 138 0013 8000"
    assert spaced_phone("+85212345678") == "+85212345678"  # not a mainland number
    assert spaced_phone("13800138000") == "13800138000"


def test_erased_placeholders_of_people_made_in_one_millisecond_differ() -> None:
    from xingdong.core.ids import new_id
    from xingdong.identity.validation import erased_phone, is_erased_phone, normalise_phone

    ids = [new_id() for _ in range(5000)]
    placeholders = {erased_phone(i) for i in ids}
    assert len(placeholders) == len(ids)
    assert all(len(p) <= 20 and is_erased_phone(p) for p in placeholders)
    # Nobody can type one as a number: it never normalises to one.
    assert all(normalise_phone(p) is None for p in placeholders)
