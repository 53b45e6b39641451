"""The rules of the sandbox platform: accounts, videos, live rooms, and what accounts do
to them. Functions take the session first and the rest by keyword; they flush but never
commit. Functions that record an action take ``now`` (the clock by default), so tests can
place actions in time. Shown counts (followers, likes …) move in the database by one
statement each; objects already loaded keep the counts they were loaded with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, Forbidden, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.pagination import clamp_limit, next_cursor
from xingdong.core.settings import RETURN_PERIOD_HOURS
from xingdong.identity.validation import handle_problem
from xingdong.platforms.sandbox import repository as repo
from xingdong.platforms.sandbox.errors import (
    LiveRoomClosed,
    OrderNotRefundable,
    SandboxAccountNotFound,
    SandboxAccountNotYours,
    SandboxCommentNotFound,
    SandboxHandleTaken,
    SandboxLiveRoomNotFound,
    SandboxOrderNotFound,
    SandboxProductNotFound,
    SandboxVideoNotFound,
    SandboxVisitNotFound,
)
from xingdong.platforms.sandbox.models import (
    SandboxAccount,
    SandboxComment,
    SandboxLiveRoom,
    SandboxLiveVisit,
    SandboxOrder,
    SandboxProduct,
    SandboxProfileAd,
    SandboxShare,
    SandboxVideo,
)

SHARE_CHANNELS = ("wechat", "moments", "link")
DEFAULT_DURATION_SECONDS = 30
HEARTBEAT_SECONDS = 10
"""How often the live-room page reports that the person is still there."""
MAX_COUNTED_GAP_SECONDS = 30
"""The most one gap between heartbeats can add: a page asleep in a pocket stops counting."""
MAX_WATCHED_SECONDS = 24 * 3600
MAX_COMMENT_LENGTH = 300
MAX_FOLLOWERS = 10**9
MAX_PRICE_FEN = 10_000_000
RETURN_DAYS = RETURN_PERIOD_HOURS // 24
"""How long after paying a buyer may return an order without giving a reason (七天无理由退货)."""
REF_MAX_LENGTH = 40


def _invalid(*errors: FieldError) -> ValidationFailed:
    return ValidationFailed(detail=N_("Please correct the marked fields."), fields=list(errors))


# --- accounts -------------------------------------------------------------------------


async def create_account(
    session: AsyncSession,
    *,
    handle: str,
    display_name: str | None = None,
    bio: str = "",
    followers: int = 0,
    opened_by: str | None = None,
) -> SandboxAccount:
    """Open an account on the platform; the handle must be free."""
    handle = handle.strip().lstrip("@")
    errors: list[FieldError] = []
    problem = handle_problem(handle)
    if problem:
        errors.append(FieldError("handle", problem))
    name = (display_name or handle).strip()
    if not 1 <= len(name) <= 40:
        errors.append(FieldError("display_name", N_("Use 1 to 40 characters.")))
    if len(bio) > 200:
        errors.append(FieldError("bio", N_("Use at most 200 characters.")))
    if not 0 <= followers <= MAX_FOLLOWERS:
        errors.append(FieldError("followers", N_("Enter a number from 0 to 1,000,000,000.")))
    if errors:
        raise _invalid(*errors)
    account = SandboxAccount(
        id=new_id(), handle=handle, display_name=name, bio=bio.strip(), followers=followers,
        opened_by=opened_by,
    )  # fmt: skip
    if not await repo.insert_account(session, account):
        raise SandboxHandleTaken(
            detail=N_("The handle @{handle} is already taken."),
            fields=[FieldError("handle", N_("Already taken."))],
            extra={"handle": handle},
        )
    created = await repo.account_by_handle(session, handle)
    assert created is not None
    return created


async def sign_up(
    session: AsyncSession, *, handle: str, followers: int, opened_by: str | None = None
) -> SandboxAccount:
    """The account with this handle, opened now (with ``followers``, by ``opened_by``) if
    it did not exist: what a person does on the platform before binding it to Xingdong."""
    existing = await repo.account_by_handle(session, handle.strip().lstrip("@"))
    if existing is not None:
        return existing
    try:
        return await create_account(
            session, handle=handle, followers=followers, opened_by=opened_by
        )
    except SandboxHandleTaken:
        # Someone opened it between our look and our insert: it exists now.
        return await get_account(session, handle=handle)


async def authorise_binding(
    session: AsyncSession, *, handle: str, followers: int, claimant: str
) -> SandboxAccount:
    """The account a person binds: opened for them if the handle is free, theirs if they
    opened it; anyone else's (a brand's, a creator's, another person's) is refused, as a
    real platform refuses to authorise a binding by someone who cannot sign in to it."""
    account = await sign_up(session, handle=handle, followers=followers, opened_by=claimant)
    if account.opened_by != claimant:
        raise SandboxAccountNotYours(
            detail=N_(
                "@{handle} is someone else's account on the sandbox platform. Bind an "
                "account of your own, or a new handle to open one."
            ),
            fields=[FieldError("handle", N_("This account is someone else's."))],
            extra={"handle": account.handle},
        )
    return account


async def authorise_org_link(
    session: AsyncSession, *, handle: str, claimants: tuple[str, ...]
) -> SandboxAccount | None:
    """The account an organisation links, or None if there is no such handle. The first
    claimant (the organisation) takes an account nobody opened through Xingdong; one a
    claimant opened is theirs; anyone else's is refused (``SandboxAccountNotYours``)."""
    account = await repo.account_by_handle(session, handle.strip().lstrip("@"), lock=True)
    if account is None:
        return None
    if account.opened_by is None:
        account.opened_by = claimants[0]
        await session.flush()
    elif account.opened_by not in claimants:
        raise SandboxAccountNotYours(
            detail=N_(
                "@{handle} is managed by someone else on the sandbox platform. Link an "
                "account your organisation or you manage."
            ),
            fields=[FieldError("handle", N_("This account is someone else's."))],
            extra={"handle": account.handle},
        )
    return account


