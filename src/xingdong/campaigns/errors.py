"""What can go wrong with a campaign, as the API and pages report it."""

from __future__ import annotations

from xingdong.core.errors import Conflict, NotFound, ValidationFailed
from xingdong.core.i18n import N_


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    title = N_("No such campaign")


class CampaignInvalid(ValidationFailed):
    code = "campaign_invalid"
    title = N_("The campaign is not valid")


class ComplianceBlocked(ValidationFailed):
    code = "compliance_blocked"
    title = N_("The campaign does not pass the compliance check")


class CampaignStateConflict(Conflict):
    code = "campaign_state"
    title = N_("The campaign cannot do that in its current state")
