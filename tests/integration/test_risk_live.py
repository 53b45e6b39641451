"""The risk engine on the live platform, with its default rules: claims and hand-ins are
decided in the request, a blocked hand-in is refused with a neutral message, a review
sends the hand-in to a reviewer with its reasons, every decision is recorded, and the
recorded traffic replays to the same decisions with ``xingdong risk replay``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select, update

from tests.evidence_samples import screenshot
from tests.factories import PASSWORD, register
from tests.integration.conftest import make_settings
from tests.integration.test_withdrawals import bind, fund
from tests.integration.work_support import bearer, handle_of, work_settings
from tests.lifecycle_world import (
    World,
    build_world,
    follow_on_sandbox,
    live_campaign,
    window_nearly_over,
)
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.settings import Settings
from xingdong.evidence import jobs as evidence_jobs
from xingdong.evidence.screenshots import render_action_screenshot
from xingdong.ledger.models import Withdrawal
from xingdong.risk import service as risk_service
from xingdong.risk.models import RiskEvent
from xingdong.work.models import Assignment

SHOT = screenshot(seed=11)
HUMAN_PATH = json.dumps([[0, 40, 600], [90, 52, 571], [230, 77, 530], [420, 96, 512]])
BOT_PATH = json.dumps([[0, 0, 0], [10, 10, 10], [20, 20, 20], [30, 30, 30], [40, 40, 40]])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(**work_settings(tmp_path / "evidence"), risk_rules_file=None)


@pytest.fixture
async def world(
    client: httpx.AsyncClient, clean_db: str, settings: Settings
) -> AsyncIterator[World]:
    built = await build_world(clean_db, settings, workers=3)
    yield built
    await built.db.dispose()


def device(n: int) -> dict[str, str]:
    return {"X-Device-Id": f"phone-of-worker-{n:04d}", "User-Agent": f"Mozilla/5.0 phone {n}"}


async def claim_and_wait(
    client: httpx.AsyncClient, world: World, n: int, campaign_id: object
) -> tuple[dict[str, str], str]:
    auth = {**await bearer(world, world.workers[n]), **device(n)}
    claimed = await client.post(f"/api/v1/tasks/{campaign_id}/claims", headers=auth)
    assert claimed.status_code == 201, claimed.text
    assignment_id: str = claimed.json()["id"]
    return auth, assignment_id


async def hand_in(
    client: httpx.AsyncClient, auth: dict[str, str], assignment_id: str, data: bytes, path: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/me/assignments/{assignment_id}/submission",
        headers={**auth, "X-Trajectory": path},
        files={"file": ("shot.png", data, "image/png")},
    )


async def test_live_decisions_refuse_reuse_and_flag_bots_and_replay_the_same(
    client: httpx.AsyncClient, world: World, tmp_path: Path, database_url: str
) -> None:
    campaign = await live_campaign(
        world, review_policy="auto_when_verified", **window_nearly_over()
    )
    # Three people claim; the real rules want time between claim and hand-in, so the
    # claims are older than they look (the recorded events say when they really were).
    claims = []
    for n in range(3):
        claims.append(await claim_and_wait(client, world, n, campaign.id))
    async with world.db.session_scope() as s:
        rows = (await s.scalars(select(RiskEvent).order_by(RiskEvent.id))).all()
        assert [(r.kind, r.decision) for r in rows] == [("claim", "allow")] * 3
        for row in rows:
            row.event = {**row.event, "ts": row.event["ts"] - 120}
        await s.execute(
            update(Assignment).values(claimed_at=Assignment.claimed_at - timedelta(minutes=2))
        )
    # The engine in the app process saw the claims at their real moment; start it afresh
    # so it reads them back from the recorded events, as a new server process would.
    risk_service._LIVE.clear()
    for worker in world.workers:
        await follow_on_sandbox(await handle_of(world, worker), world.db)

    (auth0, first), (auth1, second), (auth2, third) = claims
    honest = await hand_in(client, auth0, first, SHOT, HUMAN_PATH)
    assert honest.status_code == 200, honest.text
    assert honest.json()["status"] == "approved"

    copied = await hand_in(client, auth1, second, SHOT, HUMAN_PATH)  # the same file
    assert copied.status_code == 403
    body = copied.json()
    assert body["code"] == "risk_refused"
    assert "evidence" not in body["detail"]  # neutral: it never names the signal
    async with world.db.sessionmaker() as s:
        still = await s.get(Assignment, UUID(second))
        assert still is not None and still.status == "claimed"

    bot = await hand_in(client, auth2, third, screenshot(seed=12), BOT_PATH)
    assert bot.status_code == 200, bot.text
    assert bot.json()["status"] == "submitted"  # verified on the platform, yet reviewed
    async with world.db.sessionmaker() as s:
        flagged = await s.get(Assignment, UUID(third))
        assert flagged is not None
    assert {"trajectory_straight", "trajectory_regular"} & set(flagged.risk_reasons)
    assert flagged.risk_score >= 50

    async with world.db.sessionmaker() as s:
        recorded = (await s.scalars(select(RiskEvent).order_by(RiskEvent.id))).all()
    assert [(r.kind, r.decision) for r in recorded] == [
        ("claim", "allow"), ("claim", "allow"), ("claim", "allow"),
        ("submit", "allow"), ("submit", "block"), ("submit", "review"),
    ]  # fmt: skip
    assert "evidence_exact_reuse" in recorded[4].reasons

    # What was recorded replays to the same decisions.
    events = tmp_path / "events.jsonl"
    decisions = tmp_path / "decisions.jsonl"
    env = {**os.environ, "XINGDONG_DATABASE_URL": database_url}
    assert await cli(env, "risk", "export", "--out", str(events)) == 0
    assert await cli(env, "risk", "replay", str(events), "--out", str(decisions)) == 0
    lines = [json.loads(line) for line in decisions.read_text().splitlines()]
    live = [line for line in lines if line.get("type") != "account"]
    assert [line["decision"] for line in live] == [r.decision for r in recorded]
    assert [sorted(line["reasons"]) for line in live] == [sorted(r.reasons) for r in recorded]


async def cli(env: dict[str, str], *args: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "xingdong", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()[-2000:]
    return process.returncode


@pytest.mark.parametrize(
    ("sharing", "same_wallet", "outcome"),
    [(2, False, "paid"), (6, False, "refused"), (2, True, "held")],
    ids=["family-phone-is-paid", "farm-phone-is-refused", "shared-wallet-is-held"],
)
async def test_sign_ins_are_recorded_and_risk_decides_a_withdrawal(
    client: httpx.AsyncClient, db: Database, sharing: int, same_wallet: bool, outcome: str
) -> None:
    phone = {"X-Device-Id": f"one-phone-{sharing}-accounts", "User-Agent": "Mozilla/5.0"}
    people = [await register(client) for _ in range(sharing)]
    for person in people:
        signed_in = await client.post(
            "/api/v1/auth/tokens",
            json={"phone": person.phone, "password": PASSWORD},
            headers=phone,
        )
        assert signed_in.status_code == 201, signed_in.text
    user = people[-1]
    await fund(db, user, 5_000)
    await bind(client, user)
    if same_wallet:
        await bind(client, people[0])  # the same bank account as the one withdrawing
        await fund(db, people[0], 5_000)
        first = await client.post(
            "/api/v1/me/withdrawals",
            json={"amount_fen": 2_000},
            headers={**people[0].auth, **phone, "Idempotency-Key": "w0"},
        )
        assert first.status_code == 201, first.text
    answer = await client.post(
        "/api/v1/me/withdrawals",
        json={"amount_fen": 2_000},
        headers={**user.auth, **phone, "Idempotency-Key": "w1"},
    )
    async with db.sessionmaker() as s:
        events = (await s.scalars(select(RiskEvent).order_by(RiskEvent.id))).all()
        held = (await s.scalars(select(Withdrawal))).all()
    kinds = ["register"] * sharing + ["login"] * sharing + ["withdraw"] * (1 + same_wallet)
    assert [e.kind for e in events] == kinds
    mine = [w for w in held if str(w.person_id) == user.id]
    if outcome == "refused":
        assert answer.status_code == 403
        assert answer.json()["code"] == "risk_refused"
        assert events[-1].decision == "block"
        assert mine == []  # nothing reserved
        assert (await client.get("/api/v1/me/wallet", headers=user.auth)).json()[
            "available_fen"
        ] == 5_000
    elif outcome == "paid":
        # Honest families share a phone: that alone holds nothing up.
        assert answer.status_code == 201, answer.text
        assert (answer.json()["status"], events[-1].decision) == ("approved", "allow")
    else:
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "requested"  # waits for an operator
        assert events[-1].decision == "review"
        assert "risk:payout_shared" in mine[0].review_reasons, mine[0].review_reasons
        assert mine[0].approvals_needed == 1


async def test_the_screenshot_text_read_later_flags_a_hand_in_that_does_not_show_the_task(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    handed_in = {}
    for n, handle in ((0, "someone_else"), (1, "brand_official")):
        auth, assignment_id = await claim_and_wait(client, world, n, campaign.id)
        shot = render_action_screenshot(
            handle=handle, target_title="品牌官方号", done_word="已关注", clock=utcnow(), seed=n
        )
        answer = await hand_in(client, auth, assignment_id, shot, HUMAN_PATH)
        assert answer.status_code == 200, answer.text
        handed_in[handle] = answer.json()
    for body in handed_in.values():
        # What the OCR job does once it has read the file (seconds after the hand-in).
        assert await evidence_jobs.read_screenshot.func(file_id=body["evidence_file_id"]) == "read"
    async with world.db.sessionmaker() as s:
        wrong = await s.get(Assignment, UUID(handed_in["someone_else"]["id"]))
        right = await s.get(Assignment, UUID(handed_in["brand_official"]["id"]))
    assert wrong is not None and right is not None
    assert "ocr_target_missing" in wrong.risk_reasons
    assert not {r for r in right.risk_reasons if r.startswith("ocr_")}, right.risk_reasons
    assert wrong.risk_score >= right.risk_score
