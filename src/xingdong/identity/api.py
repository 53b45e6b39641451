"""REST endpoints of the identity domain, under ``/api/v1``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict

from xingdong.core.client_signals import signals_of
from xingdong.core.context import current_locale
from xingdong.core.pagination import Page
from xingdong.core.policy import Action, can
from xingdong.dispatch.live import live_dispatch
from xingdong.identity import (
    api_keys,
    erasure,
    org_accounts,
    org_closure,
    personal_data,
    service,
)
from xingdong.identity.downloads import personal_data_response
from xingdong.identity.models import Invitation, Organisation, Person
from xingdong.identity.schemas import (
    AccountStateIn,
    AccountStateOut,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    ClosureBlockerOut,
    ClosureCheckOut,
    ClosureIn,
    ClosureOut,
    ConsentOut,
    ConsentRequest,
    ErasureBlockerOut,
    ErasureCheckOut,
    ErasureIn,
    ErasureOnRequestIn,
    ErasureOut,
    InvitationAnswer,
    InvitationIn,
    InvitationOut,
    LinkedAccountIn,
    LinkedAccountOut,
    LoginRequest,
    MemberOut,
    MeOut,
    OrganisationIn,
    OrganisationOut,
    PasswordChange,
    PasswordResetRequest,
    PersonOut,
    PlatformAccountIn,
    PlatformAccountOut,
    ProfileUpdate,
    RegisterRequest,
    RoleChange,
    SmsCodeIssued,
    SmsCodeRequest,
    TokenOut,
)
from xingdong.identity.validation import mask_phone
from xingdong.risk import service as risk
from xingdong.web.audit_search import search_audit
from xingdong.web.deps import (
    ApiActor,
    ApiPerson,
    ApiPersonActor,
    ApiTokenDep,
    CursorQuery,
    DbSession,
    LimitQuery,
    RuntimeDep,
    client_ip,
)

router = APIRouter(prefix="/api/v1", tags=["identity"])

SearchQuery = Annotated[str | None, Query(max_length=80, description="Filter by name")]


@router.post("/auth/sms-codes", status_code=status.HTTP_201_CREATED)
async def send_sms_code(
    body: SmsCodeRequest, request: Request, session: DbSession, runtime: RuntimeDep
) -> SmsCodeIssued:
    """Send a one-time code to a phone number: to register (``purpose`` ``register``) or
    to set a new password (``reset``; a number with no account is answered the same, and
    nothing is sent)."""
    issued = await service.request_sms_code(
        session,
        phone=body.phone,
        purpose=body.purpose,
        settings=runtime.settings,
        sender=runtime.sms,
        limits=runtime.limits,
        ip=client_ip(request),
    )
    return SmsCodeIssued.model_validate(issued)


async def _token_for(
    session: DbSession, runtime: RuntimeDep, person: Person, name: str
) -> TokenOut:
    token, row = await service.issue_api_token(
        session, person=person, name=name, settings=runtime.settings
    )
    return TokenOut(access_token=token, expires_at=row.expires_at)


@router.post("/auth/register", status_code=status.HTTP_201_CREATED)
async def register(
    body: RegisterRequest, request: Request, session: DbSession, runtime: RuntimeDep
) -> TokenOut:
    """Create an account with the code sent by SMS; answers with an API token."""
    person = await service.register_person(
        session,
        phone=body.phone,
        code=body.code,
        password=body.password,
        display_name=body.display_name,
        settings=runtime.settings,
        screen=risk.registration_screen(session, signals_of(request), runtime.settings),
    )
    return await _token_for(session, runtime, person, "register")


@router.post("/auth/password-reset", status_code=status.HTTP_204_NO_CONTENT)
async def reset_password(
    body: PasswordResetRequest, session: DbSession, runtime: RuntimeDep
) -> Response:
    """Set a new password with the code sent to the number (``purpose`` ``reset``). The
    account is signed out everywhere: its sessions end and its API tokens stop working."""
    await service.reset_password(
        session, phone=body.phone, code=body.code, password=body.password,
        settings=runtime.settings,
    )  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/password", status_code=status.HTTP_201_CREATED)
async def change_my_password(
    body: PasswordChange, person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> TokenOut:
    """A new password, given the current one. Every session and API token of the account
    ends, this one too: the answer is a fresh token."""
    changed = await service.change_password(
        session, person=person, password=body.password, new_password=body.new_password,
        settings=runtime.settings, limits=runtime.limits,
    )  # fmt: skip
    return await _token_for(session, runtime, changed, "password-change")


@router.post("/auth/tokens", status_code=status.HTTP_201_CREATED)
async def login(
    body: LoginRequest, request: Request, session: DbSession, runtime: RuntimeDep
) -> TokenOut:
    """Sign in with phone and password; answers with a bearer token."""
    person = await service.authenticate(
        session,
        phone=body.phone,
        password=body.password,
        settings=runtime.settings,
        limits=runtime.limits,
        ip=client_ip(request),
    )
    await risk.note_login(
        session, person_id=person.id, signals=signals_of(request),
        settings=runtime.settings,
    )  # fmt: skip
    return await _token_for(session, runtime, person, body.token_name)


@router.delete("/auth/tokens/current", status_code=status.HTTP_204_NO_CONTENT)
async def logout(token: ApiTokenDep, session: DbSession, runtime: RuntimeDep) -> Response:
    """Revoke the token this request was made with."""
    await service.revoke_api_token(session, token_row=token[1])
    # The feed kept for it in this process goes now (others hear it from the database).
    live_dispatch(runtime.db, runtime.settings).facts.forget(str(token[0].id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _me(session: DbSession, runtime: RuntimeDep, person: Person, actor: ApiActor) -> MeOut:
    accepted = await service.has_current_consent(session, person=person, settings=runtime.settings)
    return MeOut(
        **PersonOut.model_validate(person).model_dump(),
        staff_roles=sorted(actor.staff_roles),
        agreement_version=runtime.settings.agreement_version,
        has_accepted_agreement=accepted,
    )


@router.get("/me")
async def read_me(
    person: ApiPerson, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> MeOut:
    return await _me(session, runtime, person, actor)


@router.patch("/me")
async def update_me(
    body: ProfileUpdate,
    person: ApiPerson,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
) -> MeOut:
    """Change profile fields; fields left out stay as they are, ``null`` clears the
    birth year."""
    sent = body.model_fields_set
    changes = service.ProfileChanges(
        display_name=body.display_name,
        birth_year=body.birth_year,
        region=body.region,
        interests=body.interests,
        locale=body.locale,
        clear_birth_year="birth_year" in sent and body.birth_year is None,
    )
    person = await service.update_profile(
        session, actor=actor, person_id=person.id, changes=changes,
        adult_age=runtime.settings.min_age_for_paid_tasks,
    )  # fmt: skip
    return await _me(session, runtime, person, actor)


@router.post("/me/consents", status_code=status.HTTP_201_CREATED)
async def accept_agreement(
    body: ConsentRequest,
    request: Request,
    person: ApiPerson,
    session: DbSession,
    runtime: RuntimeDep,
) -> list[ConsentOut]:
    """Accept the current user agreement version (recorded with time and address)."""
    await service.accept_agreement(
        session,
        person=person,
        version=body.version,
        settings=runtime.settings,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    rows = await service.consents(session, person=person)
    return [ConsentOut.model_validate(row) for row in rows]


@router.get(
    "/me/data-export",
    response_class=Response,
    responses={
        200: {
            "content": {"application/json": {}},
            "description": "Your copy of your data, as a file (docs/privacy.md).",
        }
    },
)
async def export_my_data(person: ApiPerson, session: DbSession, runtime: RuntimeDep) -> Response:
    """Everything the platform holds about you, as one JSON file to save (个人信息导出), with
    what is withheld and why. A few downloads an hour (``rate_limit_data_export``)."""
    export = await personal_data.download_personal_data(
        session, person=person, settings=runtime.settings, limits=runtime.limits, via="api"
    )
    return personal_data_response(export)


def _check_out(
    check: erasure.ErasureCheck, locale: str, *, about_them: bool = False
) -> ErasureCheckOut:
    return ErasureCheckOut(
        allowed=check.allowed,
        blockers=[
            ErasureBlockerOut(code=b.code, detail=b.text(locale, about_them=about_them))
            for b in check.blockers
        ],
        organisations_left=check.organisations_left,
        agency=check.agency,
        points_forfeited=check.points,
        remainder_given_up_fen=check.remainder,
    )


@router.get("/me/erasure")
async def erasure_check(
    person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> ErasureCheckOut:
    """Whether your account can be erased now, and what erasing it would do (注销账号)."""
    check = await erasure.erasure_check(session, person=person, settings=runtime.settings)
    return _check_out(check, current_locale.get())


@router.post("/me/erasure")
async def erase_my_account(
    body: ErasureIn, person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> ErasureOut:
    """Erase your account: it cannot be undone. Refused (``erasure_blocked``, 409, with
    ``blockers``) while tasks, money or withdrawals are unsettled, you hold a staff role
    or you are an organisation's only owner. Your token stops working at once."""
    receipt = await erasure.erase_account(
        session,
        person=person,
        password=body.password,
        confirmed=body.confirm,
        remainder_fen=body.remainder_given_up_fen,
        settings=runtime.settings,
        limits=runtime.limits,
        via="api",
    )
    return ErasureOut(person_id=UUID(receipt.person_id), erased_at=receipt.erased_at)


