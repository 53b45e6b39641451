"""The demo brand's live campaigns, one of each kind and one meant for too few people,
created through the real rules: checked, funded from the brand's balance into escrow and
approved by the operator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.settings import Settings
from xingdong.identity import org_accounts
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.platforms.sandbox import service as sandbox
from xingdong.platforms.sandbox.demo import BRAND_HANDLE

DISCLOSURE = "广告｜本任务由星动美妆赞助，请如实体验"
CATEGORY = "美妆"
"""What every demo campaign is about: the brand sells skincare and make-up."""
WINDOW = timedelta(days=7)
RUNNING_FOR = timedelta(hours=12)
"""The campaigns began this long before the demo was seeded (unless their spec says
``running_for``), so that their plans (which the feed paces them by) have reached a share
of their units and the crowd has work at once; they then fill along their plans over the
week."""


async def _brand_targets(session: AsyncSession) -> tuple[str, str, str, str]:
    """The brand's newest video, another video, its live room and its dearest product."""
    view = await sandbox.profile(session, handle=BRAND_HANDLE, viewer=None)
    videos = view.videos
    room = view.live_rooms[0]
    product = max(view.products, key=lambda item: item.price_fen)
    return (
        str(videos[0].id),
        str(videos[min(1, len(videos) - 1)].id),
        str(room.id),
        str(product.id),
    )


def _specs(video: str, other_video: str, room: str, product: str) -> list[dict[str, Any]]:
    adults = {"min_age": 18, "max_age": 60}
    return [
        {
            "title": "关注星动美妆官方号，获取护肤干货",
            "task_type": "follow",
            "target": "@" + BRAND_HANDLE,
            "brief": "打开星动美妆官方号主页，浏览两条视频后关注，并截图关注后的主页。",
            "quantity": 600,
            "unit_price": 100,
            "pacing_per_hour": 60,
            **adults,
        },
        {
            "title": "看完新品实测视频后点赞",
            "task_type": "like",
            "target": video,
            "brief": "完整观看视频（至少 20 秒）后点赞，并截图点赞状态。",
            "quantity": 900,
            "unit_price": 50,
            "pacing_per_hour": 120,
            "min_watch_seconds": 20,
            "interests": ["美妆", "时尚", "母婴", "美食"],
            **adults,
        },
        {
            "title": "说说你的通勤妆心得",
            "task_type": "comment",
            "target": other_video,
            "brief": "看完视频后用自己的话聊聊你的通勤妆习惯，真实体验即可。",
            "comment_guidance": "可以聊聊底妆、眉形或口红色号，请用自己的话写真实感受。",
            "quantity": 300,
            "unit_price": 80,
            "pacing_per_hour": 30,
            "review_policy": "manual",
        },
        {
            "title": "直播间看播 3 分钟",
            "task_type": "live_visit",
            "target": room,
            "brief": "进入星动美妆直播间，停留至少 3 分钟，感受新品讲解。",
            "quantity": 300,
            "unit_price": 200,
            "pacing_per_hour": 300,
            "min_stay_seconds": 180,
        },
        {
            "title": "拍一条新品体验短视频",
            "task_type": "shoot",
            "target": "@" + BRAND_HANDLE,
            "brief": (
                "用自己的方式拍一条 15–60 秒的新品体验视频，文案中 @xingdong_beauty 并标注广告。"
            ),
            "quantity": 60,
            "unit_price": 3_000,
            "review_policy": "manual",
        },
        {
            "title": "新品保湿精华体验官",
            "task_type": "purchase",
            "target": product,
            "brief": (
                "通过任务里的链接在星动美妆小店购买新品保湿精华，收货后正常使用。"
                "无需评价；七天内退货的订单不计报酬。"
            ),
            "quantity": 40,
            "unit_price": 2_000,
            "interests": ["美妆", "时尚"],
            **adults,
        },
        {
            # Meant for few people and begun earlier, so that it trails its plan: its page
            # shows the brand why (too few people match) and what to do, and 王姐 (四川,
            # 母婴, 38) finds it in her feed as matching her interest.
            "title": "宝妈换季护肤经验分享",
            "task_type": "comment",
            "target": other_video,
            "brief": "看完视频后聊聊带娃时你怎么安排护肤，真实体验即可。",
            "comment_guidance": "可以聊聊换季时的保湿、哺乳期的用品选择，请用自己的话写真实感受。",
            "quantity": 100,
            "unit_price": 80,
            "review_policy": "manual",
            "min_age": 30,
            "max_age": 45,
            "regions": ["四川"],
            "interests": ["母婴"],
            "running_for": timedelta(days=2),
        },
        {
            "title": "主页广告位 · 星动美妆",
            "task_type": "profile_ad",
            "target": f"@{BRAND_HANDLE}",
            "brief": (
                "在你的主页顶部展示星动美妆的广告卡片（带“广告”标识），每被看到 1,000 次结算一次。"
            ),
            "quantity": 60,
            "unit_price": 3_000,
            "per_person_limit": 3,
            **adults,
        },
    ]


