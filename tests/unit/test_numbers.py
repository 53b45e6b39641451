"""Numbers as people type them into forms."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xingdong.core.numbers import decimal_number, fen_of_yuan, whole_number


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1200", 1200),
        (" 1,200 ", 1200),
        ("1 200", 1200),
        ("\uff11\uff12\uff10\uff10", 1200),  # full-width digits
        ("1\uff0c200", 1200),  # full-width comma
        ("-5", -5),
        ("²", None),  # a digit to str.isdigit, no number to int
        ("1.5", None),
        ("", None),
        ("abc", None),
        ("٣", None),  # an Arabic-Indic digit: decimal to Python, not what we take
        ("1234567890123", None),  # more digits than allowed
        ("1,5", None),  # a separator not between groups of three is no thousands mark
        ("12,34,567", None),
        ("1,2345", None),
        (",100", None),
        ("1,234,567", 1_234_567),
    ],
)
def test_whole_number(typed: str, number: int | None) -> None:
    assert whole_number(typed) == number


def test_whole_number_counts_digits_without_separators() -> None:
    assert whole_number("1,000", digits=4) == 1000
    assert whole_number("10,000", digits=4) is None


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("2.50", Decimal("2.50")),
        ("¥1,000.5", Decimal("1000.5")),
        ("\uffe5\uff12", Decimal("2")),  # full-width yuan sign and digit
        ("NaN", None),
        ("Infinity", None),
        ("", None),
        ("1.2.3", None),
    ],
)
def test_decimal_number(typed: str, number: Decimal | None) -> None:
    assert decimal_number(typed) == number


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("2", 200),
        ("0.50", 50),
        ("¥1,000.05", 100_005),
        ("-3", -300),
        ("0.505", None),  # a fraction of a fen
        ("1e309", None),  # Decimal reads it; quantising it used to raise
        ("999999999999", 99_999_999_999_900),
        ("1000000000000", None),
        ("abc", None),
        # A decimal comma is not a thousands mark: refused, never ten times the amount.
        ("1,5", None),
        ("0,50", None),
        ("¥ 12,000.50", 1_200_050),
    ],
)
def test_fen_of_yuan(typed: str, fen: int | None) -> None:
    assert fen_of_yuan(typed) == fen