async def find_account(session: AsyncSession, *, handle: str) -> SandboxAccount | None:
    return await repo.account_by_handle(session, handle.strip().lstrip("@"))


async def get_account(session: AsyncSession, *, handle: str) -> SandboxAccount:
    account = await find_account(session, handle=handle)
    if account is None:
        raise SandboxAccountNotFound(
            detail=N_("There is no account @{handle} on the sandbox platform."),
            extra={"handle": handle.strip().lstrip("@")},
        )
    return account


# --- videos ---------------------------------------------------------------------------


def _video_errors(title: str, description: str, duration_seconds: int) -> list[FieldError]:
    errors: list[FieldError] = []
    if not 2 <= len(title) <= 100:
        errors.append(FieldError("title", N_("Use 2 to 100 characters.")))
    if len(description) > 1000:
        errors.append(FieldError("description", N_("Use at most 1,000 characters.")))
    if not 1 <= duration_seconds <= 3600:
        errors.append(FieldError("duration_seconds", N_("Enter 1 to 3,600 seconds.")))
    return errors


async def create_video(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    title: str,
    description: str = "",
    duration_seconds: int = DEFAULT_DURATION_SECONDS,
    views: int = 0,
    likes: int = 0,
    shares: int = 0,
    now: datetime | None = None,
) -> SandboxVideo:
    """Publish a video. The starting counts are for demo data (a video that already has
    an audience); videos posted on the pages start at zero."""
    title, description = title.strip(), description.strip()
    errors = _video_errors(title, description, duration_seconds)
    if min(views, likes, shares) < 0:
        errors.append(FieldError("views", N_("Counts cannot be negative.")))
    if errors:
        raise _invalid(*errors)
    video = SandboxVideo(
        id=new_id(),
        account_id=account.id,
        title=title,
        description=description,
        duration_seconds=duration_seconds,
        views=views,
        likes=likes,
        comments=0,
        shares=shares,
        created_at=now or utcnow(),
    )
    session.add(video)
    await session.flush()
    return video


async def post_video(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    title: str,
    description: str,
    now: datetime | None = None,
) -> SandboxVideo:
    """A person posts their own video (a ``shoot`` task mentions the brand with ``@``)."""
    return await create_video(
        session, account=account, title=title, description=description, now=now
    )


