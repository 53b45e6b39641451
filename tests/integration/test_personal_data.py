"""A person's copy of their data (个人信息导出) on a real PostgreSQL: a worker with data in
every section downloads it by the API and from the profile page; each section holds their
rows and nobody else's; no password hash, token, digest or account number is in the file;
anti-cheat data is withheld and says so; API keys are refused; a sixth download in the
hour is refused and leaves no audit entry."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select, text

from tests.evidence_samples import encoded, screenshot
from tests.factories import PASSWORD, create_org, register
from tests.integration.answers import csrf_from
from tests.integration.conftest import make_settings
from tests.integration.test_campaign_pages import browser_of
from tests.integration.test_pages_http import sign_in
from tests.lifecycle_world import World, build_world, follow_on_sandbox, live_campaign
from tests.lifecycle_world import window_nearly_over as long_running
from xingdong.core.audit import AuditEntry
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.creators import agencies
from xingdong.dispatch import service as dispatch
from xingdong.dispatch.models import ShownFeed
from xingdong.evidence import service as evidence
from xingdong.evidence.storage import LocalFolderStorage
from xingdong.identity import api_keys
from xingdong.identity import service as identity
from xingdong.identity.models import ApiToken, Person, WebSession
from xingdong.ledger import withdrawals
from xingdong.ledger.models import PayoutAccount
from xingdong.work import service as work

EXPORT = "/api/v1/me/data-export"
ENGLISH = {"Accept-Language": "en"}
FILE_NAME = re.compile(r'^attachment; filename="xingdong-data-\d{4}-\d{2}-\d{2}\.json"$')
SECTIONS = ["identity", "work", "evidence", "ledger", "creators", "dispatch"]


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str, tmp_path: Path) -> AsyncIterator[World]:
    settings = make_settings(evidence_dir=tmp_path / "evidence", evidence_ocr=False)
    built = await build_world(clean_db, settings, workers=2)
    yield built
    await built.db.dispose()


async def token_of(client: httpx.AsyncClient, person: Person) -> str:
    signed = await client.post(
        "/api/v1/auth/tokens",
        json={"phone": person.phone, "password": PASSWORD, "token_name": "我的脚本"},
    )
    assert signed.status_code == 201, signed.text
    token: str = signed.json()["access_token"]
    return token


async def handle_of(world: World, person: Person) -> str:
    async with world.db.sessionmaker() as s:
        return (await identity.platform_accounts(s, person=person))[0].handle


async def follow_and_hand_in(world: World, person: Person, campaign_id: UUID) -> UUID:
    """``person`` takes a unit and follows the brand: approved at once on the sandbox."""
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=person, campaign_id=campaign_id, settings=world.settings)
    await follow_on_sandbox(await handle_of(world, person), world.db)
    async with world.db.session_scope() as s:
        done = await work.submit(
            s, person=person, assignment_id=taken.id,
            evidence=work.Evidence(link="https://sandbox.example/proof", note="已关注"),
            settings=world.settings, now=taken.claimed_at + timedelta(seconds=60),
        )  # fmt: skip
    assert done.status == "approved"
    return taken.id


@dataclass
class Lives:
    """What the world holds about the worker who exports, and about the other one."""

    followed: UUID
    """The worker's released follow task."""
    appealed: UUID
    """The worker's rejected (then appealed) task with a screenshot."""
    file_id: UUID
    others_task: UUID
    withdrawal_id: UUID
    others_withdrawal_id: UUID


