"""Every query on the sandbox platform's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from xingdong.core.pagination import contains, in_pages
from xingdong.platforms.sandbox.models import (
    SandboxAccount,
    SandboxAdView,
    SandboxComment,
    SandboxFollow,
    SandboxLike,
    SandboxLiveRoom,
    SandboxLiveVisit,
    SandboxOrder,
    SandboxProduct,
    SandboxProfileAd,
    SandboxShare,
    SandboxVideo,
)

# --- accounts -------------------------------------------------------------------------


async def account_by_handle(
    session: AsyncSession, handle: str, *, lock: bool = False
) -> SandboxAccount | None:
    query = select(SandboxAccount).where(SandboxAccount.handle == handle)
    if lock:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def account_by_id(session: AsyncSession, account_id: UUID) -> SandboxAccount | None:
    return await session.get(SandboxAccount, account_id)


async def insert_account(session: AsyncSession, account: SandboxAccount) -> bool:
    """Insert unless the handle is taken; False when it was (no check-then-act race)."""
    result = await session.execute(
        insert(SandboxAccount)
        .values(
            id=account.id,
            handle=account.handle,
            display_name=account.display_name,
            bio=account.bio,
            followers=account.followers,
            opened_by=account.opened_by,
        )
        .on_conflict_do_nothing(index_elements=["handle"])
        .returning(SandboxAccount.id)
    )
    return result.first() is not None


async def add_followers(session: AsyncSession, account_id: UUID, delta: int) -> None:
    await session.execute(
        update(SandboxAccount)
        .where(SandboxAccount.id == account_id)
        .values(followers=func.greatest(SandboxAccount.followers + delta, 0))
        .execution_options(synchronize_session=False)
    )


async def accounts_matching(
    session: AsyncSession, *, search: str | None, limit: int
) -> list[SandboxAccount]:
    query = select(SandboxAccount)
    if search:
        query = query.where(
            or_(
                contains(SandboxAccount.handle, search),
                contains(SandboxAccount.display_name, search),
            )
        )
    query = query.order_by(SandboxAccount.followers.desc(), SandboxAccount.id).limit(limit)
    return list((await session.execute(query)).scalars())


async def video_count(session: AsyncSession, account_id: UUID) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(SandboxVideo)
        .where(SandboxVideo.account_id == account_id, SandboxVideo.deleted_at.is_(None))
    )
    return int(result.scalar_one())


# --- videos ---------------------------------------------------------------------------


async def video_by_id(session: AsyncSession, video_id: UUID) -> SandboxVideo | None:
    return await session.get(SandboxVideo, video_id)


async def videos_page(
    session: AsyncSession,
    *,
    search: str | None,
    account_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> list[tuple[SandboxVideo, SandboxAccount]]:
    """Videos that are not deleted, newest first, ``limit + 1`` of them (to see whether
    there is a next page)."""
    query = (
        select(SandboxVideo, SandboxAccount)
        .join(SandboxAccount, SandboxAccount.id == SandboxVideo.account_id)
        .where(SandboxVideo.deleted_at.is_(None))
    )
    if account_id is not None:
        query = query.where(SandboxVideo.account_id == account_id)
    if search:
        query = query.where(
            or_(
                contains(SandboxVideo.title, search),
                contains(SandboxVideo.description, search),
                contains(SandboxAccount.handle, search),
                contains(SandboxAccount.display_name, search),
            )
        )
    query = in_pages(query, SandboxVideo.created_at, SandboxVideo.id, cursor, newest_first=True)
    query = query.limit(limit + 1)
    return [(video, owner) for video, owner in (await session.execute(query)).all()]


async def add_to_video_counts(session: AsyncSession, video_id: UUID, **deltas: int) -> None:
    """Move the shown counts (``views``, ``likes``, ``comments``, ``shares``) in one
    statement, never below zero."""
    columns: dict[str, InstrumentedAttribute[int]] = {
        "views": SandboxVideo.views,
        "likes": SandboxVideo.likes,
        "comments": SandboxVideo.comments,
        "shares": SandboxVideo.shares,
    }
    values: dict[str, Any] = {
        name: func.greatest(columns[name] + delta, 0) for name, delta in deltas.items()
    }
    await session.execute(
        update(SandboxVideo)
        .where(SandboxVideo.id == video_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )


async def mark_video_deleted(session: AsyncSession, video_id: UUID, at: datetime) -> bool:
    result = await session.execute(
        update(SandboxVideo)
        .where(SandboxVideo.id == video_id, SandboxVideo.deleted_at.is_(None))
        .values(deleted_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def videos_posted_since(
    session: AsyncSession, account_id: UUID, since: datetime | None, *, deleted: bool
) -> list[SandboxVideo]:
    """An account's videos (posted at or after ``since``), deleted ones or the others."""
    query = select(SandboxVideo).where(SandboxVideo.account_id == account_id)
    if since is not None:
        query = query.where(SandboxVideo.created_at >= since)
    if deleted:
        query = query.where(SandboxVideo.deleted_at.is_not(None))
    else:
        query = query.where(SandboxVideo.deleted_at.is_(None))
    query = query.order_by(SandboxVideo.created_at, SandboxVideo.id)
    return list((await session.execute(query)).scalars())


