"""``xingdong bench handins``: hand-ins on one campaign while the platform takes its time.

Every hand-in asks the short-video platform whether the action was done. On a scratch
database, workers who claimed one campaign's tasks and did them on the sandbox platform
hand in from ``concurrent`` sessions at once, in rounds that alternate two platforms: one
that answers at once (the baseline) and one that answers ``delay_ms`` later. The figure is
the ratio of the two rates: near 1 when a hand-in waits for its own answer only, and near
1 / (1 + delay * the baseline's rate) when hand-ins wait for one another's answers (as
they did while the platform was asked under the campaign's lock). Each round has a
campaign of its own, promoting an account of its own (a follow campaign may have at most
60 follows an hour on one account).
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from xingdong.bench.ledger import _drop, _recreate
from xingdong.campaigns import service as campaigns
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.logging import configure_logging
from xingdong.core.migrate import upgrade
from xingdong.core.policy import Actor
from xingdong.core.runtime import Runtime, build_runtime
from xingdong.core.settings import Settings
from xingdong.identity import org_accounts
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.ledger import service as ledger
from xingdong.ledger.deposits import DEPOSITS_ACCOUNT, open_org_account, org_account
from xingdong.platforms.late_answers import LateAnswers
from xingdong.platforms.sandbox import service as sandbox
from xingdong.work import service as work

SCRATCH = "xingdong_bench_handins"
PASSWORD = "benchPass2026"  # noqa: S105 - the scratch database's people, dropped after
HANDINS = 50
CONCURRENT = 16
DELAY_MS = 50
ROUNDS = 2


@dataclass
class HandinFigures:
    handins: int
    concurrent: int
    delay_ms: float
    at_once_per_s: list[float] = field(default_factory=list)
    """Hand-ins per second of each round with the platform answering at once."""
    delayed_per_s: list[float] = field(default_factory=list)
    """The same with the platform answering ``delay_ms`` later."""

    @property
    def at_once(self) -> float:
        return statistics.median(self.at_once_per_s)

    @property
    def delayed(self) -> float:
        return statistics.median(self.delayed_per_s)

    @property
    def ratio(self) -> float:
        return self.delayed / self.at_once

    @property
    def one_at_a_time(self) -> float:
        """The rate if hand-ins waited for one another's answers: each then takes the
        baseline's time and the delay, one after another."""
        return 1 / (1 / self.at_once + self.delay_ms / 1000)

    def as_dict(self) -> dict[str, object]:
        return {
            **asdict(self),
            "at_once_per_s": [round(rate, 1) for rate in self.at_once_per_s],
            "delayed_per_s": [round(rate, 1) for rate in self.delayed_per_s],
            "at_once": round(self.at_once, 1),
            "delayed": round(self.delayed, 1),
            "ratio": round(self.ratio, 3),
            "one_at_a_time": round(self.one_at_a_time, 1),
            "one_at_a_time_ratio": round(self.one_at_a_time / self.at_once, 3),
        }


@dataclass
class _Brand:
    owner: Actor
    operator: Actor
    org_id: UUID


async def _person(db: Database, settings: Settings, phone: int, handle: str | None) -> Person:
    async with db.session_scope() as s:
        person = await identity.create_person_directly(
            s, phone=str(phone), password=PASSWORD, display_name="压测用户"
        )
        person.birth_year, person.region, person.interests = 1995, "浙江", ["美妆"]
        await identity.accept_agreement(
            s, person=person, version=settings.agreement_version, settings=settings,
            ip=None, user_agent=None,
        )  # fmt: skip
        if handle is not None:
            await identity.bind_platform_account(
                s, person=person, platform="sandbox", handle=handle, followers=500
            )
        return person


async def _brand(db: Database, settings: Settings) -> _Brand:
    owner = await _person(db, settings, 13600000000, None)
    operator = await _person(db, settings, 13600000001, None)
    async with db.session_scope() as s:
        await identity.grant_staff_role(s, phone=operator.phone, role="operator", granted_by=None)
        org = await identity.create_organisation(
            s, actor=await identity.actor_for(s, person=owner), kind="brand", name="压测品牌"
        )
        await open_org_account(s, org.id)
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                f"bench-fund-{org.id}", DEPOSITS_ACCOUNT, org_account(org.id), 10**9, "deposit"
            ),
        )
    async with db.session_scope() as s:
        return _Brand(
            await identity.actor_for(s, person=owner),
            await identity.actor_for(s, person=operator),
            org.id,
        )


