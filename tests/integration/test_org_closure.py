"""Closing an organisation (关闭机构) on a real PostgreSQL, through the API: an owner sees
what stops it (money in the balance, a campaign not closed, work not settled, creators
under contract) and what it would do; a wrong name or password changes nothing; closing
removes every member, revokes its keys, switches off its endpoints, withdraws invitations
and offers and closes unpaid top-ups, and its only owner can then erase their account.
A top-up paid after the closing is refunded by the sweep; an agency's share of a reward
leaving its hold after it closed goes to the creator. Run at once with requests that add
to the organisation, closing never leaves a closed organisation with anything new in it."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, select, text

from tests.factories import PASSWORD, User, add_member, create_org, register
from tests.integration.conftest import make_settings
from tests.integration.test_deposits import notify, start_deposit
from tests.integration.test_refunds import ask, paid_top_up, run
from tests.lifecycle_world import build_world, live_campaign
from xingdong.campaigns import service as campaigns
from xingdong.core.audit import AuditEntry
from xingdong.core.db import Database
from xingdong.core.ratelimit import RateLimits
from xingdong.creators import agencies
from xingdong.creators.models import AgencyContract
from xingdong.identity import org_closure
from xingdong.identity.models import Invitation, Membership, Organisation, OrgApiKey
from xingdong.ledger import refunds
from xingdong.ledger import service as ledger
from xingdong.ledger.deposits import org_account
from xingdong.ledger.models import Deposit, LedgerAccount, Refund
from xingdong.ledger.payments import SandboxPaymentProvider

ENGLISH = {"Accept-Language": "en"}


def closure(org_id: str) -> str:
    return f"/api/v1/orgs/{org_id}/closure"


async def close(
    client: httpx.AsyncClient, owner: User, org_id: str, name: str = "测试品牌", **extra: Any
) -> httpx.Response:
    body = {"name": name, "password": PASSWORD, **extra}
    return await client.post(closure(org_id), json=body, headers={**owner.auth, **ENGLISH})


async def check(client: httpx.AsyncClient, owner: User, org_id: str) -> dict[str, Any]:
    response = await client.get(closure(org_id), headers={**owner.auth, **ENGLISH})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def codes(found: dict[str, Any]) -> list[str]:
    return [b["code"] for b in found["blockers"]]


async def test_an_owner_closes_a_brand_once_its_money_is_refunded(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner, member, invited = [await register(client) for _ in range(3)]
    org_id = await create_org(client, owner)
    await add_member(client, org_id, owner, member)
    invitation = await client.post(
        f"/api/v1/orgs/{org_id}/invitations",
        json={"phone": invited.phone, "role": "member"},
        headers=owner.auth,
    )
    assert invitation.status_code == 201
    key = await client.post(
        f"/api/v1/orgs/{org_id}/api-keys", json={"name": "ERP", "access": "read"},
        headers=owner.auth,
    )  # fmt: skip
    assert key.status_code == 201, key.text
    api_key = {"Authorization": f"Bearer {key.json()['key']}"}
    assert (await client.get(f"/api/v1/orgs/{org_id}", headers=api_key)).status_code == 200
    deposit_id = await paid_top_up(client, owner, org_id, 5_000)
    unpaid = (await start_deposit(client, owner, org_id, 700, "unpaid")).json()

    # Money in the balance: told why, and refused.
    found = await check(client, owner, org_id)
    assert (found["allowed"], codes(found)) == (False, ["money_available"])
    assert "¥50.00" in found["blockers"][0]["detail"]
    refused = await close(client, owner, org_id)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "closure_blocked"
    assert [b["code"] for b in refused.json()["blockers"]] == ["money_available"]

    # A refund under way still waits; once refunded, closing is allowed.
    asked = await ask(client, owner, org_id, deposit_id, 5_000, "all")
    assert codes(await check(client, owner, org_id)) == ["money_moving"]
    assert await run(client, asked.json()["id"]) == "refunded"
    found = await check(client, owner, org_id)
    assert found["allowed"] is True
    assert {k: found[k] for k in found if k not in ("allowed", "blockers")} == {
        "name": "测试品牌",
        "members_leaving": 2,
        "invitations_withdrawn": 1,
        "offers_withdrawn": 0,
        "api_keys_revoked": 1,
        "webhook_endpoints_disabled": 0,
        "unpaid_top_ups_closed": 1,
        "remainder_given_up_fen": 0,
    }

    # Not the owner, the wrong name, the wrong password: refused, nothing changed.
    assert (await close(client, member, org_id)).status_code == 403
    wrong_name = await close(client, owner, org_id, name="测试")
    assert (wrong_name.status_code, wrong_name.json()["code"]) == (422, "closure_not_confirmed")
    assert wrong_name.json()["errors"][0]["field"] == "name"
    wrong_password = await client.post(
        closure(org_id), json={"name": "测试品牌", "password": "nope"}, headers=owner.auth
    )
    assert (wrong_password.status_code, wrong_password.json()["code"]) == (422, "password_wrong")
    async with db.sessionmaker() as s:
        assert (await s.get_one(Organisation, UUID(org_id))).closed_at is None
        assert await s.scalar(select(func.count()).where(Membership.org_id == UUID(org_id))) == 2

    # Erasing the owner's own account waits for the organisation.
    erasure = await client.get("/api/v1/me/erasure", headers={**owner.auth, **ENGLISH})
    assert [b["code"] for b in erasure.json()["blockers"]] == ["last_owner"]

    closed = await close(client, owner, org_id)
    assert closed.status_code == 200, closed.text
    assert closed.json()["org_id"] == org_id

    # Nobody is a member; the key and the organisation's pages are gone for them.
    for who in (owner, member):
        assert (await client.get(f"/api/v1/orgs/{org_id}", headers=who.auth)).status_code == 404
        listed = await client.get("/api/v1/orgs", headers=who.auth)
        assert listed.json()["items"] == []
    assert (await client.get(f"/api/v1/orgs/{org_id}", headers=api_key)).status_code == 401
    again = await close(client, owner, org_id)
    assert again.status_code == 404  # no longer theirs to see
    answer = await client.post(
        f"/api/v1/me/invitations/{invitation.json()['id']}", json={"accept": True},
        headers=invited.auth,
    )  # fmt: skip
    assert answer.status_code == 409
    async with db.sessionmaker() as s:
        org = await s.get_one(Organisation, UUID(org_id))
        assert org.closed_at is not None and str(org.closed_by) == owner.id
        invitation_row = await s.get_one(Invitation, UUID(invitation.json()["id"]))
        assert invitation_row.status == "revoked"
        keys = (await s.scalars(select(OrgApiKey).where(OrgApiKey.org_id == org.id))).all()
        assert [k.revoked_at is not None for k in keys] == [True]
        assert (await s.get_one(Deposit, UUID(unpaid["id"]))).status == "closed"
        account = await s.scalar(
            select(LedgerAccount).where(LedgerAccount.key == org_account(org.id))
        )
        assert account is not None and account.closed_at is not None
        entry = await s.scalar(
            select(AuditEntry).where(AuditEntry.action == "identity.organisation_closed")
        )
        assert entry is not None and entry.data["api_keys_revoked"] == 1
        assert sorted(entry.data["members"]) == sorted([owner.id, member.id])
        assert (await ledger.verify(s)).problems == []

    # Operators still see it, and when it was closed.
    operator = await register(client)
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'operator')"),
            {"id": operator.id},
        )
    seen = await client.get(f"/api/v1/orgs/{org_id}", headers=operator.auth)
    assert seen.status_code == 200 and seen.json()["closed_at"] is not None

    # Now the owner's account can be erased.
    erasure = await client.get("/api/v1/me/erasure", headers=owner.auth)
    assert erasure.json()["allowed"] is True


async def provider_took_it_anyway(db: Database, order_id: str, amount: int) -> None:
    """A provider that takes a payment for an order it was told to close (the case the
    refund sweep is there for): its own record says paid."""
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE sandbox_payments SET status = 'paid', amount = :a WHERE order_id = :o"),
            {"a": amount, "o": order_id},
        )


async def test_a_top_up_paid_after_the_closing_is_refunded(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    late = (await start_deposit(client, owner, org_id, 900, "late")).json()
    assert (await close(client, owner, org_id)).status_code == 200
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    # Its checkout was closed at the provider too; should a provider take the money all
    # the same, the sweep gives it back.
    record = await runtime.payments.query_order(order_id=late["id"])
    assert record is not None and record.status == "closed"
    # Creating another top-up is refused; the payer of the one left open pays anyway.
    refused = await start_deposit(client, owner, org_id, 900, "again")
    assert refused.status_code in (403, 404, 409)
    await provider_took_it_anyway(db, late["id"], 900)
    assert (await notify(client, late["id"], 900)).status_code == 200
    async with db.session_scope() as s:
        assert (await ledger.balance(s, org_account(UUID(org_id)))).available == 900

    # Two sweeps at once ask for one refund.
    async def sweep() -> int:
        async with db.session_scope() as s:
            return await refunds.refund_closed_balances(s)

    assert sorted(await asyncio.gather(sweep(), sweep())) == [0, 1]
    async with db.sessionmaker() as s:
        refund = await s.scalar(select(Refund))
        assert refund is not None and refund.amount == 900
        assert str(refund.requested_by) == owner.id
    assert await run(client, str(refund.id)) == "refunded"
    async with db.session_scope() as s:
        assert (await ledger.balance(s, org_account(UUID(org_id)))).available == 0
        assert await refunds.refund_closed_balances(s) == 0
        assert (await ledger.verify(s)).problems == []


async def test_closing_waits_for_campaigns(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    async with client.app.state.runtime.db.session_scope() as s:  # type: ignore[attr-defined]
        await s.execute(
            text(
                "INSERT INTO campaigns (id, org_id, created_by, title, task_type, platform,"
                " target_kind, target_ref, target_title, target_url, brief, disclosure,"
                " quantity, unit_price, reward, fee, starts_at, ends_at)"
                " VALUES (gen_random_uuid(), :org, :by, 'x', 'follow', 'sandbox', 'account',"
                " 'a', 'a', 'https://x', 'b', '#广告', 1, 100, 80, 20,"
                " now(), now() + interval '1 day')"
            ),
            {"org": org_id, "by": owner.id},
        )
    found = await check(client, owner, org_id)
    assert codes(found) == ["campaigns_open"]
    assert found["blockers"][0]["detail"].startswith("1 campaigns are not closed")


async def test_a_closed_agency_takes_no_share_and_gives_up_a_small_remainder(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner, creator = await register(client), await register(client)
    org_id = await create_org(client, owner, name="星动MCN", kind="agency")
    offered = await client.post(
        f"/api/v1/orgs/{org_id}/creators", json={"phone": creator.phone, "share_percent": 20},
        headers=owner.auth,
    )  # fmt: skip
    assert offered.status_code == 201, offered.text
    contract_id = offered.json()["id"]
    accepted = await client.post(
        f"/api/v1/me/agency-offers/{contract_id}", json={"accept": True}, headers=creator.auth
    )
    assert accepted.status_code == 200, accepted.text
    found = await check(client, owner, org_id)
    assert codes(found) == ["contracts_active"]
    ended = await client.post(
        f"/api/v1/orgs/{org_id}/creators/{contract_id}/close", headers=owner.auth
    )
    assert ended.status_code == 200, ended.text
    async with db.sessionmaker() as s:
        # A task taken while the contract was in force.
        claimed_at = (await s.get_one(AgencyContract, UUID(contract_id))).started_at
        assert claimed_at is not None
        share = await agencies.share_of_release(
            s, person_id=UUID(creator.id), claimed_at=claimed_at, reward=1_000
        )
        assert share is not None and share.amount == 200
    # A share small enough not to be paid out is in the balance.
    async with db.session_scope() as s:
        await ledger.open_account(s, ledger.AccountSpec("platform:revenue"))
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                "test-share", "platform:revenue", agencies.agency_account(UUID(org_id)), 30,
                "agency_share",
            ),
        )  # fmt: skip
    found = await check(client, owner, org_id)
    assert (found["allowed"], found["remainder_given_up_fen"]) == (True, 30)
    changed = await close(client, owner, org_id, name="星动MCN", remainder_given_up_fen=0)
    assert (changed.status_code, changed.json()["code"]) == (409, "closure_changed")
    closed = await close(client, owner, org_id, name="星动MCN", remainder_given_up_fen=30)
    assert closed.status_code == 200, closed.text
    async with db.sessionmaker() as s:
        assert (await ledger.balance(s, agencies.agency_account(UUID(org_id)))).posted == 0
        # The reward leaving its hold now goes to the creator whole.
        assert (
            await agencies.share_of_release(
                s, person_id=UUID(creator.id), claimed_at=claimed_at, reward=1_000
            )
            is None
        )
        assert (await ledger.verify(s)).problems == []


async def test_closing_at_once_with_what_adds_to_the_organisation(
    client: httpx.AsyncClient, db: Database
) -> None:
    """Each round closes the organisation while, in parallel transactions, a new member
    accepts an invitation, the owner makes an API key and asks for a top-up: whichever
    commits first, a closed organisation has no member, no working key and no top-up
    waiting, and what came after is refused."""
    owner, joiner = await register(client), await register(client)
    for round_ in range(4):
        org_id = await create_org(client, owner)
        invited = await client.post(
            f"/api/v1/orgs/{org_id}/invitations", json={"phone": joiner.phone, "role": "member"},
            headers=owner.auth,
        )  # fmt: skip
        results = await asyncio.gather(
            close(client, owner, org_id),
            client.post(
                f"/api/v1/me/invitations/{invited.json()['id']}", json={"accept": True},
                headers=joiner.auth,
            ),
            client.post(
                f"/api/v1/orgs/{org_id}/api-keys", json={"name": f"k{round_}", "access": "read"},
                headers=owner.auth,
            ),
            start_deposit(client, owner, org_id, 1_000, f"race-{round_}"),
        )  # fmt: skip
        closed, *others = results
        assert closed.status_code == 200, closed.text
        for response in others:
            # A request whose caller was read after the closing committed finds them no
            # longer a member: the organisation is not theirs to see (404).
            assert response.status_code in (200, 201, 404, 409), response.text
            if response.status_code == 409:
                assert response.json()["code"] in ("organisation_closed", "invitation_not_pending")
            if response.status_code == 404:
                assert response.json()["code"] == "not_found"
        async with db.sessionmaker() as s:
            org = UUID(org_id)
            assert await s.scalar(select(func.count()).where(Membership.org_id == org)) == 0
            working = select(func.count()).where(
                OrgApiKey.org_id == org, OrgApiKey.revoked_at.is_(None)
            )
            assert await s.scalar(working) == 0
            waiting = select(func.count()).where(Deposit.org_id == org, Deposit.status == "created")
            assert await s.scalar(waiting) == 0


async def test_closing_at_once_with_a_campaign_closing(clean_db: str) -> None:
    """A campaign closing returns its escrow to the balance and tells the brand (an event
    pointing to the organisation) while the owner closes the organisation: one waits for
    the other, never a deadlock. The closing is refused (the campaign, or the money it
    returned, is still there) and the campaign closes."""
    settings = make_settings()
    world = await build_world(clean_db, settings, workers=1, funds=50_000)
    try:
        owner = await world.actor(world.owner)
        person = await world.person(world.owner.id)
        for _ in range(3):
            campaign = await live_campaign(world, quantity=2)

            async def close_campaign(campaign_id: UUID = campaign.id) -> object:
                async with world.db.session_scope() as s:
                    return await campaigns.close_campaign(s, actor=owner, campaign_id=campaign_id)

            async def close_org() -> object:
                try:
                    async with world.db.session_scope() as s:
                        return await org_closure.close_organisation(
                            s, actor=owner, person=person, org_id=world.org_id,
                            name="测试品牌", password=PASSWORD, remainder_fen=0,
                            settings=settings, limits=RateLimits(None), via="api",
                            payments=SandboxPaymentProvider("closure", world.db),
                        )  # fmt: skip
                except org_closure.ClosureBlocked as exc:
                    return exc

            closed_campaign, closing = await asyncio.gather(close_campaign(), close_org())
            assert isinstance(closing, org_closure.ClosureBlocked)
            assert not isinstance(closed_campaign, BaseException)
        async with world.db.sessionmaker() as s:
            assert (await s.get_one(Organisation, world.org_id)).closed_at is None
            assert (await ledger.verify(s)).problems == []
    finally:
        await world.db.dispose()


async def test_a_late_top_up_of_an_organisation_closed_on_request_is_refunded_too(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    late = (await start_deposit(client, owner, org_id, 600, "late")).json()
    settings = client.app.state.runtime.settings  # type: ignore[attr-defined]
    async with db.session_scope() as s:
        await org_closure.close_on_request(
            s, org_id=UUID(org_id), why="工单 7", settings=settings,
            payments=SandboxPaymentProvider("closure", db),
        )  # fmt: skip
    await provider_took_it_anyway(db, late["id"], 600)
    assert (await notify(client, late["id"], 600)).status_code == 200
    async with db.session_scope() as s:
        assert await refunds.refund_closed_balances(s) == 1
    async with db.sessionmaker() as s:
        refund = await s.scalar(select(Refund))
        # No owner closed it: the refund is asked in the name of the one who made it.
        assert refund is not None and str(refund.requested_by) == owner.id
        assert (await s.get_one(Organisation, UUID(org_id))).closed_by is None


async def test_a_top_up_paid_at_the_provider_while_closing_stops_the_closing(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    paying = (await start_deposit(client, owner, org_id, 900, "paying")).json()
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    await runtime.payments.record_payment(order_id=paying["id"], amount=900, status="paid")
    refused = await close(client, owner, org_id)
    assert refused.status_code == 409 and refused.json()["code"] == "closure_changed"
    async with db.sessionmaker() as s:
        assert (await s.get_one(Organisation, UUID(org_id))).closed_at is None
    assert (await notify(client, paying["id"], 900)).status_code == 200
    found = await check(client, owner, org_id)
    assert codes(found) == ["money_available"]  # now it has money to take out first
