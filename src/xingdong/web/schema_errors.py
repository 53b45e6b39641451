"""What a request refused by the schema validator is told, in the request's language.

The validator's own messages are English sentences meant for developers ("Input should be
a valid UUID, invalid character: found `n` at 0"); a person, or a client showing the
message to one, gets ours instead, by the validator's error type. The type itself stays
the field's ``code`` (docs/api.md, "Field error codes").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from xingdong.core.i18n import N_, translate

SCHEMA_MESSAGES = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not expected here."),
    "string_type": N_("Enter text."),
    "string_too_short": N_("Enter at least {min_length} characters."),
    "string_too_long": N_("Enter at most {max_length} characters."),
    "string_pattern_mismatch": N_("The format is not valid."),
    "int_type": N_("Enter a whole number."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_type": N_("Enter a number."),
    "float_parsing": N_("Enter a number."),
    "finite_number": N_("Enter a number."),
    "bool_type": N_("Enter true or false."),
    "bool_parsing": N_("Enter true or false."),
    "greater_than": N_("Enter a number above {gt}."),
    "greater_than_equal": N_("Enter {ge} or more."),
    "less_than": N_("Enter a number below {lt}."),
    "less_than_equal": N_("Enter {le} or less."),
    "uuid_type": N_("Enter a valid ID."),
    "uuid_parsing": N_("Enter a valid ID."),
    "literal_error": N_("Choose one of: {expected}."),
    "enum": N_("Choose one of: {expected}."),
    "datetime_type": N_("Enter a date and time, such as 2026-12-04T18:00:00+08:00."),
    "datetime_parsing": N_("Enter a date and time, such as 2026-12-04T18:00:00+08:00."),
    "datetime_from_date_parsing": N_("Enter a date and time, such as 2026-12-04T18:00:00+08:00."),
    "timezone_aware": N_("Give the time with its time zone, such as +08:00."),
    "date_type": N_("Enter a date, such as 2026-12-04."),
    "date_parsing": N_("Enter a date, such as 2026-12-04."),
    "date_from_datetime_parsing": N_("Enter a date, such as 2026-12-04."),
    "list_type": N_("Give a list."),
    "too_short": N_("Give at least {min_length} items."),
    "too_long": N_("Give at most {max_length} items."),
    "dict_type": N_("Give an object."),
    "model_type": N_("Give an object."),
    "model_attributes_type": N_("Give an object."),
    "json_invalid": N_("The body is not valid JSON."),
    "json_type": N_("The body is not valid JSON."),
}
"""Our message for each error type of the schema validator (pydantic) that requests meet;
``{…}`` are the validator's own figures for the error."""
NOT_VALID = N_("This value is not valid.")
"""For any other type: better plain than the validator's English."""


def schema_message(error: Mapping[str, Any], locale: str) -> str:
    """One refusal of the schema validator (an item of ``errors()``) as a person reads it."""
    message = SCHEMA_MESSAGES.get(str(error.get("type")), NOT_VALID)
    figures = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    if "expected" in figures:
        figures["expected"] = _choices(figures["expected"], locale)
    try:
        return translate(locale, message).format(**figures)
    except (KeyError, IndexError, ValueError):
        # A figure the message names is missing from this error.
        return translate(locale, NOT_VALID)


def _choices(expected: str, locale: str) -> str:
    """The validator's English list of choices ("'campaign' or 'brand'") as a list in
    the request's language, the values themselves unchanged."""
    values = re.findall(r"'([^']*)'", expected)
    if not values:
        return expected
    return ("、" if locale.startswith("zh") else ", ").join(values)