# --- live rooms -----------------------------------------------------------------------


async def live_room_by_id(session: AsyncSession, room_id: UUID) -> SandboxLiveRoom | None:
    return await session.get(SandboxLiveRoom, room_id)


async def live_rooms_on_air(
    session: AsyncSession, *, account_id: UUID | None, limit: int
) -> list[tuple[SandboxLiveRoom, SandboxAccount]]:
    query = (
        select(SandboxLiveRoom, SandboxAccount)
        .join(SandboxAccount, SandboxAccount.id == SandboxLiveRoom.account_id)
        .where(SandboxLiveRoom.is_live.is_(True))
    )
    if account_id is not None:
        query = query.where(SandboxLiveRoom.account_id == account_id)
    query = query.order_by(SandboxLiveRoom.created_at.desc(), SandboxLiveRoom.id).limit(limit)
    return [(room, owner) for room, owner in (await session.execute(query)).all()]


async def count_visitor(session: AsyncSession, room_id: UUID) -> None:
    await session.execute(
        update(SandboxLiveRoom)
        .where(SandboxLiveRoom.id == room_id)
        .values(visitors=SandboxLiveRoom.visitors + 1)
        .execution_options(synchronize_session=False)
    )


async def set_live(session: AsyncSession, room_id: UUID, *, is_live: bool) -> None:
    await session.execute(
        update(SandboxLiveRoom).where(SandboxLiveRoom.id == room_id).values(is_live=is_live)
    )


# --- follows and likes ----------------------------------------------------------------


async def insert_follow(
    session: AsyncSession, follower_id: UUID, followee_id: UUID, at: datetime
) -> bool:
    result = await session.execute(
        insert(SandboxFollow)
        .values(follower_id=follower_id, followee_id=followee_id, created_at=at)
        .on_conflict_do_nothing()
        .returning(SandboxFollow.follower_id)
    )
    return result.first() is not None


async def delete_follow(session: AsyncSession, follower_id: UUID, followee_id: UUID) -> bool:
    result = await session.execute(
        delete(SandboxFollow)
        .where(SandboxFollow.follower_id == follower_id, SandboxFollow.followee_id == followee_id)
        .returning(SandboxFollow.follower_id)
    )
    return result.first() is not None


async def follow_of(
    session: AsyncSession, follower_id: UUID, followee_id: UUID
) -> SandboxFollow | None:
    return await session.get(SandboxFollow, (follower_id, followee_id))


async def insert_like(
    session: AsyncSession, account_id: UUID, video_id: UUID, watched_seconds: int, at: datetime
) -> bool:
    result = await session.execute(
        insert(SandboxLike)
        .values(
            account_id=account_id,
            video_id=video_id,
            watched_seconds=watched_seconds,
            created_at=at,
        )
        .on_conflict_do_nothing()
        .returning(SandboxLike.account_id)
    )
    return result.first() is not None


