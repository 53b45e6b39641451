"""Every reason code and every setting of the risk engine is documented for operators."""

from __future__ import annotations

from pathlib import Path

import pytest

from xingdong.risk.reasons import BATCH, BEHAVIOURAL, HARD_BLOCK, REAL_TIME
from xingdong.risk.settings import BatchSettings, RiskSettings

DOC = (Path(__file__).parents[2] / "docs" / "risk.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("code", sorted(REAL_TIME | BATCH))
def test_reason_code_is_documented(code: str) -> None:
    assert f"`{code}" in DOC


@pytest.mark.parametrize(
    "name", sorted(set(RiskSettings.model_fields) | set(BatchSettings.model_fields))
)
def test_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


def test_every_weighted_code_is_a_real_time_reason() -> None:
    assert set(RiskSettings().weights) == set(REAL_TIME)
    assert set(REAL_TIME) >= BEHAVIOURAL
    assert set(REAL_TIME) >= HARD_BLOCK
