"""Every reason code and every setting of the risk engine is documented for operators."""

from __future__ import annotations

from pathlib import Path

import pytest

from xingdong.core.i18n import translate
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
    missing = reason_text("signal_missing:trajectory", "en")
    assert missing.startswith("the event lacked the path of the gesture that submitted:")
    assert "提交时的手势轨迹" in reason_text("signal_missing:trajectory", "zh_CN")
    assert reason_text("ring:7", "en").endswith("(ring 7)")
    assert "suffix" not in reason_text("lockstep_group:3", "en")
    assert reason_text("device_shared", "zh_CN") != reason_text("device_shared", "en")
    assert reason_text("no_such_code", "en") == "no_such_code"


@pytest.mark.parametrize("kind", ["register", "claim", "submit", "withdraw"])
def test_every_field_an_event_may_lack_is_said_in_words(kind: str) -> None:
    from xingdong.risk.events import parse_event
    from xingdong.risk.reasons import MISSING_FIELDS, SAID_WHOLE

    bare: dict[str, object] = {"type": kind, "ts": 1.0, "account": "a"}
    if kind == "submit":
        bare["evidence"] = {}
    lacking = parse_event(bare).missing
    assert lacking
    for field in lacking:
        code = f"signal_missing:{field}"
        assert field in MISSING_FIELDS or code in SAID_WHOLE, field
        for locale in ("zh_CN", "en"):
            # Not the field's name in the code's sentence: words staff read.
            raw = translate(locale, REAL_TIME["signal_missing"], detail=field)
            assert reason_text(code, locale) != raw, (field, locale)


def test_a_screenshot_not_read_yet_is_said_plainly() -> None:
    said = reason_text("signal_missing:evidence.ocr_text", "en")
    assert said.startswith("the screenshot's text was not read yet")
    assert "evidence.ocr_text" not in reason_text("signal_missing:evidence.ocr_text", "zh_CN")
    assert "the network address" in reason_text("signal_missing:ip", "en")
    assert reason_text("signal_missing:something_new", "en").count("something_new") == 1
