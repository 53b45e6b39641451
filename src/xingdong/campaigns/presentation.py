"""How campaigns read to people, shared by the API and the pages: labels for stored
values, translated compliance findings, and errors reworded for the brand."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from xingdong.campaigns.compliance import FindingCode
from xingdong.campaigns.errors import ComplianceBlocked
from xingdong.campaigns.models import Campaign
from xingdong.core.context import current_locale
from xingdong.core.errors import FieldError, XingdongError
from xingdong.core.i18n import N_, listed, translate
from xingdong.core.money import yuan
from xingdong.creators.tiers import TIER_LABELS
from xingdong.identity.validation import interest_name, region_name
from xingdong.ledger.errors import InsufficientFunds

STATUS_LABELS = {
    "draft": N_("Draft"),
    "pending_approval": N_("Waiting for approval"),
    "live": N_("Live"),
    "paused": N_("Paused"),
    "rejected": N_("Rejected"),
    "closed": N_("Closed"),
}
TASK_TYPE_LABELS = {
    "follow": N_("Follow an account"),
    "like": N_("Like a video"),
    "comment": N_("Comment on a video"),
    "share": N_("Share a video"),
    "shoot": N_("Shoot a video about an account"),
    "live_visit": N_("Visit a live room"),
    "purchase": N_("Buy a product and keep it"),
    "profile_ad": N_("Show an ad on a creator's profile (per 1,000 impressions)"),
}
TARGET_HINTS = {
    "account": N_("An account: @handle or its address on the platform"),
    "video": N_("A video: its id or its address on the platform"),
    "live_room": N_("A live room: its id or its address on the platform"),
    "product": N_("A product in the platform's shop: its id or its address"),
}
REVIEW_POLICY_LABELS = {
    "auto_when_verified": N_("Approve at once when the platform confirms the action"),
    "manual": N_("A reviewer looks at every submission"),
}
COMPLETION_LABELS = {
    "claimed": N_("Claimed"),
    "expired": N_("Expired"),
    "submitted": N_("Waiting for review"),
    "approved": N_("Approved, in hold"),
    "released": N_("Paid out"),
    "clawed_back": N_("Clawed back"),
    "rejected": N_("Rejected"),
    "disputed": N_("Disputed"),
}
DISPUTE_KIND_LABELS = {
    "appeal": N_("A worker appeals a rejection"),
    "contest": N_("A brand contests an approval"),
}
SEVERITY_LABELS = {"block": N_("Must be fixed"), "review": N_("An operator will look at this")}
FINDING_FIELDS = {
    "title": N_("Title"),
    "brief": N_("Brief: what workers should do, and why"),
    "disclosure": N_("Promotion disclosure"),
    "comment_guidance": N_("Comment guidance (comment tasks)"),
    "target": N_("Target on the platform"),
}
"""The form's label of the field a compliance finding is in (the same words twice in the
title and the brief are two findings, each saying where)."""


_TASK_TYPE_EXCERPTS = frozenset(
    {
        FindingCode.TASK_TYPE_NOT_ALLOWED,
        FindingCode.TARGETING_REQUIRED,
        FindingCode.PACING_CAP_REQUIRED,
    }
)
"""Findings whose excerpt is the campaign's task type code (``follow``), which people
read by its label instead."""


RETIRED_FINDING_MESSAGES = (
    N_(
        "A reward of {excerpt} is more than {limit}% of the product's price: it "
        "would pay for an order nobody wants (刷单). Lower the reward, or choose "
        "a product that costs more."
    ),
)
"""Messages findings no longer say, kept in the catalogs: findings are stored with their
message, and a draft checked before one was reworded still reads in its reader's
language (until it is checked again and takes the new one)."""


def finding_text(stored: dict[str, Any], locale: str) -> str:
    """A stored finding's message in ``locale``, with its excerpt and limit filled in."""
    excerpt = stored.get("excerpt", "")
    if stored.get("code") in _TASK_TYPE_EXCERPTS:
        excerpt = translate(locale, TASK_TYPE_LABELS.get(excerpt, excerpt))
    return translate(
        locale, str(stored["message"]), excerpt=excerpt, limit=stored.get("limit"),
        allowed=stored.get("allowed", ""),
    )  # fmt: skip


def translated_findings(stored: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    return [{**item, "message": finding_text(item, locale)} for item in stored]


def audience(campaign: Campaign, locale: str) -> list[str]:
    """Who a campaign is shown to, as short phrases (empty: everyone)."""
    parts: list[str] = []
    low, high = campaign.min_age, campaign.max_age
    if low is not None and high is not None:
        parts.append(translate(locale, N_("Age {low}–{high}"), low=low, high=high))
    elif low is not None:
        parts.append(translate(locale, N_("Aged {low} and over"), low=low))
    elif high is not None:
        parts.append(translate(locale, N_("Aged up to {high}"), high=high))
    if campaign.regions:
        parts.append(listed((region_name(r, locale) for r in campaign.regions), locale))
    if campaign.interests:
        parts.append(listed((interest_name(i, locale) for i in campaign.interests), locale))
    if campaign.tiers:
        parts.append(", ".join(translate(locale, TIER_LABELS.get(t, t)) for t in campaign.tiers))
    return parts


def _literal(text: str) -> str:
    """Text already translated, kept as it is by the error renderer's ``format``."""
    return text.replace("{", "{{").replace("}", "}}")


def readable_error(exc: XingdongError, *, org_id: UUID) -> XingdongError:
    """The same error, said so that a brand can act on it.

    A compliance block lists its findings with their excerpts (each finding has its own,
    which one error's fields cannot carry untranslated); a lack of funds says the balance
    and what is needed in yuan, and where to top up.
    """
    locale = current_locale.get()
    if isinstance(exc, ComplianceBlocked):
        findings = translated_findings(list(exc.extra.get("findings", [])), locale)
        return ComplianceBlocked(
            detail=exc.detail,
            fields=[FieldError(f["field"], _literal(f["message"])) for f in findings],
            extra={"findings": findings},
        )
    if isinstance(exc, InsufficientFunds) and "amount" in exc.extra:
        available = int(exc.extra.get("available", 0))
        needed = int(exc.extra["amount"])
        return InsufficientFunds(
            detail=N_(
                "The organisation's balance is ¥{balance}, and this needs ¥{needed}. "
                "Top up the balance, then try again."
            ),
            extra={
                "balance": yuan(available),
                "needed": yuan(needed),
                "available_fen": available,
                "available_yuan": yuan(available),
                "needed_fen": needed,
                "needed_yuan": yuan(needed),
                "top_up": f"/orgs/{org_id}#balance",
            },
        )
    return exc
