"""Every reason code and every setting of the risk engine is documented for operators."""

from __future__ import annotations

from pathlib import Path

import pytest

from xingdong.risk.reasons import BATCH, BEHAVIOURAL, HARD_BLOCK, REAL_TIME, reason_text
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


def test_a_reason_with_a_suffix_names_it_in_the_staff_language() -> None:
    missing = reason_text("signal_missing:evidence.ocr_text", "en")
    assert missing.startswith("the event lacked evidence.ocr_text:")
    assert "evidence.ocr_text" in reason_text("signal_missing:evidence.ocr_text", "zh_CN")
    assert reason_text("ring:7", "en").endswith("(ring 7)")
    assert "suffix" not in reason_text("lockstep_group:3", "en")
    assert reason_text("device_shared", "zh_CN") != reason_text("device_shared", "en")
    assert reason_text("no_such_code", "en") == "no_such_code"