async def get_video(session: AsyncSession, *, video_id: UUID) -> SandboxVideo:
    """A video that has not been deleted."""
    video = await repo.video_by_id(session, video_id)
    if video is None or video.deleted_at is not None:
        raise SandboxVideoNotFound(detail=N_("This video does not exist or was deleted."))
    return video


async def delete_video(
    session: AsyncSession, *, account: SandboxAccount, video_id: UUID, now: datetime | None = None
) -> None:
    video = await get_video(session, video_id=video_id)
    if video.account_id != account.id:
        raise Forbidden(detail=N_("Only the account that posted a video can delete it."))
    await repo.mark_video_deleted(session, video.id, now or utcnow())


async def record_view(session: AsyncSession, *, video: SandboxVideo) -> None:
    await repo.add_to_video_counts(session, video.id, views=1)


# --- live rooms -----------------------------------------------------------------------


async def create_live_room(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    title: str,
    is_live: bool = True,
    visitors: int = 0,
) -> SandboxLiveRoom:
    title = title.strip()
    if not 2 <= len(title) <= 100:
        raise _invalid(FieldError("title", N_("Use 2 to 100 characters.")))
    room = SandboxLiveRoom(
        id=new_id(), account_id=account.id, title=title, is_live=is_live, visitors=max(visitors, 0)
    )
    session.add(room)
    await session.flush()
    return room


async def get_live_room(session: AsyncSession, *, room_id: UUID) -> SandboxLiveRoom:
    room = await repo.live_room_by_id(session, room_id)
    if room is None:
        raise SandboxLiveRoomNotFound(detail=N_("This live room does not exist."))
    return room


async def set_room_live(
    session: AsyncSession, *, account: SandboxAccount, room_id: UUID, is_live: bool
) -> None:
    """The owner starts or ends the broadcast."""
    room = await get_live_room(session, room_id=room_id)
    if room.account_id != account.id:
        raise Forbidden(detail=N_("Only the room's owner can start or end the broadcast."))
    await repo.set_live(session, room.id, is_live=is_live)


async def enter_live_room(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    room: SandboxLiveRoom,
    now: datetime | None = None,
) -> SandboxLiveVisit:
    """Start a stay in the room (ending any stay of the same account still open there)."""
    if not room.is_live:
        raise LiveRoomClosed(detail=N_("This live room is not live now; come back later."))
    at = now or utcnow()
    await repo.close_open_visits(session, account.id, room.id, at)
    visit = SandboxLiveVisit(
        id=new_id(),
        account_id=account.id,
        room_id=room.id,
        created_at=at,
        last_seen_at=at,
        stayed_seconds=0,
    )
    session.add(visit)
    await repo.count_visitor(session, room.id)
    await session.flush()
    return visit


async def _own_visit(
    session: AsyncSession, account: SandboxAccount, room_id: UUID, visit_id: UUID
) -> SandboxLiveVisit:
    visit = await repo.visit_for_update(session, visit_id)
    if visit is None or visit.account_id != account.id or visit.room_id != room_id:
        raise SandboxVisitNotFound(detail=N_("You are not in this live room."))
    return visit


def _count_presence(visit: SandboxLiveVisit, at: datetime) -> None:
    gap = (at - visit.last_seen_at).total_seconds()
    visit.stayed_seconds += min(max(round(gap), 0), MAX_COUNTED_GAP_SECONDS)
    visit.last_seen_at = max(at, visit.last_seen_at)


async def heartbeat(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    room_id: UUID,
    visit_id: UUID,
    now: datetime | None = None,
) -> SandboxLiveVisit:
    """The page says the person is still in the room; the time since the last heartbeat
    is counted (up to :data:`MAX_COUNTED_GAP_SECONDS`) while the room is live."""
    visit = await _own_visit(session, account, room_id, visit_id)
    if visit.left_at is not None:
        return visit
    at = now or utcnow()
    room = await get_live_room(session, room_id=visit.room_id)
    _count_presence(visit, at)
    if not room.is_live:
        visit.left_at = at
    await session.flush()
    return visit