@router.get("/me/platform-accounts")
async def list_platform_accounts(person: ApiPerson, session: DbSession) -> list[PlatformAccountOut]:
    rows = await service.platform_accounts(session, person=person)
    return [PlatformAccountOut.model_validate(row) for row in rows]


@router.put("/me/platform-accounts", status_code=status.HTTP_200_OK)
async def bind_platform_account(
    body: PlatformAccountIn, person: ApiPerson, session: DbSession
) -> PlatformAccountOut:
    """Bind (or replace) the account on one platform."""
    row = await service.bind_platform_account(
        session,
        person=person,
        platform=body.platform,
        handle=body.handle,
        followers=body.followers,
    )
    return PlatformAccountOut.model_validate(row)


@router.delete("/me/platform-accounts/{platform}", status_code=status.HTTP_204_NO_CONTENT)
async def unbind_platform_account(platform: str, person: ApiPerson, session: DbSession) -> Response:
    await service.unbind_platform_account(session, person=person, platform=platform)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/invitations")
async def my_invitations(person: ApiPerson, session: DbSession) -> list[InvitationOut]:
    rows = await service.my_invitations(session, person=person)
    return [
        InvitationOut.model_validate(inv).model_copy(update={"org_name": org.name})
        for inv, org in rows
    ]


