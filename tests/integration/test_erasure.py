"""Erasing an account (注销账号) on a real PostgreSQL: a worker whose tasks and wallet are
settled erases their account by the API; afterwards nothing in the database names their
number, their account or their words, their files' bytes are gone once the job runs, and
the money records and completions stay, the ledger sound. Erasure waits while anything is
unsettled, with one reason per blocker; a wrong password or a missing confirmation changes
nothing; run at once with a claim, or with another owner's erasure, it never leaves work
on an erased account or an organisation without an owner."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select, text

from tests.evidence_samples import encoded, screenshot
from tests.factories import PASSWORD
from tests.integration.conftest import make_settings
from tests.integration.test_campaign_pages import browser_of
from tests.integration.test_personal_data import follow_and_hand_in, handle_of, token_of
from tests.lifecycle_world import World, add_worker, balance, build_world, live_campaign
from tests.lifecycle_world import window_nearly_over as long_running
from xingdong.core.audit import AuditEntry
from xingdong.core.clock import utcnow
from xingdong.core.errors import XingdongError
from xingdong.core.ratelimit import RateLimits
from xingdong.core.settings import Settings
from xingdong.creators import agencies
from xingdong.creators.models import AgencyContract
from xingdong.dispatch import service as dispatch
from xingdong.dispatch.models import FeedHide, ShownFeed
from xingdong.evidence import service as evidence
from xingdong.evidence.models import EvidenceReading
from xingdong.evidence.storage import LocalFolderStorage
from xingdong.identity import erasure
from xingdong.identity import service as identity
from xingdong.identity.models import Invitation, Membership, Person, PlatformAccount
from xingdong.identity.validation import ERASED_NAME
from xingdong.ledger import adjustments, wallets, withdrawals
from xingdong.ledger import service as ledger
from xingdong.ledger.models import PayoutAccount, Withdrawal
from xingdong.ledger.sandbox_payouts import SandboxPayoutProvider
from xingdong.ledger.withdrawals import REVENUE_ACCOUNT
from xingdong.work import gold
from xingdong.work import service as work
from xingdong.work.models import Assignment, GoldItem

ERASURE = "/api/v1/me/erasure"
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(evidence_dir=tmp_path / "evidence", evidence_ocr=False)


@pytest.fixture
async def world(clean_db: str, settings: Settings) -> AsyncIterator[World]:
    built = await build_world(clean_db, settings, workers=2)
    yield built
    await built.db.dispose()


async def settle_everything(world: World, person: Person) -> UUID:
    """``person`` completes a follow task, its hold ends, and they withdraw all of it and
    are paid: nothing of theirs is open. The released task's id."""
    follow = await live_campaign(world, unit_price=2000, **long_running())
    done = await follow_and_hand_in(world, person, follow.id)
    async with world.db.session_scope() as s:
        await s.execute(
            text("UPDATE assignments SET hold_until = now() - interval '1 second' WHERE id = :id"),
            {"id": done},
        )
    async with world.db.session_scope() as s:
        assert await work.settle_hold(s, done, now=utcnow()) == "released"
    async with world.db.session_scope() as s:
        await withdrawals.bind_payout_account(
            s, person_id=person.id,
            form=withdrawals.PayoutAccountForm("alipay", "erase-me@example.com", "王小明"),
            settings=world.settings,
        )  # fmt: skip
    async with world.db.sessionmaker() as s:
        available = (await wallets.wallet(s, person.id, limit=1)).available
    async with world.db.session_scope() as s:
        out = await withdrawals.request_withdrawal(
            s, person_id=person.id, amount=available, idempotency_key=f"all-{person.id}",
            settings=world.settings,
        )  # fmt: skip
    status = await withdrawals.execute_payout(world.db, SandboxPayoutProvider(world.db), out.id)
    assert status == "paid"
    return done


async def rows_of(s: Any, model: Any, *where: Any) -> int:
    count: int = await s.scalar(select(func.count()).select_from(model).where(*where))
    return count