async def leave_live_room(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    room_id: UUID,
    visit_id: UUID,
    now: datetime | None = None,
) -> SandboxLiveVisit:
    visit = await _own_visit(session, account, room_id, visit_id)
    if visit.left_at is None:
        at = now or utcnow()
        _count_presence(visit, at)
        visit.left_at = at
        await session.flush()
    return visit


# --- follows --------------------------------------------------------------------------


async def follow(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    target: SandboxAccount,
    now: datetime | None = None,
) -> bool:
    """Follow ``target``; False when ``account`` already followed it (nothing changes)."""
    if account.id == target.id:
        raise ValidationFailed(detail=N_("An account cannot follow itself."))
    if not await repo.insert_follow(session, account.id, target.id, now or utcnow()):
        return False
    await repo.add_followers(session, target.id, 1)
    return True


async def unfollow(
    session: AsyncSession, *, account: SandboxAccount, target: SandboxAccount
) -> bool:
    """Stop following; False when ``account`` did not follow ``target``."""
    if not await repo.delete_follow(session, account.id, target.id):
        return False
    await repo.add_followers(session, target.id, -1)
    return True


async def is_following(
    session: AsyncSession, *, account: SandboxAccount, target: SandboxAccount
) -> bool:
    return await repo.follow_of(session, account.id, target.id) is not None


# --- likes ----------------------------------------------------------------------------


async def like(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    video: SandboxVideo,
    watched_seconds: int,
    now: datetime | None = None,
) -> bool:
    """Like a video after watching it for ``watched_seconds``; False when it was already
    liked (the first like and its watch time stand)."""
    if video.deleted_at is not None:
        raise SandboxVideoNotFound(detail=N_("This video does not exist or was deleted."))
    watched = min(max(watched_seconds, 0), MAX_WATCHED_SECONDS)
    if not await repo.insert_like(session, account.id, video.id, watched, now or utcnow()):
        return False
    await repo.add_to_video_counts(session, video.id, likes=1)
    return True


async def unlike(session: AsyncSession, *, account: SandboxAccount, video: SandboxVideo) -> bool:
    if not await repo.delete_like(session, account.id, video.id):
        return False
    await repo.add_to_video_counts(session, video.id, likes=-1)
    return True


# --- comments and shares --------------------------------------------------------------


async def comment(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    video: SandboxVideo,
    text: str,
    now: datetime | None = None,
) -> SandboxComment:
    if video.deleted_at is not None:
        raise SandboxVideoNotFound(detail=N_("This video does not exist or was deleted."))
    body = " ".join(text.split())
    if not 1 <= len(body) <= MAX_COMMENT_LENGTH:
        raise _invalid(FieldError("text", N_("Write 1 to 300 characters.")))
    row = SandboxComment(
        id=new_id(), account_id=account.id, video_id=video.id, body=body, created_at=now or utcnow()
    )
    session.add(row)
    await session.flush()
    await repo.add_to_video_counts(session, video.id, comments=1)
    return row


async def delete_comment(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    comment_id: UUID,
    now: datetime | None = None,
) -> SandboxComment:
    """Hide one's own comment. The row stays (with ``deleted_at``), so its history does."""
    row = await repo.comment_by_id(session, comment_id)
    if row is None or row.deleted_at is not None:
        raise SandboxCommentNotFound(detail=N_("This comment does not exist or was deleted."))
    if row.account_id != account.id:
        raise Forbidden(detail=N_("Only the author of a comment can delete it."))
    row.deleted_at = now or utcnow()
    await session.flush()
    await repo.add_to_video_counts(session, row.video_id, comments=-1)
    return row


async def share(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    video: SandboxVideo,
    channel: str,
    now: datetime | None = None,
) -> SandboxShare:
    if video.deleted_at is not None:
        raise SandboxVideoNotFound(detail=N_("This video does not exist or was deleted."))
    if channel not in SHARE_CHANNELS:
        raise _invalid(FieldError("channel", N_("Choose where to share.")))
    row = SandboxShare(
        id=new_id(),
        account_id=account.id,
        video_id=video.id,
        channel=channel,
        created_at=now or utcnow(),
    )
    session.add(row)
    await session.flush()
    await repo.add_to_video_counts(session, video.id, shares=1)
    return row


