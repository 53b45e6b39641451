"""Checks on text people type that others will read."""

from __future__ import annotations

import unicodedata

from xingdong.core.errors import FieldError, ValidationFailed
from xingdong.core.i18n import N_

CONTROL_CHARACTERS = N_("Remove the invisible control characters it holds (escapes and the like).")
"""What a name with control characters is told, beside its field."""


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""The embeddings, overrides and isolates of the Unicode bidirectional algorithm: one
turns "李薇 负责人" round on screen while the stored text reads otherwise."""


LINE_BREAKS = frozenset("\n\r\t")
"""What a text of several lines (a reason, a note) may hold of the control characters."""


def has_control_characters(text: str, *, lines: bool = False) -> bool:
    """Whether a one-line name holds a control character (Unicode category Cc: tabs, line
    breaks, backspaces, escapes) or a bidirectional control. Such a name shows differently
    on every screen or not at all, and a pasted one can pose as another's in a list. With
    ``lines``, a text of several lines: its line breaks and tabs are its own."""
    allowed = LINE_BREAKS if lines else frozenset()
    return any(
        (unicodedata.category(char) == "Cc" and char not in allowed) or char in BIDI_CONTROLS
        for char in text
    )


def refuse_control_characters(text: str, *, field: str, lines: bool = False) -> None:
    """Raise :class:`ValidationFailed` naming ``field`` if ``text`` holds what
    :func:`has_control_characters` finds (for checks that refuse one field at a time)."""
    if has_control_characters(text, lines=lines):
        raise ValidationFailed(
            detail=CONTROL_CHARACTERS, fields=[FieldError(field, CONTROL_CHARACTERS)]
        )
