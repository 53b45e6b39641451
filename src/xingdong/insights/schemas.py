"""Request and response bodies of the events and webhooks API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from xingdong.core.i18n import translate
from xingdong.insights.account_statements import AccountStatement, account_of, entry_label
from xingdong.insights.brand_overview import BrandOverview
from xingdong.insights.models import Event, WebhookEndpoint
from xingdong.insights.service import DeliveryRow, EndpointSummary, body_of
from xingdong.insights.statements import CampaignStatement
from xingdong.insights.targets import MAX_URL_LENGTH

DeliveryStatus = Literal["pending", "delivered", "failed"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=600)


class EndpointIn(Input):
    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="Where to send events: https:// on the public internet.",
    )
    description: str = Field(
        default="", max_length=120, description="What it is, for people (at most 120)."
    )
    event_types: list[str] = Field(
        default_factory=list, description="The event types to send; empty sends every type."
    )


class EndpointChange(Input):
    url: str | None = Field(default=None, max_length=MAX_URL_LENGTH)
    description: str | None = Field(default=None, max_length=120)
    event_types: list[str] | None = None
    enabled: StrictBool | None = None


class EndpointOut(BaseModel):
    id: UUID
    org_id: UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    created_at: datetime
    secret_rolled_at: datetime | None
    deliveries: dict[str, int] = Field(default_factory=dict, description="Deliveries by status.")
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, summary: EndpointSummary | None = None) -> EndpointOut:
        last = summary.last_delivery if summary else None
        return cls(
            id=endpoint.id,
            org_id=endpoint.org_id,
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            enabled=endpoint.enabled,
            created_at=endpoint.created_at,
            secret_rolled_at=endpoint.secret_rolled_at,
            deliveries=summary.counts if summary else {},
            last_attempt_at=last.last_attempt_at if last else None,
            last_status_code=last.last_status_code if last else None,
            last_error=last.last_error if last else None,
        )


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="The signing secret: shown now and when rolled, never again.")


class DeliveryOut(BaseModel):
    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: DeliveryRow) -> DeliveryOut:
        d = row.delivery
        return cls(
            id=d.id,
            endpoint_id=d.endpoint_id,
            event_id=d.event_id,
            event_type=row.event.type,
            status=d.status,
            attempts=d.attempts,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
        )


class EventOut(BaseModel):
    id: UUID
    type: str
    created_at: datetime
    org_id: UUID
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls.model_validate(body_of(event))


class StatementLineOut(BaseModel):
    code: str
    label: str
    inflow_fen: int
    outflow_fen: int
    count: int


class StatementOut(BaseModel):
    campaign_id: UUID
    title: str
    status: str
    unit_price_fen: int
    quantity: int
    generated_at: datetime
    lines: list[StatementLineOut] = Field(
        description="The escrow's posted movements by kind (ledger codes)."
    )
    escrow_balance_fen: int
    escrow_reserved_fen: int = Field(description="Of the balance, reserved for open work.")
    completions: dict[str, int] = Field(
        description="Handed-in work by status; a dispute as disputed_approved or disputed_rejected."
    )
    charged_units: int = Field(description="Completions you pay for: in hold or final.")
    final_units: int
    final_fen: int = Field(description="Released completions × unit price: final.")
    in_hold_fen: int = Field(description="Completions still in their hold × unit price.")
    charged_by_ledger_fen: int
    reconciles: bool = Field(
        description="The ledger's charges for completions equal charged_units × unit price."
    )

    @classmethod
    def of(cls, statement: CampaignStatement, *, locale: str) -> StatementOut:
        c = statement.campaign
        return cls(
            campaign_id=c.id,
            title=c.title,
            status=c.status,
            unit_price_fen=c.unit_price,
            quantity=c.quantity,
            generated_at=statement.generated_at,
            lines=[
                StatementLineOut(
                    code=line.code,
                    label=translate(locale, line.label),
                    inflow_fen=line.inflow,
                    outflow_fen=line.outflow,
                    count=line.count,
                )
                for line in statement.lines
            ],
            escrow_balance_fen=statement.escrow_balance,
            escrow_reserved_fen=statement.escrow_reserved,
            completions=statement.completions,
            charged_units=statement.charged_units,
            final_units=statement.final_units,
            final_fen=statement.final_amount,
            in_hold_fen=statement.in_hold_amount,
            charged_by_ledger_fen=statement.charged_by_ledger,
            reconciles=statement.reconciles,
        )


class AccountEntryOut(BaseModel):
    transfer_id: int
    at: datetime
    code: str
    label: str
    reference: str | None = Field(description="What it belongs to (``campaign:<id>`` …).")
    reference_name: str | None = Field(
        description="What the reference names: a campaign's title, a top-up's or payout's "
        "number at the payment provider, a correction's reason."
    )
    amount_fen: int = Field(description="Into the account (+) or out of it (−).")
    balance_after_fen: int


class AccountStatementOut(BaseModel):
    org_id: UUID
    month: str = Field(description="YYYY-MM, in Beijing time.")
    account: str = Field(description="The ledger account: org:<id>:available or agency:<id>:…")
    generated_at: datetime
    running: bool = Field(description="The month is not over: closing is the balance now.")
    opening_fen: int
    closing_fen: int
    lines: list[StatementLineOut] = Field(description="The month's movements by kind.")
    entries_total: int
    entries: list[AccountEntryOut] = Field(description="A page of the month's movements.")
    next_cursor: str | None = None

    @classmethod
    def of(cls, statement: AccountStatement, *, locale: str) -> AccountStatementOut:
        period = statement.period
        after = period.next_after
        return cls(
            org_id=statement.org.id,
            month=statement.month.text,
            account=account_of(statement.org),
            generated_at=statement.generated_at,
            running=statement.running,
            opening_fen=period.opening,
            closing_fen=period.closing,
            lines=[
                StatementLineOut(
                    code=f.code,
                    label=translate(locale, entry_label(f.code)),
                    inflow_fen=f.inflow,
                    outflow_fen=f.outflow,
                    count=f.count,
                )
                for f in period.flows
            ],
            entries_total=period.entries_total,
            entries=[
                AccountEntryOut(
                    transfer_id=e.transfer_id,
                    at=e.at,
                    code=e.code,
                    label=translate(locale, entry_label(e.code)),
                    reference=e.reference,
                    reference_name=statement.references.get(e.reference or ""),
                    amount_fen=e.amount,
                    balance_after_fen=e.balance_after,
                )
                for e in period.entries
            ],
            next_cursor=None if after is None else str(after),
        )


class LaggingOut(BaseModel):
    id: UUID
    title: str


class BrandOverviewOut(BaseModel):
    """A brand's figures across its campaigns (docs/campaigns.md, "The overview")."""

    at: datetime
    campaigns: dict[str, int] = Field(description="Campaigns by status, every status listed.")
    live_planned: int = Field(description="Units the live campaigns ask for in all.")
    live_done: int = Field(description="Units of live campaigns approved (in hold or paid).")
    live_under_way: int = Field(
        description="Units of live campaigns claimed or waiting for review."
    )
    waiting_for_review: int
    in_dispute: int
    handed_in_today: int = Field(description="Hand-ins since midnight, Beijing time.")
    paid_this_month: int
    paid_this_month_fen: int = Field(
        description="Completions whose hold ended this month (Beijing time), and their charge."
    )
    in_hold: int
    in_hold_fen: int = Field(
        description="Approved completions still in their hold, charged when it ends."
    )
    escrow_fen: int = Field(description="What the campaigns' escrows hold now.")
    available_fen: int = Field(description="The organisation's balance, free to fund campaigns.")
    behind: list[LaggingOut] = Field(description="Live campaigns behind their plan (five at most).")
    behind_count: int

    @classmethod
    def of(cls, overview: BrandOverview) -> BrandOverviewOut:
        return cls(
            **{name: getattr(overview, name) for name in cls.model_fields if name != "behind"},
            behind=[LaggingOut(id=c.id, title=c.title) for c in overview.behind],
        )
