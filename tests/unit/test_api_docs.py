"""Every problem code the API can answer with is documented in docs/api.md, with its
status where the row names one code."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import xingdong
from xingdong.core.errors import XingdongError

DOC = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
SKIPPED = (".bench", "__main__")


def _error_classes() -> list[type[XingdongError]]:
    for module in pkgutil.walk_packages(xingdong.__path__, "xingdong."):
        if not any(part in module.name for part in SKIPPED):
            importlib.import_module(module.name)
    found: list[type[XingdongError]] = []
    waiting = [XingdongError]
    while waiting:
        cls = waiting.pop()
        found.append(cls)
        waiting.extend(cls.__subclasses__())
    return found


ERRORS = {cls.code: cls.status for cls in _error_classes()}
ROWS = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", DOC, flags=re.MULTILINE))


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_problem_code_is_documented(code: str) -> None:
    assert f"`{code}`" in DOC


@pytest.mark.parametrize("code", sorted(set(ERRORS) & set(ROWS)))
def test_documented_status_is_the_one_answered(code: str) -> None:
    assert int(ROWS[code]) == ERRORS[code]


def test_the_search_finds_the_errors_of_every_domain() -> None:
    # A walk that stopped early would pass the checks above with few codes.
    assert {"sold_out", "risk_refused", "sandbox_handle_taken", "weights_changed_meanwhile"} <= set(
        ERRORS
    )
    assert len(ROWS) > 40
