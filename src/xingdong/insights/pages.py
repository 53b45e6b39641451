"""Web pages of events and webhooks: the organisation's API keys and webhook endpoints
(``/orgs/{id}/integrations``) and each endpoint's deliveries; and a campaign's statement
(对账单, ``/campaigns/{id}/statement``) with its CSV.

Members see what is set up; only owners make, change and revoke. A new key and a new or
rolled signing secret are rendered on the answer to the form itself, never redirected to:
they exist in clear only in that one answer. A statement is read by every member of the
campaign's organisation, and by operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from xingdong.campaigns.presentation import COMPLETION_LABELS
from xingdong.campaigns.presentation import STATUS_LABELS as CAMPAIGN_STATUS_LABELS
from xingdong.core.context import current_locale
from xingdong.core.errors import ValidationFailed, XingdongError
from xingdong.core.i18n import N_
from xingdong.core.policy import Action, Actor, can
from xingdong.identity import api_keys
from xingdong.identity import service as identity
from xingdong.identity.models import OrgApiKey
from xingdong.insights import account_statements, service, statements
from xingdong.insights.downloads import account_statement_response, statement_csv_response
from xingdong.insights.models import WebhookEndpoint
from xingdong.platforms.sandbox.inbox import INBOX_PATH
from xingdong.web.deps import (
    CsrfChecked,
    CursorQuery,
    DbSession,
    PageActor,
    RuntimeDep,
    attempt,
    pressed,
)
from xingdong.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]

EVENT_LABELS = {
    "campaign.approved": N_("The compliance review approved a campaign."),
    "campaign.rejected": N_("The compliance review rejected a campaign, with its note."),
    "campaign.paused": N_("A campaign was paused."),
    "campaign.resumed": N_("A paused campaign runs again."),
    "campaign.closed": N_("A campaign closed; what was left of its budget is refunded."),
    "completion.approved": N_("A completion was approved; its reward waits out its hold."),
    "completion.rejected": N_("A completion was rejected, with the reason."),
    "completion.released": N_("A completion left its hold: final, the brand pays for it."),
    "completion.clawed_back": N_("A completion's reward was taken back, with the reason."),
    "contract.offered": N_("The agency offered a creator a contract."),
    "contract.accepted": N_("A creator accepted the agency's offer: the contract is in force."),
    "contract.declined": N_("A creator declined the agency's offer."),
    "contract.withdrawn": N_("The agency withdrew an offer before it was answered."),
    "contract.ended": N_("A contract in force ended, by the creator or the agency."),
    "balance.topped_up": N_("A top-up was paid: the balance grew by its amount."),
    "balance.refunded": N_("A refund of a top-up reached the payer's account."),
    "balance.refund_failed": N_("A refund of a top-up failed: the amount is back in the balance."),
    "balance.paid_out": N_("A payout of the agency's earnings reached its payout account."),
    "balance.payout_failed": N_(
        "A payout of the agency's earnings failed or was rejected: the amount is back."
    ),
    service.PING: N_("A test event, sent only by “Send test event”."),
}
ACCESS_LABELS = {"read": N_("Read only"), "write": N_("Read and write")}
ACCESS_HELP = {
    "read": N_("GET requests only: campaigns, completions, balance and events."),
    "write": N_(
        "Also creates, funds, pauses and closes campaigns, contests completions and tops up "
        "the balance."
    ),
}
DELIVERY_TABS = {
    "all": N_("All"),
    "pending": N_("Pending"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
}
"""The deliveries page's tabs; the statuses are the service's own."""
ERROR_LABELS = {
    "timed out": N_("No answer in time"),
    "endpoint disabled": N_("The endpoint was disabled"),
    "address not allowed": N_("The URL's address is not allowed"),
    "tls failed": N_("The secure connection failed (check the certificate)"),
    "name not resolved": N_("The address's name was not found"),
    "connection failed": N_("Could not connect"),
    "connection broken": N_("The connection broke off"),
}
"""Words for the attempt errors the delivery names (``HTTP <status>`` is shown as it is)."""


def _page_url(org_id: UUID) -> str:
    return f"/orgs/{org_id}/integrations"


def _deliveries_url(org_id: UUID, endpoint_id: UUID, status: str = "all") -> str:
    url = f"{_page_url(org_id)}/webhooks/{endpoint_id}"
    return url if status == "all" else f"{url}?status={status}"


def _tab(status: str) -> str:
    return status if status in DELIVERY_TABS else "all"


async def _context(
    session: DbSession, actor: Actor, org_id: UUID, *, show_revoked: bool = False
) -> dict[str, Any]:
    # First: an organisation the actor may not see is "not found" here, before anything.
    org = await identity.get_organisation(session, actor=actor, org_id=org_id)
    manage = can(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id)
    # Keys are the owners' alone: members do not even learn their names.
    keys: list[OrgApiKey] = (
        await api_keys.keys_of(session, actor=actor, org_id=org_id, include_revoked=show_revoked)
        if manage
        else []
    )
    return {
        "org": org,
        "can_manage": manage,
        "keys": keys,
        "key_makers": await identity.display_names(session, (k.created_by for k in keys)),
        "show_revoked": show_revoked,
        "endpoints": await service.endpoints_of(session, actor=actor, org_id=org_id),
        "event_types": service.event_types_for(org.kind),
        "event_labels": EVENT_LABELS,
        "error_labels": ERROR_LABELS,
        "access_labels": ACCESS_LABELS,
        "access_help": ACCESS_HELP,
        "max_keys": api_keys.MAX_ACTIVE_KEYS,
        "max_endpoints": service.MAX_ENDPOINTS,
        "inbox_path": INBOX_PATH,
        "key_form": {},
        "endpoint_form": {},
        "revealed": None,
    }


def _shown_once(request: Request, context: dict[str, Any]) -> HTMLResponse:
    """The page with a key or secret in it: kept out of every cache and history store."""
    response = render(request, "integrations.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _page_with_error(
    request: Request, session: DbSession, actor: Actor, org_id: UUID, error: XingdongError
) -> Response:
    """The page again, with what went wrong where the action was."""
    context = await _context(session, actor, org_id)
    return render(request, "integrations.html", context, error=error)


@router.get("/orgs/{org_id}/integrations", response_class=HTMLResponse)
async def integrations_page(
    request: Request, org_id: UUID, session: DbSession, actor: PageActor, revoked: bool = False
) -> Response:
    """The organisation's API keys and webhook endpoints."""
    context = await _context(session, actor, org_id, show_revoked=revoked)
    return render(request, "integrations.html", context)