@router.post("/me/invitations/{invitation_id}")
async def answer_invitation(
    invitation_id: UUID, body: InvitationAnswer, person: ApiPerson, session: DbSession
) -> InvitationOut:
    """Accept or decline an invitation to an organisation."""
    invitation = await service.answer_invitation(
        session, person=person, invitation_id=invitation_id, accept=body.accept
    )
    return await _invitation_out(session, invitation)


async def _invitation_out(session: DbSession, invitation: Invitation) -> InvitationOut:
    """An invitation with the name of its organisation, as every answer gives it."""
    org = await session.get(Organisation, invitation.org_id)
    return InvitationOut.model_validate(invitation).model_copy(
        update={"org_name": org.name if org else None}
    )


@router.get("/orgs")
async def list_organisations(
    actor: ApiPersonActor,
    session: DbSession,
    q: SearchQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[OrganisationOut]:
    """The organisations the caller belongs to."""
    page = await service.my_organisations(
        session, actor=actor, search=q, cursor=cursor, limit=limit
    )
    return Page[OrganisationOut](
        items=[
            OrganisationOut.model_validate(org).model_copy(update={"my_role": role})
            for org, role in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.post("/orgs", status_code=status.HTTP_201_CREATED)
async def create_organisation(
    body: OrganisationIn, actor: ApiPersonActor, session: DbSession
) -> OrganisationOut:
    org = await service.create_organisation(session, actor=actor, kind=body.kind, name=body.name)
    return OrganisationOut.model_validate(org).model_copy(update={"my_role": "owner"})


@router.get("/orgs/{org_id}")
async def read_organisation(org_id: UUID, actor: ApiActor, session: DbSession) -> OrganisationOut:
    org = await service.get_organisation(session, actor=actor, org_id=org_id)
    role = actor.memberships.get(org_id)
    return OrganisationOut.model_validate(org).model_copy(
        update={"my_role": role.value if role else None}
    )


@router.get("/orgs/{org_id}/members")
async def list_members(
    org_id: UUID,
    actor: ApiActor,
    session: DbSession,
    q: SearchQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[MemberOut]:
    """Members of an organisation. Phone numbers are shown in full to those who manage
    members, masked to everyone else."""
    page = await service.organisation_members(
        session, actor=actor, org_id=org_id, search=q, cursor=cursor, limit=limit
    )
    full = can(actor, Action.ORG_MANAGE_MEMBERS, org_id=org_id)
    return Page[MemberOut](
        items=[
            MemberOut(
                person_id=p.id,
                display_name=p.display_name,
                phone=p.phone
                if full or (p.id == actor.person_id and actor.api_key_id is None)
                else mask_phone(p.phone),
                role=m.role,
                joined_at=m.created_at,
            )
            for m, p in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.post("/orgs/{org_id}/invitations", status_code=status.HTTP_201_CREATED)
async def invite_member(
    org_id: UUID, body: InvitationIn, actor: ApiActor, session: DbSession
) -> InvitationOut:
    """Invite a phone number to join (owners only). The invitee accepts after signing in."""
    invitation = await service.invite_member(
        session, actor=actor, org_id=org_id, phone=body.phone, role=body.role
    )
    return await _invitation_out(session, invitation)


@router.get("/orgs/{org_id}/invitations")
async def list_org_invitations(
    org_id: UUID, actor: ApiActor, session: DbSession
) -> list[InvitationOut]:
    """Invitations not yet answered; the numbers are masked except for those who manage
    members (as in the members list)."""
    rows = await service.pending_invitations(session, actor=actor, org_id=org_id)
    full = can(actor, Action.ORG_MANAGE_MEMBERS, org_id=org_id)
    answers = [await _invitation_out(session, row) for row in rows]
    return [
        answer if full else answer.model_copy(update={"phone": mask_phone(answer.phone)})
        for answer in answers
    ]


@router.delete("/orgs/{org_id}/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(
    org_id: UUID, invitation_id: UUID, actor: ApiActor, session: DbSession
) -> Response:
    await service.revoke_invitation(
        session, actor=actor, org_id=org_id, invitation_id=invitation_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/orgs/{org_id}/members/{person_id}")
async def change_member_role(
    org_id: UUID, person_id: UUID, body: RoleChange, actor: ApiActor, session: DbSession
) -> dict[str, str]:
    member = await service.change_member_role(
        session, actor=actor, org_id=org_id, person_id=person_id, role=body.role
    )
    return {"person_id": str(member.person_id), "role": member.role}


@router.delete("/orgs/{org_id}/members/{person_id}", status_code=204)
async def remove_member(
    org_id: UUID, person_id: UUID, actor: ApiActor, session: DbSession
) -> Response:
    await service.remove_member(session, actor=actor, org_id=org_id, person_id=person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/people/{person_id}")
async def read_person(person_id: UUID, actor: ApiActor, session: DbSession) -> PersonOut:
    """A person's profile: oneself, or anyone for operators."""
    person = await service.get_person(session, actor=actor, person_id=person_id)
    return PersonOut.model_validate(person)


# --- closing the organisation (owners, with a person's token) -------------------------


@router.get("/orgs/{org_id}/closure")
async def closure_check(
    org_id: UUID, actor: ApiPersonActor, session: DbSession, runtime: RuntimeDep
) -> ClosureCheckOut:
    """Whether the organisation can be closed now, and what closing it would do (owners)."""
    org, check = await org_closure.closure_check(
        session, actor=actor, org_id=org_id, settings=runtime.settings
    )
    locale = current_locale.get()
    return ClosureCheckOut(
        allowed=check.allowed,
        blockers=[ClosureBlockerOut(code=b.code, detail=b.text(locale)) for b in check.blockers],
        name=org.name,
        members_leaving=check.members,
        invitations_withdrawn=check.invitations,
        offers_withdrawn=check.offers,
        api_keys_revoked=check.api_keys,
        webhook_endpoints_disabled=check.webhook_endpoints,
        unpaid_top_ups_closed=check.unpaid_top_ups,
        remainder_given_up_fen=check.remainder,
    )


@router.post("/orgs/{org_id}/closure")
async def close_organisation(
    org_id: UUID,
    body: ClosureIn,
    person: ApiPerson,
    actor: ApiPersonActor,
    session: DbSession,
    runtime: RuntimeDep,
) -> ClosureOut:
    """Close the organisation for good (owners): it cannot be undone. Refused
    (``closure_blocked``, 409, with ``blockers``) while campaigns are not closed, work on
    them or money is unsettled, or creators are under contract. Every member leaves, its
    API keys stop working and its webhook endpoints are switched off at once."""
    receipt = await org_closure.close_organisation(
        session,
        actor=actor,
        person=person,
        org_id=org_id,
        name=body.name,
        password=body.password,
        remainder_fen=body.remainder_given_up_fen,
        settings=runtime.settings,
        limits=runtime.limits,
        via="api",
        payments=runtime.payments,
    )
    return ClosureOut(org_id=receipt.org_id, closed_at=receipt.closed_at)


# --- operators: freezing and unfreezing an account -------------------------------------


@router.post("/ops/people/{person_id}/freeze", tags=["ops"])
async def freeze_account(
    person_id: UUID, body: AccountStateIn, actor: ApiPersonActor, session: DbSession
) -> AccountStateOut:
    """Stop an account: it can no longer sign in (operators; not your own, and a staff
    account only as an admin). Its tasks and money stay as they are."""
    changed = await service.freeze_account(session, actor=actor, person_id=person_id, why=body.why)
    return AccountStateOut(person_id=person_id, frozen=True, changed=changed)


@router.post("/ops/people/{person_id}/unfreeze", tags=["ops"])
async def unfreeze_account(
    person_id: UUID, body: AccountStateIn, actor: ApiPersonActor, session: DbSession
) -> AccountStateOut:
    """Let a frozen account sign in again (operators); an erased one stays erased."""
    changed = await service.unfreeze_account(
        session, actor=actor, person_id=person_id, why=body.why
    )
    return AccountStateOut(person_id=person_id, frozen=False, changed=changed)


# --- admins: erasing an account on the person's request --------------------------------


@router.get("/ops/people/{person_id}/erasure", tags=["ops"])
async def erasure_check_for_person(
    person_id: UUID, actor: ApiPersonActor, session: DbSession, runtime: RuntimeDep
) -> ErasureCheckOut:
    """Whether the person's account can be erased now, and what erasing it would do
    (admins)."""
    person = await erasure.person_to_erase(session, actor=actor, person_id=person_id)
    check = await erasure.erasure_check(session, person=person, settings=runtime.settings)
    return _check_out(check, current_locale.get(), about_them=True)


@router.post("/ops/people/{person_id}/erasure", tags=["ops"])
async def erase_for_person(
    person_id: UUID,
    body: ErasureOnRequestIn,
    actor: ApiPersonActor,
    session: DbSession,
    runtime: RuntimeDep,
) -> ErasureOut:
    """Erase the account on the person's request made by other means (admins; not your
    own). It cannot be undone. Refused while its work or money is unsettled
    (``erasure_blocked``, 409, with ``blockers``) or while it is frozen
    (``person_frozen``, 409)."""
    receipt = await erasure.erase_for_person(
        session,
        actor=actor,
        person_id=person_id,
        why=body.why,
        confirmed=body.confirm,
        remainder_fen=body.remainder_given_up_fen,
        settings=runtime.settings,
    )
    return ErasureOut(person_id=UUID(receipt.person_id), erased_at=receipt.erased_at)


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    created_at: datetime
    action: str
    object_type: str
    object_id: str
    actor_id: UUID | None
    data: dict[str, Any]


@router.get("/ops/audit", tags=["ops"])
async def search_audit_log(
    actor: ApiActor,
    session: DbSession,
    action: Annotated[str, Query(max_length=64)] = "",
    about: Annotated[str, Query(max_length=64, alias="object")] = "",
    who: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> Page[AuditEntryOut]:
    """The audit log, newest first, fifty a page (operators): ``action`` matches the
    start of the action (``identity.``), ``object`` an object's id exactly, ``who`` the
    person who acted (a phone number or an id; ``system`` for jobs and the command line)."""
    found = await search_audit(
        session, actor=actor, action=action, object_id=about, who=who, cursor=cursor
    )
    return Page[AuditEntryOut](
        items=[AuditEntryOut.model_validate(e) for e in found.items],
        next_cursor=found.next_cursor,
    )


# --- the organisation's linked platform accounts --------------------------------------


@router.get("/orgs/{org_id}/accounts")
async def list_linked_accounts(
    org_id: UUID, actor: ApiActor, session: DbSession
) -> Page[LinkedAccountOut]:
    """The short-video accounts the organisation has linked: those its campaigns promote
    as its own (members; one page, at most 50)."""
    rows = await org_accounts.linked_accounts(session, actor=actor, org_id=org_id)
    return Page[LinkedAccountOut](items=[LinkedAccountOut.model_validate(r) for r in rows])


@router.post(
    "/orgs/{org_id}/accounts",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": LinkedAccountOut, "description": "Already linked: the link."}},
)
async def link_account(
    org_id: UUID, body: LinkedAccountIn, actor: ApiPersonActor, session: DbSession,
    response: Response,
) -> LinkedAccountOut:  # fmt: skip
    """Link an account the platform lets the organisation, or you, manage (owners).
    Linking it again answers 200 with the same link."""
    row, created = await org_accounts.link_account(
        session, actor=actor, org_id=org_id, platform=body.platform, handle=body.handle
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return LinkedAccountOut.model_validate(row)


@router.delete("/orgs/{org_id}/accounts/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_account(
    org_id: UUID, link_id: UUID, actor: ApiPersonActor, session: DbSession
) -> None:
    """Unlink an account (owners). Campaigns already made on it go on."""
    await org_accounts.unlink_account(session, actor=actor, org_id=org_id, link_id=link_id)


# --- the organisation's API keys (owners, with a person's token) ---------------------


@router.get("/orgs/{org_id}/api-keys")
async def list_api_keys(
    org_id: UUID, actor: ApiPersonActor, session: DbSession, include_revoked: bool = False
) -> list[ApiKeyOut]:
    """The organisation's API keys, newest first: never the keys themselves (owners)."""
    rows = await api_keys.keys_of(
        session, actor=actor, org_id=org_id, include_revoked=include_revoked
    )
    return [ApiKeyOut.model_validate(row) for row in rows]


@router.post("/orgs/{org_id}/api-keys", status_code=status.HTTP_201_CREATED)
async def create_api_key(
    org_id: UUID, body: ApiKeyIn, actor: ApiPersonActor, session: DbSession
) -> ApiKeyCreated:
    """A new key for the organisation's own systems (owners). The answer holds the key
    itself, this once: keep it; only its first characters are shown again."""
    token, row = await api_keys.create_key(
        session, actor=actor, org_id=org_id, name=body.name, access=body.access
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=token)


@router.post("/orgs/{org_id}/api-keys/{key_id}/revoke")
async def revoke_api_key(
    org_id: UUID, key_id: UUID, actor: ApiPersonActor, session: DbSession
) -> ApiKeyOut:
    """Stop a key working at once (owners)."""
    row = await api_keys.revoke_key(session, actor=actor, org_id=org_id, key_id=key_id)
    return ApiKeyOut.model_validate(row)
