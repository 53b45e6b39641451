"""Checks on text people type that others will read."""

from __future__ import annotations

import unicodedata

from xingdong.core.i18n import N_

CONTROL_CHARACTERS = N_("Remove the invisible control characters (tabs, line breaks and the like).")
"""What a name with control characters is told, beside its field."""


def has_control_characters(text: str) -> bool:
    """Whether a one-line name holds a control character (Unicode category Cc: tabs, line
    breaks, backspaces, escapes). Such a name shows differently on every screen or not at
    all, and a pasted one can pose as another's in a list."""
    return any(unicodedata.category(char) == "Cc" for char in text)
