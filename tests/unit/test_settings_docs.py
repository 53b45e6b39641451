"""Every setting is documented for operators, under the name they set it by."""

from __future__ import annotations

from pathlib import Path

import pytest

from xingdong.core.settings import Settings

DOC = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_documented(name: str) -> None:
    assert f"`XINGDONG_{name.upper()}`" in DOC
