"""A simulated crowd for the demo: people who claim tasks, act on the sandbox platform,
upload a phone screenshot and submit; a few cheat (submit without acting) or undo their
follow later, and four are one studio's accounts sharing phones (a ring for the risk
console); a simulated reviewer decides what has waited a while, leaving fresh items
for the person trying the reviewer workbench. Everything goes through the real services.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns.models import Campaign
from xingdong.campaigns.policy import IMPRESSIONS_PER_UNIT
from xingdong.core.client_signals import ClientSignals
from xingdong.core.clock import utcnow
from xingdong.core.errors import XingdongError
from xingdong.core.logging import get_logger
from xingdong.core.runtime import Runtime
from xingdong.core.settings import Settings
from xingdong.dispatch import service as dispatch
from xingdong.dispatch.plan import planned_share
from xingdong.evidence import service as evidence
from xingdong.evidence.screenshots import render_action_screenshot
from xingdong.identity import repository as identity_repo
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.identity.validation import INTERESTS, REGIONS
from xingdong.platforms.sandbox import ads
from xingdong.platforms.sandbox import service as sandbox
from xingdong.platforms.sandbox.connector import video_url
from xingdong.platforms.sandbox.models import SandboxAccount, SandboxProfileAd, SandboxVideo
from xingdong.work import gold
from xingdong.work import service as work
from xingdong.work.models import Assignment

log = get_logger(__name__)

CROWD_SIZE = 30
CROWD_PHONE_FROM = 13800001001
SIM_REVIEWER = ("13800000023", "审核员 郑洁（模拟）")
CROWD_PHONES = tuple(f"+86{CROWD_PHONE_FROM + n}" for n in range(CROWD_SIZE))
"""As stored (normalised)."""
STUDIO_PHONES = frozenset(CROWD_PHONES[-4:])
"""Crowd members who are one studio's accounts (工作室): four accounts on one phone behind
one address, tapping by script. The risk engine flags their taps as they happen,
and the batch scan (hourly, or *Scan now* on ``/ops/risk``) finds the four as one ring."""
STUDIO_IP = "100.64.250.2"
REVIEW_AFTER_SECONDS = 90
LOOKED_AT = 5
"""A crowd member chooses among the first tasks of their feed."""
GOLD_ITEMS = 3
DONE_WORDS = {
    "follow": "已关注",
    "like": "已点赞",
    "comment": "已评论",
    "share": "已分享",
    "live_visit": "直播中",
    "shoot": "已发布",
    "purchase": "已付款",
    "profile_ad": "广告",
}
CHEAT_SHARE = 0.15
"""The share of the crowd's claims handed in without the work done (a screenshot alone)."""
AUDIENCE_PER_STEP = (400, 900)
"""Impressions the platform's own audience gives a crowd member's profile ad between two
of their steps (the demo's stand-in for a real creator's traffic)."""
COMMENTS = (
    "我通勤一般只画底妆和眉毛，十分钟搞定",
    "口红色号好看！想问下适合黄皮吗",
    "最近换季皮肤干，这个教程来得及时",
    "跟着做了一遍，手残党也能学会",
    "底妆那一步讲得很细，收藏了",
)


def _within_plan(campaign: Campaign, now: datetime) -> bool:
    """Whether one more unit taken keeps the campaign within its plan at ``now``."""
    taken = campaign.units_open + campaign.units_done + 1
    return taken <= planned_share(campaign, now) * campaign.quantity


async def seed_crowd(session: AsyncSession, settings: Settings, password: str) -> None:
    """Crowd members (adults with profiles, consent and a bound sandbox account) and the
    simulated reviewer; created once."""
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    interests = list(INTERESTS)
    for n in range(CROWD_SIZE):
        phone = str(CROWD_PHONE_FROM + n)
        if await identity_repo.person_by_phone(session, CROWD_PHONES[n]) is not None:
            continue
        person = await identity.create_person_directly(
            session, phone=phone, password=password, display_name=f"众包用户{n + 1:02d}"
        )
        person.birth_year = rng.randint(1975, 2004)
        person.region = rng.choice(REGIONS)
        person.interests = rng.sample(interests, 2)
        await identity.accept_agreement(
            session, person=person, version=settings.agreement_version, settings=settings,
            ip=None, user_agent="demo-crowd",
        )  # fmt: skip
        await identity.bind_platform_account(
            session, person=person, platform="sandbox", handle=f"crowd_{n + 1:02d}",
            followers=rng.choice((20, 150, 900, 3_000, 12_000)),
        )  # fmt: skip
    phone, name = SIM_REVIEWER
    if await identity_repo.person_by_phone(session, "+86" + phone) is None:
        await identity.create_person_directly(
            session, phone=phone, password=password, display_name=name
        )
    await identity.grant_staff_role(session, phone=phone, role="reviewer", granted_by=None)