async def delete_like(session: AsyncSession, account_id: UUID, video_id: UUID) -> bool:
    result = await session.execute(
        delete(SandboxLike)
        .where(SandboxLike.account_id == account_id, SandboxLike.video_id == video_id)
        .returning(SandboxLike.account_id)
    )
    return result.first() is not None


async def like_of(session: AsyncSession, account_id: UUID, video_id: UUID) -> SandboxLike | None:
    return await session.get(SandboxLike, (account_id, video_id))


# --- comments and shares --------------------------------------------------------------


async def comment_by_id(session: AsyncSession, comment_id: UUID) -> SandboxComment | None:
    return await session.get(
        SandboxComment, comment_id, with_for_update=True, populate_existing=True
    )


async def visible_comments(
    session: AsyncSession, video_id: UUID, limit: int
) -> list[tuple[SandboxComment, SandboxAccount]]:
    query = (
        select(SandboxComment, SandboxAccount)
        .join(SandboxAccount, SandboxAccount.id == SandboxComment.account_id)
        .where(SandboxComment.video_id == video_id, SandboxComment.deleted_at.is_(None))
        .order_by(SandboxComment.created_at.desc(), SandboxComment.id.desc())
        .limit(limit)
    )
    return [(comment, author) for comment, author in (await session.execute(query)).all()]


async def comments_by(
    session: AsyncSession, account_id: UUID, video_id: UUID, since: datetime | None
) -> list[SandboxComment]:
    """An account's comments on a video (deleted ones too), newest first."""
    query = select(SandboxComment).where(
        SandboxComment.account_id == account_id, SandboxComment.video_id == video_id
    )
    if since is not None:
        query = query.where(SandboxComment.created_at >= since)
    query = query.order_by(SandboxComment.created_at.desc(), SandboxComment.id.desc())
    return list((await session.execute(query)).scalars())


async def shares_by(
    session: AsyncSession, account_id: UUID, video_id: UUID, since: datetime | None
) -> list[SandboxShare]:
    query = select(SandboxShare).where(
        SandboxShare.account_id == account_id, SandboxShare.video_id == video_id
    )
    if since is not None:
        query = query.where(SandboxShare.created_at >= since)
    query = query.order_by(SandboxShare.created_at, SandboxShare.id)
    return list((await session.execute(query)).scalars())


# --- live visits ----------------------------------------------------------------------


async def visit_by_id(session: AsyncSession, visit_id: UUID) -> SandboxLiveVisit | None:
    return await session.get(SandboxLiveVisit, visit_id)


async def visit_for_update(session: AsyncSession, visit_id: UUID) -> SandboxLiveVisit | None:
    return await session.get(
        SandboxLiveVisit, visit_id, with_for_update=True, populate_existing=True
    )


async def close_open_visits(
    session: AsyncSession, account_id: UUID, room_id: UUID, at: datetime
) -> None:
    await session.execute(
        update(SandboxLiveVisit)
        .where(
            SandboxLiveVisit.account_id == account_id,
            SandboxLiveVisit.room_id == room_id,
            SandboxLiveVisit.left_at.is_(None),
        )
        .values(left_at=at)
    )


async def visits_by(
    session: AsyncSession, account_id: UUID, room_id: UUID, since: datetime | None
) -> list[SandboxLiveVisit]:
    query = select(SandboxLiveVisit).where(
        SandboxLiveVisit.account_id == account_id, SandboxLiveVisit.room_id == room_id
    )
    if since is not None:
        query = query.where(SandboxLiveVisit.created_at >= since)
    query = query.order_by(SandboxLiveVisit.created_at, SandboxLiveVisit.id)
    return list((await session.execute(query)).scalars())


# --- shop -----------------------------------------------------------------------------