async def _claims(
    db: Database, settings: Settings, brand: _Brand, round_no: int, count: int
) -> list[tuple[Person, UUID, datetime]]:
    """A live follow campaign of ``count`` units on an account of its own, each unit
    claimed by a worker who then followed the account on the sandbox platform."""
    target = f"bench_brand_{round_no}"
    async with db.session_scope() as s:
        await sandbox.create_account(s, handle=target, display_name="压测品牌号", followers=10)
    async with db.session_scope() as s:
        await org_accounts.link_account(
            s, actor=brand.owner, org_id=brand.org_id, platform="sandbox", handle=target
        )
    now = utcnow()
    draft = campaigns.CampaignDraft(
        title="关注压测品牌号", task_type="follow", target="@" + target,
        brief="关注我们的官方账号，了解新品动态。", disclosure="广告：本任务由品牌方赞助",
        quantity=count, unit_price=100, interests=["美妆"], pacing_per_hour=60,
        # Begun long ago, so that its plan lets every unit go now.
        starts_at=now - timedelta(days=700), ends_at=now + timedelta(days=7),
    )  # fmt: skip
    async with db.session_scope() as s:
        campaign = await campaigns.create_campaign(
            s, actor=brand.owner, org_id=brand.org_id, draft=draft, settings=settings
        )
    async with db.session_scope() as s:
        await campaigns.submit_campaign(
            s, actor=brand.owner, campaign_id=campaign.id, settings=settings
        )
    async with db.session_scope() as s:
        await campaigns.decide_campaign(
            s, actor=brand.operator, campaign_id=campaign.id, approve=True, note="",
            now=campaign.starts_at,
        )  # fmt: skip
    claims = []
    for n in range(count):
        handle = f"bench_{round_no}_{n}"
        worker = await _person(db, settings, 13610000000 + round_no * 1000 + n, handle)
        async with db.session_scope() as s:
            claimed = await work.claim(s, person=worker, campaign_id=campaign.id, settings=settings)
            account = await sandbox.get_account(s, handle=handle)
            await sandbox.follow(
                s, account=account, target=await sandbox.get_account(s, handle=target)
            )
        claims.append((worker, claimed.id, claimed.claimed_at))
    return claims


async def _hand_in_all(
    db: Database, settings: Settings, claims: list[tuple[Person, UUID, datetime]], concurrent: int
) -> float:
    """Hand-ins per second, ``concurrent`` sessions at a time; every one must go through."""
    waiting = list(claims)

    async def hand_in() -> None:
        while waiting:
            worker, assignment_id, claimed_at = waiting.pop()
            async with db.session_scope() as s:
                await work.submit(
                    s, person=worker, assignment_id=assignment_id,
                    evidence=work.Evidence(link="https://sandbox.example/proof"),
                    settings=settings, now=claimed_at + timedelta(seconds=60),
                )  # fmt: skip

    started = time.perf_counter()
    await asyncio.gather(*(hand_in() for _ in range(concurrent)))
    return len(claims) / (time.perf_counter() - started)


async def _measure(runtime: Runtime, figures: HandinFigures, rounds: int) -> None:
    db, settings = runtime.db, runtime.settings
    brand = await _brand(db, settings)
    sandbox_platform = runtime.platforms["sandbox"]
    handing_in = Database(db.url, pool_size=figures.concurrent)
    slow = figures.delay_ms / 1000
    # A first round, not counted, warms the connections and the server's plans; then each
    # pair of rounds takes the two platforms in turn, the slow one first every other pair.
    delays = [None] + [d for n in range(rounds) for d in ((0.0, slow), (slow, 0.0))[n % 2]]
    try:
        for round_no, delay in enumerate(delays):
            claims = await _claims(db, settings, brand, round_no, figures.handins)
            runtime.platforms["sandbox"] = LateAnswers(
                sandbox_platform, functools.partial(asyncio.sleep, delay or 0.0)
            )
            try:
                rate = await _hand_in_all(handing_in, settings, claims, figures.concurrent)
            finally:
                runtime.platforms["sandbox"] = sandbox_platform
            if delay is not None:
                (figures.delayed_per_s if delay else figures.at_once_per_s).append(rate)
    finally:
        await handing_in.dispose()
        await db.dispose()


def run(
    server_url: str,
    *,
    handins: int = HANDINS,
    concurrent: int = CONCURRENT,
    delay_ms: float = DELAY_MS,
    rounds: int = ROUNDS,
) -> HandinFigures:
    url = _recreate(server_url, SCRATCH)
    # The risk engine times a hand-in from the claim as it saw it; here both come within a
    # second, which it would send to review as too fast instead of to the platform's word.
    rules = Path(tempfile.mkdtemp()) / "risk_rules.json"
    rules.write_text(json.dumps({"min_claim_to_submit_seconds": 0}))
    configure_logging(level="WARNING", as_json=False)
    try:
        upgrade(url)
        settings = Settings(
            risk_rules_file=rules,
            database_url=url,
            run_worker_in_process=False,
            password_hashing="cheapest",  # noqa: S106 - a setting's name, not a password
            log_level="WARNING",
            platform_timeout_seconds=max(10.0, delay_ms / 1000 * 10),
        )
        figures = HandinFigures(handins=handins, concurrent=concurrent, delay_ms=delay_ms)
        asyncio.run(_measure(build_runtime(settings, url), figures, rounds))
        return figures
    finally:
        _drop(server_url, SCRATCH)
        shutil.rmtree(rules.parent, ignore_errors=True)
