"""The schema validator's refusals as people read them."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xingdong.core.i18n import translate
from xingdong.web.schema_errors import NOT_VALID, SCHEMA_MESSAGES, schema_message


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=5)
    count: int = Field(ge=1, le=9)
    kind: Literal["brand", "agency"]
    ref: UUID


def refusals(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate(body)
    return {".".join(map(str, e["loc"])): dict(e) for e in raised.value.errors()}


GOOD = {"name": "abc", "count": 3, "kind": "brand", "ref": "01a24088-6b3b-7a88-a4eb-84837f4d0036"}


@pytest.mark.parametrize(
    ("change", "field", "english", "chinese"),
    [
        ({"name": "a"}, "name", "Enter at least 2 characters.", "请至少输入 2 个字符。"),
        ({"name": "abcdefg"}, "name", "Enter at most 5 characters.", "最多输入 5 个字符。"),
        ({"count": 0}, "count", "Enter 1 or more.", "请输入不小于 1 的数。"),
        ({"count": 10}, "count", "Enter 9 or less.", "请输入不大于 9 的数。"),
        ({"count": "x"}, "count", "Enter a whole number.", "请输入整数。"),
        ({"kind": "shop"}, "kind", "Choose one of: brand, agency.",
         "请从以下选择：brand、agency。"),
        ({"ref": "null"}, "ref", "Enter a valid ID.", "请输入有效的 ID。"),
        ({"extra": 1}, "extra", "This field is not expected here.", "这里不应有这个字段。"),
    ],
)  # fmt: skip
def test_each_refusal_is_said_in_the_request_language(
    change: dict[str, Any], field: str, english: str, chinese: str
) -> None:
    error = refusals(GOOD | change)[field]
    assert schema_message(error, "en") == english
    assert schema_message(error, "zh_CN") == chinese


def test_a_missing_field_and_an_unknown_type_are_said_plainly() -> None:
    body = dict(GOOD)
    del body["ref"]
    assert schema_message(refusals(body)["ref"], "zh_CN") == "此项必填。"
    strange = {"type": "url_parsing", "msg": "Input should be a valid URL", "ctx": {}}
    assert schema_message(strange, "en") == NOT_VALID
    # A message whose figure the error does not carry falls back rather than failing.
    assert schema_message({"type": "string_too_short", "ctx": {}}, "en") == NOT_VALID


def test_every_message_has_its_figures_in_both_languages() -> None:
    for message in SCHEMA_MESSAGES.values():
        figures = dict.fromkeys(("min_length", "max_length", "gt", "ge", "lt", "le"), "7")
        figures["expected"] = "'a' or 'b'"
        for locale in ("en", "zh_CN"):
            said = translate(locale, message, **figures)
            assert "{" not in said
            if "{" in message:
                assert "7" in said or "'a' or 'b'" in said, (locale, message)