async def product_by_id(session: AsyncSession, product_id: UUID) -> SandboxProduct | None:
    return await session.get(SandboxProduct, product_id)


async def products_of(session: AsyncSession, account_id: UUID, limit: int) -> list[SandboxProduct]:
    query = (
        select(SandboxProduct)
        .where(SandboxProduct.account_id == account_id, SandboxProduct.on_sale.is_(True))
        .order_by(SandboxProduct.created_at.desc(), SandboxProduct.id.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def count_sale(session: AsyncSession, product_id: UUID, *, refund: bool = False) -> None:
    """One more order of the product, or one more refund."""
    column = SandboxProduct.refunds if refund else SandboxProduct.orders
    await session.execute(
        update(SandboxProduct)
        .where(SandboxProduct.id == product_id)
        .values({column.key: column + 1})
        .execution_options(synchronize_session=False)
    )


async def order_for_update(session: AsyncSession, order_id: UUID) -> SandboxOrder | None:
    return await session.get(SandboxOrder, order_id, with_for_update=True, populate_existing=True)


async def orders_by(
    session: AsyncSession, account_id: UUID, product_id: UUID, since: datetime | None
) -> list[SandboxOrder]:
    """An account's orders of a product (refunded ones too), oldest first."""
    query = select(SandboxOrder).where(
        SandboxOrder.account_id == account_id, SandboxOrder.product_id == product_id
    )
    if since is not None:
        query = query.where(SandboxOrder.created_at >= since)
    query = query.order_by(SandboxOrder.created_at, SandboxOrder.id)
    return list((await session.execute(query)).scalars())


# --- profile ads ----------------------------------------------------------------------


async def lock_account(session: AsyncSession, account_id: UUID) -> None:
    """Hold the account's row, so that its own changes happen one after the other."""
    await session.execute(
        select(SandboxAccount.id).where(SandboxAccount.id == account_id).with_for_update()
    )


async def ad_showing(session: AsyncSession, account_id: UUID) -> SandboxProfileAd | None:
    """The ad the account shows on its profile now, if any."""
    return await session.scalar(
        select(SandboxProfileAd).where(
            SandboxProfileAd.account_id == account_id, SandboxProfileAd.removed_at.is_(None)
        )
    )


async def ads_put_up(
    session: AsyncSession, account_id: UUID, advertiser_id: UUID, since: datetime | None
) -> list[SandboxProfileAd]:
    """The account's ads of this advertiser put up since ``since``, most seen first."""
    query = select(SandboxProfileAd).where(
        SandboxProfileAd.account_id == account_id,
        SandboxProfileAd.advertiser_id == advertiser_id,
    )
    if since is not None:
        query = query.where(SandboxProfileAd.created_at >= since)
    query = query.order_by(SandboxProfileAd.impressions.desc(), SandboxProfileAd.created_at)
    return list((await session.execute(query)).scalars())


async def count_ad_view(
    session: AsyncSession, ad_id: UUID, viewer: str, at: datetime, recount_before: datetime
) -> bool:
    """One more impression of the ad, unless ``viewer`` was counted on it at or after
    ``recount_before``. The viewer's row is written in one statement, so that parallel
    views by one viewer count once. Answers whether it counted."""
    statement = (
        insert(SandboxAdView)
        .values(ad_id=ad_id, viewer=viewer, counted_at=at)
        .on_conflict_do_update(
            index_elements=[SandboxAdView.ad_id, SandboxAdView.viewer],
            set_={"counted_at": at},
            where=SandboxAdView.counted_at < recount_before,
        )
        .returning(SandboxAdView.ad_id)
    )
    if (await session.execute(statement)).first() is None:
        return False
    await add_ad_impressions(session, ad_id, 1)
    return True


async def add_ad_impressions(session: AsyncSession, ad_id: UUID, count: int) -> None:
    await session.execute(
        update(SandboxProfileAd)
        .where(SandboxProfileAd.id == ad_id)
        .values(impressions=SandboxProfileAd.impressions + count)
    )
