"""REST endpoints of events and webhooks, under ``/api/v1``: the organisation's event list
(members and API keys) and its webhook endpoints (owners change them; members and keys
read them)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi import status as http_status

from xingdong.core.context import current_locale
from xingdong.core.pagination import Page
from xingdong.insights import account_statements, service, statements
from xingdong.insights.brand_overview import brand_overview
from xingdong.insights.downloads import account_statement_response, statement_csv_response
from xingdong.insights.schemas import (
    AccountStatementOut,
    BrandOverviewOut,
    DeliveryOut,
    DeliveryStatus,
    EndpointChange,
    EndpointIn,
    EndpointOut,
    EndpointWithSecret,
    EventOut,
    StatementOut,
)
from xingdong.insights.service import DeliveryRow
from xingdong.web.deps import ApiActor, CursorQuery, DbSession, LimitQuery, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["events and webhooks"])

TypeQuery = Annotated[str | None, Query(max_length=40, description="Only events of this type")]


@router.get("/orgs/{org_id}/events")
async def list_events(
    org_id: UUID,
    actor: ApiActor,
    session: DbSession,
    type: TypeQuery = None,  # noqa: A002 - the query parameter's name
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[EventOut]:
    """The organisation's events, newest first, each as its webhooks send it (kept for
    ``webhook_event_retention_days``)."""
    page = await service.events_page(
        session, actor=actor, org_id=org_id, type=type, cursor=cursor, limit=limit
    )
    return Page[EventOut](items=[EventOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/orgs/{org_id}/overview", tags=["campaigns"])
async def read_overview(org_id: UUID, actor: ApiActor, session: DbSession) -> BrandOverviewOut:
    """The brand's figures across its campaigns now: campaigns by status, hand-ins waiting,
    what was paid this month and is in hold, what escrow holds, the balance, and the live
    campaigns behind their plan (members, API keys, operators)."""
    return BrandOverviewOut.of(await brand_overview(session, actor=actor, org_id=org_id))


@router.get("/orgs/{org_id}/webhooks")
async def list_endpoints(org_id: UUID, actor: ApiActor, session: DbSession) -> list[EndpointOut]:
    """The organisation's webhook endpoints with how their deliveries went (never their
    secrets)."""
    summaries = await service.endpoints_of(session, actor=actor, org_id=org_id)
    return [EndpointOut.of(s.endpoint, s) for s in summaries]


@router.post("/orgs/{org_id}/webhooks", status_code=http_status.HTTP_201_CREATED)
async def create_endpoint(
    org_id: UUID, body: EndpointIn, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> EndpointWithSecret:
    """Register an endpoint (owners, with a person's token). The answer holds its signing
    secret, this once."""
    endpoint = await service.create_endpoint(
        session,
        actor=actor,
        org_id=org_id,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        settings=runtime.settings,
    )
    return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=endpoint.secret)


@router.patch("/orgs/{org_id}/webhooks/{endpoint_id}")
async def change_endpoint(
    org_id: UUID,
    endpoint_id: UUID,
    body: EndpointChange,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
) -> EndpointOut:
    """Change the URL, description, event types or ``enabled`` (owners); fields left out
    stay as they are."""
    endpoint = await service.update_endpoint(
        session,
        actor=actor,
        org_id=org_id,
        endpoint_id=endpoint_id,
        changes=service.EndpointChanges(
            url=body.url,
            description=body.description,
            event_types=body.event_types,
            enabled=body.enabled,
        ),
        settings=runtime.settings,
    )
    return EndpointOut.of(endpoint)


@router.delete("/orgs/{org_id}/webhooks/{endpoint_id}", status_code=204)
async def delete_endpoint(
    org_id: UUID, endpoint_id: UUID, actor: ApiActor, session: DbSession
) -> Response:
    """Remove the endpoint and its deliveries (owners); the events stay listable."""
    await service.delete_endpoint(session, actor=actor, org_id=org_id, endpoint_id=endpoint_id)
    return Response(status_code=http_status.HTTP_204_NO_CONTENT)


@router.post("/orgs/{org_id}/webhooks/{endpoint_id}/roll-secret")
async def roll_secret(
    org_id: UUID, endpoint_id: UUID, actor: ApiActor, session: DbSession
) -> EndpointWithSecret:
    """A new signing secret at once (owners): the old one signs nothing more."""
    endpoint = await service.roll_secret(
        session, actor=actor, org_id=org_id, endpoint_id=endpoint_id
    )
    return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=endpoint.secret)


@router.post(
    "/orgs/{org_id}/webhooks/{endpoint_id}/test", status_code=http_status.HTTP_202_ACCEPTED
)
async def send_test(
    org_id: UUID, endpoint_id: UUID, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> DeliveryOut:
    """Send a ``ping`` event to this endpoint now (owners)."""
    delivery = await service.send_test(
        session, actor=actor, org_id=org_id, endpoint_id=endpoint_id,
        limits=runtime.limits, settings=runtime.settings,
    )  # fmt: skip
    event = await service.event_of(session, delivery.event_id)
    return DeliveryOut.of(DeliveryRow(delivery, event))


@router.get("/orgs/{org_id}/webhooks/{endpoint_id}/deliveries")
async def list_deliveries(
    org_id: UUID,
    endpoint_id: UUID,
    actor: ApiActor,
    session: DbSession,
    status: DeliveryStatus | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[DeliveryOut]:
    """The endpoint's deliveries, newest first (``status`` filters)."""
    page = await service.deliveries_page(
        session,
        actor=actor,
        org_id=org_id,
        endpoint_id=endpoint_id,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return Page[DeliveryOut](
        items=[DeliveryOut.of(row) for row in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/orgs/{org_id}/webhook-deliveries/{delivery_id}/redeliver",
    status_code=http_status.HTTP_202_ACCEPTED,
)
async def redeliver(
    org_id: UUID, delivery_id: UUID, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> DeliveryOut:
    """Send the delivery again now, whatever became of it (owners)."""
    delivery = await service.redeliver(
        session, actor=actor, org_id=org_id, delivery_id=delivery_id,
        limits=runtime.limits, settings=runtime.settings,
    )  # fmt: skip
    event = await service.event_of(session, delivery.event_id)
    return DeliveryOut.of(DeliveryRow(delivery, event))


@router.get("/campaigns/{campaign_id}/statement")
async def campaign_statement(
    campaign_id: UUID, actor: ApiActor, session: DbSession
) -> StatementOut:
    """The campaign's statement (对账单): its escrow's posted movements by kind, the
    completions it paid for, and whether the two agree (members, keys and operators)."""
    statement = await statements.campaign_statement(session, actor=actor, campaign_id=campaign_id)
    return StatementOut.of(statement, locale=current_locale.get())


@router.get(
    "/campaigns/{campaign_id}/statement.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per completion."}},
)
async def campaign_statement_csv(
    campaign_id: UUID, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> Response:
    """The statement's lines, one per completion handed in, oldest first: its pseudonymous
    worker, status, times (Beijing time) and what it charged."""
    campaign, body = await statements.statement_csv(
        session,
        actor=actor,
        campaign_id=campaign_id,
        secret=runtime.settings.secret_key.get_secret_value(),
        locale=current_locale.get(),
    )
    return statement_csv_response(campaign, body)


MonthQuery = Annotated[
    str | None, Query(max_length=7, description="YYYY-MM in Beijing time; this month if empty")
]


@router.get("/orgs/{org_id}/account-statement")
async def organisation_account_statement(
    org_id: UUID,
    actor: ApiActor,
    session: DbSession,
    month: MonthQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = account_statements.PAGE_SIZE,
) -> AccountStatementOut:
    """The organisation's account for one month (机构对账单): the balance when it began
    and when it ended (now, for this month), its movements by kind, and a page of the
    movements with the balance after each (members, keys and operators)."""
    statement = await account_statements.account_statement(
        session, actor=actor, org_id=org_id, month=month, cursor=cursor, limit=limit
    )
    return AccountStatementOut.of(statement, locale=current_locale.get())


@router.get(
    "/orgs/{org_id}/account-statement.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per movement."}},
)
async def organisation_account_statement_csv(
    org_id: UUID, actor: ApiActor, session: DbSession, month: MonthQuery = None
) -> Response:
    """Every movement of the month, between the opening and the closing balance, as CSV
    (Beijing times, yuan, the reader's language)."""
    statement = await account_statements.account_statement(
        session, actor=actor, org_id=org_id, month=month, limit=None
    )
    return account_statement_response(statement, current_locale.get())
