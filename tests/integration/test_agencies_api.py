"""The agencies (MCN) API: offers, answers, the roster and its phone masking, errors as
problem+json."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from uuid import UUID

import httpx
from sqlalchemy import func, select, text

from tests.factories import User, add_member, create_org, register
from xingdong.core.db import Database
from xingdong.creators import agencies
from xingdong.ledger import service as ledger
from xingdong.ledger import withdrawals
from xingdong.ledger.models import SandboxPayout
from xingdong.ledger.wallets import available_account


async def test_an_agency_signs_a_creator_through_the_api(client: httpx.AsyncClient) -> None:
    owner = await register(client, name="机构老板")
    creator = await register(client, name="小美")
    org_id = await create_org(client, owner, name="星光 MCN", kind="agency")

    offered = await client.post(
        f"/api/v1/orgs/{org_id}/creators",
        json={"phone": creator.phone, "share_percent": 20},
        headers=owner.auth,
    )
    assert offered.status_code == 201, offered.text
    contract = offered.json()
    assert (contract["status"], contract["share_percent"]) == ("offered", 20)

    mine = (await client.get("/api/v1/me/agency", headers=creator.auth)).json()
    assert mine["contract"] is None
    assert [(o["id"], o["agency_name"]) for o in mine["offers"]] == [(contract["id"], "星光 MCN")]

    accepted = await client.post(
        f"/api/v1/me/agency-offers/{contract['id']}", json={"accept": True}, headers=creator.auth
    )
    assert (accepted.json()["status"], accepted.json()["agency_name"]) == ("active", "星光 MCN")
    mine = (await client.get("/api/v1/me/agency", headers=creator.auth)).json()
    assert mine["contract"]["agency_name"] == "星光 MCN"
    assert (mine["shared_fen"], mine["offers"]) == (0, [])

    roster = (await client.get(f"/api/v1/orgs/{org_id}/creators", headers=owner.auth)).json()
    [row] = roster["items"]
    assert (row["display_name"], row["contract"]["phone"]) == ("小美", "+86" + creator.phone)
    assert roster["next_cursor"] is None
    summary = (await client.get(f"/api/v1/orgs/{org_id}/agency", headers=owner.auth)).json()
    assert (summary["active"], summary["offered"], summary["balance_fen"]) == (1, 0, 0)

    # A member sees the roster with phones masked, and cannot offer or end contracts.
    member = await register(client)
    await add_member(client, org_id, owner, member)
    seen = (await client.get(f"/api/v1/orgs/{org_id}/creators", headers=member.auth)).json()
    assert "****" in seen["items"][0]["contract"]["phone"]
    by_name = {"q": "小美"}
    by_phone = {"q": creator.phone[-8:]}
    for who, query, found in ((member, by_name, 1), (member, by_phone, 0), (owner, by_phone, 1)):
        listed = await client.get(f"/api/v1/orgs/{org_id}/creators", params=query, headers=who.auth)
        assert len(listed.json()["items"]) == found, (query, found)
    refused = await client.post(
        f"/api/v1/orgs/{org_id}/creators/{contract['id']}/close", headers=member.auth
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")

    left = await client.post("/api/v1/me/agency/leave", headers=creator.auth)
    assert (left.json()["status"], left.json()["agency_name"]) == ("ended", "星光 MCN")
    closed = await client.get(
        f"/api/v1/orgs/{org_id}/creators", params={"status": "closed"}, headers=owner.auth
    )
    assert [r["contract"]["status"] for r in closed.json()["items"]] == ["ended"]


async def test_bad_requests_get_problem_details(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    creator = await register(client)
    brand_id = await create_org(client, owner, kind="brand")
    agency_id = await create_org(client, owner, name="某 MCN", kind="agency")

    brand = await client.post(
        f"/api/v1/orgs/{brand_id}/creators",
        json={"phone": creator.phone, "share_percent": 20},
        headers=owner.auth,
    )
    assert (brand.status_code, brand.json()["code"]) == (409, "not_an_agency")

    bad = await client.post(
        f"/api/v1/orgs/{agency_id}/creators",
        json={"phone": "123", "share_percent": 80},
        headers=owner.auth,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"phone", "share_percent"}
    share_error = next(e for e in bad.json()["errors"] if e["field"] == "share_percent")
    assert "50" in share_error["message"] and "{" not in share_error["message"]

    wrong_type = await client.post(
        f"/api/v1/orgs/{agency_id}/creators",
        json={"phone": creator.phone, "share_percent": "a lot"},
        headers=owner.auth,
    )
    assert wrong_type.status_code == 422

    status = await client.get(
        f"/api/v1/orgs/{agency_id}/creators", params={"status": "everything"}, headers=owner.auth
    )
    assert status.status_code == 422

    first = await client.post(
        f"/api/v1/orgs/{agency_id}/creators",
        json={"phone": creator.phone, "share_percent": 10},
        headers=owner.auth,
    )
    again = await client.post(
        f"/api/v1/orgs/{agency_id}/creators",
        json={"phone": creator.phone, "share_percent": 15},
        headers=owner.auth,
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_signed")

    withdrawn = await client.post(
        f"/api/v1/orgs/{agency_id}/creators/{first.json()['id']}/close", headers=owner.auth
    )
    assert withdrawn.json()["status"] == "withdrawn"
    late = await client.post(
        f"/api/v1/me/agency-offers/{first.json()['id']}",
        json={"accept": True},
        headers=creator.auth,
    )
    assert (late.status_code, late.json()["code"]) == (409, "contract_not_open")
    assert late.json()["contract_status"] == "withdrawn"

    stranger = await register(client)
    hidden = await client.get(f"/api/v1/orgs/{agency_id}/creators", headers=stranger.auth)
    assert hidden.status_code == 404
    nothing = await client.post("/api/v1/me/agency/leave", headers=creator.auth)
    assert nothing.status_code == 404


async def fund_agency(
    db: Database, org_id: str, amount: int, contract_id: str | None = None
) -> None:
    """A share the agency has received, under ``contract_id`` if given (the release that
    pays shares is tested in test_agencies)."""
    async with db.session_scope() as s:
        await ledger.open_account(s, ledger.AccountSpec("external:rewards"))
        await agencies.open_agency_account(s, UUID(org_id))
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                f"shares-{org_id}-{contract_id}",
                "external:rewards",
                agencies.agency_account(UUID(org_id)),
                amount,
                agencies.SHARE_CODE,
                meta={"contract": contract_id} if contract_id else {},
            ),
        )


async def test_an_agency_pays_its_shares_out_after_an_operator_approves(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner, name="星光 MCN", kind="agency")
    await fund_agency(db, org_id, 20_000)

    def payout(user: User, amount: int, key: str) -> Awaitable[httpx.Response]:
        return client.post(
            f"/api/v1/orgs/{org_id}/withdrawals",
            json={"amount_fen": amount},
            headers={**user.auth, "Idempotency-Key": key},
        )

    unbound = await payout(owner, 5_000, "a0")
    assert (unbound.status_code, unbound.json()["code"]) == (422, "payout_account_required")
    bound = await client.put(
        f"/api/v1/orgs/{org_id}/payout-account",
        json={"kind": "bank", "number": "6222 8000 1111 9999", "holder_name": "王小明"},
        headers=owner.auth,
    )
    assert (bound.status_code, bound.json()["masked"]) == (201, "**** 9999")

    # Two payouts of most of the balance at once: one is reserved, the other refused.
    both = await asyncio.gather(payout(owner, 15_000, "a1"), payout(owner, 15_000, "a2"))
    assert sorted(r.status_code for r in both) == [201, 409]
    asked = next(r.json() for r in both if r.status_code == 201)
    assert (asked["status"], asked["org_id"]) == ("requested", org_id)
    assert asked["review_reasons"] == ["organisation_payout"]
    key = "a1" if both[0].status_code == 201 else "a2"
    replay = await payout(owner, 15_000, key)
    assert replay.json()["id"] == asked["id"]

    summary = (await client.get(f"/api/v1/orgs/{org_id}/agency", headers=owner.auth)).json()
    assert summary["balance_fen"] == 5_000

    operator = await register(client)
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'operator')"),
            {"id": operator.id},
        )
    approved = await client.post(
        f"/api/v1/ops/withdrawals/{asked['id']}/approve", headers=operator.auth
    )
    assert approved.json()["status"] == "approved"
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert (
        await withdrawals.execute_payout(runtime.db, runtime.payouts, UUID(asked["id"])) == "paid"
    )

    listed = (await client.get(f"/api/v1/orgs/{org_id}/withdrawals", headers=owner.auth)).json()[
        "items"
    ]
    assert [(w["id"], w["status"]) for w in listed] == [(asked["id"], "paid")]
    async with db.sessionmaker() as s:
        paid = (await s.execute(select(func.sum(SandboxPayout.amount)))).scalar_one()
        assert (await ledger.verify(s)).problems == []
        owner_wallet = await ledger.account_by_key(s, available_account(UUID(owner.id)))
    assert paid == 15_000 - 100  # the fee stays with the platform
    assert owner_wallet is None  # the agency's money never passed through the owner
    own = (await client.get("/api/v1/me/withdrawals", headers=owner.auth)).json()["items"]
    assert own == []

    member = await register(client)
    await add_member(client, org_id, owner, member)
    refused = await payout(member, 1_000, "m1")
    assert refused.status_code == 403


async def test_an_agency_cannot_sign_or_pay_out_to_its_own_people(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    partner = await register(client)
    org_id = await create_org(client, owner, name="某 MCN", kind="agency")
    await add_member(client, org_id, owner, partner, role="owner")

    # Its own members take no share of their own rewards through it.
    for phone in (owner.phone, partner.phone):
        refused = await client.post(
            f"/api/v1/orgs/{org_id}/creators",
            json={"phone": phone, "share_percent": 50},
            headers=owner.auth,
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "member_not_signable")
    later = await register(client)
    offered = await client.post(
        f"/api/v1/orgs/{org_id}/creators",
        json={"phone": later.phone, "share_percent": 50},
        headers=owner.auth,
    )
    await add_member(client, org_id, owner, later)  # joins before answering
    accepted = await client.post(
        f"/api/v1/me/agency-offers/{offered.json()['id']}",
        json={"accept": True},
        headers=later.auth,
    )
    assert accepted.json()["code"] == "member_not_signable"

    # Before any share, a payout is refused for want of money (not an unknown account).
    await client.put(
        f"/api/v1/orgs/{org_id}/payout-account",
        json={"kind": "alipay", "number": "owner@example.com", "holder_name": "王小明"},
        headers=owner.auth,
    )
    empty = await client.post(
        f"/api/v1/orgs/{org_id}/withdrawals",
        json={"amount_fen": 5_000},
        headers={**owner.auth, "Idempotency-Key": "e1"},
    )
    assert (empty.status_code, empty.json()["code"]) == (409, "insufficient_funds")

    # The owner's own payout account is the agency's: both payouts say so.
    await fund_agency(db, org_id, 20_000)
    await client.put(
        "/api/v1/me/payout-account",
        json={"kind": "alipay", "number": "owner@example.com", "holder_name": "王小明"},
        headers=owner.auth,
    )
    asked = await client.post(
        f"/api/v1/orgs/{org_id}/withdrawals",
        json={"amount_fen": 5_000},
        headers={**owner.auth, "Idempotency-Key": "p1"},
    )
    assert asked.json()["review_reasons"] == ["organisation_payout", "shared_payout_account"]

    # An operator who belongs to the agency does not approve its payout; nor do staff act
    # for it.
    async with db.session_scope() as s:
        await s.execute(
            text(
                "INSERT INTO staff_grants (person_id, role) VALUES (:p, 'operator'), (:p, 'admin')"
            ),
            {"p": partner.id},
        )
    own = await client.post(
        f"/api/v1/ops/withdrawals/{asked.json()['id']}/approve", headers=partner.auth
    )
    assert (own.status_code, own.json()["code"]) == (403, "own_withdrawal")
    admin = await register(client)
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:p, 'admin')"),
            {"p": admin.id},
        )
    staff_offer = await client.post(
        f"/api/v1/orgs/{org_id}/creators",
        json={"phone": (await register(client)).phone, "share_percent": 10},
        headers=admin.auth,
    )
    assert staff_offer.status_code == 403
