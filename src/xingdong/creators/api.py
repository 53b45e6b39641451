"""REST endpoints of agencies (MCN) and their creators, under ``/api/v1``."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status

from xingdong.core.pagination import Page
from xingdong.core.policy import Action, can
from xingdong.creators import agencies
from xingdong.creators.models import AgencyContract
from xingdong.creators.schemas import (
    AgencyOut,
    ContractOffer,
    ContractOut,
    MyAgencyOut,
    OfferAnswer,
    RosterItemOut,
)
from xingdong.identity.models import Organisation
from xingdong.identity.validation import mask_phone
from xingdong.ledger import withdrawals
from xingdong.ledger.api import (
    PayoutAccountIn,
    PayoutAccountOut,
    WithdrawalIn,
    WithdrawalOut,
    withdrawals_page,
)
from xingdong.web.deps import (
    ApiActor,
    ApiPerson,
    CursorQuery,
    DbSession,
    IdempotencyKey,
    LimitQuery,
    RuntimeDep,
)

router = APIRouter(prefix="/api/v1", tags=["agencies"])

SearchQuery = Annotated[str | None, Query(max_length=80, description="Name or phone")]
StatusQuery = Annotated[
    Literal["active", "offered", "closed"],
    Query(description="Contracts in force, offers waiting, or the rest"),
]


def _contract(contract: AgencyContract, org: Organisation | None = None) -> ContractOut:
    out = ContractOut.model_validate(contract)
    return out.model_copy(update={"agency_name": org.name}) if org is not None else out


@router.get("/orgs/{org_id}/agency")
async def agency_summary(org_id: UUID, actor: ApiActor, session: DbSession) -> AgencyOut:
    """An agency's balance of shares received and how many contracts it has in each state."""
    org = await agencies.agency_of(session, actor=actor, org_id=org_id)
    counts = await agencies.count_contracts(session, org_id)
    balance = await agencies.agency_balance(session, org_id)
    return AgencyOut(org_id=org.id, name=org.name, balance_fen=balance.available, **counts)


@router.post("/orgs/{org_id}/creators", status_code=status.HTTP_201_CREATED)
async def offer_contract(
    org_id: UUID, body: ContractOffer, actor: ApiActor, session: DbSession
) -> ContractOut:
    """Offer a creator a contract (owners of an agency). The creator answers after signing
    in; the share applies to rewards of tasks they take while the contract is in force."""
    contract = await agencies.offer_contract(
        session, actor=actor, org_id=org_id, phone=body.phone, share_percent=body.share_percent
    )
    return _contract(contract)


@router.get("/orgs/{org_id}/creators")
async def list_creators(
    org_id: UUID,
    actor: ApiActor,
    session: DbSession,
    contract_status: Annotated[StatusQuery, Query(alias="status")] = "active",
    q: SearchQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[RosterItemOut]:
    """The agency's creators (or offers, or closed contracts), oldest first. Phone
    numbers are shown in full to owners, masked to other members."""
    page = await agencies.roster(
        session,
        actor=actor,
        org_id=org_id,
        status=contract_status,
        search=q,
        cursor=cursor,
        limit=limit,
    )
    full = can(actor, Action.ORG_SIGN_CREATORS, org_id=org_id)
    items = []
    for entry in page.items:
        contract = _contract(entry.contract)
        if not full:
            contract = contract.model_copy(update={"phone": mask_phone(contract.phone)})
        items.append(
            RosterItemOut(
                contract=contract,
                person_id=entry.person.id if entry.person else None,
                display_name=entry.person.display_name if entry.person else None,
                tier=entry.tier,
                followers=entry.followers,
                shared_fen=entry.shared,
            )
        )
    return Page[RosterItemOut](items=items, next_cursor=page.next_cursor)


@router.post("/orgs/{org_id}/creators/{contract_id}/close")
async def close_contract(
    org_id: UUID, contract_id: UUID, actor: ApiActor, session: DbSession
) -> ContractOut:
    """Withdraw an offer not yet answered, or end a contract in force (owners). Rewards of
    tasks taken before the end still pay the agency its share when they leave their hold."""
    contract = await agencies.close_contract(
        session, actor=actor, org_id=org_id, contract_id=contract_id
    )
    return _contract(contract)


@router.put("/orgs/{org_id}/payout-account", status_code=status.HTTP_201_CREATED)
async def bind_payout_account(
    org_id: UUID, body: PayoutAccountIn, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> PayoutAccountOut:
    """Bind the account an agency's payouts go to (owners, once)."""
    account = await agencies.bind_payout_account(
        session, actor=actor, org_id=org_id, form=body.form(), settings=runtime.settings
    )
    return PayoutAccountOut.of(account)


@router.post("/orgs/{org_id}/withdrawals", status_code=status.HTTP_201_CREATED)
async def request_payout(
    org_id: UUID,
    body: WithdrawalIn,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey,
) -> WithdrawalOut:
    """Pay the agency's shares out to its payout account (owners; fee included in the
    amount). Every such payout waits for an operator's approval."""
    withdrawal = await agencies.request_payout(
        session,
        actor=actor,
        org_id=org_id,
        amount=body.amount_fen,
        idempotency_key=idempotency_key,
        settings=runtime.settings,
    )
    return WithdrawalOut.model_validate(withdrawal)


@router.get("/orgs/{org_id}/withdrawals")
async def list_payouts(
    org_id: UUID,
    actor: ApiActor,
    session: DbSession,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[WithdrawalOut]:
    """The agency's payouts, newest first, a page at a time."""
    rows = await withdrawals.withdrawals_of_org(
        session, actor=actor, org_id=org_id, limit=limit + 1, cursor=cursor
    )
    return withdrawals_page(rows, limit)


@router.get("/me/agency")
async def my_agency(person: ApiPerson, session: DbSession) -> MyAgencyOut:
    """The agency that manages me (if any) and the offers waiting for my answer."""
    mine = await agencies.my_agency(session, person=person)
    return MyAgencyOut(
        contract=_contract(mine.contract, mine.agency) if mine.contract else None,
        shared_fen=mine.shared,
        offers=[_contract(c, o) for c, o in mine.offers],
    )


@router.post("/me/agency-offers/{contract_id}")
async def answer_offer(
    contract_id: UUID, body: OfferAnswer, person: ApiPerson, session: DbSession
) -> ContractOut:
    """Accept or decline an agency's offer. Accepting is refused while another agency's
    contract is in force."""
    contract = await agencies.answer_offer(
        session, person=person, contract_id=contract_id, accept=body.accept
    )
    return _contract(contract, await session.get(Organisation, contract.org_id))


@router.post("/me/agency/leave")
async def leave_agency(person: ApiPerson, session: DbSession) -> ContractOut:
    """End my contract with my agency. Tasks taken from now on are mine alone."""
    contract = await agencies.leave_agency(session, person=person)
    return _contract(contract, await session.get(Organisation, contract.org_id))