async def rows_naming(world: World, needle: str) -> list[str]:
    """Every table (but the simulated platform's and the job queue's) with a row whose
    text holds ``needle``."""
    async with world.db.sessionmaker() as s:
        tables = (
            await s.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename NOT LIKE 'sandbox%' AND tablename NOT LIKE 'procrastinate%' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ).all()
        found = []
        for table in tables:
            hits = await s.scalar(
                text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :needle'),  # noqa: S608
                {"needle": f"%{needle}%"},
            )
            if hits:
                found.append(table)
        return found


async def test_a_settled_worker_erases_their_account_and_only_money_records_stay(
    client: httpx.AsyncClient, world: World
) -> None:
    worker, other = world.workers
    owner = await world.actor(world.owner)
    released = await settle_everything(world, worker)
    others_task = await follow_and_hand_in(world, other, (await live_campaign(world)).id)
    handle = await handle_of(world, worker)
    phone = worker.phone

    # A screenshot handed in and rejected (settled), with the text read from it.
    manual = await live_campaign(world, title="晒图", review_policy="manual", unit_price=500)
    storage = LocalFolderStorage(world.settings.evidence_dir)
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=worker, campaign_id=manual.id, settings=world.settings)
        shot = await evidence.store_image(
            s, storage, owner_id=worker.id, data=encoded(screenshot(), "PNG"),
            filename="shot.png", settings=world.settings,
        )  # fmt: skip
        s.add(EvidenceReading(file_id=shot.id, status="read", text="已关注", read_at=utcnow()))
    async with world.db.session_scope() as s:
        await work.submit(
            s, person=worker, assignment_id=taken.id,
            evidence=work.Evidence(file_id=shot.id, note="我自己的话", link="https://v.example/me"),
            settings=world.settings, now=taken.claimed_at + timedelta(seconds=90),
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await work.review(
            s, actor=await world.actor(world.reviewer), assignment_id=taken.id, approve=False,
            reason="evidence_unclear", note="", settings=world.settings,
        )  # fmt: skip

    async with world.db.session_scope() as s:
        appealed = await work.appeal(
            s, person=worker, assignment_id=taken.id, reason="请再看看我的截图",
            settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await work.decide_dispute(
            s, actor=await world.actor(world.operator), dispute_id=appealed.id, uphold=False,
            note="截图确实不清楚", settings=world.settings,
        )  # fmt: skip

    async with world.db.session_scope() as s:
        gold_item = await gold.make_gold_item(
            s, actor=await world.actor(world.operator), assignment_id=taken.id, approve=False,
            reason="evidence_unclear",
        )  # fmt: skip

    # A member of the brand, signed with an agency, an offer and an invitation waiting,
    # a hidden brand and feeds shown.
    async with world.db.session_scope() as s:
        invited = await identity.invite_member(
            s, actor=owner, org_id=world.org_id, phone=phone, role="member"
        )
    async with world.db.session_scope() as s:
        await identity.answer_invitation(s, person=worker, invitation_id=invited.id, accept=True)
    async with world.db.session_scope() as s:
        agency = await identity.create_organisation(s, actor=owner, kind="agency", name="星光机构")
        other_org = await identity.create_organisation(s, actor=owner, kind="brand", name="二号店")
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        signed = await agencies.offer_contract(
            s, actor=owner, org_id=agency.id, phone=phone, share_percent=15
        )
    async with world.db.session_scope() as s:
        await agencies.answer_offer(s, person=worker, contract_id=signed.id, accept=True)
    async with world.db.session_scope() as s:
        waiting = await identity.invite_member(
            s, actor=owner, org_id=other_org.id, phone=phone, role="member"
        )
        await dispatch.hide(s, person=worker, kind="brand", ref=world.org_id)
        s.add(ShownFeed(person_id=worker.id, shown_at=utcnow(), campaign_ids=[manual.id],
                        reasons=["recommended"]))  # fmt: skip
    async with world.db.sessionmaker() as s:
        transfers_before = await s.scalar(text("SELECT count(*) FROM ledger_transfers"))

    token = await token_of(client, worker)
    auth = {"Authorization": f"Bearer {token}", **ENGLISH}
    check = await client.get(ERASURE, headers=auth)
    assert check.status_code == 200, check.text
    assert check.json() == {
        "allowed": True,
        "blockers": [],
        "organisations_left": ["测试品牌"],
        "agency": "星光机构",
        "points_forfeited": 0,
        "remainder_given_up_fen": 0,
    }

    wrong = await client.post(ERASURE, json={"password": "nope", "confirm": True}, headers=auth)
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "password_wrong"
    unconfirmed = await client.post(
        ERASURE, json={"password": PASSWORD, "confirm": False}, headers=auth
    )
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["code"] == "erasure_not_confirmed"
    still = await world.person(worker.id)
    assert (still.phone, still.is_active, still.erased_at) == (phone, True, None)

    async with browser_of(client, worker) as browser:
        erased = await client.post(
            ERASURE, json={"password": PASSWORD, "confirm": True}, headers=auth
        )
        assert erased.status_code == 200, erased.text
        assert erased.json()["person_id"] == str(worker.id)
        # Every way in is closed: the token, the browser's session, the password.
        assert (await client.get("/api/v1/me", headers=auth)).status_code == 401
        assert (await browser.get("/profile")).status_code in (303, 401)
    signed_in = await client.post(
        "/api/v1/auth/tokens", json={"phone": phone, "password": PASSWORD, "token_name": "x"}
    )
    assert signed_in.status_code == 401

    person = await world.person(worker.id)
    assert person.phone != phone and not person.is_active and person.erased_at is not None
    assert (person.display_name, person.birth_year, person.region, person.interests) == (
        ERASED_NAME, None, None, [],
    )  # fmt: skip

    # Nothing but the simulated platform names the number, the handle or the words.
    assert await rows_naming(world, phone) == []
    assert await rows_naming(world, phone.removeprefix("+86")) == []
    assert await rows_naming(world, handle) == []
    assert await rows_naming(world, "erase-me@example.com") == []
    assert await rows_naming(world, "我自己的话") == []
    assert await rows_naming(world, "请再看看我的截图") == []

    async with world.db.sessionmaker() as s:
        assert await rows_of(s, PlatformAccount, PlatformAccount.person_id == worker.id) == 0
        assert await rows_of(s, Membership, Membership.person_id == worker.id) == 0
        assert await s.get(PayoutAccount, worker.id) is None
        assert (await s.get(Invitation, waiting.id)).status == "revoked"  # type: ignore[union-attr]
        contract = await s.get(AgencyContract, signed.id)
        assert contract is not None and contract.status == "ended"
        assert await rows_of(s, FeedHide, FeedHide.person_id == worker.id) == 0
        assert await rows_of(s, ShownFeed, ShownFeed.person_id == worker.id) == 0
        assert await s.get(EvidenceReading, shot.id) is None
        retired = await s.get(GoldItem, gold_item.id)
        assert retired is not None and not retired.active
        # Kept: the completions and the money, under the anonymous row.
        statuses = dict(
            (
                await s.execute(
                    select(Assignment.id, Assignment.status).where(
                        Assignment.person_id == worker.id
                    )
                )
            ).all()
        )
        assert statuses == {released: "released", taken.id: "rejected"}
        assert await rows_of(s, Withdrawal, Withdrawal.person_id == worker.id) == 1
        assert await s.scalar(text("SELECT count(*) FROM ledger_transfers")) == transfers_before
        assert (await ledger.verify(s)).problems == []
        # The other worker is untouched.
        theirs = await s.get(Assignment, others_task)
        assert theirs is not None and theirs.actor_handle == await handle_of(world, other)
        audit = (
            await s.scalars(
                select(AuditEntry).where(AuditEntry.action == "identity.account_erased")
            )
        ).one()
        assert audit.object_id == str(worker.id)
        assert audit.data["via"] == "api" and audit.data["memberships"] == 1

    # The files' bytes go with the job the erasure queued (only once it committed).
    async with world.db.sessionmaker() as s:
        queued = (
            await s.execute(
                text("SELECT args FROM procrastinate_jobs WHERE task_name = :task"),
                {"task": evidence.DELETE_JOB},
            )
        ).scalar_one()
    assert queued == {"file_ids": [str(shot.id)]}
    assert await storage.get(shot.storage_key)
    async with world.db.session_scope() as s:
        await evidence.delete_stored_files(s, storage, file_ids=[shot.id])
    with pytest.raises(FileNotFoundError):
        await storage.get(shot.storage_key)
    async with browser_of(client, world.reviewer) as reviewer:
        gone = await reviewer.get(f"/evidence/{shot.id}", headers=ENGLISH)
    assert gone.status_code == 404
    assert "deleted with the account" in gone.text
    # The brand's list says so instead of showing a picture that is no longer there.
    async with browser_of(client, world.owner) as brand:
        page = (await brand.get(f"/campaigns/{manual.id}", headers=ENGLISH)).text
    row = page.split(f'data-completion="{taken.id}"', 1)[1].split("</tr>", 1)[0]
    assert "data-evidence-deleted" in row and "Deleted with the worker's account" in row
    assert f"/evidence/{shot.id}" not in row

    # The number is free for someone new (the short-video account itself is the
    # platform's: only whoever can sign in to it there may bind it again).
    async with world.db.session_scope() as s:
        again = await identity.create_person_directly(
            s, phone=phone, password=PASSWORD, display_name="新的我"
        )
    assert again.id != worker.id


async def blocker_codes(client: httpx.AsyncClient, auth: dict[str, str]) -> list[str]:
    check = await client.get(ERASURE, headers=auth)
    assert check.status_code == 200, check.text
    return [b["code"] for b in check.json()["blockers"]]


async def test_erasure_waits_while_work_money_or_a_seat_is_open(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    auth = {"Authorization": f"Bearer {await token_of(client, worker)}", **ENGLISH}
    campaign = await live_campaign(world, unit_price=2000, **long_running())
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)
    assert await blocker_codes(client, auth) == ["open_work"]

    async with world.db.session_scope() as s:
        await work.release_open_claims(s, campaign=await _campaign(s, campaign.id))
    done = await follow_and_hand_in(world, worker, campaign.id)
    assert await blocker_codes(client, auth) == ["open_work", "money_in_hold"]
    refused = await client.post(ERASURE, json={"password": PASSWORD, "confirm": True}, headers=auth)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "erasure_blocked"
    assert [b["code"] for b in body["blockers"]] == ["open_work", "money_in_hold"]
    assert "still in hold" in body["detail"]

    async with world.db.session_scope() as s:
        await s.execute(
            text("UPDATE assignments SET hold_until = now() - interval '1 second' WHERE id = :id"),
            {"id": done},
        )
    async with world.db.session_scope() as s:
        assert await work.settle_hold(s, done, now=utcnow()) == "released"
    assert await blocker_codes(client, auth) == ["money_available"]
    async with world.db.session_scope() as s:
        await withdrawals.bind_payout_account(
            s,
            person_id=worker.id,
            form=withdrawals.PayoutAccountForm("alipay", "w@example.com", "王小明"),
            settings=world.settings,
        )
    async with world.db.sessionmaker() as s:
        available = (await wallets.wallet(s, worker.id, limit=1)).available
    async with world.db.session_scope() as s:
        out = await withdrawals.request_withdrawal(
            s, person_id=worker.id, amount=available - 300, idempotency_key="most",
            settings=world.settings,
        )  # fmt: skip
    # ¥3 is less than the smallest withdrawal: given up on erasure, never a blocker.
    assert await blocker_codes(client, auth) == ["withdrawal_open"]
    assert (await client.get(ERASURE, headers=auth)).json()["remainder_given_up_fen"] == 300
    assert await withdrawals.execute_payout(world.db, SandboxPayoutProvider(world.db), out.id) == (
        "paid"
    )
    assert await blocker_codes(client, auth) == []
    revenue_before = (await balance(world.db, REVENUE_ACCOUNT)).posted
    # Giving up the ¥3 must be agreed to, at the amount it is.
    for agreed in (0, 299):
        changed = await client.post(
            ERASURE,
            json={"password": PASSWORD, "confirm": True, "remainder_given_up_fen": agreed},
            headers=auth,
        )
        assert changed.status_code == 409
        assert changed.json()["code"] == "erasure_changed"
        assert changed.json()["remainder_fen"] == 300
    assert (await world.person(worker.id)).erased_at is None
    erased = await client.post(
        ERASURE,
        json={"password": PASSWORD, "confirm": True, "remainder_given_up_fen": 300},
        headers=auth,
    )
    assert erased.status_code == 200, erased.text
    assert (await balance(world.db, REVENUE_ACCOUNT)).posted == revenue_before + 300
    async with world.db.sessionmaker() as s:
        assert (await wallets.wallet(s, worker.id, limit=1)).available == 0
        assert (await ledger.verify(s)).problems == []
    assert taken.id

    # Staff and an organisation's only owner.
    staff = {"Authorization": f"Bearer {await token_of(client, world.reviewer)}", **ENGLISH}
    assert await blocker_codes(client, staff) == ["staff_role"]
    owner = {"Authorization": f"Bearer {await token_of(client, world.owner)}"}
    zh = await client.get(ERASURE, headers=owner)
    assert [b["code"] for b in zh.json()["blockers"]] == ["last_owner"]
    assert "测试品牌" in zh.json()["blockers"][0]["detail"]
    assert "唯一所有者" in zh.json()["blockers"][0]["detail"]

    for person in (world.reviewer, world.owner):
        assert (await world.person(person.id)).erased_at is None


async def _campaign(s: Any, campaign_id: UUID) -> Any:
    from xingdong.campaigns import service as campaigns

    return await campaigns.get_campaign(s, actor=None, campaign_id=campaign_id, lock=True)


async def _erase(world: World, person: Person) -> str:
    try:
        async with world.db.session_scope() as s:
            await erasure.erase_account(
                s, person=person, password=PASSWORD, confirmed=True, remainder_fen=0,
                settings=world.settings, limits=RateLimits(None), via="api",
            )  # fmt: skip
    except XingdongError as exc:
        return exc.code
    return "erased"


async def _claim(world: World, person: Person, campaign_id: UUID) -> str:
    try:
        async with world.db.session_scope() as s:
            await work.claim(s, person=person, campaign_id=campaign_id, settings=world.settings)
    except XingdongError as exc:
        return exc.code
    return "claimed"


async def test_an_erasure_and_a_claim_at_once_never_leave_work_on_an_erased_account(
    world: World,
) -> None:
    campaign = await live_campaign(world, quantity=40, **long_running())
    seen = set()
    for n in range(12):
        person = await add_worker(world, handle=f"racer_{n}_{campaign.id.hex[:6]}")
        # Either may reach the person's row first: each goes first in half the rounds.
        if n % 2:
            claimed, erased = await asyncio.gather(
                _claim(world, person, campaign.id), _erase(world, person)
            )
        else:
            erased, claimed = await asyncio.gather(
                _erase(world, person), _claim(world, person, campaign.id)
            )
        seen.add((erased, claimed))
        async with world.db.sessionmaker() as s:
            row = await s.get(Person, person.id)
            held = await rows_of(s, Assignment, Assignment.person_id == person.id)
        assert row is not None
        if erased == "erased":
            assert row.erased_at is not None and held == 0
            assert claimed == "session_expired"
        else:
            assert (erased, claimed, held) == ("erasure_blocked", "claimed", 1)
    async with world.db.sessionmaker() as s:
        assert (await ledger.verify(s)).problems == []
    assert seen == {("erased", "session_expired"), ("erasure_blocked", "claimed")}


async def test_two_owners_erasing_at_once_leave_the_organisation_one(world: World) -> None:
    first = await world.actor(world.owner)
    second = world.workers[1]
    async with world.db.session_scope() as s:
        invited = await identity.invite_member(
            s, actor=first, org_id=world.org_id, phone=second.phone, role="owner"
        )
    async with world.db.session_scope() as s:
        await identity.answer_invitation(s, person=second, invitation_id=invited.id, accept=True)
    outcomes = await asyncio.gather(_erase(world, world.owner), _erase(world, second))
    assert sorted(outcomes) == ["erased", "erasure_blocked"]
    async with world.db.sessionmaker() as s:
        owners = await rows_of(
            s, Membership, Membership.org_id == world.org_id, Membership.role == "owner"
        )
    assert owners == 1


async def test_an_api_key_cannot_erase_anyone(client: httpx.AsyncClient, world: World) -> None:
    owner = {"Authorization": f"Bearer {await token_of(client, world.owner)}"}
    made = await client.post(
        f"/api/v1/orgs/{world.org_id}/api-keys", json={"name": "ci", "access": "write"},
        headers=owner,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    for answer in (
        await client.get(ERASURE, headers=key),
        await client.post(ERASURE, json={"password": PASSWORD, "confirm": True}, headers=key),
    ):
        assert answer.status_code == 403
        assert answer.json()["code"] == "person_token_required"
    assert (await world.person(world.owner.id)).erased_at is None


async def test_after_erasure_nothing_more_reaches_the_account(
    client: httpx.AsyncClient, world: World
) -> None:
    """What a request under way, or an operator, would still send to the account is
    refused once it is erased; its phone is not the key to anything; what an exposure
    log or a hide wrote late is swept up by the job the erasure queued."""
    # Registered through the API, so the risk log holds its registration.
    person = await _registered(client, world)
    assert await _erase(world, person) == "erased"
    erased = await world.person(person.id)
    operator = await world.actor(world.operator)
    async with world.db.sessionmaker() as s:
        hashes = (
            await s.scalars(
                text("SELECT event->>'phone_hash' FROM risk_events WHERE account = :id"),
                {"id": str(person.id)},
            )
        ).all()
    plain = hashlib.sha256(person.phone.removeprefix("+86").encode()).hexdigest()
    assert hashes and plain not in hashes

    late = (
        (lambda s: withdrawals.bind_payout_account(
            s, person_id=person.id,
            form=withdrawals.PayoutAccountForm("alipay", "late@example.com", "王小明"),
            settings=world.settings)),
        (lambda s: adjustments.request_adjustment(
            s, actor=operator, account_key=wallets.available_account(person.id), amount=500,
            reason="补发")),
        (lambda s: dispatch.hide(s, person=erased, kind="brand", ref=world.org_id)),
        (lambda s: identity.accept_agreement(
            s, person=erased, version=world.settings.agreement_version,
            settings=world.settings, ip="203.0.113.9", user_agent="late")),
    )  # fmt: skip
    codes = []
    for call in late:
        with pytest.raises(XingdongError) as refused:
            async with world.db.session_scope() as s:
                await call(s)
        codes.append(refused.value.code)
    assert codes == ["account_closed", "account_closed", "session_expired", "session_expired"]

    # The placeholder signs nobody in and locks nothing.
    for _ in range(6):
        tried = await client.post(
            "/api/v1/auth/tokens",
            json={"phone": erased.phone, "password": PASSWORD, "token_name": "x"},
        )
        assert tried.json()["code"] == "invalid_credentials"
    assert (await world.person(person.id)).failed_login_count == 0

    # A feed logged a moment after the erasure is gone once the queued job has run.
    async with world.db.session_scope() as s:
        s.add(ShownFeed(person_id=person.id, shown_at=utcnow(), campaign_ids=[],
                        reasons=[]))  # fmt: skip
    async with world.db.sessionmaker() as s:
        due = await s.scalar(
            text(
                "SELECT scheduled_at FROM procrastinate_jobs WHERE task_name = :task "
                "AND args->>'person_id' = :id"
            ),
            {"task": erasure.STRAGGLERS_JOB, "id": str(person.id)},
        )
    assert due is not None and due > utcnow()
    async with world.db.session_scope() as s:
        await erasure.forget_stragglers(s, person_id=person.id)
    async with world.db.sessionmaker() as s:
        assert await rows_of(s, ShownFeed, ShownFeed.person_id == person.id) == 0


async def _registered(client: httpx.AsyncClient, world: World) -> Person:
    from tests.factories import register

    user = await register(client)
    return await world.person(UUID(user.id))


async def test_a_correction_waiting_for_approval_holds_erasure_back(world: World) -> None:
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        await wallets.open_wallet(s, worker.id)
        await adjustments.request_adjustment(
            s, actor=await world.actor(world.operator),
            account_key=wallets.available_account(worker.id), amount=5000, reason="补发奖励",
        )  # fmt: skip
    assert await _erase(world, worker) == "erasure_blocked"
    async with world.db.sessionmaker() as s:
        check = await erasure.erasure_check(s, person=worker, settings=world.settings)
    assert [b.code for b in check.blockers] == ["adjustment_pending"]


async def test_wrong_passwords_count_as_failed_sign_ins(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    auth = {"Authorization": f"Bearer {await token_of(client, worker)}", **ENGLISH}
    codes = []
    for _ in range(world.settings.login_max_failures + 1):
        tried = await client.post(
            ERASURE, json={"password": "guess-again", "confirm": True}, headers=auth
        )
        codes.append(tried.json()["code"])
    assert codes[: world.settings.login_max_failures] == ["password_wrong"] * (
        world.settings.login_max_failures
    )
    assert codes[-1] == "account_locked"
    locked = await world.person(worker.id)
    assert locked.locked_until is not None and locked.erased_at is None


async def test_an_erasure_and_the_makers_api_key_at_once_do_not_deadlock(
    client: httpx.AsyncClient, world: World
) -> None:
    """A key's request holds its maker's membership while it works; an erasure holds the
    person first and then the memberships. Both take the person first now."""
    first = await world.actor(world.owner)
    second = world.workers[1]
    async with world.db.session_scope() as s:
        invited = await identity.invite_member(
            s, actor=first, org_id=world.org_id, phone=second.phone, role="owner"
        )
    async with world.db.session_scope() as s:
        await identity.answer_invitation(s, person=second, invitation_id=invited.id, accept=True)
    auth = {"Authorization": f"Bearer {await token_of(client, second)}"}
    made = await client.post(
        f"/api/v1/orgs/{world.org_id}/api-keys", json={"name": "ci", "access": "write"},
        headers=auth,
    )  # fmt: skip
    key = {"Authorization": f"Bearer {made.json()['key']}"}

    async def use_key() -> int:
        answer = await client.post(
            f"/api/v1/orgs/{world.org_id}/campaigns",
            json={
                "title": "钥匙建的任务", "task_type": "follow", "target": "@brand_official",
                "brief": "关注官方账号", "disclosure": "广告：品牌赞助", "quantity": 1,
                "unit_price_fen": 100, "starts_at": utcnow().isoformat(),
                "ends_at": (utcnow() + timedelta(days=2)).isoformat(), "interests": ["美妆"],
                "pacing_per_hour": 10,
            },
            headers=key,
        )  # fmt: skip
        return answer.status_code

    key_status, erased = await asyncio.gather(use_key(), _erase(world, second))
    assert erased == "erased"
    assert key_status in (201, 401)
    after = await client.get(f"/api/v1/orgs/{world.org_id}/campaigns", headers=key)
    assert after.status_code == 401
