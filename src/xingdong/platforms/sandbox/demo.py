"""Demo content of the sandbox platform: the demo brand's official account with its
videos and a live room on air, and two creators with videos of their own.

Idempotent: an account that already exists is left as it is, with its videos.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.platforms.sandbox import repository as repo
from xingdong.platforms.sandbox import service
from xingdong.platforms.sandbox.models import SandboxAccount, SandboxVideo

BRAND_HANDLE = "xingdong_beauty"


@dataclass(frozen=True)
class _Video:
    title: str
    description: str
    duration_seconds: int
    views: int
    likes: int
    shares: int
    days_ago: float


@dataclass(frozen=True)
class _Account:
    handle: str
    display_name: str
    bio: str
    followers: int
    videos: tuple[_Video, ...]
    live_title: str | None = None


ACCOUNTS = (
    _Account(
        BRAND_HANDLE,
        "星动美妆官方号",
        "星动美妆官方账号｜护肤与彩妆小技巧，每周五晚八点直播",
        12_000,
        (
            _Video(
                "新品水光精华上脸实测，28天打卡记录",
                "每天早晚各一次，记录真实变化。#护肤 #新品",
                58,
                48_200,
                2_310,
                186,
                9,
            ),
            _Video(
                "三分钟通勤妆容，新手也能学会",
                "底妆、眉毛、口红三步搞定。",
                45,
                31_800,
                1_640,
                122,
                7.5,
            ),
            _Video(
                "敏感肌换季护理：三步温和修护",
                "换季泛红？试试温和清洁、保湿和防晒。",
                62,
                22_400,
                980,
                75,
                6,
            ),
            _Video(
                "口红试色｜秋冬热门色号全对比",
                "八个色号，黄皮白皮都有参考。",
                40,
                40_100,
                2_050,
                240,
                4,
            ),
            _Video(
                "直播预告：周五晚八点新品发布会",
                "直播间有新品讲解和答疑，欢迎来看。",
                20,
                12_600,
                430,
                58,
                2,
            ),
            _Video(
                "卸妆的正确方式，你做对了吗？",
                "眼唇先卸，全脸再乳化，别忘了冲洗干净。",
                35,
                9_800,
                512,
                31,
                0.5,
            ),
        ),
        "星动美妆新品发布直播间",
    ),
    _Account(
        "meizhuang_xiaoyu",
        "美妆小鱼",
        "学生党护肤｜平价好物｜每周更新",
        3_200,
        (
            _Video(
                "平价护肤好物分享｜学生党看过来", "一百元以内的护肤清单。", 50, 6_400, 310, 22, 8
            ),
            _Video(
                "跟着 @xingdong_beauty 学通勤妆",
                "品牌合作，已标注推广。跟着教程练了一周。",
                42,
                3_900,
                205,
                12,
                3,
            ),
            _Video("周末 vlog：逛街试色", "和朋友逛街，顺便试了几个新色号。", 75, 2_100, 96, 4, 1),
        ),
    ),
    _Account(
        "chenchen_cooks",
        "晨晨下厨房",
        "上班族的快手菜｜十分钟开饭",
        860,
        (
            _Video("十分钟快手早餐", "鸡蛋、吐司和一杯热牛奶。", 48, 1_900, 88, 6, 5),
            _Video("家常红烧肉做法", "不放一滴水，肥而不腻。", 90, 2_700, 140, 15, 2.5),
        ),
    ),
)

_COMMENTS = (
    ("meizhuang_xiaoyu", 1, "跟着练了一周，眉毛终于画对称了"),
    ("chenchen_cooks", 0, "用了两周，上妆确实更服帖"),
    ("meizhuang_xiaoyu", 3, "第三个色号好适合黄皮"),
)
"""Comments by the creators: (author handle, index of the brand's video, text)."""


_PRODUCTS = (
    ("星动美妆 新品保湿精华 30ml", 12_900, 860),
    ("星动美妆 通勤防水眉笔", 3_900, 2_150),
)
"""The brand's shop: (title, price in fen, sold so far)."""


async def _seed_account(
    session: AsyncSession, spec: _Account, now: datetime
) -> tuple[SandboxAccount, list[SandboxVideo]]:
    account = await service.create_account(
        session,
        handle=spec.handle,
        display_name=spec.display_name,
        bio=spec.bio,
        followers=spec.followers,
    )
    videos: list[SandboxVideo] = []
    for video in spec.videos:
        created = await service.create_video(
            session,
            account=account,
            title=video.title,
            description=video.description,
            duration_seconds=video.duration_seconds,
            views=video.views,
            likes=video.likes,
            shares=video.shares,
            now=now - timedelta(days=video.days_ago),
        )
        videos.append(created)
    if spec.live_title:
        await service.create_live_room(
            session, account=account, title=spec.live_title, is_live=True, visitors=1_260
        )
    return account, videos


async def seed_sandbox(session: AsyncSession, *, now: datetime | None = None) -> None:
    """Create the demo accounts that do not exist yet (with their videos, room and
    shop)."""
    at = now or utcnow()
    created: dict[str, SandboxAccount] = {}
    brand_videos: list[SandboxVideo] = []
    for spec in ACCOUNTS:
        if await service.find_account(session, handle=spec.handle) is not None:
            continue
        account, videos = await _seed_account(session, spec, at)
        created[spec.handle] = account
        if spec.handle == BRAND_HANDLE:
            brand_videos = videos
    # A demo database from before the shop has the brand without products: stock it too.
    brand = created.get(BRAND_HANDLE) or await service.get_account(session, handle=BRAND_HANDLE)
    if not await repo.products_of(session, brand.id, 1):
        for title, price_fen, sold in _PRODUCTS:
            await service.create_product(
                session, account=brand, title=title, price_fen=price_fen, orders=sold
            )
    # The creators' comments go with the brand's videos: only when those are new.
    for author, index, text in _COMMENTS if brand_videos else ():
        commenter = created.get(author) or await service.get_account(session, handle=author)
        await service.comment(
            session,
            account=commenter,
            video=brand_videos[index],
            text=text,
            now=at - timedelta(hours=index + 1),
        )