IN_QUALITY_PLAN = frozenset({"拍一条新品体验短视频"})
"""Demo campaigns an operator has put in the quality-task plan."""


async def seed_campaigns(
    session: AsyncSession, *, settings: Settings, owner: Person, operator: Person
) -> int:
    """Create the demo campaigns once (none exist for the brand yet). The caller has
    committed the sandbox accounts: the platform connector reads them on its own."""
    owner_actor = await identity.actor_for(session, person=owner)
    (org_id,) = owner_actor.memberships
    # Linked first, as a brand does before promoting its account (a demo database from
    # before linking gets the link too).
    await org_accounts.link_account(
        session, actor=owner_actor, org_id=org_id, platform="sandbox", handle=BRAND_HANDLE
    )
    if await session.scalar(select(Campaign.id).limit(1)) is not None:
        return 0
    operator_actor = await identity.actor_for(session, person=operator)
    video, other_video, room, product = await _brand_targets(session)
    now = utcnow()
    made = 0
    for spec in _specs(video, other_video, room, product):
        began = now - spec.pop("running_for", RUNNING_FOR)
        draft = campaigns.CampaignDraft(
            disclosure=DISCLOSURE,
            category=CATEGORY,
            starts_at=began,
            ends_at=began + WINDOW,
            **spec,
        )
        campaign = await campaigns.create_campaign(
            session, actor=owner_actor, org_id=org_id, draft=draft, settings=settings
        )
        await campaigns.submit_campaign(
            session, actor=owner_actor, campaign_id=campaign.id, settings=settings
        )
        # Approved when it began, so that its plan has come as far as its start says.
        await campaigns.decide_campaign(
            session, actor=operator_actor, campaign_id=campaign.id, approve=True,
            note="演示数据", now=draft.starts_at,
        )  # fmt: skip
        if campaign.title in IN_QUALITY_PLAN:
            await campaigns.set_quality_plan(
                session, actor=operator_actor, campaign_id=campaign.id, included=True,
                note="演示数据",
            )  # fmt: skip
        made += 1
    return made


FIRST_TASK_AGO = timedelta(minutes=30)
"""When the first demo worker did their follow, before the demo started."""


async def seed_first_task(session: AsyncSession, *, settings: Settings, worker: Person) -> bool:
    """The first demo worker (小林) followed the brand's official account half an hour
    before the demo began, and the platform confirmed it: the task is approved and its
    reward in hold, so their task list, wallet and erasure page have something to show.
    Once (False when they already have a task)."""
    from xingdong.work import service as work
    from xingdong.work.models import Assignment

    if await session.scalar(select(Assignment.id).where(Assignment.person_id == worker.id)):
        return False
    follow = await session.scalar(
        select(Campaign).where(Campaign.task_type == "follow").order_by(Campaign.created_at)
    )
    if follow is None:
        return False
    began = utcnow() - FIRST_TASK_AGO
    claimed = await work.claim(
        session, person=worker, campaign_id=follow.id, settings=settings, now=began
    )
    me = await sandbox.get_account(session, handle=claimed.actor_handle)
    brand = await sandbox.get_account(session, handle=follow.target_ref)
    await sandbox.follow(session, account=me, target=brand, now=began + timedelta(minutes=2))
    # The platform connector reads the follow through its own connection.
    await session.commit()
    await work.submit(
        session,
        person=worker,
        assignment_id=claimed.id,
        evidence=work.Evidence(link=f"https://sandbox.xingdong.dev/@{claimed.actor_handle}"),
        settings=settings,
        now=began + timedelta(minutes=3),
    )
    return True