async def live_a_little(world: World) -> Lives:
    """The first worker does a task that is released, hands in a screenshot that is
    rejected and appeals, withdraws, joins the brand, declines one agency and signs with
    another, and hides the brand from their feed; both were shown feeds; the second worker
    does the follow task too and withdraws."""
    worker, other = world.workers
    reviewer = await world.actor(world.reviewer)
    owner = await world.actor(world.owner)
    follow = await live_campaign(world, unit_price=2000, **long_running())
    manual = await live_campaign(
        world, title="晒出关注截图", review_policy="manual", unit_price=500, **long_running()
    )
    followed = await follow_and_hand_in(world, worker, follow.id)
    others_task = await follow_and_hand_in(world, other, follow.id)
    async with world.db.session_scope() as s:
        await s.execute(text("UPDATE assignments SET hold_until = now() - interval '1 second'"))
    async with world.db.session_scope() as s:
        assert (await work.settle_holds(s))["released"] == 2

    storage = LocalFolderStorage(world.settings.evidence_dir)
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=worker, campaign_id=manual.id, settings=world.settings)
        shot = await evidence.store_image(
            s, storage, owner_id=worker.id, data=encoded(screenshot(), "PNG"),
            filename="shot.png", settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await work.submit(
            s, person=worker, assignment_id=taken.id, evidence=work.Evidence(file_id=shot.id),
            settings=world.settings, now=taken.claimed_at + timedelta(seconds=90),
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await work.review(
            s, actor=reviewer, assignment_id=taken.id, approve=False, reason="evidence_unclear",
            note="截图太模糊", settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await work.appeal(
            s, person=worker, assignment_id=taken.id, reason="我确实关注了，请再看看",
            settings=world.settings,
        )  # fmt: skip

    withdrawn = {}
    for person, number in ((worker, "worker-pay@example.com"), (other, "other-pay@example.com")):
        async with world.db.session_scope() as s:
            await withdrawals.bind_payout_account(
                s,
                person_id=person.id,
                form=withdrawals.PayoutAccountForm("alipay", number, "王小明"),
                settings=world.settings,
            )
        async with world.db.session_scope() as s:
            taken_out = await withdrawals.request_withdrawal(
                s, person_id=person.id, amount=1000, idempotency_key=f"out-{person.id}",
                settings=world.settings,
            )  # fmt: skip
        withdrawn[person.id] = taken_out.id

    async with world.db.session_scope() as s:
        invitation = await identity.invite_member(
            s, actor=owner, org_id=world.org_id, phone=worker.phone, role="member"
        )
    async with world.db.session_scope() as s:
        await identity.answer_invitation(s, person=worker, invitation_id=invitation.id, accept=True)
    for name, share, accept in (("月光机构", 10, False), ("星光机构", 15, True)):
        async with world.db.session_scope() as s:
            agency = await identity.create_organisation(s, actor=owner, kind="agency", name=name)
        owner = await world.actor(world.owner)
        async with world.db.session_scope() as s:
            offer = await agencies.offer_contract(
                s, actor=owner, org_id=agency.id, phone=worker.phone, share_percent=share
            )
        async with world.db.session_scope() as s:
            await agencies.answer_offer(s, person=worker, contract_id=offer.id, accept=accept)

    async with world.db.session_scope() as s:
        await dispatch.hide(s, person=worker, kind="brand", ref=world.org_id)
        for person, reason in ((worker, "interest_match"), (other, "novice_task")):
            for minutes in (30, 10):
                s.add(
                    ShownFeed(
                        person_id=person.id,
                        shown_at=utcnow() - timedelta(minutes=minutes),
                        campaign_ids=[follow.id, manual.id],
                        reasons=[reason, "recommended"],
                    )
                )
    return Lives(
        followed=followed,
        appealed=taken.id,
        file_id=shot.id,
        others_task=others_task,
        withdrawal_id=withdrawn[worker.id],
        others_withdrawal_id=withdrawn[other.id],
    )


async def audit_entries(db: Database, person_id: UUID) -> list[dict[str, Any]]:
    async with db.sessionmaker() as s:
        rows = await s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "identity.data_exported", AuditEntry.actor_id == person_id)
            .order_by(AuditEntry.id)
        )
        return [{"object_id": r.object_id, **r.data} for r in rows]


async def secrets_of(db: Database, person_id: UUID) -> list[str]:
    """What must never leave: the password hash, the digests of tokens and sessions, the
    payout account's number and its keyed hash."""
    async with db.sessionmaker() as s:
        person = await s.get(Person, person_id)
        payout = await s.get(PayoutAccount, person_id)
        assert person is not None
        assert payout is not None
        tokens = await s.scalars(
            select(ApiToken.token_digest).where(ApiToken.person_id == person_id)
        )
        sessions = await s.scalars(
            select(WebSession.token_digest).where(WebSession.person_id == person_id)
        )
        return [
            person.password_hash,
            payout.account_number,
            payout.account_hash,
            *tokens.all(),
            *sessions.all(),
        ]


async def test_the_export_holds_each_section_of_the_person_and_nothing_of_others(
    client: httpx.AsyncClient, world: World
) -> None:
    lives = await live_a_little(world)
    worker, other = world.workers
    token = await token_of(client, worker)
    async with browser_of(client, worker) as browser:
        session_cookie = browser.cookies["xd_session"]
        answer = await client.get(EXPORT, headers={"Authorization": f"Bearer {token}", **ENGLISH})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert FILE_NAME.match(answer.headers["content-disposition"])
    assert answer.headers["cache-control"] == "no-store"
    body = answer.content.decode("utf-8")
    assert "星光机构" in body  # Chinese as itself, not \u escapes
    assert body.startswith('{\n  "format_version": 1,')
    data = json.loads(body)
    assert list(data) == [
        "format_version", "generated_at", "person_id", *SECTIONS, "withheld",
    ]  # fmt: skip
    assert data["person_id"] == str(worker.id)

    me = data["identity"]
    assert me["profile"]["phone"] == worker.phone
    assert (me["profile"]["birth_year"], me["profile"]["region"]) == (1995, "浙江")
    assert me["profile"]["interests"] == ["美妆"]
    assert me["profile"]["last_sign_in_at"] is not None
    assert [c["agreement_version"] for c in me["consents"]] == [world.settings.agreement_version]
    assert [a["handle"] for a in me["platform_accounts"]] == [await handle_of(world, worker)]
    assert [(o["name"], o["kind"], o["role"]) for o in me["organisations"]] == [
        ("测试品牌", "brand", "member")
    ]
    assert [(i["organisation_name"], i["status"]) for i in me["invitations"]] == [
        ("测试品牌", "accepted")
    ]
    assert [t["name"] for t in me["api_tokens"]] == ["我的脚本"]
    assert set(me["api_tokens"][0]) == {"name", "created_at", "expires_at", "revoked_at"}
    assert len(me["web_sessions"]) == 1
    assert me["web_sessions"][0]["ip"] == "203.0.113.8"
    assert set(me["web_sessions"][0]) == {"created_at", "expires_at", "ip", "user_agent"}
    assert me["staff_roles"] == []

    tasks = {a["id"]: a for a in data["work"]["assignments"]}
    assert list(tasks) == [str(lives.followed), str(lives.appealed)]
    followed = tasks[str(lives.followed)]
    assert (followed["status"], followed["settle_reason"]) == ("released", "retained")
    assert followed["review_reason"] == "platform_verified"
    assert followed["evidence_note"] == "已关注"
    assert followed["platform_verification"]["status"] == "verified"
    assert followed["platform_verification"]["observed_at"].endswith("Z")
    assert followed["reward_fen"] == 1600
    assert followed["settled_at"] is not None
    appealed = tasks[str(lives.appealed)]
    assert (appealed["campaign_title"], appealed["status"]) == ("晒出关注截图", "disputed")
    assert appealed["review_reason"] == "evidence_unclear"
    assert appealed["review_note"] == "截图太模糊"
    assert appealed["evidence_file_id"] == str(lives.file_id)
    disputes = data["work"]["disputes"]
    assert [(d["kind"], d["status"], d["reason"], d["raised_by_you"]) for d in disputes] == [
        ("appeal", "open", "我确实关注了，请再看看", True)
    ]

    files = data["evidence"]["files"]
    assert [(f["id"], f["kind"], f["content_type"]) for f in files] == [
        (str(lives.file_id), "image", "image/png")
    ]
    assert set(files[0]) == {
        "id", "kind", "content_type", "byte_size", "width", "height", "sha256", "uploaded_at",
    }  # fmt: skip

    money = data["ledger"]
    assert money["wallet"] == {
        "pending_fen": 0, "available_fen": 600, "reserved_fen": 1000, "points": 0,
    }  # fmt: skip
    assert [(m["code"], m["amount"], m["state"]) for m in money["movements"]] == [
        ("task_reward", 1600, "settled"),
        ("task_release", 1600, "posted"),
        ("task_reward", 400, "released"),  # the rejected one: nothing moved
        ("withdrawal", -900, "reserved"),
        ("withdrawal_fee", -100, "reserved"),
    ]
    assert money["payout_account"]["masked"] == "w***@example.com"
    assert [(w["id"], w["amount_fen"], w["payout_account"]) for w in money["withdrawals"]] == [
        (str(lives.withdrawal_id), 1000, "w***@example.com")
    ]

    assert [
        (c["agency_name"], c["share_percent"], c["status"])
        for c in data["creators"]["agency_contracts"]
    ] == [("月光机构", 10, "declined"), ("星光机构", 15, "active")]

    feed = data["dispatch"]
    assert [(h["kind"], h["id"], h["name"]) for h in feed["hidden"]] == [
        ("brand", str(world.org_id), "测试品牌")
    ]
    assert feed["shown"]["feeds"] == 2
    assert {(t["campaign_title"], t["reason"], t["times"]) for t in feed["shown"]["tasks"]} == {
        ("关注品牌官方号", "interest_match", 2),
        ("晒出关注截图", "recommended", 2),
    }

    # Withheld, and said so, in the language asked for.
    assert "risk" not in data
    assert "risk_score" not in body
    assert "risk_reasons" not in body
    assert len(data["withheld"]) == 5
    assert data["withheld"][0].startswith("Anti-cheat assessments:")

    # Nothing of the other worker.
    others_handle = await handle_of(world, other)
    for theirs in (
        str(other.id), other.phone, others_handle, str(lives.others_task),
        str(lives.others_withdrawal_id), "novice_task",
    ):  # fmt: skip
        assert theirs not in body
    # No secret, of this person or anyone.
    for secret in [token, session_cookie, *await secrets_of(world.db, worker.id)]:
        assert secret not in body
    for secret in await secrets_of(world.db, other.id):
        assert secret not in body


async def test_the_profile_page_offers_the_file_and_both_downloads_are_audited(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    token = await token_of(client, worker)
    async with browser_of(client, worker) as browser:
        profile = await browser.get("/profile")
        assert 'action="/me/data-export"' in profile.text
        assert "下载我的数据" in profile.text
        assert "我的数据" in profile.text
        # A plain link (from anywhere) only leads to the offer; the download is a form's.
        offered = await browser.get("/me/data-export")
        assert offered.status_code == 303
        assert offered.headers["location"] == "/profile#your-data"
        page = await browser.post("/me/data-export", data={"csrf_token": csrf_from(profile.text)})
    assert page.status_code == 200
    assert FILE_NAME.match(page.headers["content-disposition"])
    assert page.headers["content-type"] == "application/json; charset=utf-8"
    from_page = page.json()
    assert from_page["person_id"] == str(worker.id)
    assert from_page["withheld"][0].startswith("反作弊评估")
    from_api = await client.get(EXPORT, headers={"Authorization": f"Bearer {token}"})
    assert from_api.status_code == 200
    assert list(from_api.json()) == list(from_page)

    assert await audit_entries(world.db, worker.id) == [
        {"object_id": str(worker.id), "via": "page", "format_version": 1},
        {"object_id": str(worker.id), "via": "api", "format_version": 1},
    ]


async def test_signed_out_the_page_asks_to_sign_in(client: httpx.AsyncClient) -> None:
    answer = await client.get("/me/data-export")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/me/data-export")


async def test_an_api_key_is_refused_and_nothing_is_recorded(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = UUID(await create_org(client, owner))
    async with db.session_scope() as s:
        person = await s.get(Person, UUID(owner.id))
        assert person is not None
        actor = await identity.actor_for(s, person=person)
        key, _row = await api_keys.create_key(
            s, actor=actor, org_id=org_id, name="erp", access="read"
        )
    answer = await client.get(EXPORT, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "person_token_required"
    assert await audit_entries(db, UUID(owner.id)) == []


async def test_a_sixth_download_in_the_hour_is_refused_by_the_api_and_the_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    for _ in range(5):
        assert (await client.get(EXPORT, headers=user.auth)).status_code == 200
    refused = await client.get(EXPORT, headers={**user.auth, **ENGLISH})
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "rate_limited"
    assert 3500 <= problem["retry_after"] <= 3600
    assert refused.headers["retry-after"] == str(problem["retry_after"])
    assert problem["minutes"] == 60
    assert problem["detail"] == (
        "You have downloaded your data as often as is allowed for now. Try again in 60 minutes."
    )

    # The page counts against the same limit, and says so in words.
    assert (await sign_in(client, user.phone)).status_code == 303
    profile = await client.get("/profile")
    on_page = await client.post("/me/data-export", data={"csrf_token": csrf_from(profile.text)})
    assert on_page.status_code == 429
    assert "text/html" in on_page.headers["content-type"]
    assert "你下载数据的次数已达上限，请 60 分钟后再试。" in on_page.text

    recorded = await audit_entries(db, UUID(user.id))
    assert [entry["via"] for entry in recorded] == ["api"] * 5
    async with db.sessionmaker() as s:
        assert (
            await s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "identity.data_exported")
            )
        ) == 5
