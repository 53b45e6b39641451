"""A campaign's statement (对账单): what its escrow received and paid, read from the ledger,
set beside the completions it paid for, read from the work done, so that a brand can
settle by CPA and see the two agree; and its lines, one per completion, as CSV.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.campaigns.presentation import COMPLETION_LABELS
from xingdong.core.clock import local_time, utcnow
from xingdong.core.i18n import N_, translate
from xingdong.core.policy import Actor
from xingdong.core.spreadsheets import SheetWriter
from xingdong.ledger import service as ledger
from xingdong.work import completions

CODE_LABELS = {
    "campaign_fund": N_("Funded from the organisation's balance"),
    "task_reward": N_("Rewards paid to workers"),
    "task_fee": N_("Platform fees"),
    "task_clawback": N_("Rewards clawed back"),
    "task_fee_refund": N_("Platform fees refunded"),
    "campaign_return": N_("Returned to the organisation's balance"),
    "adjustment": N_("Adjustments by operators"),
}
"""What each kind of movement of a campaign's escrow means to a brand; a code not listed
is shown as it is."""

CHARGES = ("task_reward", "task_fee")
CHARGES_BACK = ("task_clawback", "task_fee_refund")


@dataclass(frozen=True)
class StatementLine:
    code: str
    label: str
    """Untranslated (an ``N_`` message, or the code itself)."""
    inflow: int
    outflow: int
    count: int


@dataclass(frozen=True)
class CampaignStatement:
    campaign: Campaign
    generated_at: datetime
    lines: list[StatementLine]
    escrow_balance: int
    """What the escrow holds now, posted."""
    escrow_reserved: int
    """Of that, reserved for claims and hand-ins not yet decided."""
    completions: dict[str, int]
    """Handed-in work by status (see ``completions.charged_counts``)."""

    @property
    def charged_units(self) -> int:
        return sum(
            self.completions.get(s, 0) for s in (*completions.CHARGED_STATUSES, "disputed_approved")
        )

    @property
    def final_units(self) -> int:
        """Released: the hold is over and nothing can take them back."""
        return self.completions.get("released", 0)

    @property
    def final_amount(self) -> int:
        return self.final_units * self.campaign.unit_price

    @property
    def in_hold_amount(self) -> int:
        return (self.charged_units - self.final_units) * self.campaign.unit_price

    @property
    def charged_by_ledger(self) -> int:
        """What the escrow paid for completions, less what came back."""
        by_code = {line.code: line for line in self.lines}
        paid = sum(by_code[c].outflow for c in CHARGES if c in by_code)
        back = sum(by_code[c].inflow for c in CHARGES_BACK if c in by_code)
        return paid - back

    @property
    def reconciles(self) -> bool:
        """The money the ledger moved for completions is what the completions charged
        count for: the statement's own check, shown to the brand."""
        return self.charged_by_ledger == self.charged_units * self.campaign.unit_price


async def campaign_statement(
    session: AsyncSession, *, actor: Actor, campaign_id: UUID
) -> CampaignStatement:
    """The campaign's statement now (members of its organisation, and operators)."""
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    # Every change that moves money for a completion also updates the campaign's row, so
    # with that row held the ledger and the work are read between two such changes and
    # cannot seem to disagree.
    await campaigns.hold_steady(session, campaign.id)
    flows = await ledger.posted_flows(session, campaigns.escrow_account(campaign.id))
    escrow = await ledger.balance_or_nothing(session, campaigns.escrow_account(campaign.id))
    counts = await completions.charged_counts(session, campaign_id=campaign.id)
    return CampaignStatement(
        campaign=campaign,
        generated_at=utcnow(),
        lines=[
            StatementLine(f.code, CODE_LABELS.get(f.code, f.code), f.inflow, f.outflow, f.count)
            for f in flows
        ],
        escrow_balance=escrow.credits_posted - escrow.debits_posted,
        escrow_reserved=escrow.debits_pending,
        completions=counts,
    )


CSV_COLUMNS = (
    ("completion", N_("Completion")),
    ("worker", N_("Worker (pseudonym)")),
    ("status", N_("Status")),
    ("claimed_at", N_("Claimed (UTC+8)")),
    ("submitted_at", N_("Handed in (UTC+8)")),
    ("approved_at", N_("Approved (UTC+8)")),
    ("hold_until", N_("Hold ends (UTC+8)")),
    ("settled_at", N_("Settled (UTC+8)")),
    ("charged_fen", N_("Charged (fen)")),
    ("billing", N_("Billing")),
    ("status_code", N_("Status code")),
)
"""The status twice: in words for people (third) and as the API's code for formulas
(last, so that sheets built on the earlier columns keep their places)."""
BILLING = {
    "released": N_("final"),
    "approved": N_("in hold"),
    "disputed_approved": N_("in hold, contested"),
}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


async def statement_csv(
    session: AsyncSession, *, actor: Actor, campaign_id: UUID, secret: str, locale: str
) -> tuple[Campaign, str]:
    """The statement's lines, one per completion, oldest first, as CSV for spreadsheets
    (a byte-order mark first, so that Excel reads the Chinese right)."""
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    rows = await completions.every_completion(session, campaign=campaign, secret=secret)
    out = io.StringIO()
    writer = SheetWriter(out)
    writer.writerow([translate(locale, label) for _key, label in CSV_COLUMNS])
    for row in rows:
        a = row.assignment
        state = f"disputed_{a.disputed_from}" if a.status == "disputed" else a.status
        billing = BILLING.get(state)
        writer.writerow(
            [
                str(a.id),
                row.worker,
                translate(locale, COMPLETION_LABELS.get(a.status, a.status)),
                local_time(a.claimed_at, TIME_FORMAT),
                local_time(a.submitted_at, TIME_FORMAT),
                local_time(row.approved_at, TIME_FORMAT),
                local_time(a.hold_until, TIME_FORMAT) if billing else "",
                local_time(a.settled_at, TIME_FORMAT),
                campaign.unit_price if billing else 0,
                translate(locale, billing) if billing else translate(locale, N_("not charged")),
                a.status,
            ]
        )
    return campaign, out.getvalue()