# --- shop -----------------------------------------------------------------------------


async def create_product(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    title: str,
    price_fen: int,
    orders: int = 0,
) -> SandboxProduct:
    """Put a product on sale in the account's shop. ``orders`` is a starting sales count
    for demo data."""
    title = title.strip()
    errors: list[FieldError] = []
    if not 2 <= len(title) <= 100:
        errors.append(FieldError("title", N_("Use 2 to 100 characters.")))
    if not 1 <= price_fen <= MAX_PRICE_FEN:
        errors.append(FieldError("price_fen", N_("Enter a price from ¥0.01 to ¥100,000.")))
    if errors:
        raise _invalid(*errors)
    product = SandboxProduct(
        id=new_id(), account_id=account.id, title=title, price_fen=price_fen,
        orders=max(orders, 0), refunds=0, on_sale=True,
    )  # fmt: skip
    session.add(product)
    await session.flush()
    return product


async def get_product(session: AsyncSession, *, product_id: UUID) -> SandboxProduct:
    product = await repo.product_by_id(session, product_id)
    if product is None:
        raise SandboxProductNotFound(detail=N_("This product does not exist."))
    return product


async def buy(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    product: SandboxProduct,
    ref: str | None = None,
    now: datetime | None = None,
) -> SandboxOrder:
    """Pay for the product at its price; ``ref`` is the tracking code of the link the
    buyer came through. The sandbox takes no money: the order is the record."""
    if not product.on_sale:
        raise SandboxProductNotFound(detail=N_("This product is no longer on sale."))
    if product.account_id == account.id:
        raise ValidationFailed(detail=N_("A shop cannot buy its own product."))
    order = SandboxOrder(
        id=new_id(),
        account_id=account.id,
        product_id=product.id,
        price_fen=product.price_fen,
        ref=clean_ref(ref),
        created_at=now or utcnow(),
    )
    session.add(order)
    await session.flush()
    await repo.count_sale(session, product.id)
    return order


def clean_ref(ref: str | None) -> str | None:
    """The tracking code a link carried, as recorded (its first characters), or None."""
    return (ref or "").strip()[:REF_MAX_LENGTH] or None


def returnable_until(order: SandboxOrder) -> datetime:
    return order.created_at + timedelta(days=RETURN_DAYS)


async def refund(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    order_id: UUID,
    product_id: UUID | None = None,
    now: datetime | None = None,
) -> SandboxOrder:
    """Return an order (of ``product_id`` when given) within :data:`RETURN_DAYS` of
    paying for it."""
    order = await repo.order_for_update(session, order_id)
    if (
        order is None
        or order.account_id != account.id
        or (product_id is not None and order.product_id != product_id)
    ):
        raise SandboxOrderNotFound(detail=N_("You have no such order."))
    at = now or utcnow()
    if order.refunded_at is not None:
        raise OrderNotRefundable(detail=N_("This order was refunded already."))
    if at > returnable_until(order):
        raise OrderNotRefundable(
            detail=N_("Orders can be returned for {days} days after paying."),
            extra={"days": RETURN_DAYS},
        )
    order.refunded_at = at
    await session.flush()
    await repo.count_sale(session, order.product_id, refund=True)
    return order


# --- what the pages show --------------------------------------------------------------


@dataclass(frozen=True)
class DiscoverPage:
    accounts: list[SandboxAccount]
    live_rooms: list[tuple[SandboxLiveRoom, SandboxAccount]]
    videos: list[tuple[SandboxVideo, SandboxAccount]]
    next_cursor: str | None


