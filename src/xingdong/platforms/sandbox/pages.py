"""Pages of the sandbox platform, designed for phones: discover, profiles, videos, live
rooms and posting. A person acts as the sandbox account bound on their Xingdong profile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.errors import NotFound, XingdongError
from xingdong.core.i18n import N_
from xingdong.core.numbers import whole_number
from xingdong.core.security import digests_match, keyed_digest
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.platforms.sandbox import ads, service
from xingdong.platforms.sandbox.connector import (
    account_url,
    live_room_url,
    product_url,
    video_url,
)
from xingdong.platforms.sandbox.errors import SandboxAccountNotBound
from xingdong.platforms.sandbox.models import SandboxAccount
from xingdong.web.deps import (
    CsrfChecked,
    DbSession,
    OptionalPageActor,
    PagePerson,
    SettingsDep,
    attempt,
)
from xingdong.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]
STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = {"sandbox.css": "text/css", "sandbox.js": "text/javascript"}


async def my_sandbox_account(session: AsyncSession, person: Person | None) -> SandboxAccount | None:
    """The sandbox account bound on the person's profile. One bound before the platform
    kept accounts is opened on first use, as binding does now."""
    if person is None:
        return None
    for bound in await identity.platform_accounts(session, person=person):
        if bound.platform == "sandbox":
            return await service.sign_up(
                session, handle=bound.handle, followers=bound.followers, opened_by=str(person.id)
            )
    return None


async def _acting_account(session: AsyncSession, person: Person) -> SandboxAccount:
    account = await my_sandbox_account(session, person)
    if account is None:
        raise SandboxAccountNotBound(
            detail=N_("To act on the sandbox platform, bind your sandbox account on your profile.")
        )
    return account


def _person(request: Request) -> Person | None:
    return getattr(request.state, "person", None)


async def _render(
    request: Request,
    session: AsyncSession,
    template: str,
    context: dict[str, Any],
    *,
    error: XingdongError | None = None,
) -> Response:
    if "sbx_me" not in context:
        context = {**context, "sbx_me": await my_sandbox_account(session, _person(request))}
    context = {"here": request.url.path, **context}
    return render(request, template, context, error=error)


@router.get("/sandbox/assets/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFound(detail=N_("Not found"))
    return FileResponse(
        STATIC_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=3600"}
    )


# --- discover and profiles ------------------------------------------------------------


@router.get("/sandbox", response_class=HTMLResponse)
async def discover_page(
    request: Request,
    session: DbSession,
    _actor: OptionalPageActor,
    q: str = "",
    cursor: str | None = None,
) -> Response:
    page = await service.discover(session, search=q or None, cursor=cursor)
    return await _render(request, session, "sandbox_discover.html", {"page": page, "q": q})


async def _profile_response(
    request: Request,
    session: AsyncSession,
    handle: str,
    *,
    cursor: str | None = None,
    ref: str = "",
    error: XingdongError | None = None,
) -> Response:
    me = await my_sandbox_account(session, _person(request))
    view = await service.profile(session, handle=handle, viewer=me, cursor=cursor)
    context = {"view": view, "sbx_me": me, "ref": ref[: service.REF_MAX_LENGTH]}
    return await _render(request, session, "sandbox_profile.html", context, error=error)


@router.get("/sandbox/@{handle}", response_class=HTMLResponse)
async def profile_page(
    request: Request,
    handle: str,
    session: DbSession,
    settings: SettingsDep,
    _actor: OptionalPageActor,
    cursor: str | None = None,
    ref: str = "",
) -> Response:
    account = await service.get_account(session, handle=handle)
    me = await my_sandbox_account(session, _person(request))
    client = request.client.host if request.client else ""
    await ads.count_view(
        session, profile=account, viewer=me,
        viewer_key=ads.viewer_key(me, client, secret=settings.secret_key.get_secret_value()),
    )  # fmt: skip
    return await _profile_response(request, session, handle, cursor=cursor, ref=ref)


@router.post("/sandbox/@{handle}/ad", dependencies=[CsrfChecked])
async def put_up_ad_submit(
    request: Request, handle: str, session: DbSession, person: PagePerson, ref: FormStr = ""
) -> Response:
    me = await _acting_account(session, person)
    advertiser = await service.get_account(session, handle=handle)
    try:
        await attempt(
            session, lambda: ads.put_up(session, account=me, advertiser=advertiser, ref=ref)
        )
    except XingdongError as exc:
        return await _profile_response(request, session, handle, ref=ref, error=exc)
    return redirect(account_url(me.handle), N_("The ad is on your profile."))


@router.post("/sandbox/me/ad/remove", dependencies=[CsrfChecked])
async def take_down_ad_submit(session: DbSession, person: PagePerson) -> Response:
    me = await _acting_account(session, person)
    await ads.take_down(session, account=me)
    return redirect(account_url(me.handle), N_("The ad is off your profile."))


@router.post("/sandbox/@{handle}/follow", dependencies=[CsrfChecked])
async def follow_submit(
    request: Request, handle: str, session: DbSession, person: PagePerson
) -> Response:
    me = await _acting_account(session, person)
    target = await service.get_account(session, handle=handle)
    try:
        await attempt(session, lambda: service.follow(session, account=me, target=target))
    except XingdongError as exc:
        return await _profile_response(request, session, handle, error=exc)
    return redirect(account_url(target.handle), N_("You follow this account now."))


@router.post("/sandbox/@{handle}/unfollow", dependencies=[CsrfChecked])
async def unfollow_submit(handle: str, session: DbSession, person: PagePerson) -> Response:
    me = await _acting_account(session, person)
    target = await service.get_account(session, handle=handle)
    await service.unfollow(session, account=me, target=target)
    return redirect(account_url(target.handle), N_("You no longer follow this account."))


# --- videos ---------------------------------------------------------------------------


def _watch_stamp(secret: str, video_id: UUID, opened_at: int) -> str:
    return keyed_digest(secret, f"sandbox-watch:{video_id}:{opened_at}")


def credited_watch_seconds(
    secret: str, video_id: UUID, *, claimed: str, opened_at: str, stamp: str, now: int
) -> int:
    """The watch time the page reports, but never more than the time since the page was
    served (the page carries that moment, signed): a hand-made request cannot claim an
    hour of watching a second after opening the video."""
    opened, watched = whole_number(opened_at), whole_number(claimed)
    if opened is None or watched is None:
        return 0
    if not digests_match(_watch_stamp(secret, video_id, opened), stamp):
        return 0
    return max(0, min(watched, now - opened))


async def _video_response(
    request: Request,
    session: AsyncSession,
    settings: SettingsDep,
    video_id: UUID,
    *,
    error: XingdongError | None = None,
    comment_text: str = "",
) -> Response:
    me = await my_sandbox_account(session, _person(request))
    view = await service.video_page(session, video_id=video_id, viewer=me)
    opened_at = int(utcnow().timestamp())
    secret = settings.secret_key.get_secret_value()
    context = {
        "view": view,
        "sbx_me": me,
        "opened_at": opened_at,
        "watch_stamp": _watch_stamp(secret, video_id, opened_at),
        "comment_text": comment_text,
        "channels": service.SHARE_CHANNELS,
    }
    return await _render(request, session, "sandbox_video.html", context, error=error)


@router.get("/sandbox/videos/{video_id}", response_class=HTMLResponse)
async def video_page(
    request: Request,
    video_id: UUID,
    session: DbSession,
    settings: SettingsDep,
    _actor: OptionalPageActor,
) -> Response:
    video = await service.get_video(session, video_id=video_id)
    await service.record_view(session, video=video)
    return await _video_response(request, session, settings, video_id)


@router.post("/sandbox/videos/{video_id}/like", dependencies=[CsrfChecked])
async def like_submit(
    video_id: UUID,
    session: DbSession,
    settings: SettingsDep,
    person: PagePerson,
    watched_seconds: FormStr = "0",
    opened_at: FormStr = "",
    stamp: FormStr = "",
) -> Response:
    me = await _acting_account(session, person)
    video = await service.get_video(session, video_id=video_id)
    watched = credited_watch_seconds(
        settings.secret_key.get_secret_value(),
        video_id,
        claimed=watched_seconds,
        opened_at=opened_at,
        stamp=stamp,
        now=int(utcnow().timestamp()),
    )
    await service.like(session, account=me, video=video, watched_seconds=watched)
    return redirect(video_url(video_id), N_("You like this video."))


@router.post("/sandbox/videos/{video_id}/unlike", dependencies=[CsrfChecked])
async def unlike_submit(video_id: UUID, session: DbSession, person: PagePerson) -> Response:
    me = await _acting_account(session, person)
    video = await service.get_video(session, video_id=video_id)
    await service.unlike(session, account=me, video=video)
    return redirect(video_url(video_id), N_("Your like is taken back."))


@router.post("/sandbox/videos/{video_id}/comments", dependencies=[CsrfChecked])
async def comment_submit(
    request: Request,
    video_id: UUID,
    session: DbSession,
    settings: SettingsDep,
    person: PagePerson,
    text: FormStr = "",
) -> Response:
    me = await _acting_account(session, person)
    video = await service.get_video(session, video_id=video_id)
    try:
        await attempt(session, lambda: service.comment(session, account=me, video=video, text=text))
    except XingdongError as exc:
        return await _video_response(
            request, session, settings, video_id, error=exc, comment_text=text
        )
    return redirect(video_url(video_id) + "#comments", N_("Your comment is posted."))


@router.post("/sandbox/videos/{video_id}/comments/{comment_id}/delete", dependencies=[CsrfChecked])
async def comment_delete(
    video_id: UUID, comment_id: UUID, session: DbSession, person: PagePerson
) -> Response:
    me = await _acting_account(session, person)
    await service.delete_comment(session, account=me, comment_id=comment_id)
    return redirect(video_url(video_id) + "#comments", N_("Your comment is deleted."))


@router.post("/sandbox/videos/{video_id}/share", dependencies=[CsrfChecked])
async def share_submit(
    request: Request,
    video_id: UUID,
    session: DbSession,
    settings: SettingsDep,
    person: PagePerson,
    channel: FormStr = "",
) -> Response:
    me = await _acting_account(session, person)
    video = await service.get_video(session, video_id=video_id)
    try:
        await attempt(
            session, lambda: service.share(session, account=me, video=video, channel=channel)
        )
    except XingdongError as exc:
        return await _video_response(request, session, settings, video_id, error=exc)
    return redirect(video_url(video_id), N_("The video is shared."))


@router.post("/sandbox/videos/{video_id}/delete", dependencies=[CsrfChecked])
async def video_delete(video_id: UUID, session: DbSession, person: PagePerson) -> Response:
    me = await _acting_account(session, person)
    await service.delete_video(session, account=me, video_id=video_id)
    return redirect(account_url(me.handle), N_("Your video is deleted."))


# --- posting --------------------------------------------------------------------------


@router.get("/sandbox/post", response_class=HTMLResponse)
async def post_page(request: Request, session: DbSession, _actor: OptionalPageActor) -> Response:
    return await _render(request, session, "sandbox_post.html", {"form": {}})


@router.post("/sandbox/post", dependencies=[CsrfChecked])
async def post_submit(
    request: Request,
    session: DbSession,
    person: PagePerson,
    title: FormStr = "",
    description: FormStr = "",
) -> Response:
    me = await _acting_account(session, person)
    try:
        video = await attempt(
            session,
            lambda: service.post_video(session, account=me, title=title, description=description),
        )
    except XingdongError as exc:
        context = {"form": {"title": title, "description": description}, "sbx_me": me}
        return await _render(request, session, "sandbox_post.html", context, error=exc)
    return redirect(video_url(video.id), N_("Your video is posted."))


# --- live rooms -----------------------------------------------------------------------


@router.get("/sandbox/live/{room_id}", response_class=HTMLResponse)
async def live_page(
    request: Request,
    room_id: UUID,
    session: DbSession,
    _actor: OptionalPageActor,
    visit: UUID | None = None,
) -> Response:
    me = await my_sandbox_account(session, _person(request))
    view = await service.live_page(session, room_id=room_id, viewer=me, visit_id=visit)
    context = {
        "view": view,
        "sbx_me": me,
        "heartbeat_seconds": service.HEARTBEAT_SECONDS,
    }
    return await _render(request, session, "sandbox_live.html", context)


@router.post("/sandbox/live/{room_id}/enter", dependencies=[CsrfChecked])
async def live_enter(room_id: UUID, session: DbSession, person: PagePerson) -> Response:
    me = await _acting_account(session, person)
    room = await service.get_live_room(session, room_id=room_id)
    visit = await service.enter_live_room(session, account=me, room=room)
    return redirect(f"{live_room_url(room_id)}?visit={visit.id}")


@router.post("/sandbox/live/{room_id}/heartbeat", dependencies=[CsrfChecked])
async def live_heartbeat(
    room_id: UUID, session: DbSession, person: PagePerson, visit_id: Annotated[UUID, Form()]
) -> Response:
    """Sent by the room page's script every few seconds while the person stays."""
    me = await _acting_account(session, person)
    visit = await service.heartbeat(session, account=me, room_id=room_id, visit_id=visit_id)
    return JSONResponse(
        {"stayed_seconds": visit.stayed_seconds, "open": visit.left_at is None},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/sandbox/live/{room_id}/leave", dependencies=[CsrfChecked])
async def live_leave(
    room_id: UUID, session: DbSession, person: PagePerson, visit_id: Annotated[UUID, Form()]
) -> Response:
    me = await _acting_account(session, person)
    await service.leave_live_room(session, account=me, room_id=room_id, visit_id=visit_id)
    return redirect(live_room_url(room_id), N_("You left the live room."))


# --- shop -----------------------------------------------------------------------------


async def _product_response(
    request: Request,
    session: AsyncSession,
    product_id: UUID,
    *,
    ref: str = "",
    error: XingdongError | None = None,
) -> Response:
    me = await my_sandbox_account(session, _person(request))
    view = await service.product_page(session, product_id=product_id, viewer=me)
    context = {"view": view, "sbx_me": me, "ref": ref[: service.REF_MAX_LENGTH]}
    return await _render(request, session, "sandbox_product.html", context, error=error)


@router.get("/sandbox/products/{product_id}", response_class=HTMLResponse)
async def product_page(
    request: Request,
    product_id: UUID,
    session: DbSession,
    _actor: OptionalPageActor,
    ref: str = "",
) -> Response:
    """A product in a shop; ``ref`` is the tracking code of the link that led here."""
    return await _product_response(request, session, product_id, ref=ref)


@router.post("/sandbox/products/{product_id}/buy", dependencies=[CsrfChecked])
async def buy_submit(
    request: Request, product_id: UUID, session: DbSession, person: PagePerson, ref: FormStr = ""
) -> Response:
    me = await _acting_account(session, person)
    product = await service.get_product(session, product_id=product_id)
    try:
        await attempt(session, lambda: service.buy(session, account=me, product=product, ref=ref))
    except XingdongError as exc:
        return await _product_response(request, session, product_id, ref=ref, error=exc)
    return redirect(product_url(product_id), N_("Your order is paid."))


@router.post("/sandbox/products/{product_id}/orders/{order_id}/refund", dependencies=[CsrfChecked])
async def refund_submit(
    request: Request, product_id: UUID, order_id: UUID, session: DbSession, person: PagePerson
) -> Response:
    me = await _acting_account(session, person)
    try:
        await attempt(
            session,
            lambda: service.refund(session, account=me, order_id=order_id, product_id=product_id),
        )
    except XingdongError as exc:
        return await _product_response(request, session, product_id, error=exc)
    return redirect(product_url(product_id), N_("The order is returned and refunded."))
