"""The sandbox short-video platform: its rules, and its connector as the rest of Xingdong
sees it (describe, resolve, verify, retention, public counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote
from uuid import UUID

import pytest
from sqlalchemy import func, select

from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import Forbidden, ValidationFailed
from xingdong.platforms.connector import TargetInfo, TargetNotFound, UnsupportedAction
from xingdong.platforms.sandbox import service
from xingdong.platforms.sandbox.connector import SandboxConnector
from xingdong.platforms.sandbox.demo import BRAND_HANDLE, seed_sandbox
from xingdong.platforms.sandbox.errors import (
    LiveRoomClosed,
    SandboxAccountNotYours,
    SandboxCommentNotFound,
    SandboxHandleTaken,
    SandboxVideoNotFound,
    SandboxVisitNotFound,
)
from xingdong.platforms.sandbox.models import (
    SandboxAccount,
    SandboxComment,
    SandboxLiveRoom,
    SandboxVideo,
)


@dataclass
class World:
    brand: SandboxAccount
    worker: SandboxAccount
    video: SandboxVideo
    room: SandboxLiveRoom
    t0: datetime


@pytest.fixture
async def world(db: Database) -> World:
    t0 = utcnow() - timedelta(hours=2)
    async with db.session_scope() as s:
        brand = await service.create_account(
            s, handle="brand_x", display_name="品牌X", followers=1000
        )
        worker = await service.create_account(s, handle="worker_a", display_name="小A")
        video = await service.create_video(
            s, account=brand, title="新品试用", likes=10, views=100, now=t0 - timedelta(days=1)
        )
        room = await service.create_live_room(s, account=brand, title="新品直播间")
    return World(brand=brand, worker=worker, video=video, room=room, t0=t0)


@pytest.fixture
def connector(db: Database) -> SandboxConnector:
    return SandboxConnector(db)


async def target(connector: SandboxConnector, kind: str, ref: str | UUID) -> TargetInfo:
    return await connector.resolve_target(kind, str(ref))


async def reload_account(db: Database, account_id: UUID) -> SandboxAccount:
    async with db.sessionmaker() as s:
        account = await s.get(SandboxAccount, account_id)
    assert account is not None
    return account


async def reload_video(db: Database, video_id: UUID) -> SandboxVideo:
    async with db.sessionmaker() as s:
        video = await s.get(SandboxVideo, video_id)
    assert video is not None
    return video


# --- the platform's rules -------------------------------------------------------------


async def test_follow_and_unfollow_move_the_follower_count_once(db: Database, world: World) -> None:
    async with db.session_scope() as s:
        assert await service.follow(s, account=world.worker, target=world.brand) is True
        assert await service.follow(s, account=world.worker, target=world.brand) is False
    assert (await reload_account(db, world.brand.id)).followers == 1001
    async with db.session_scope() as s:
        assert await service.unfollow(s, account=world.worker, target=world.brand) is True
        assert await service.unfollow(s, account=world.worker, target=world.brand) is False
    assert (await reload_account(db, world.brand.id)).followers == 1000


async def test_an_account_cannot_follow_itself(db: Database, world: World) -> None:
    async with db.sessionmaker() as s:
        with pytest.raises(ValidationFailed):
            await service.follow(s, account=world.brand, target=world.brand)
    assert (await reload_account(db, world.brand.id)).followers == 1000


async def test_a_taken_handle_is_refused(db: Database, world: World) -> None:
    async with db.sessionmaker() as s:
        with pytest.raises(SandboxHandleTaken) as caught:
            await service.create_account(s, handle="@brand_x")
    assert caught.value.fields[0].field == "handle"


@pytest.mark.parametrize("handle", ["a", "has space", "x" * 31], ids=["short", "space", "long"])
async def test_a_bad_handle_is_refused(db: Database, handle: str) -> None:
    async with db.sessionmaker() as s:
        with pytest.raises(ValidationFailed):
            await service.create_account(s, handle=handle)
        count = (await s.execute(select(func.count()).select_from(SandboxAccount))).scalar_one()
    assert count == 0


async def test_sign_up_opens_an_account_once(db: Database) -> None:
    async with db.session_scope() as s:
        first = await service.sign_up(s, handle="@new_face", followers=42)
        again = await service.sign_up(s, handle="new_face", followers=9999)
    assert (first.id, again.id, again.followers) == (first.id, first.id, 42)


async def test_a_like_keeps_its_watch_time_and_a_second_like_changes_nothing(
    db: Database, world: World
) -> None:
    async with db.session_scope() as s:
        assert await service.like(s, account=world.worker, video=world.video, watched_seconds=12)
        assert not await service.like(
            s, account=world.worker, video=world.video, watched_seconds=99
        )
    assert (await reload_video(db, world.video.id)).likes == 11
    async with db.session_scope() as s:
        assert await service.unlike(s, account=world.worker, video=world.video)
        assert not await service.unlike(s, account=world.worker, video=world.video)
    assert (await reload_video(db, world.video.id)).likes == 10


@pytest.mark.parametrize("text", ["", "   ", "长" * 301], ids=["empty", "blank", "too-long"])
async def test_a_comment_must_have_1_to_300_characters(
    db: Database, world: World, text: str
) -> None:
    async with db.sessionmaker() as s:
        with pytest.raises(ValidationFailed) as caught:
            await service.comment(s, account=world.worker, video=world.video, text=text)
    assert caught.value.fields[0].field == "text"
    assert (await reload_video(db, world.video.id)).comments == 0


async def test_only_the_author_deletes_a_comment_and_its_row_stays(
    db: Database, world: World
) -> None:
    async with db.session_scope() as s:
        row = await service.comment(
            s, account=world.worker, video=world.video, text="  用了一周，  很清爽 "
        )
    assert row.body == "用了一周， 很清爽"
    assert (await reload_video(db, world.video.id)).comments == 1
    async with db.sessionmaker() as s:
        with pytest.raises(Forbidden):
            await service.delete_comment(s, account=world.brand, comment_id=row.id)
    async with db.session_scope() as s:
        await service.delete_comment(s, account=world.worker, comment_id=row.id)
    async with db.sessionmaker() as s:
        with pytest.raises(SandboxCommentNotFound):
            await service.delete_comment(s, account=world.worker, comment_id=row.id)
        kept = await s.get(SandboxComment, row.id)
    assert kept is not None
    assert kept.deleted_at is not None
    assert kept.body == "用了一周， 很清爽"
    assert (await reload_video(db, world.video.id)).comments == 0


async def test_sharing_needs_a_known_channel(db: Database, world: World) -> None:
    async with db.sessionmaker() as s:
        with pytest.raises(ValidationFailed):
            await service.share(s, account=world.worker, video=world.video, channel="weibo")
    async with db.session_scope() as s:
        await service.share(s, account=world.worker, video=world.video, channel="moments")
    assert (await reload_video(db, world.video.id)).shares == 1


async def test_a_deleted_video_is_gone_and_only_its_owner_deletes_it(
    db: Database, world: World
) -> None:
    async with db.sessionmaker() as s:
        with pytest.raises(Forbidden):
            await service.delete_video(s, account=world.worker, video_id=world.video.id)
    async with db.session_scope() as s:
        await service.delete_video(s, account=world.brand, video_id=world.video.id)
    deleted = await reload_video(db, world.video.id)
    async with db.sessionmaker() as s:
        with pytest.raises(SandboxVideoNotFound):
            await service.get_video(s, video_id=world.video.id)
        with pytest.raises(SandboxVideoNotFound):
            await service.like(s, account=world.worker, video=deleted, watched_seconds=5)
        with pytest.raises(SandboxVideoNotFound):
            await service.comment(s, account=world.worker, video=deleted, text="还在吗")


async def test_time_in_a_live_room_counts_between_heartbeats_with_a_capped_gap(
    db: Database, world: World
) -> None:
    t0 = world.t0
    async with db.session_scope() as s:
        visit = await service.enter_live_room(s, account=world.worker, room=world.room, now=t0)

        async def beat(seconds: int) -> int:
            at = t0 + timedelta(seconds=seconds)
            row = await service.heartbeat(
                s, account=world.worker, room_id=world.room.id, visit_id=visit.id, now=at
            )
            return row.stayed_seconds

        assert await beat(10) == 10
        # The phone slept for a minute and a half: only 30 seconds of it count.
        assert await beat(100) == 40
        left = await service.leave_live_room(
            s,
            account=world.worker,
            room_id=world.room.id,
            visit_id=visit.id,
            now=t0 + timedelta(seconds=105),
        )
        assert (left.stayed_seconds, left.left_at) == (45, t0 + timedelta(seconds=105))
        assert await beat(115) == 45
    async with db.sessionmaker() as s:
        room = await s.get(SandboxLiveRoom, world.room.id)
    assert room is not None
    assert room.visitors == 1


async def test_a_heartbeat_for_someone_elses_visit_is_refused(db: Database, world: World) -> None:
    async with db.session_scope() as s:
        visit = await service.enter_live_room(s, account=world.worker, room=world.room)
    async with db.sessionmaker() as s:
        with pytest.raises(SandboxVisitNotFound):
            await service.heartbeat(
                s, account=world.brand, room_id=world.room.id, visit_id=visit.id
            )


async def test_a_room_that_is_not_live_cannot_be_entered(db: Database, world: World) -> None:
    async with db.session_scope() as s:
        await service.set_room_live(s, account=world.brand, room_id=world.room.id, is_live=False)
    async with db.sessionmaker() as s:
        room = await service.get_live_room(s, room_id=world.room.id)
        with pytest.raises(LiveRoomClosed):
            await service.enter_live_room(s, account=world.worker, room=room)


async def test_discover_pages_videos_newest_first_and_searches(db: Database, world: World) -> None:
    async with db.session_scope() as s:
        for n in range(14):
            await service.create_video(
                s, account=world.worker, title=f"日常 vlog {n:02d}", now=world.t0 + timedelta(n)
            )
    async with db.sessionmaker() as s:
        first = await service.discover(s)
        assert first.next_cursor is not None
        second = await service.discover(s, cursor=first.next_cursor)
        found = await service.discover(s, search="新品")
    titles = [video.title for video, _ in first.videos]
    assert titles[:2] == ["日常 vlog 13", "日常 vlog 12"]
    assert len(first.videos) == 12
    assert [video.title for video, _ in second.videos] == [
        "日常 vlog 01",
        "日常 vlog 00",
        "新品试用",
    ]
    assert second.next_cursor is None
    assert [a.handle for a in first.accounts] == ["brand_x", "worker_a"]
    assert [room.id for room, _ in first.live_rooms] == [world.room.id]
    assert [video.id for video, _ in found.videos] == [world.video.id]


async def test_the_demo_content_is_seeded_once(db: Database) -> None:
    for _ in range(2):
        async with db.session_scope() as s:
            await seed_sandbox(s)
    async with db.sessionmaker() as s:
        view = await service.profile(s, handle=BRAND_HANDLE, viewer=None)
        accounts = (await s.execute(select(func.count()).select_from(SandboxAccount))).scalar_one()
    assert view.account.display_name == "星动美妆官方号"
    assert view.account.followers == 12_000
    assert view.video_count == 6
    assert [room.is_live for room in view.live_rooms] == [True]
    assert accounts == 3


# --- the connector --------------------------------------------------------------------


async def test_describe_account_signs_up_a_new_handle_and_binds_only_its_opener(
    connector: SandboxConnector, world: World
) -> None:
    new = await connector.describe_account("fresh_face", declared_followers=321, claimant="p1")
    assert (new.handle, new.followers) == ("fresh_face", 321)
    # Its opener again: the platform's own count, not what is declared now.
    again = await connector.describe_account("fresh_face", declared_followers=9, claimant="p1")
    assert again.followers == 321
    # Someone else's account, a person's or the brand's, is not theirs to bind.
    for handle in ("fresh_face", "brand_x"):
        with pytest.raises(SandboxAccountNotYours) as refused:
            await connector.describe_account(handle, declared_followers=5, claimant="p2")
        assert refused.value.extra == {"handle": handle}
        assert [f.field for f in refused.value.fields] == ["handle"]


@pytest.mark.parametrize(
    "ref",
    [
        "brand_x",
        "@brand_x",
        " @brand_x ",
        "/sandbox/@brand_x",
        "http://127.0.0.1:8000/sandbox/@brand_x?from=share#top",
        "ID",
    ],
    ids=["handle", "at-handle", "spaces", "path", "url", "id"],
)
async def test_an_account_is_found_by_handle_id_or_url(
    connector: SandboxConnector, world: World, ref: str
) -> None:
    info = await target(connector, "account", str(world.brand.id) if ref == "ID" else ref)
    assert info == TargetInfo(
        platform="sandbox",
        kind="account",
        ref="brand_x",
        title="品牌X",
        owner_handle="brand_x",
        url="/sandbox/@brand_x",
    )


async def test_a_chinese_handle_is_found_from_its_encoded_url(
    db: Database, connector: SandboxConnector
) -> None:
    async with db.session_scope() as s:
        await service.create_account(s, handle="美妆小鱼", followers=5)
    info = await target(
        connector, "account", "https://sandbox.example/sandbox/@" + quote("美妆小鱼")
    )
    assert (info.ref, info.url) == ("美妆小鱼", "/sandbox/@%E7%BE%8E%E5%A6%86%E5%B0%8F%E9%B1%BC")


async def test_videos_and_rooms_are_found_by_id_or_url(
    connector: SandboxConnector, world: World
) -> None:
    by_id = await target(connector, "video", world.video.id)
    by_url = await target(connector, "video", f"http://host/sandbox/videos/{world.video.id}")
    assert by_id == by_url
    assert (by_id.title, by_id.owner_handle, by_id.url) == (
        "新品试用",
        "brand_x",
        f"/sandbox/videos/{world.video.id}",
    )
    room = await target(connector, "live_room", f"/sandbox/live/{world.room.id}")
    assert (room.ref, room.title, room.owner_handle) == (
        str(world.room.id),
        "新品直播间",
        "brand_x",
    )


@pytest.mark.parametrize(
    ("kind", "ref"),
    [
        ("account", "nobody_here"),
        ("account", "/sandbox/videos/VIDEO"),
        ("video", "not-an-id"),
        ("video", "/sandbox/@brand_x"),
        ("video", "00000000-0000-7000-8000-000000000000"),
        ("live_room", "VIDEO"),
        ("playlist", "brand_x"),
        ("account", ""),
    ],
    ids=[
        "unknown-handle",
        "video-url-for-account",
        "bad-id",
        "account-url-for-video",
        "unknown-id",
        "video-id-for-room",
        "unknown-kind",
        "empty",
    ],
)
async def test_what_does_not_exist_is_target_not_found(
    connector: SandboxConnector, world: World, kind: str, ref: str
) -> None:
    with pytest.raises(TargetNotFound) as caught:
        await target(connector, kind, ref.replace("VIDEO", str(world.video.id)))
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.code == "target_not_found"
    assert caught.value.status == 422


async def test_a_deleted_video_is_not_found(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    info = await target(connector, "video", world.video.id)
    async with db.session_scope() as s:
        await service.delete_video(s, account=world.brand, video_id=world.video.id)
    with pytest.raises(TargetNotFound):
        await target(connector, "video", world.video.id)
    verification = await connector.verify_action(
        "like", actor_handle="worker_a", target=info, since=world.t0
    )
    assert (verification.status, verification.detail) == ("unknown", "target_not_found")


async def test_follow_is_verified_in_its_window_and_retention_sees_the_unfollow(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    brand = await target(connector, "account", "brand_x")
    since = world.t0
    before = await connector.verify_action(
        "follow", actor_handle="worker_a", target=brand, since=since
    )
    assert (before.status, before.detail, before.observed_at) == ("absent", "no_follow", None)
    followed_at = since + timedelta(minutes=5)
    async with db.session_scope() as s:
        await service.follow(s, account=world.worker, target=world.brand, now=followed_at)
    done = await connector.verify_action(
        "follow", actor_handle="@worker_a", target=brand, since=since
    )
    assert (done.status, done.detail, done.observed_at) == ("verified", "follow_found", followed_at)
    assert done.is_verified
    late = await connector.verify_action(
        "follow", actor_handle="worker_a", target=brand, since=followed_at + timedelta(seconds=1)
    )
    assert (late.status, late.detail) == ("absent", "followed_before")
    kept = await connector.check_retention("follow", actor_handle="worker_a", target=brand)
    assert (kept.status, kept.detail) == ("verified", "follow_found")
    async with db.session_scope() as s:
        await service.unfollow(s, account=world.worker, target=world.brand)
    gone = await connector.check_retention("follow", actor_handle="worker_a", target=brand)
    assert (gone.status, gone.detail) == ("absent", "no_follow")


async def test_an_unknown_actor_is_unknown_not_absent(
    connector: SandboxConnector, world: World
) -> None:
    brand = await target(connector, "account", "brand_x")
    result = await connector.verify_action(
        "follow", actor_handle="never_signed_up", target=brand, since=world.t0
    )
    assert (result.status, result.detail, result.observed_at) == (
        "unknown",
        "actor_not_found",
        None,
    )
    retention = await connector.check_retention(
        "follow", actor_handle="never_signed_up", target=brand
    )
    assert retention.status == "unknown"


async def test_a_like_needs_the_minimum_watch_time(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    video = await target(connector, "video", world.video.id)
    liked_at = world.t0 + timedelta(minutes=1)
    async with db.session_scope() as s:
        await service.like(
            s, account=world.worker, video=world.video, watched_seconds=8, now=liked_at
        )
    short = await connector.verify_action(
        "like", actor_handle="worker_a", target=video, since=world.t0, min_watch_seconds=15
    )
    assert (short.status, short.detail, short.watched_seconds, short.observed_at) == (
        "absent",
        "watched_too_short",
        8,
        liked_at,
    )
    enough = await connector.verify_action(
        "like", actor_handle="worker_a", target=video, since=world.t0, min_watch_seconds=8
    )
    assert (enough.status, enough.detail, enough.watched_seconds) == ("verified", "like_found", 8)
    old = await connector.verify_action(
        "like", actor_handle="worker_a", target=video, since=liked_at + timedelta(hours=1)
    )
    assert (old.status, old.detail) == ("absent", "liked_before")
    async with db.session_scope() as s:
        await service.unlike(s, account=world.worker, video=world.video)
    gone = await connector.check_retention("like", actor_handle="worker_a", target=video)
    assert (gone.status, gone.detail) == ("absent", "no_like")


async def test_a_comment_is_verified_with_its_text_until_it_is_deleted(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    video = await target(connector, "video", world.video.id)
    none_yet = await connector.verify_action(
        "comment", actor_handle="worker_a", target=video, since=world.t0
    )
    assert (none_yet.status, none_yet.detail) == ("absent", "no_comment")
    async with db.session_scope() as s:
        row = await service.comment(
            s, account=world.worker, video=world.video, text="质地很轻薄，喜欢", now=world.t0
        )
    found = await connector.verify_action(
        "comment", actor_handle="worker_a", target=video, since=world.t0
    )
    assert (found.status, found.detail, found.comment_text, found.observed_at) == (
        "verified",
        "comment_found",
        "质地很轻薄，喜欢",
        world.t0,
    )
    async with db.session_scope() as s:
        await service.delete_comment(s, account=world.worker, comment_id=row.id)
    retention = await connector.check_retention("comment", actor_handle="worker_a", target=video)
    assert (retention.status, retention.detail, retention.comment_text) == (
        "absent",
        "comment_deleted",
        "质地很轻薄，喜欢",
    )
    again = await connector.verify_action(
        "comment", actor_handle="worker_a", target=video, since=world.t0
    )
    assert again.detail == "comment_deleted"


async def test_a_share_is_verified_in_its_window_and_stays(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    video = await target(connector, "video", world.video.id)
    shared_at = world.t0 + timedelta(minutes=3)
    async with db.session_scope() as s:
        await service.share(
            s, account=world.worker, video=world.video, channel="wechat", now=shared_at
        )
    found = await connector.verify_action(
        "share", actor_handle="worker_a", target=video, since=world.t0
    )
    assert (found.status, found.detail, found.observed_at) == ("verified", "share_found", shared_at)
    later = await connector.verify_action(
        "share", actor_handle="worker_a", target=video, since=shared_at + timedelta(seconds=1)
    )
    assert (later.status, later.detail) == ("absent", "no_share")
    kept = await connector.check_retention("share", actor_handle="worker_a", target=video)
    assert kept.status == "verified"


async def test_a_shoot_is_a_video_of_ones_own_that_mentions_the_account_in_the_window(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    brand = await target(connector, "account", "@brand_x")
    async with db.session_scope() as s:
        await service.post_video(
            s,
            account=world.worker,
            title="我的开箱",
            description="感谢 @brand_x_fan 推荐",
            now=world.t0 + timedelta(minutes=1),
        )
        await service.post_video(
            s,
            account=world.worker,
            title="早就拍过的 @brand_x",
            description="",
            now=world.t0 - timedelta(days=2),
        )
    missing = await connector.verify_action(
        "shoot", actor_handle="worker_a", target=brand, since=world.t0
    )
    assert (missing.status, missing.detail) == ("absent", "no_video")
    posted_at = world.t0 + timedelta(minutes=20)
    async with db.session_scope() as s:
        await service.post_video(
            s,
            account=world.worker,
            title="新品上脸实测",
            description="品牌合作 #推广，感谢@brand_x。",
            now=posted_at,
        )
    found = await connector.verify_action(
        "shoot", actor_handle="worker_a", target=brand, since=world.t0
    )
    assert (found.status, found.detail, found.observed_at) == ("verified", "video_found", posted_at)


async def test_retention_of_a_shoot_sees_the_video_deleted(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    brand = await target(connector, "account", "brand_x")
    async with db.session_scope() as s:
        video = await service.post_video(
            s, account=world.worker, title="试用一周 @brand_x", description="#推广"
        )
    kept = await connector.check_retention("shoot", actor_handle="worker_a", target=brand)
    assert (kept.status, kept.detail) == ("verified", "video_found")
    async with db.session_scope() as s:
        await service.delete_video(s, account=world.worker, video_id=video.id)
    gone = await connector.check_retention("shoot", actor_handle="worker_a", target=brand)
    assert (gone.status, gone.detail) == ("absent", "video_deleted")
    recheck = await connector.verify_action(
        "shoot", actor_handle="worker_a", target=brand, since=world.t0
    )
    assert (recheck.status, recheck.detail) == ("absent", "video_deleted")


async def test_a_live_visit_needs_the_minimum_stay_added_up_over_visits(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    room = await target(connector, "live_room", world.room.id)
    t0 = world.t0
    async with db.session_scope() as s:
        first = await service.enter_live_room(s, account=world.worker, room=world.room, now=t0)
        for seconds in (10, 20, 30):
            await service.heartbeat(
                s,
                account=world.worker,
                room_id=world.room.id,
                visit_id=first.id,
                now=t0 + timedelta(seconds=seconds),
            )
    short = await connector.verify_action(
        "live_visit", actor_handle="worker_a", target=room, since=t0, min_stay_seconds=60
    )
    assert (short.status, short.detail, short.stayed_seconds) == ("absent", "stayed_too_short", 30)
    async with db.session_scope() as s:
        second = await service.enter_live_room(
            s, account=world.worker, room=world.room, now=t0 + timedelta(minutes=5)
        )
        await service.leave_live_room(
            s,
            account=world.worker,
            room_id=world.room.id,
            visit_id=second.id,
            now=t0 + timedelta(minutes=5, seconds=30),
        )
    enough = await connector.verify_action(
        "live_visit", actor_handle="worker_a", target=room, since=t0, min_stay_seconds=60
    )
    assert (enough.status, enough.detail, enough.stayed_seconds, enough.observed_at) == (
        "verified",
        "visit_found",
        60,
        t0,
    )
    only_second = await connector.verify_action(
        "live_visit",
        actor_handle="worker_a",
        target=room,
        since=t0 + timedelta(minutes=1),
        min_stay_seconds=60,
    )
    assert (only_second.status, only_second.stayed_seconds) == ("absent", 30)
    nobody = await connector.verify_action(
        "live_visit", actor_handle="brand_x", target=room, since=t0
    )
    assert (nobody.status, nobody.detail) == ("absent", "no_visit")


@pytest.mark.parametrize(
    ("action", "kind"),
    [("follow", "video"), ("like", "account"), ("live_visit", "video"), ("dance", "video")],
)
async def test_an_action_on_the_wrong_kind_of_target_is_refused(
    connector: SandboxConnector, world: World, action: str, kind: str
) -> None:
    info = await target(connector, kind, world.video.id if kind == "video" else "brand_x")
    with pytest.raises(UnsupportedAction):
        await connector.verify_action(action, actor_handle="worker_a", target=info, since=world.t0)


async def test_since_must_carry_a_time_zone(connector: SandboxConnector, world: World) -> None:
    brand = await target(connector, "account", "brand_x")
    with pytest.raises(ValueError, match="timezone"):
        await connector.verify_action(
            "follow",
            actor_handle="worker_a",
            target=brand,
            since=world.t0.replace(tzinfo=None),
        )


async def test_public_stats_follow_what_people_do(
    db: Database, connector: SandboxConnector, world: World
) -> None:
    brand = await target(connector, "account", "brand_x")
    video = await target(connector, "video", world.video.id)
    room = await target(connector, "live_room", world.room.id)
    async with db.session_scope() as s:
        await service.follow(s, account=world.worker, target=world.brand)
        await service.like(s, account=world.worker, video=world.video, watched_seconds=5)
        await service.comment(s, account=world.worker, video=world.video, text="好看")
        await service.share(s, account=world.worker, video=world.video, channel="link")
        await service.record_view(s, video=world.video)
        await service.enter_live_room(s, account=world.worker, room=world.room)
    assert await connector.public_stats(brand) == {"followers": 1001, "videos": 1}
    assert await connector.public_stats(video) == {
        "views": 101,
        "likes": 11,
        "comments": 1,
        "shares": 1,
    }
    assert await connector.public_stats(room) == {"visitors": 1, "live": 1}
