"""Amounts as people read them and as machines and forms take them."""

from __future__ import annotations

import pytest

from xingdong.core.money import plain_yuan, yuan
from xingdong.core.numbers import fen_of_yuan


@pytest.mark.parametrize(
    ("fen", "shown", "plain"),
    [
        (0, "0.00", "0.00"),
        (5, "0.05", "0.05"),
        (99_999, "999.99", "999.99"),
        (100_000, "1,000.00", "1000.00"),
        (1_348_800, "13,488.00", "13488.00"),
        (123_456_789_012, "1,234,567,890.12", "1234567890.12"),
        (-100_050, "-1,000.50", "-1000.50"),
    ],
)
def test_amounts_are_grouped_for_people_and_plain_for_machines(
    fen: int, shown: str, plain: str
) -> None:
    assert (yuan(fen), plain_yuan(fen)) == (shown, plain)


@pytest.mark.parametrize("fen", [1, 100_000, 1_348_800, 123_456_789_012])
def test_what_is_shown_reads_back_as_the_same_amount(fen: int) -> None:
    # A page that fills a form with a shown amount gets the same amount back.
    assert fen_of_yuan(yuan(fen)) == fen == fen_of_yuan(plain_yuan(fen))