# --- API keys -------------------------------------------------------------------------


@router.post("/orgs/{org_id}/integrations/keys", dependencies=[CsrfChecked])
async def create_key_submit(
    request: Request,
    org_id: UUID,
    session: DbSession,
    actor: PageActor,
    name: FormStr = "",
    access: FormStr = "",
) -> Response:
    try:
        token, row = await attempt(
            session,
            lambda: api_keys.create_key(
                session, actor=actor, org_id=org_id, name=name, access=access
            ),
        )
    except XingdongError as exc:
        context = await _context(session, actor, org_id)
        context["key_form"] = {"name": name, "access": access}
        return render(request, "integrations.html", context, error=exc)
    context = await _context(session, actor, org_id)
    context["revealed"] = {"kind": "key", "value": token, "key": row}
    return _shown_once(request, context)


@router.post("/orgs/{org_id}/integrations/keys/{key_id}/revoke", dependencies=[CsrfChecked])
async def revoke_key_submit(
    request: Request, org_id: UUID, key_id: UUID, session: DbSession, actor: PageActor
) -> Response:
    try:
        await attempt(
            session,
            lambda: api_keys.revoke_key(session, actor=actor, org_id=org_id, key_id=key_id),
        )
    except XingdongError as exc:
        return await _page_with_error(request, session, actor, org_id, exc)
    return redirect(
        f"{_page_url(org_id)}#api-keys",
        N_("The API key is revoked: requests that send it are refused from now on."),
    )


