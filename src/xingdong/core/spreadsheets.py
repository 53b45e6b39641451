"""CSV files people open in spreadsheets: text a person typed (a campaign's title, a
worker's name) that begins like a formula is written so that it stays text, or Excel and
its kin would run it when the file is opened (CSV injection)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO

from xingdong.core.numbers import decimal_number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """The value as it is, or text that begins like a formula behind an apostrophe (which
    spreadsheets read as "this is text" and do not show). Numbers, even negative ones,
    stay numbers."""
    formula = isinstance(value, str) and value.startswith(FORMULA_STARTS)
    if formula and decimal_number(str(value)) is None:
        return "'" + str(value)
    return value


class SheetWriter:
    """``csv.writer`` for spreadsheets: a byte-order mark first (Excel then reads Chinese
    right), CRLF lines, and every cell through :func:`cell`."""

    def __init__(self, out: IO[str]) -> None:
        out.write("\ufeff")
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([cell(value) for value in row])
