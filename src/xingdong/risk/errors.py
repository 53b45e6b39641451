"""Errors of the risk domain."""

from __future__ import annotations

from xingdong.core.errors import Conflict, Forbidden
from xingdong.core.i18n import N_


class RiskRefused(Forbidden):
    """A blocked action. The message stays neutral: it never says which signal fired."""

    code = "risk_refused"
    title = N_("We cannot accept this right now")
    sends_to_support = True
    keeps_changes = True  # the decision itself is kept, as recorded traffic


REFUSED = N_("We cannot accept this right now. If you think this is a mistake, contact support.")
"""What a person is told when the risk engine blocks them (never which signal fired)."""


class CaseDecided(Conflict):
    code = "risk_case_decided"
    title = N_("The case was already decided")