# --- webhook endpoints ----------------------------------------------------------------


@router.post("/orgs/{org_id}/integrations/webhooks", dependencies=[CsrfChecked])
async def create_endpoint_submit(
    request: Request,
    org_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    url: FormStr = "",
    description: FormStr = "",
    event_types: Annotated[list[str] | None, Form()] = None,
) -> Response:
    chosen = event_types or []
    try:
        endpoint = await attempt(
            session,
            lambda: service.create_endpoint(
                session,
                actor=actor,
                org_id=org_id,
                url=url,
                description=description,
                event_types=chosen,
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        context = await _context(session, actor, org_id)
        context["endpoint_form"] = {"url": url, "description": description, "events": chosen}
        return render(request, "integrations.html", context, error=exc)
    return await _with_secret(request, session, actor, org_id, endpoint, rolled=False)


async def _with_secret(
    request: Request,
    session: DbSession,
    actor: Actor,
    org_id: UUID,
    endpoint: WebhookEndpoint,
    *,
    rolled: bool,
) -> Response:
    context = await _context(session, actor, org_id)
    context["revealed"] = {
        "kind": "rolled" if rolled else "secret",
        "value": endpoint.secret,
        "endpoint": endpoint,
    }
    return _shown_once(request, context)


@router.post(
    "/orgs/{org_id}/integrations/webhooks/{endpoint_id}/enabled", dependencies=[CsrfChecked]
)
async def enable_submit(
    request: Request,
    org_id: UUID,
    endpoint_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    enabled: FormStr = "",
) -> Response:
    """Turn an endpoint on (``enabled=true``) or off (``false``)."""
    try:
        turn_on = pressed(enabled, ("true", "false"), field="enabled") == "true"
        await attempt(
            session,
            lambda: service.update_endpoint(
                session,
                actor=actor,
                org_id=org_id,
                endpoint_id=endpoint_id,
                changes=service.EndpointChanges(enabled=turn_on),
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        return await _page_with_error(request, session, actor, org_id, exc)
    if turn_on:
        done = N_("The endpoint is enabled: new events are sent to it again.")
    else:
        done = N_("The endpoint is disabled: no new events are sent to it.")
    return redirect(f"{_page_url(org_id)}#endpoint-{endpoint_id}", done)


@router.post(
    "/orgs/{org_id}/integrations/webhooks/{endpoint_id}/roll-secret", dependencies=[CsrfChecked]
)
async def roll_secret_submit(
    request: Request, org_id: UUID, endpoint_id: UUID, session: DbSession, actor: PageActor
) -> Response:
    try:
        endpoint = await attempt(
            session,
            lambda: service.roll_secret(
                session, actor=actor, org_id=org_id, endpoint_id=endpoint_id
            ),
        )
    except XingdongError as exc:
        return await _page_with_error(request, session, actor, org_id, exc)
    return await _with_secret(request, session, actor, org_id, endpoint, rolled=True)


@router.post(
    "/orgs/{org_id}/integrations/webhooks/{endpoint_id}/delete", dependencies=[CsrfChecked]
)
async def delete_submit(
    request: Request, org_id: UUID, endpoint_id: UUID, session: DbSession, actor: PageActor
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.delete_endpoint(
                session, actor=actor, org_id=org_id, endpoint_id=endpoint_id
            ),
        )
    except XingdongError as exc:
        return await _page_with_error(request, session, actor, org_id, exc)
    return redirect(
        f"{_page_url(org_id)}#webhooks", N_("The endpoint and its deliveries are deleted.")
    )


@router.post("/orgs/{org_id}/integrations/webhooks/{endpoint_id}/test", dependencies=[CsrfChecked])
async def send_test_submit(
    request: Request,
    org_id: UUID,
    endpoint_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
) -> Response:
    """Send a ``ping``, then show the endpoint's deliveries, where it appears."""
    try:
        await attempt(
            session,
            lambda: service.send_test(
                session,
                actor=actor,
                org_id=org_id,
                endpoint_id=endpoint_id,
                limits=runtime.limits,
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        return await _page_with_error(request, session, actor, org_id, exc)
    return redirect(
        _deliveries_url(org_id, endpoint_id),
        N_("A test event is on its way; it is listed here with how it went."),
    )


# --- deliveries -----------------------------------------------------------------------


async def _deliveries_context(
    session: DbSession,
    actor: Actor,
    org_id: UUID,
    endpoint_id: UUID,
    *,
    status: str,
    cursor: str | None = None,
) -> dict[str, Any]:
    org = await identity.get_organisation(session, actor=actor, org_id=org_id)
    endpoint = await service.endpoint_of(
        session, actor=actor, org_id=org_id, endpoint_id=endpoint_id
    )
    tab = _tab(status)
    page = await service.deliveries_page(
        session,
        actor=actor,
        org_id=org_id,
        endpoint_id=endpoint_id,
        status=None if tab == "all" else tab,
        cursor=cursor,
    )
    return {
        "org": org,
        "endpoint": endpoint,
        "page": page,
        "status": tab,
        "tabs": DELIVERY_TABS,
        "event_labels": EVENT_LABELS,
        "error_labels": ERROR_LABELS,
        "can_manage": can(actor, Action.ORG_MANAGE_INTEGRATIONS, org_id=org_id),
    }


@router.get("/orgs/{org_id}/integrations/webhooks/{endpoint_id}", response_class=HTMLResponse)
async def deliveries_page(
    request: Request,
    org_id: UUID,
    endpoint_id: UUID,
    session: DbSession,
    actor: PageActor,
    status: str = "all",
    cursor: CursorQuery = None,
) -> Response:
    """An endpoint's deliveries, newest first, by status."""
    context = await _deliveries_context(
        session, actor, org_id, endpoint_id, status=status, cursor=cursor
    )
    return render(request, "webhook_deliveries.html", context)


@router.post(
    "/orgs/{org_id}/integrations/deliveries/{delivery_id}/redeliver", dependencies=[CsrfChecked]
)
async def redeliver_submit(
    request: Request,
    org_id: UUID,
    delivery_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    endpoint_id: Annotated[UUID, Form()],
    status: FormStr = "all",
) -> Response:
    """Send a delivery again; ``endpoint_id`` and ``status`` are the page the button was
    on, shown again with the error if there is one."""
    try:
        delivery = await attempt(
            session,
            lambda: service.redeliver(
                session,
                actor=actor,
                org_id=org_id,
                delivery_id=delivery_id,
                limits=runtime.limits,
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        context = await _deliveries_context(session, actor, org_id, endpoint_id, status=status)
        return render(request, "webhook_deliveries.html", context, error=exc)
    return redirect(
        _deliveries_url(org_id, delivery.endpoint_id, _tab(status)),
        N_("The delivery is being sent again."),
    )


# --- a campaign's statement -----------------------------------------------------------

STATEMENT_STATUSES = {
    "released": COMPLETION_LABELS["released"],
    "approved": COMPLETION_LABELS["approved"],
    "disputed_approved": N_("Contested, in hold until decided"),
    "submitted": COMPLETION_LABELS["submitted"],
    "disputed_rejected": N_("Rejected, appealed by the worker"),
    "rejected": COMPLETION_LABELS["rejected"],
    "clawed_back": COMPLETION_LABELS["clawed_back"],
}
"""The statement's completions by status, in this order: what is charged first. A dispute
is counted as what it was before (see ``completions.charged_counts``); a status not listed
here is shown as itself, after these."""


@dataclass(frozen=True)
class StatusRow:
    status: str
    label: str
    """Untranslated."""
    count: int
    billing: str | None
    """How these are charged (untranslated, ``statements.BILLING``); None: not charged."""
    amount: int


def status_rows(statement: statements.CampaignStatement) -> list[StatusRow]:
    counts = statement.completions
    shown = [s for s in STATEMENT_STATUSES if counts.get(s)]
    shown += sorted(s for s in counts if s not in STATEMENT_STATUSES and counts[s])
    price = statement.campaign.unit_price
    rows = []
    for status in shown:
        billing = statements.BILLING.get(status)
        count = counts[status]
        label = STATEMENT_STATUSES.get(status, status)
        rows.append(StatusRow(status, label, count, billing, count * price if billing else 0))
    return rows


def movement_lines(statement: statements.CampaignStatement) -> list[statements.StatementLine]:
    """The escrow's movements in the order money goes through a campaign: funded, paid,
    taken back, returned (the ledger sums them by code in the alphabet's order)."""
    order = list(statements.CODE_LABELS)
    return sorted(
        statement.lines,
        key=lambda line: (order.index(line.code) if line.code in order else len(order), line.code),
    )


@router.get("/campaigns/{campaign_id}/statement", response_class=HTMLResponse)
async def statement_page(
    request: Request, campaign_id: UUID, session: DbSession, actor: PageActor
) -> Response:
    """The campaign's statement as of now, to read, print or download as CSV."""
    statement = await statements.campaign_statement(session, actor=actor, campaign_id=campaign_id)
    org = await identity.get_organisation(session, actor=actor, org_id=statement.campaign.org_id)
    return render(
        request,
        "campaign_statement.html",
        {
            "org": org,
            "campaign": statement.campaign,
            "statement": statement,
            "lines": movement_lines(statement),
            "status_rows": status_rows(statement),
            "status_labels": CAMPAIGN_STATUS_LABELS,
        },
    )


@router.get("/campaigns/{campaign_id}/statement.csv")
async def statement_csv_download(
    campaign_id: UUID, session: DbSession, runtime: RuntimeDep, actor: PageActor
) -> Response:
    """The statement's lines, one per completion, with its header in the page's language."""
    campaign, body = await statements.statement_csv(
        session,
        actor=actor,
        campaign_id=campaign_id,
        secret=runtime.settings.secret_key.get_secret_value(),
        locale=current_locale.get(),
    )
    return statement_csv_response(campaign, body)


# --- an organisation's monthly account statement --------------------------------------


@router.get("/orgs/{org_id}/account-statement", response_class=HTMLResponse)
async def account_statement_page(
    request: Request,
    org_id: UUID,
    session: DbSession,
    actor: PageActor,
    month: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One month of the organisation's account: balances, movements by kind, and every
    movement with the balance after it (a hundred a page)."""
    try:
        statement = await account_statements.account_statement(
            session, actor=actor, org_id=org_id, month=month, cursor=cursor
        )
    except ValidationFailed as exc:
        # A month typed wrong shows this month, with the error next to the month field.
        statement = await account_statements.account_statement(
            session, actor=actor, org_id=org_id, month=None
        )
        return render(request, "account_statement.html", _statement_context(statement), error=exc)
    return render(request, "account_statement.html", _statement_context(statement))


def _statement_context(statement: account_statements.AccountStatement) -> dict[str, object]:
    current = account_statements.this_month()
    return {
        "org": statement.org,
        "statement": statement,
        "period": statement.period,
        "month": statement.month,
        "later": statement.month.following if statement.month != current else None,
        # No month before the organisation's first: it had no account then.
        "earlier": (
            statement.month.previous
            if statement.month != account_statements.this_month(statement.org.created_at)
            else None
        ),
        "entry_label": account_statements.entry_label,
        "reference_text": account_statements.reference_text,
    }


@router.get("/orgs/{org_id}/account-statement.csv")
async def account_statement_csv_download(
    org_id: UUID,
    session: DbSession,
    actor: PageActor,
    month: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Every movement of the month as CSV, in the page's language."""
    statement = await account_statements.account_statement(
        session, actor=actor, org_id=org_id, month=month, limit=None
    )
    return account_statement_response(statement, current_locale.get())
