"""Web pages of the identity domain: sign-in, registration, profile, organisations."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from xingdong.core.client_signals import signals_of
from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, ValidationFailed, XingdongError
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.numbers import whole_number
from xingdong.core.policy import Action, can
from xingdong.creators import agencies, tiers
from xingdong.identity import erasure, org_accounts, org_closure, personal_data, service
from xingdong.identity.downloads import personal_data_response
from xingdong.identity.models import Person
from xingdong.identity.validation import INTERESTS, REGIONS
from xingdong.ledger import deposits, refunds
from xingdong.risk import service as risk
from xingdong.web.deps import (
    SESSION_COOKIE,
    CsrfChecked,
    DbSession,
    OptionalPageActor,
    PageActor,
    PagePerson,
    RuntimeDep,
    attempt,
    client_ip,
    pressed,
    runtime_of,
)
from xingdong.web.middleware import cookie_is_secure
from xingdong.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the sign-in page cannot redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


# --- sign in / out -------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, actor: OptionalPageActor, target: Annotated[str, Query(alias="next")] = "/"
) -> Response:
    if actor is not None:
        return redirect(_safe_next(target))
    expired = request.query_params.get("expired") == "1" or getattr(
        request.state, "session_expired", False
    )
    # Sent here from a page that needs a signed-in person (web/problems.py), who never
    # signed in or signed out: asked to sign in, not told of a session they never had.
    asked = not expired and "next" in request.query_params
    return render(
        request,
        "login.html",
        {"next": _safe_next(target), "expired": expired, "asked": asked},
    )


@router.post("/login", dependencies=[CsrfChecked])
async def login_submit(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    phone: FormStr = "",
    password: FormStr = "",
    target: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    signals = signals_of(request, await request.form())
    try:
        person = await attempt(
            session,
            lambda: service.authenticate(
                session,
                phone=phone,
                password=password,
                settings=runtime.settings,
                limits=runtime.limits,
                ip=client_ip(request),
            ),
        )
    except XingdongError as exc:
        return render(
            request, "login.html", {"next": _safe_next(target), "phone": phone}, error=exc
        )
    await risk.note_login(
        session, person_id=person.id, signals=signals,
        settings=runtime.settings,
    )  # fmt: skip
    return await _signed_in(request, session, runtime, person, _safe_next(target))


async def _signed_in(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    person: Person,
    target: str,
    done: str | None = None,
) -> Response:
    token = await service.open_web_session(
        session,
        person=person,
        settings=runtime.settings,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response = redirect(target, done)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=runtime.settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(request, runtime.settings.cookie_secure),
    )
    return response


@router.post("/logout", dependencies=[CsrfChecked])
async def logout(request: Request, session: DbSession) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.close_web_session(session, token=token)
    response = redirect("/login", N_("You have signed out."))
    response.delete_cookie(SESSION_COOKIE)
    return response


# --- registration ---------------------------------------------------------------------


@router.get("/register", response_class=HTMLResponse)
async def register_page(request: Request, actor: OptionalPageActor) -> Response:
    if actor is not None:
        return redirect("/")
    return render(request, "register.html", {})


@router.post("/register/code", dependencies=[CsrfChecked])
async def register_send_code(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    phone: FormStr = "",
    display_name: FormStr = "",
) -> Response:
    context: dict[str, object] = {"phone": phone, "display_name": display_name}
    return await _send_code(request, session, runtime, "register", "register.html", context)


async def _send_code(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    purpose: str,
    template: str,
    context: dict[str, object],
) -> Response:
    """A form's *Send code*: the code for ``purpose`` to ``context["phone"]``, then the
    form again, saying it was sent (and the code itself in the demo)."""
    try:
        issued = await attempt(
            session,
            lambda: service.request_sms_code(
                session,
                phone=str(context["phone"]),
                purpose=purpose,
                settings=runtime.settings,
                sender=runtime.sms,
                limits=runtime.limits,
                ip=client_ip(request),
            ),
        )
    except XingdongError as exc:
        return render(request, template, context, error=exc)
    context.update(code_sent=True, demo_code=issued.code, phone=issued.phone)
    return render(request, template, context)


@router.post("/register", dependencies=[CsrfChecked])
async def register_submit(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    phone: FormStr = "",
    code: FormStr = "",
    password: FormStr = "",
    display_name: FormStr = "",
) -> Response:
    screen = risk.registration_screen(
        session, signals_of(request, await request.form()), runtime.settings
    )
    try:
        person = await attempt(
            session,
            lambda: service.register_person(
                session,
                phone=phone,
                code=code,
                password=password,
                display_name=display_name,
                settings=runtime.settings,
                screen=screen,
            ),
        )
    except XingdongError as exc:
        # The code typed stays (it is still good after, say, a weak password); nothing
        # was sent by this step, so the page does not say so.
        context = {"phone": phone, "display_name": display_name, "code": code}
        return render(request, "register.html", context, error=exc)
    return await _signed_in(request, session, runtime, person, "/profile?welcome=1")


# --- the user agreement ---------------------------------------------------------------


@router.get("/agreement", response_class=HTMLResponse)
async def agreement_page(request: Request, runtime: RuntimeDep) -> Response:
    """The user agreement in force, for anyone to read before accepting it."""
    settings = runtime.settings
    return render(
        request,
        "agreement.html",
        {
            "agreement_version": settings.agreement_version,
            "min_age": settings.min_age_for_paid_tasks,
            "hold_hours": settings.hold_hours,
            "fee_fen": settings.withdrawal_fee_fen,
            "limit_fen": settings.withdrawal_daily_limit_fen,
        },
    )


# --- a forgotten password -------------------------------------------------------------


@router.get("/password-reset", response_class=HTMLResponse)
async def password_reset_page(request: Request) -> Response:
    return render(request, "password_reset.html", {})


@router.post("/password-reset/code", dependencies=[CsrfChecked])
async def password_reset_send_code(
    request: Request, session: DbSession, runtime: RuntimeDep, phone: FormStr = ""
) -> Response:
    context: dict[str, object] = {"phone": phone}
    return await _send_code(request, session, runtime, "reset", "password_reset.html", context)


@router.post("/password-reset", dependencies=[CsrfChecked])
async def password_reset_submit(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    phone: FormStr = "",
    code: FormStr = "",
    password: FormStr = "",
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.reset_password(
                session, phone=phone, code=code, password=password, settings=runtime.settings
            ),
        )
    except XingdongError as exc:
        context = {"phone": phone, "code": code}
        return render(request, "password_reset.html", context, error=exc)
    response = redirect(
        "/login",
        N_("Your password is changed, and you are signed out everywhere. Sign in with it."),
    )
    response.delete_cookie(SESSION_COOKIE)
    return response


# --- profile --------------------------------------------------------------------------


async def _profile_context(
    session: DbSession, runtime: RuntimeDep, person: PagePerson
) -> dict[str, object]:
    accounts = await service.platform_accounts(session, person=person)
    return {
        "person": person,
        "regions": REGIONS,
        "interests": INTERESTS,
        "this_year": utcnow().year,
        "agreement_version": runtime.settings.agreement_version,
        "has_consent": await service.has_current_consent(
            session, person=person, settings=runtime.settings
        ),
        "accounts": accounts,
        "my_tiers": {tiers.tier_for_followers(a.followers) for a in accounts},
        "tier_of": tiers.tier_for_followers,
        "tier_ladder": tiers.ladder(),
        "tier_labels": tiers.TIER_LABELS,
        "agency": await agencies.my_agency(session, person=person),
    }


@router.get("/profile", response_class=HTMLResponse)
async def profile_page(
    request: Request, session: DbSession, runtime: RuntimeDep, person: PagePerson
) -> Response:
    context = await _profile_context(session, runtime, person)
    context["welcome"] = request.query_params.get("welcome") == "1"
    return render(request, "profile.html", context)


@router.post("/profile/password", dependencies=[CsrfChecked])
async def change_password(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    password: FormStr = "",
    new_password: FormStr = "",
) -> Response:
    """A new password; other devices are signed out, this browser gets a fresh session."""
    try:
        changed = await attempt(
            session,
            lambda: service.change_password(
                session, person=person, password=password, new_password=new_password,
                settings=runtime.settings, limits=runtime.limits,
            ),
        )  # fmt: skip
    except XingdongError as exc:
        await session.refresh(person)
        context = await _profile_context(session, runtime, person)
        return render(request, "profile.html", context, error=exc)
    done = N_("Your password is changed, and your other devices are signed out.")
    return await _signed_in(request, session, runtime, changed, "/profile#password", done)


@router.get("/me/data-export")
async def data_export_page(_person: PagePerson) -> Response:
    """Where the download is offered (the download itself is a POST: a link on another
    site must not spend a person's downloads or write to the audit log)."""
    return redirect("/profile#your-data")


@router.post("/me/data-export", dependencies=[CsrfChecked])
async def data_export(session: DbSession, runtime: RuntimeDep, person: PagePerson) -> Response:
    """The profile page's "Download my data": the same file as the API's."""
    export = await personal_data.download_personal_data(
        session, person=person, settings=runtime.settings, limits=runtime.limits, via="page"
    )
    return personal_data_response(export)


@router.get("/me/erase", response_class=HTMLResponse)
async def erase_page(
    request: Request, session: DbSession, runtime: RuntimeDep, person: PagePerson
) -> Response:
    """What erasing the account would do, or what stops it, and the form to confirm."""
    check = await erasure.erasure_check(session, person=person, settings=runtime.settings)
    return render(request, "erase.html", {"check": check})


@router.post("/me/erase", dependencies=[CsrfChecked])
async def erase_submit(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    password: FormStr = "",
    confirm: FormStr = "",
    remainder_fen: FormStr = "0",
) -> Response:
    try:
        await attempt(
            session,
            lambda: erasure.erase_account(
                session,
                person=person,
                password=password,
                confirmed=confirm == "yes",
                # What the page showed; a changed or garbled amount is asked about again.
                remainder_fen=whole_number(remainder_fen, digits=12) or 0,
                settings=runtime.settings,
                limits=runtime.limits,
                via="page",
            ),
        )
    except XingdongError as exc:
        await session.refresh(person)
        check = await erasure.erasure_check(session, person=person, settings=runtime.settings)
        return render(request, "erase.html", {"check": check}, error=exc)
    response = redirect(
        "/login", N_("Your account is erased. Thank you for the time you spent with us.")
    )
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/profile", dependencies=[CsrfChecked])
async def profile_submit(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    person: PagePerson,
) -> Response:
    form = await request.form()
    birth_year_raw = str(form.get("birth_year", "")).strip()
    birth_year = whole_number(birth_year_raw, digits=4)
    changes = service.ProfileChanges(
        display_name=str(form.get("display_name", "")),
        birth_year=birth_year,
        clear_birth_year=not birth_year_raw,
        region=str(form.get("region", "")),
        interests=[str(v) for v in form.getlist("interests")],
        locale=str(form.get("locale", "")),
    )
    try:
        if birth_year_raw and birth_year is None:
            raise ValidationFailed(
                detail=N_("Please correct the marked fields."),
                fields=[FieldError("birth_year", N_("Enter a year as four digits."))],
            )
        await attempt(
            session,
            lambda: service.update_profile(
                session,
                actor=actor,
                person_id=person.id,
                changes=changes,
                adult_age=runtime.settings.min_age_for_paid_tasks,
            ),  # fmt: skip,
        )
    except XingdongError as exc:
        await session.refresh(person)
        context = await _profile_context(session, runtime, person)
        context["form"] = form
        return render(request, "profile.html", context, error=exc)
    response = redirect("/profile", N_("Your profile is saved."))
    if changes.locale:
        response.set_cookie("xd_lang", changes.locale, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/profile/consent", dependencies=[CsrfChecked])
async def consent_submit(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    version: FormStr = "",
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.accept_agreement(
                session,
                person=person,
                version=version,
                settings=runtime.settings,
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent"),
            ),
        )
    except XingdongError as exc:
        return render(
            request, "profile.html", await _profile_context(session, runtime, person), error=exc
        )
    return redirect("/profile", N_("Thank you: your acceptance is recorded."))


@router.post("/profile/platform", dependencies=[CsrfChecked])
async def bind_submit(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    handle: FormStr = "",
    followers: FormStr = "",
) -> Response:
    # Not a number counts as out of range, so that the handle is checked in the same go.
    count = whole_number(followers)
    try:
        await attempt(
            session,
            lambda: service.bind_platform_account(
                session,
                person=person,
                platform="sandbox",
                handle=handle,
                followers=-1 if count is None else count,
            ),
        )
    except XingdongError as exc:
        context = await _profile_context(session, runtime, person)
        context.update(handle=handle, followers=followers)
        return render(request, "profile.html", context, error=exc)
    return redirect("/profile", N_("Your account is bound."))


@router.post("/profile/platform/unbind", dependencies=[CsrfChecked])
async def unbind_submit(
    request: Request, session: DbSession, runtime: RuntimeDep, person: PagePerson
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.unbind_platform_account(session, person=person, platform="sandbox"),
        )
    except XingdongError as exc:
        return render(
            request, "profile.html", await _profile_context(session, runtime, person), error=exc
        )
    return redirect("/profile", N_("Your account is unbound."))


# --- organisations --------------------------------------------------------------------


@router.get("/orgs", response_class=HTMLResponse)
async def orgs_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    person: PagePerson,
    q: str = "",
    cursor: str | None = None,
) -> Response:
    page = await service.my_organisations(session, actor=actor, search=q or None, cursor=cursor)
    invitations = await service.my_invitations(session, person=person)
    return render(
        request, "orgs.html", {"page": page, "q": q, "invitations": invitations, "form": {}}
    )


async def orgs_page_with_error(
    request: Request,
    session: DbSession,
    actor: PageActor,
    person: PagePerson,
    error: XingdongError,
    form: dict[str, str] | None = None,
) -> Response:
    """The organisations page again, with ``error`` shown above it."""
    context = {
        "page": await service.my_organisations(session, actor=actor),
        "q": "",
        "invitations": await service.my_invitations(session, person=person),
        "form": form or {},
    }
    return render(request, "orgs.html", context, error=error)


@router.post("/orgs", dependencies=[CsrfChecked])
async def orgs_create(
    request: Request,
    session: DbSession,
    actor: PageActor,
    person: PagePerson,
    kind: FormStr = "",
    name: FormStr = "",
) -> Response:
    try:
        org = await attempt(
            session, lambda: service.create_organisation(session, actor=actor, kind=kind, name=name)
        )
    except XingdongError as exc:
        form = {"kind": kind, "name": name}
        return await orgs_page_with_error(request, session, actor, person, exc, form)
    return redirect(f"/orgs/{org.id}", N_("The organisation is created."))


@router.post("/invitations/{invitation_id}", dependencies=[CsrfChecked])
async def invitation_answer(
    request: Request,
    invitation_id: UUID,
    session: DbSession,
    actor: PageActor,
    person: PagePerson,
    answer: FormStr = "",
) -> Response:
    try:
        accept = pressed(answer, ("accept", "decline"), field="answer") == "accept"
        invitation = await attempt(
            session,
            lambda: service.answer_invitation(
                session, person=person, invitation_id=invitation_id, accept=accept
            ),
        )
    except XingdongError as exc:
        return await orgs_page_with_error(request, session, actor, person, exc)
    if invitation.status == "accepted":
        return redirect(f"/orgs/{invitation.org_id}", N_("You have joined."))
    return redirect("/orgs", N_("Invitation declined."))


TOP_UPS_SHOWN = 10
"""Top-ups on the organisation page at a time, newest first; older ones a link away."""


async def _org_context(
    request: Request,
    session: DbSession,
    actor: PageActor,
    org_id: UUID,
    q: str,
    cursor: str | None,
    top_ups_cursor: str | None = None,
) -> dict[str, object]:
    org = await service.get_organisation(session, actor=actor, org_id=org_id)
    members = await service.organisation_members(
        session, actor=actor, org_id=org_id, search=q or None, cursor=cursor
    )
    manage = can(actor, Action.ORG_MANAGE_MEMBERS, org_id=org_id)
    invitations = await service.pending_invitations(session, actor=actor, org_id=org_id)
    funds = can(actor, Action.ORG_MANAGE_FUNDS, org_id=org_id)
    balance = await deposits.org_balance(session, org_id)
    top_up_page = (
        await deposits.deposits_page(session, org_id, cursor=top_ups_cursor, limit=TOP_UPS_SHOWN)
        if funds
        else None
    )
    top_ups = top_up_page.items if top_up_page is not None else []
    top_up_refunds = await refunds.refunds_of_deposits(session, [d.id for d in top_ups])
    expiry_hours = runtime_of(request).settings.deposit_expiry_hours
    return {
        "org": org,
        "can_close": org.closed_at is None and can(actor, Action.ORG_CLOSE, org_id=org_id),
        "linked": await org_accounts.linked_accounts(session, actor=actor, org_id=org_id),
        "can_link": org.closed_at is None and can(actor, Action.ORG_LINK_ACCOUNTS, org_id=org_id),
        "creator_counts": (
            await agencies.count_contracts(session, org_id) if org.kind == "agency" else None
        ),
        "agency_balance": (
            await agencies.agency_balance(session, org_id) if org.kind == "agency" else None
        ),
        "members": members,
        "q": q,
        "can_manage": manage,
        # The only owner cannot leave (the service refuses it): no button to ask with.
        "sole_owner": manage and await service.owners_of(session, org_id) == [actor.person_id],
        "invitations": invitations,
        "form": {},
        "balance": balance,
        "can_fund": funds,
        "deposits": top_ups,
        "older_top_ups": top_up_page.next_cursor if top_up_page is not None else None,
        "top_ups_cursor": top_ups_cursor,
        "top_up_expiry": {d.id: deposits.expires_at(d, expiry_hours) for d in top_ups},
        "top_up_refunds": top_up_refunds,
        # Money already spent on campaigns cannot go back, whatever is left of a top-up.
        "refund_left": {
            d.id: min(
                refunds.left_to_refund(d, top_up_refunds.get(d.id, [])), max(balance.available, 0)
            )
            for d in top_ups
        },
        "refund_labels": refunds.STATUS_LABELS,
        "deposit_labels": deposits.STATUS_LABELS,
        "top_up_form_id": new_id(),
    }


async def org_page_with_error(
    request: Request,
    session: DbSession,
    actor: PageActor,
    org_id: UUID,
    error: XingdongError,
    form: dict[str, str] | None = None,
    top_ups_cursor: str | None = None,
) -> Response:
    """The organisation page again, with ``error`` shown beside the form it came from
    (and what was typed in it, ``form``; ``top_ups_cursor``: the page of top-ups it was on)."""
    context = await _org_context(request, session, actor, org_id, "", None, top_ups_cursor)
    context["form"] = form or {}
    return render(request, "org.html", context, error=error)


@router.get("/orgs/{org_id}", response_class=HTMLResponse)
async def org_page(
    request: Request,
    org_id: UUID,
    session: DbSession,
    actor: PageActor,
    q: str = "",
    cursor: str | None = None,
    top_ups: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The organisation: balance and top-ups (``top_ups``: the cursor of older ones),
    members (``q``, ``cursor``), linked accounts."""
    return render(
        request, "org.html", await _org_context(request, session, actor, org_id, q, cursor, top_ups)
    )


@router.post("/orgs/{org_id}/invitations", dependencies=[CsrfChecked])
async def org_invite(
    request: Request,
    org_id: UUID,
    session: DbSession,
    actor: PageActor,
    phone: FormStr = "",
    role: FormStr = "member",
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.invite_member(
                session, actor=actor, org_id=org_id, phone=phone, role=role
            ),
        )
    except XingdongError as exc:
        context = await _org_context(request, session, actor, org_id, "", None)
        context["form"] = {"phone": phone, "role": role}
        return render(request, "org.html", context, error=exc)
    return redirect(f"/orgs/{org_id}", N_("Invitation sent."))


@router.post("/orgs/{org_id}/accounts", dependencies=[CsrfChecked])
async def org_link_account(
    request: Request,
    org_id: UUID,
    session: DbSession,
    actor: PageActor,
    handle: FormStr = "",
) -> Response:
    try:
        _row, created = await attempt(
            session,
            lambda: org_accounts.link_account(
                session, actor=actor, org_id=org_id, platform="sandbox", handle=handle
            ),
        )
    except XingdongError as exc:
        return await org_page_with_error(
            request, session, actor, org_id, exc, form={"handle": handle}
        )
    message = N_("The account is linked.") if created else N_("The account was already linked.")
    return redirect(f"/orgs/{org_id}#accounts", message)


@router.post("/orgs/{org_id}/accounts/{link_id}/unlink", dependencies=[CsrfChecked])
async def org_unlink_account(
    request: Request, org_id: UUID, link_id: UUID, session: DbSession, actor: PageActor
) -> Response:
    try:
        await attempt(
            session,
            lambda: org_accounts.unlink_account(
                session, actor=actor, org_id=org_id, link_id=link_id
            ),
        )
    except XingdongError as exc:
        return await org_page_with_error(request, session, actor, org_id, exc)
    return redirect(f"/orgs/{org_id}#accounts", N_("The account is unlinked."))


@router.post("/orgs/{org_id}/invitations/{invitation_id}/revoke", dependencies=[CsrfChecked])
async def org_revoke_invitation(
    request: Request, org_id: UUID, invitation_id: UUID, session: DbSession, actor: PageActor
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.revoke_invitation(
                session, actor=actor, org_id=org_id, invitation_id=invitation_id
            ),
        )
    except XingdongError as exc:
        return await org_page_with_error(request, session, actor, org_id, exc)
    return redirect(f"/orgs/{org_id}", N_("Invitation withdrawn."))


@router.post("/orgs/{org_id}/members/{person_id}/role", dependencies=[CsrfChecked])
async def org_change_role(
    request: Request,
    org_id: UUID,
    person_id: UUID,
    session: DbSession,
    actor: PageActor,
    role: FormStr = "",
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.change_member_role(
                session, actor=actor, org_id=org_id, person_id=person_id, role=role
            ),
        )
    except XingdongError as exc:
        return await org_page_with_error(request, session, actor, org_id, exc)
    return redirect(f"/orgs/{org_id}", N_("The role is changed."))


@router.post("/orgs/{org_id}/members/{person_id}/remove", dependencies=[CsrfChecked])
async def org_remove_member(
    request: Request,
    org_id: UUID,
    person_id: UUID,
    session: DbSession,
    actor: PageActor,
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.remove_member(session, actor=actor, org_id=org_id, person_id=person_id),
        )
    except XingdongError as exc:
        return await org_page_with_error(request, session, actor, org_id, exc)
    if person_id == actor.person_id:
        return redirect("/orgs", N_("You have left the organisation."))
    return redirect(f"/orgs/{org_id}", N_("The member is removed."))


@router.get("/orgs/{org_id}/close", response_class=HTMLResponse)
async def close_page(
    request: Request, org_id: UUID, session: DbSession, runtime: RuntimeDep, actor: PageActor
) -> Response:
    """What closing the organisation would do, or what stops it, and the form to confirm."""
    org, check = await org_closure.closure_check(
        session, actor=actor, org_id=org_id, settings=runtime.settings
    )
    return render(request, "org_close.html", {"org": org, "check": check, "form": {}})


@router.post("/orgs/{org_id}/close", dependencies=[CsrfChecked])
async def close_submit(
    request: Request,
    org_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    person: PagePerson,
    name: FormStr = "",
    password: FormStr = "",
    remainder_fen: FormStr = "0",
) -> Response:
    try:
        await attempt(
            session,
            lambda: org_closure.close_organisation(
                session,
                actor=actor,
                person=person,
                org_id=org_id,
                name=name,
                password=password,
                # What the page showed; a changed or garbled amount is asked about again.
                remainder_fen=whole_number(remainder_fen, digits=12) or 0,
                settings=runtime.settings,
                limits=runtime.limits,
                via="page",
                payments=runtime.payments,
            ),
        )
    except XingdongError as exc:
        org, check = await org_closure.closure_check(
            session, actor=actor, org_id=org_id, settings=runtime.settings
        )
        context = {"org": org, "check": check, "form": {"name": name}}
        return render(request, "org_close.html", context, error=exc)
    return redirect("/orgs", N_("The organisation is closed."))
