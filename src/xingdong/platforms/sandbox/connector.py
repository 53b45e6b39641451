"""The connector to the sandbox platform. The platform stands for a system outside ours,
so every call opens its own short session from the database, apart from the caller's
transaction, as a call to a real platform's API would be."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote, unquote, urlsplit
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.db import Database
from xingdong.core.errors import FieldError
from xingdong.core.i18n import N_
from xingdong.platforms.connector import (
    TARGET_KINDS,
    AccountInfo,
    TargetInfo,
    TargetNotFound,
    UnsupportedAction,
    Verification,
    require_action_on,
)
from xingdong.platforms.sandbox import repository as repo
from xingdong.platforms.sandbox import service
from xingdong.platforms.sandbox.models import (
    SandboxAccount,
    SandboxLiveRoom,
    SandboxProduct,
    SandboxVideo,
)

PLATFORM = "sandbox"

_PATHS = {
    "account": re.compile(r"^/sandbox/@([^/]+)/?$"),
    "video": re.compile(r"^/sandbox/videos/([^/]+)/?$"),
    "live_room": re.compile(r"^/sandbox/live/([^/]+)/?$"),
    "product": re.compile(r"^/sandbox/products/([^/]+)/?$"),
}

Found = SandboxAccount | SandboxVideo | SandboxLiveRoom | SandboxProduct


def account_url(handle: str) -> str:
    return f"/sandbox/@{quote(handle)}"


def video_url(video_id: UUID) -> str:
    return f"/sandbox/videos/{video_id}"


def live_room_url(room_id: UUID) -> str:
    return f"/sandbox/live/{room_id}"


def product_url(product_id: UUID) -> str:
    return f"/sandbox/products/{product_id}"


def mentions(text: str, handle: str) -> bool:
    """Whether ``text`` mentions ``@handle`` (not merely a longer handle starting so)."""
    return re.search("@" + re.escape(handle) + r"(?![A-Za-z0-9_])", text) is not None


def _not_found(kind: str, ref: str) -> TargetNotFound:
    return TargetNotFound(
        detail=N_("Nothing matching “{ref}” was found on the {platform} platform."),
        extra={"ref": ref, "kind": kind, "platform": PLATFORM},
    )


def _reference(kind: str, ref: str) -> str | None:
    """The handle or id inside what was typed: a bare reference or a sandbox URL."""
    text = ref.strip()
    if "/sandbox/" not in text:
        return text
    path = urlsplit(text).path if "://" in text else re.split(r"[?#]", text, maxsplit=1)[0]
    match = _PATHS[kind].match(path[path.find("/sandbox/") :])
    return unquote(match.group(1)) if match else None


def _as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _verified(
    detail: str,
    at: datetime,
    *,
    watched_seconds: int | None = None,
    stayed_seconds: int | None = None,
    comment_text: str | None = None,
) -> Verification:
    return Verification(
        status="verified",
        observed_at=at,
        detail=detail,
        watched_seconds=watched_seconds,
        stayed_seconds=stayed_seconds,
        comment_text=comment_text,
    )


def _absent(
    detail: str,
    at: datetime | None = None,
    *,
    watched_seconds: int | None = None,
    stayed_seconds: int | None = None,
    comment_text: str | None = None,
) -> Verification:
    """Not there (``at`` is None), or there but not as asked (``at`` says when it was made)."""
    return Verification(
        status="absent",
        observed_at=at,
        detail=detail,
        watched_seconds=watched_seconds,
        stayed_seconds=stayed_seconds,
        comment_text=comment_text,
    )


@dataclass(frozen=True)
class _Asked:
    """What a verification asks beyond the action itself."""

    since: datetime | None
    """Only what was done at or after this moment counts; None: whenever."""
    min_watch_seconds: int
    min_stay_seconds: int
    tracking_code: str | None
    until: datetime | None = None
    """Only an order placed at or before this moment counts; None: whenever."""
    min_impressions: int = 0


class SandboxConnector:
    name = PLATFORM

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- accounts and targets ---------------------------------------------------------

    async def describe_account(
        self, handle: str, *, declared_followers: int, claimant: str
    ) -> AccountInfo:
        """A handle not on the platform yet is signed up here for the claimant with the
        followers they declared; an account they opened reports its real follower count;
        anyone else's is refused (``SandboxAccountNotYours``)."""
        async with self._db.session_scope() as session:
            account = await service.authorise_binding(
                session, handle=handle, followers=declared_followers, claimant=claimant
            )
            return AccountInfo(handle=account.handle, followers=account.followers)

    async def authorise_org_link(self, handle: str, *, claimants: tuple[str, ...]) -> AccountInfo:
        """An account nobody opened through Xingdong (a brand's or a creator's on the
        platform) is authorised for the first organisation that links it and is theirs
        from then on; one a claimant opened is theirs; anyone else's is refused."""
        async with self._db.session_scope() as session:
            reference = _reference("account", handle) or ""
            account = await service.authorise_org_link(
                session, handle=reference, claimants=claimants
            )
            if account is None:
                raise TargetNotFound(
                    detail=N_("There is no account @{handle} on the sandbox platform."),
                    fields=[FieldError("handle", N_("Not found on the platform."))],
                    extra={"handle": reference.lstrip("@") or handle},
                )
            return AccountInfo(handle=account.handle, followers=account.followers)

    async def resolve_target(self, kind: str, ref: str) -> TargetInfo:
        if kind not in TARGET_KINDS:
            raise TargetNotFound(
                detail=N_("A target is an account, a video, a live room or a product."),
                extra={"kind": kind},
            )
        reference = _reference(kind, ref)
        if not reference:
            raise _not_found(kind, ref)
        async with self._db.sessionmaker() as session:
            found = await self._find(session, kind, reference)
            # A product off sale cannot be bought: no task may point at it any more.
            if found is None or (isinstance(found, SandboxProduct) and not found.on_sale):
                raise _not_found(kind, ref)
            return await self._describe(session, found)

    async def _find(self, session: AsyncSession, kind: str, reference: str) -> Found | None:
        identifier = _as_uuid(reference)
        if kind == "account":
            by_id = await repo.account_by_id(session, identifier) if identifier else None
            return by_id or await repo.account_by_handle(session, reference.lstrip("@"))
        if identifier is None:
            return None
        if kind == "video":
            video = await repo.video_by_id(session, identifier)
            return video if video is not None and video.deleted_at is None else None
        if kind == "product":
            return await repo.product_by_id(session, identifier)
        return await repo.live_room_by_id(session, identifier)

    async def _describe(self, session: AsyncSession, found: Found) -> TargetInfo:
        if isinstance(found, SandboxAccount):
            return TargetInfo(
                platform=PLATFORM,
                kind="account",
                ref=found.handle,
                title=found.display_name,
                owner_handle=found.handle,
                url=account_url(found.handle),
            )
        owner = await repo.account_by_id(session, found.account_id)
        assert owner is not None
        if isinstance(found, SandboxVideo):
            kind, url = "video", video_url(found.id)
        elif isinstance(found, SandboxProduct):
            kind, url = "product", product_url(found.id)
        else:
            kind, url = "live_room", live_room_url(found.id)
        return TargetInfo(
            platform=PLATFORM,
            kind=kind,
            ref=str(found.id),
            title=found.title,
            owner_handle=owner.handle,
            url=url,
            price_fen=found.price_fen if isinstance(found, SandboxProduct) else None,
        )

    # --- verification -----------------------------------------------------------------

    async def verify_action(
        self,
        action: str,
        *,
        actor_handle: str,
        target: TargetInfo,
        since: datetime,
        min_watch_seconds: int = 0,
        min_stay_seconds: int = 0,
        tracking_code: str | None = None,
        min_impressions: int = 0,
    ) -> Verification:
        if since.tzinfo is None:
            raise ValueError("since must be a timezone-aware datetime")
        asked = _Asked(
            since, min_watch_seconds, min_stay_seconds, tracking_code,
            min_impressions=min_impressions,
        )  # fmt: skip
        return await self._observe(action, actor_handle=actor_handle, target=target, asked=asked)

    async def check_retention(
        self,
        action: str,
        *,
        actor_handle: str,
        target: TargetInfo,
        tracking_code: str | None = None,
        until: datetime | None = None,
        min_impressions: int = 0,
    ) -> Verification:
        """The action as it stands now, whenever it was made; the watch and stay times
        were checked when it was verified and are not asked again."""
        if until is not None and until.tzinfo is None:
            raise ValueError("until must be a timezone-aware datetime")
        asked = _Asked(None, 0, 0, tracking_code, until, min_impressions)
        return await self._observe(action, actor_handle=actor_handle, target=target, asked=asked)

    async def _observe(
        self, action: str, *, actor_handle: str, target: TargetInfo, asked: _Asked
    ) -> Verification:
        require_action_on(action, target.kind)
        if target.platform != PLATFORM:
            raise UnsupportedAction(
                detail=N_("This target is on another platform."), extra={"kind": target.kind}
            )
        async with self._db.sessionmaker() as session:
            actor = await repo.account_by_handle(session, actor_handle.strip().lstrip("@"))
            found = await self._find(session, target.kind, target.ref)
            if actor is None or found is None:
                reason = "actor_not_found" if actor is None else "target_not_found"
                return Verification(status="unknown", observed_at=None, detail=reason)
            return await self._check(session, action, actor, found, asked)

    async def _check(
        self,
        session: AsyncSession,
        action: str,
        actor: SandboxAccount,
        found: Found,
        asked: _Asked,
    ) -> Verification:
        since = asked.since
        if isinstance(found, SandboxAccount):
            if action == "follow":
                return await self._follow(session, actor, found, since)
            if action == "profile_ad":
                return await self._profile_ad(session, actor, found, asked)
            return await self._shoot(session, actor, found, since)
        if isinstance(found, SandboxVideo):
            return await self._on_video(
                session, action, actor, found, since, asked.min_watch_seconds
            )
        if isinstance(found, SandboxProduct):
            return await self._purchase(session, actor, found, asked)
        return await self._visit(session, actor, found, since, asked.min_stay_seconds)

    async def _on_video(
        self,
        session: AsyncSession,
        action: str,
        actor: SandboxAccount,
        video: SandboxVideo,
        since: datetime | None,
        min_watch_seconds: int,
    ) -> Verification:
        if action == "like":
            return await self._like(session, actor, video, since, min_watch_seconds)
        if action == "comment":
            return await self._comment(session, actor, video, since)
        return await self._share(session, actor, video, since)

    @staticmethod
    async def _follow(
        session: AsyncSession, actor: SandboxAccount, target: SandboxAccount, since: datetime | None
    ) -> Verification:
        row = await repo.follow_of(session, actor.id, target.id)
        if row is None:
            return _absent("no_follow")
        if since is not None and row.created_at < since:
            return _absent("followed_before", row.created_at)
        return _verified("follow_found", row.created_at)

    @staticmethod
    async def _like(
        session: AsyncSession,
        actor: SandboxAccount,
        video: SandboxVideo,
        since: datetime | None,
        min_watch_seconds: int,
    ) -> Verification:
        row = await repo.like_of(session, actor.id, video.id)
        if row is None:
            return _absent("no_like")
        watched = row.watched_seconds
        if since is not None and row.created_at < since:
            return _absent("liked_before", row.created_at, watched_seconds=watched)
        if watched < min_watch_seconds:
            return _absent("watched_too_short", row.created_at, watched_seconds=watched)
        return _verified("like_found", row.created_at, watched_seconds=watched)

    @staticmethod
    async def _comment(
        session: AsyncSession, actor: SandboxAccount, video: SandboxVideo, since: datetime | None
    ) -> Verification:
        rows = await repo.comments_by(session, actor.id, video.id, since)
        for row in rows:
            if row.deleted_at is None:
                return _verified("comment_found", row.created_at, comment_text=row.body)
        if rows:
            return _absent("comment_deleted", rows[0].created_at, comment_text=rows[0].body)
        return _absent("no_comment")

    @staticmethod
    async def _share(
        session: AsyncSession, actor: SandboxAccount, video: SandboxVideo, since: datetime | None
    ) -> Verification:
        rows = await repo.shares_by(session, actor.id, video.id, since)
        if not rows:
            return _absent("no_share")
        return _verified("share_found", rows[0].created_at)

    @staticmethod
    async def _shoot(
        session: AsyncSession, actor: SandboxAccount, owner: SandboxAccount, since: datetime | None
    ) -> Verification:
        """The actor posted a video of their own that mentions ``@owner``."""

        def mentioning(videos: list[SandboxVideo]) -> list[SandboxVideo]:
            return [
                video
                for video in videos
                if mentions(video.title + "\n" + video.description, owner.handle)
            ]

        posted = mentioning(await repo.videos_posted_since(session, actor.id, since, deleted=False))
        if posted:
            return _verified("video_found", posted[0].created_at)
        removed = mentioning(await repo.videos_posted_since(session, actor.id, since, deleted=True))
        if removed:
            return _absent("video_deleted", removed[0].created_at)
        return _absent("no_video")

    @staticmethod
    async def _purchase(
        session: AsyncSession,
        actor: SandboxAccount,
        product: SandboxProduct,
        asked: _Asked,
    ) -> Verification:
        """An order of the product paid between ``since`` and ``until`` and not returned;
        with a tracking code, only an order placed through a link that carried it."""
        orders = await repo.orders_by(session, actor.id, product.id, asked.since)
        if asked.until is not None:
            until = asked.until
            orders = [order for order in orders if order.created_at <= until]
        if asked.tracking_code is not None:
            tracked = [order for order in orders if order.ref == asked.tracking_code]
            if orders and not tracked:
                return _absent("order_not_tracked", orders[0].created_at)
            orders = tracked
        kept = [order for order in orders if order.refunded_at is None]
        if kept:
            return _verified("order_found", kept[0].created_at)
        if orders:
            return _absent("order_refunded", orders[0].created_at)
        return _absent("no_order")

    @staticmethod
    async def _profile_ad(
        session: AsyncSession,
        actor: SandboxAccount,
        advertiser: SandboxAccount,
        asked: _Asked,
    ) -> Verification:
        """The advertiser's ad put up on the actor's profile since ``since`` (with a
        tracking code, through a link carrying it), seen at least ``min_impressions``
        times; taking it down afterwards does not undo the impressions."""
        ads = await repo.ads_put_up(session, actor.id, advertiser.id, asked.since)
        if asked.tracking_code is not None:
            tracked = [ad for ad in ads if ad.ref == asked.tracking_code]
            if ads and not tracked:
                return _absent("ad_not_tracked", ads[0].created_at)
            ads = tracked
        if not ads:
            return _absent("no_ad")
        best = ads[0]
        if best.impressions >= max(asked.min_impressions, 1):
            return replace(
                _verified("impressions_reached", best.created_at), impressions=best.impressions
            )
        detail = "impressions_short" if best.removed_at is None else "ad_taken_down"
        return replace(_absent(detail, best.created_at), impressions=best.impressions)

    @staticmethod
    async def _visit(
        session: AsyncSession,
        actor: SandboxAccount,
        room: SandboxLiveRoom,
        since: datetime | None,
        min_stay_seconds: int,
    ) -> Verification:
        """Stays since ``since`` are added up: leaving and coming back keeps the time."""
        visits = await repo.visits_by(session, actor.id, room.id, since)
        if not visits:
            return _absent("no_visit")
        stayed = sum(visit.stayed_seconds for visit in visits)
        if stayed < min_stay_seconds:
            return _absent("stayed_too_short", visits[0].created_at, stayed_seconds=stayed)
        return _verified("visit_found", visits[0].created_at, stayed_seconds=stayed)

    # --- public counts ----------------------------------------------------------------

    async def public_stats(self, target: TargetInfo) -> dict[str, int]:
        async with self._db.sessionmaker() as session:
            found = await self._find(session, target.kind, target.ref)
            if found is None:
                raise _not_found(target.kind, target.ref)
            if isinstance(found, SandboxAccount):
                return {
                    "followers": found.followers,
                    "videos": await repo.video_count(session, found.id),
                }
            if isinstance(found, SandboxVideo):
                return {
                    "views": found.views,
                    "likes": found.likes,
                    "comments": found.comments,
                    "shares": found.shares,
                }
            if isinstance(found, SandboxProduct):
                return {
                    "price_fen": found.price_fen,
                    "orders": found.orders,
                    "refunds": found.refunds,
                    "on_sale": int(found.on_sale),
                }
            return {"visitors": found.visitors, "live": int(found.is_live)}