async def discover(
    session: AsyncSession,
    *,
    search: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> DiscoverPage:
    """Accounts (most followed first), rooms on air, and videos (newest first, paged)."""
    size = clamp_limit(limit, default=12)
    search = (search or "").strip() or None
    rows = await repo.videos_page(
        session, search=search, account_id=None, cursor=cursor, limit=size
    )
    first_page = cursor is None
    return DiscoverPage(
        accounts=await repo.accounts_matching(session, search=search, limit=8)
        if first_page
        else [],
        live_rooms=await repo.live_rooms_on_air(session, account_id=None, limit=5)
        if first_page and search is None
        else [],
        videos=rows[:size],
        next_cursor=next_cursor([video for video, _ in rows], size),
    )


@dataclass(frozen=True)
class ProfileView:
    account: SandboxAccount
    video_count: int
    videos: list[SandboxVideo]
    next_cursor: str | None
    live_rooms: list[SandboxLiveRoom]
    products: list[SandboxProduct]
    is_following: bool
    is_own: bool
    ad: SandboxProfileAd | None = None
    """The ad card the account shows at the top of its profile."""
    advertiser: SandboxAccount | None = None


async def profile(
    session: AsyncSession,
    *,
    handle: str,
    viewer: SandboxAccount | None,
    cursor: str | None = None,
) -> ProfileView:
    account = await get_account(session, handle=handle)
    size = clamp_limit(None, default=12)
    rows = await repo.videos_page(
        session, search=None, account_id=account.id, cursor=cursor, limit=size
    )
    rooms = await repo.live_rooms_on_air(session, account_id=account.id, limit=3)
    following = viewer is not None and await is_following(session, account=viewer, target=account)
    ad = await repo.ad_showing(session, account.id)
    return ProfileView(
        account=account,
        video_count=await repo.video_count(session, account.id),
        videos=[video for video, _ in rows[:size]],
        next_cursor=next_cursor([video for video, _ in rows], size),
        live_rooms=[room for room, _ in rooms],
        products=await repo.products_of(session, account.id, limit=6),
        is_following=following,
        is_own=viewer is not None and viewer.id == account.id,
        ad=ad,
        advertiser=await repo.account_by_id(session, ad.advertiser_id) if ad else None,
    )


@dataclass(frozen=True)
class VideoView:
    video: SandboxVideo
    owner: SandboxAccount
    watched_when_liked: int | None
    """Seconds watched when the viewer liked it; None when the viewer has not liked it."""
    comments: list[tuple[SandboxComment, SandboxAccount]]


async def video_page(
    session: AsyncSession, *, video_id: UUID, viewer: SandboxAccount | None
) -> VideoView:
    video = await get_video(session, video_id=video_id)
    owner = await repo.account_by_id(session, video.account_id)
    assert owner is not None
    liked = await repo.like_of(session, viewer.id, video.id) if viewer is not None else None
    return VideoView(
        video=video,
        owner=owner,
        watched_when_liked=liked.watched_seconds if liked is not None else None,
        comments=await repo.visible_comments(session, video.id, 50),
    )


@dataclass(frozen=True)
class LiveView:
    room: SandboxLiveRoom
    owner: SandboxAccount
    visit: SandboxLiveVisit | None
    """The viewer's open stay in the room, if any."""


async def live_page(
    session: AsyncSession,
    *,
    room_id: UUID,
    viewer: SandboxAccount | None,
    visit_id: UUID | None,
) -> LiveView:
    room = await get_live_room(session, room_id=room_id)
    owner = await repo.account_by_id(session, room.account_id)
    assert owner is not None
    visit = None
    if viewer is not None and visit_id is not None:
        found = await repo.visit_by_id(session, visit_id)
        if (
            found is not None
            and found.account_id == viewer.id
            and found.room_id == room.id
            and found.left_at is None
        ):
            visit = found
    return LiveView(room=room, owner=owner, visit=visit)


@dataclass(frozen=True)
class ProductView:
    product: SandboxProduct
    owner: SandboxAccount
    orders: list[SandboxOrder]
    """The viewer's orders of the product, newest first."""
    now: datetime
    return_days: int = RETURN_DAYS

    def returnable(self, order: SandboxOrder) -> bool:
        return order.refunded_at is None and self.now <= returnable_until(order)


async def product_page(
    session: AsyncSession, *, product_id: UUID, viewer: SandboxAccount | None
) -> ProductView:
    product = await get_product(session, product_id=product_id)
    owner = await repo.account_by_id(session, product.account_id)
    assert owner is not None
    orders = await repo.orders_by(session, viewer.id, product.id, None) if viewer else []
    return ProductView(product=product, owner=owner, orders=orders[::-1], now=utcnow())
