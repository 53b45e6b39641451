"""CSV cells that would run as formulas in a spreadsheet stay text."""

from __future__ import annotations

import csv
import io

import pytest

from xingdong.core.spreadsheets import SheetWriter, cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("-12.50", "-12.50"),  # a negative amount is a number, not a formula
        ("关注星动美妆", "关注星动美妆"),
        (1200, 1200),
        ("", ""),
    ],
)
def test_a_cell_that_begins_like_a_formula_stays_text(value: object, written: object) -> None:
    assert cell(value) == written


def test_the_writer_marks_the_file_for_excel_and_guards_every_cell() -> None:
    out = io.StringIO()
    writer = SheetWriter(out)
    writer.writerow(["title", "amount"])
    writer.writerow(["=1+1", -5])
    text = out.getvalue()
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == [["title", "amount"], ["'=1+1", "-5"]]