@dataclass(frozen=True)
class Visit:
    """A crowd member in a live room, whose page keeps reporting that they are there."""

    visit_id: UUID
    handle: str
    room_id: UUID


@dataclass
class Crowd:
    runtime: Runtime
    rng: random.Random = field(default_factory=random.Random)
    review_after_seconds: float = REVIEW_AFTER_SECONDS
    clock: Callable[[], datetime] = utcnow
    """The crowd's time (tests pass a clock that moves faster than the wall)."""
    visiting: dict[UUID, Visit] = field(default_factory=dict)
    """Live-room visits under way, by assignment id."""
    posted: dict[UUID, SandboxVideo] = field(default_factory=dict)
    """Videos shot for a task and not handed in yet, by assignment id."""
    cheating: dict[UUID, bool] = field(default_factory=dict)
    """Whether the member cheats on a claim, decided once when they first turn to it: a
    member who decided anew at every step of a task that takes several (an ad seen by a
    thousand, a stay in a live room) gave up half-way now and then, and handed in a
    short count or a short stay as an honest member."""

    async def step(self) -> str:
        """One action of one crowd member; returns what happened (for logs and tests)."""
        db = self.runtime.db
        async with db.session_scope() as session:
            people = (
                await session.scalars(
                    select(Person).where(Person.phone.in_(CROWD_PHONES), Person.is_active)
                )
            ).all()
            if not people:
                return "no_crowd"
            person = self.rng.choice(people)
            open_claim = await session.scalar(
                select(Assignment).where(
                    Assignment.person_id == person.id, Assignment.status == "claimed"
                )
            )
        if open_claim is not None:
            return await self._act_and_submit(person, open_claim.id)
        return await self._claim(person)

    async def _claim(self, person: Person) -> str:
        """Open the feed as the person would and take one of the first tasks it shows,
        the higher the likelier (the feed logs what it showed and learns from what was
        taken). The crowd takes a campaign's units only as its plan reaches them: the
        feed's slack above the plan is left to the people trying the demo, who then
        find tasks in their feed however busy the crowd is."""
        db = self.runtime.db
        now = self.clock()
        async with db.session_scope() as session:
            feed = await dispatch.personal_feed(
                session, db=db, settings=self.runtime.settings, person=person, now=now
            )
        shown = [task.campaign.id for task in feed.tasks[:LOOKED_AT]]
        if shown:
            first = self.rng.choices(range(len(shown)), [1 / (n + 1) for n in range(len(shown))])
            shown.insert(0, shown.pop(first[0]))
        for campaign_id in shown:
            try:
                async with db.session_scope() as session:
                    campaign = await session.get(Campaign, campaign_id)
                    if campaign is None or not _within_plan(campaign, now):
                        continue
                    await work.claim(
                        session, person=person, campaign_id=campaign_id,
                        settings=self.runtime.settings, now=now,
                        signals=self._signals(person, bot=False),
                    )  # fmt: skip
            except XingdongError:
                continue
            return f"claimed:{campaign.task_type}"
        return ":".join(["nothing_to_claim", *feed.reasons[:1]])

    def _signals(self, person: Person, *, bot: bool) -> ClientSignals:
        """What a member's phone sends: its own device and address; a person's tap
        arrives along a curve at uneven intervals, a cheater's script in a straight line
        at even ones (the risk engine sees the difference)."""
        n = int(person.phone[-3:])
        studio = person.phone in STUDIO_PHONES
        if bot or studio:
            path = [(10 * i, 20 + 15 * i, 600 - 15 * i) for i in range(12)]
        else:
            t, x, y, path = 0, 40.0, 620.0, []
            for _ in range(12):
                t += self.rng.randint(8, 40)
                x += self.rng.uniform(4, 22)
                y -= self.rng.uniform(2, 30)
                path.append((t, round(x), round(y)))
        return ClientSignals(
            ip=STUDIO_IP if studio else f"100.64.{n // 200}.{n % 200 + 2}",
            user_agent=f"Mozilla/5.0 (Linux; Android 14; crowd {'studio' if studio else n})",
            device_id="demo-studio-phone" if studio else f"demo-crowd-phone-{n:04d}",
            device_summary=None,
            trajectory=path,
        )

    async def _act_and_submit(self, person: Person, assignment_id: UUID) -> str:
        db = self.runtime.db
        settings = self.runtime.settings
        now = self.clock()
        async with db.session_scope() as session:
            assignment = await session.get(Assignment, assignment_id)
            campaign = await session.get(Campaign, assignment.campaign_id) if assignment else None
            if assignment is None or campaign is None:
                return "gone"
            cheat = self.cheating.get(assignment.id)
            if cheat is None:
                cheat = self.cheating[assignment.id] = self.rng.random() < CHEAT_SHARE
            if not cheat:
                waiting = await self._act(session, assignment, campaign, now)
                if waiting:
                    return "visiting"
            # A video shot is shown on the worker's own page, with a link to it; every
            # other action on the page of what was acted on.
            self.cheating.pop(assignment.id, None)
            video = self.posted.pop(assignment.id, None)
            own_page = campaign.task_type == "shoot" or campaign.target_kind != "account"
            shot = render_action_screenshot(
                handle=assignment.actor_handle if own_page else campaign.target_ref,
                target_title=video.title if video is not None else campaign.target_title,
                done_word=DONE_WORDS.get(campaign.task_type, "已完成"),
                clock=now,
                seed=self.rng.randrange(1 << 30),
            )
            stored = await evidence.store_image(
                session, self.runtime.evidence, owner_id=person.id, data=shot,
                filename="screenshot.png", settings=settings,
            )  # fmt: skip
        handed = work.Evidence(
            file_id=stored.id, link=None if video is None else video_url(video.id)
        )
        try:
            async with db.session_scope() as session:
                done = await work.submit(
                    session, person=person, assignment_id=assignment_id,
                    evidence=handed, settings=settings, now=now,
                    signals=self._signals(person, bot=cheat),
                )  # fmt: skip
        except XingdongError as exc:
            return f"refused:{exc.code}"
        return f"submitted:{done.status}:{'cheat' if cheat else 'honest'}"

    async def _act(
        self, session: AsyncSession, assignment: Assignment, campaign: Campaign, now: datetime
    ) -> bool:
        """Do the action on the sandbox; True while a live visit is still under way."""
        me = await sandbox.get_account(session, handle=assignment.actor_handle)
        kind = campaign.task_type
        if kind == "follow":
            target = await sandbox.get_account(session, handle=campaign.target_ref)
            await sandbox.follow(session, account=me, target=target, now=now)
        elif kind in ("like", "comment", "share"):
            video = await sandbox.get_video(session, video_id=UUID(campaign.target_ref))
            if kind == "like":
                await sandbox.like(
                    session, account=me, video=video,
                    watched_seconds=campaign.min_watch_seconds + self.rng.randint(2, 40), now=now,
                )  # fmt: skip
            elif kind == "comment":
                await sandbox.comment(
                    session, account=me, video=video, text=self.rng.choice(COMMENTS), now=now
                )
            else:
                await sandbox.share(session, account=me, video=video, channel="wechat", now=now)
        elif kind == "shoot":
            self.posted[assignment.id] = await sandbox.post_video(
                session, account=me, title="新品体验来啦",
                description=f"真实体验分享 @{campaign.target_ref} #广告", now=now,
            )  # fmt: skip
        elif kind == "live_visit":
            room = await sandbox.get_live_room(session, room_id=UUID(campaign.target_ref))
            visit = self.visiting.get(assignment.id)
            if visit is None:
                entered = await sandbox.enter_live_room(session, account=me, room=room, now=now)
                self.visiting[assignment.id] = Visit(entered.id, me.handle, room.id)
                return True
            seen = await sandbox.heartbeat(
                session, account=me, room_id=room.id, visit_id=visit.visit_id, now=now
            )
            # Stay until the platform has counted the time, as the room's page shows it: a
            # slow moment between two reports counts for less than the clock says.
            if seen.stayed_seconds < campaign.min_stay_seconds + 5:
                return True
            await sandbox.leave_live_room(
                session, account=me, room_id=room.id, visit_id=visit.visit_id, now=now
            )
            self.visiting.pop(assignment.id, None)
        elif kind == "profile_ad":
            return await self._show_ad(session, me, assignment, campaign, now)
        elif kind == "purchase":
            product = await sandbox.get_product(session, product_id=UUID(campaign.target_ref))
            await sandbox.buy(
                session,
                account=me,
                product=product,
                ref=work.tracking_code(assignment.id),
                now=now,
            )
        return False

    async def _show_ad(
        self,
        session: AsyncSession,
        me: SandboxAccount,
        assignment: Assignment,
        campaign: Campaign,
        now: datetime,
    ) -> bool:
        """Put the brand's ad up through the claim's link, then let the audience see it;
        True until it has been seen a thousand times."""
        code = work.tracking_code(assignment.id)
        showing = await ads.showing(session, account=me)
        if showing is None or showing.ref != code:
            brand = await sandbox.get_account(session, handle=campaign.target_ref)
            await ads.put_up(session, account=me, advertiser=brand, ref=code, now=now)
            return True
        # Read before: the update below also moves the loaded row's count.
        seen_before = showing.impressions
        views = self.rng.randint(*AUDIENCE_PER_STEP)
        await ads.show_to_audience(session, ad_id=showing.id, views=views)
        return seen_before + views < IMPRESSIONS_PER_UNIT

    async def keep_visits(self) -> int:
        """Each member in a live room reports that they are still there, as the room's
        page does every few seconds: the platform counts at most half a minute between two
        reports, and a member's own turn comes about once a minute. How many reported."""
        if not self.visiting:
            return 0
        now = self.clock()
        async with self.runtime.db.session_scope() as session:
            for visit in list(self.visiting.values()):
                me = await sandbox.get_account(session, handle=visit.handle)
                await sandbox.heartbeat(
                    session, account=me, room_id=visit.room_id, visit_id=visit.visit_id, now=now
                )
        return len(self.visiting)

    async def audience_for_visitors(self) -> int:
        """The platform's audience sees the ads that people trying the demo put on their
        profiles too (the crowd's own get theirs in their steps), so a profile-ad task can
        be finished in the demo in a minute or two. How many ads were seen."""
        async with self.runtime.db.session_scope() as session:
            ads_up = (
                await session.scalars(
                    select(SandboxProfileAd)
                    .join(SandboxAccount, SandboxAccount.id == SandboxProfileAd.account_id)
                    .where(
                        SandboxProfileAd.removed_at.is_(None),
                        SandboxProfileAd.impressions < IMPRESSIONS_PER_UNIT,
                        SandboxAccount.handle.not_like("crowd\\_%"),
                    )
                )
            ).all()
            for ad in ads_up:
                await ads.show_to_audience(
                    session, ad_id=ad.id, views=self.rng.randint(*AUDIENCE_PER_STEP)
                )
        return len(ads_up)

    async def review_waiting(self) -> int:
        """The simulated reviewer decides submissions older than a minute and a half (and
        the gold items mixed into its queue, by the same rule of thumb)."""
        db = self.runtime.db
        settings = self.runtime.settings
        async with db.session_scope() as session:
            reviewer = await identity_repo.person_by_phone(session, "+86" + SIM_REVIEWER[0])
            if reviewer is None:
                return 0
            actor = await identity.actor_for(session, person=reviewer)
            queue = await work.review_queue_with_gold(
                session, actor=actor, settings=settings, rng=self.rng, limit=20
            )
        decided = 0
        for entry in queue:
            assignment = entry.assignment
            assert assignment.submitted_at is not None
            is_gold = entry.item_id != assignment.id
            waited = (self.clock() - assignment.submitted_at).total_seconds()
            if waited < self.review_after_seconds and not is_gold:
                continue
            verified = assignment.verification.get("status") == "verified"
            try:
                async with db.session_scope() as session:
                    await work.decide_review_item(
                        session, actor=actor, item_id=entry.item_id, approve=verified,
                        reason="meets_requirements" if verified else "action_not_done",
                        note=None, settings=settings, now=self.clock(),
                    )  # fmt: skip
            except XingdongError as exc:
                log.info("crowd_review_refused", item=str(entry.item_id), code=exc.code)
                continue
            decided += 1
        await self.keep_gold_items()
        return decided

    async def keep_gold_items(self, wanted: int = GOLD_ITEMS) -> int:
        """The demo operator keeps a few decided submissions as gold items (their right
        answer is the decision taken), so the review-quality page has something to show."""
        from xingdong.demo.seed import OPERATOR  # the seed imports this module

        async with self.runtime.db.session_scope() as session:
            operator = await identity_repo.person_by_phone(session, "+86" + OPERATOR[0])
            if operator is None:
                return 0
            simulated = await identity_repo.person_by_phone(session, "+86" + SIM_REVIEWER[0])
            actor = await identity.actor_for(session, person=operator)
            have = sum(v.item.active for v in await gold.gold_items(session, actor=actor))
            made = 0
            candidates = await gold.gold_candidates(session, actor=actor, limit=200)
            for assignment, _campaign in candidates.items:
                if have + made >= wanted:
                    break
                if simulated is not None and assignment.reviewed_by == simulated.id:
                    # A reviewer never meets a gold item of their own decision: the
                    # simulated reviewer's would be gold items it could not be scored on.
                    continue
                approve = assignment.status != "rejected"
                fallback = "meets_requirements" if approve else "action_not_done"
                await gold.make_gold_item(
                    session, actor=actor, assignment_id=assignment.id, approve=approve,
                    reason=assignment.review_reason or fallback,
                )  # fmt: skip
                made += 1
        return made


async def run_crowd(runtime: Runtime, *, every_seconds: float = 2.0) -> None:
    """Act until cancelled (the demo server runs this beside the app)."""
    crowd = Crowd(runtime)
    ticks = 0
    while True:
        try:
            outcome = await crowd.step()
            log.debug("crowd_step", outcome=outcome)
            await crowd.keep_visits()
            ticks += 1
            if ticks % 10 == 0:
                await crowd.review_waiting()
                await crowd.audience_for_visitors()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("crowd_step_failed")
        await asyncio.sleep(every_seconds)
