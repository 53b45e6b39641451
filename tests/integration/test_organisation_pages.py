"""The organisation pages over HTTP: invitations, members and money, as owners and
invitees use them."""

from __future__ import annotations

import httpx
from sqlalchemy import select, text

from tests.factories import add_member, create_org, register
from tests.integration.answers import csrf_from, form_id_from, problem
from tests.integration.test_deposits import balance
from tests.integration.test_money_pages import sign_in
from tests.integration.test_refunds import paid_top_up, run
from xingdong.core.audit import AuditEntry
from xingdong.core.db import Database


async def test_answering_a_withdrawn_invitation_says_it_was_withdrawn(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    invitee = await register(client)
    org_id = await create_org(client, owner, name="撤回测试")
    invited = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": invitee.phone}, headers=owner.auth
    )
    invitation_id = invited.json()["id"]
    await sign_in(client, invitee.phone)
    page = await client.get("/orgs", headers={"Accept-Language": "en"})
    assert 'data-invitation="撤回测试"' in page.text
    # The owner withdraws it while the invitee's page still offers it.
    withdrawn = await client.delete(
        f"/api/v1/orgs/{org_id}/invitations/{invitation_id}", headers=owner.auth
    )
    assert withdrawn.status_code == 204
    answer = await client.post(
        f"/invitations/{invitation_id}",
        data={"answer": "accept", "csrf_token": csrf_from(page.text)},
        headers={"Accept-Language": "en"},
    )
    # The organisations page again, saying what happened, with the invitation gone.
    assert answer.status_code == 409
    assert "The organisation has withdrawn this invitation." in answer.text
    assert "My organisations" in answer.text
    assert 'data-invitation="撤回测试"' not in answer.text
    again = await client.post(
        f"/api/v1/me/invitations/{invitation_id}",
        json={"accept": True},
        headers={**invitee.auth, "Accept-Language": "en"},
    )
    body = problem(again, 409, "invitation_not_pending")
    assert body["invitation_status"] == "revoked"
    assert body["detail"] == "The organisation has withdrawn this invitation."
    async with db.sessionmaker() as s:
        actions = (await s.execute(select(AuditEntry.action))).scalars().all()
    assert "identity.invitation_revoked" in actions
    assert "identity.invitation_accepted" not in actions


async def test_withdrawing_an_invitation_already_answered_says_so_on_the_page(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    invitee = await register(client)
    org_id = await create_org(client, owner)
    invited = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": invitee.phone}, headers=owner.auth
    )
    invitation_id = invited.json()["id"]
    await sign_in(client, owner.phone)
    page = await client.get(f"/orgs/{org_id}")
    assert f'data-pending-invite="+86{invitee.phone}"' in page.text
    declined = await client.post(
        f"/api/v1/me/invitations/{invitation_id}", json={"accept": False}, headers=invitee.auth
    )
    assert declined.json()["status"] == "declined"
    answer = await client.post(
        f"/orgs/{org_id}/invitations/{invitation_id}/revoke",
        data={"csrf_token": csrf_from(page.text)},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 409
    assert "This invitation has already been declined." in answer.text
    assert "Invite a member" in answer.text


async def test_the_profile_says_a_creators_tier_and_how_it_changes(
    client: httpx.AsyncClient,
) -> None:
    creator = await register(client)
    await sign_in(client, creator.phone)
    english = {"Accept-Language": "en"}
    unbound = await client.get("/profile", headers=english)
    assert 'data-creator-tier=""' in unbound.text
    assert "Your tier comes from the followers" in unbound.text
    bound = await client.put(
        "/api/v1/me/platform-accounts",
        json={"handle": "tier_creator", "followers": 12_345},
        headers=creator.auth,
    )
    assert bound.status_code == 200, bound.text
    page = await client.get("/profile", headers=english)
    assert 'data-creator-tier="growing"' in page.text
    assert "@tier_creator has 12,345 followers" in page.text
    assert "1,000 to 99,999 followers" in page.text
    assert "100,000 followers or more" in page.text
    chinese = await client.get("/profile", headers={"Accept-Language": "zh-CN"})
    assert "你在沙盒平台的层级：腰部（@tier_creator 有 12,345 粉丝）。" in chinese.text


async def test_an_owner_refunds_part_of_a_top_up_from_the_organisation_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    member = await register(client)
    org_id = await create_org(client, owner)
    await add_member(client, org_id, owner, member)
    deposit_id = await paid_top_up(client, owner, org_id, 10_000)
    await sign_in(client, owner.phone)
    english = {"Accept-Language": "en"}
    page = await client.get(f"/orgs/{org_id}", headers=english)
    assert f'data-refund-form="{deposit_id}"' in page.text
    assert "Refund to the payer (yuan, up to ¥ 100.00)" in page.text
    # The question names the amount typed (app.js fills it in); nothing is typed for the
    # owner, the most that can go back is only the placeholder.
    refund_form = page.text.split(f'data-refund-form="{deposit_id}"')[1].split("</form>")[0]
    assert 'data-confirm-money="Refund ¥{amount} to whoever paid the top-up?' in refund_form
    assert 'data-max-fen="10000"' in refund_form
    assert (
        'placeholder="100.00"' in refund_form
        and "value=" not in refund_form.split('name="amount"')[1].split(">")[0]
    )
    action = f"/orgs/{org_id}/deposits/{deposit_id}/refunds"
    form = {"form_id": form_id_from(page.text), "csrf_token": csrf_from(page.text)}
    bad = await client.post(action, data={**form, "amount": "1.234"}, headers=english)
    assert bad.status_code == 422
    assert f'data-error-for="refund-{deposit_id}"' in bad.text
    too_much = await client.post(action, data={**form, "amount": "100.01"}, headers=english)
    assert too_much.status_code == 409
    assert "At most ¥100.00 of this top-up can still be refunded." in too_much.text
    assert await balance(client, owner, org_id) == 10_000  # nothing reserved by either
    first = await client.post(action, data={**form, "amount": "40"}, headers=english)
    second = await client.post(action, data={**form, "amount": "40"}, headers=english)  # twice
    assert first.status_code == second.status_code == 303
    assert await balance(client, owner, org_id) == 6_000
    page = await client.get(f"/orgs/{org_id}", headers=english)
    assert page.text.count('data-refund-status="requested"') == 1
    assert "Refund of ¥ 40.00: being refunded" in page.text
    assert "Refund to the payer (yuan, up to ¥ 60.00)" in page.text
    async with db.sessionmaker() as s:
        refund_id = (
            await s.execute(
                select(AuditEntry.data["refund"].astext).where(
                    AuditEntry.action == "ledger.refund_requested"
                )
            )
        ).scalar_one()
    assert await run(client, refund_id) == "refunded"
    page = await client.get(f"/orgs/{org_id}", headers=english)
    assert "Refund of ¥ 40.00: refunded" in page.text
    # A plain member sees neither top-ups nor refunds, and cannot post one.
    client.cookies.clear()
    await sign_in(client, member.phone)
    seen = await client.get(f"/orgs/{org_id}")
    assert "data-refund-form" not in seen.text
    refused = await client.post(
        action, data={"amount": "1", "form_id": "x", "csrf_token": csrf_from(seen.text)}
    )
    assert refused.status_code == 403
    assert await balance(client, owner, org_id) == 6_000


async def test_the_home_page_says_when_invitations_wait(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    invitee = await register(client)
    await sign_in(client, invitee.phone)
    home = await client.get("/", headers={"Accept-Language": "en"})
    assert "data-home-invitations" not in home.text
    for name in ("甲品牌", "乙机构"):
        org_id = await create_org(client, owner, name=name)
        invited = await client.post(
            f"/api/v1/orgs/{org_id}/invitations", json={"phone": invitee.phone}, headers=owner.auth
        )
        assert invited.status_code == 201
    home = await client.get("/", headers={"Accept-Language": "en"})
    assert 'data-home-invitations="2"' in home.text
    assert "Invitations to join an organisation waiting for your answer: 2" in home.text
    assert "You do not run a brand or an agency yourself" in home.text


async def test_invitations_say_when_they_were_sent_in_beijing_time(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    invitee = await register(client)
    org_id = await create_org(client, owner, name="时间测试")
    invited = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": invitee.phone}, headers=owner.auth
    )
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE invitations SET created_at = '2026-01-01 20:30+00' WHERE id = :id"),
            {"id": invited.json()["id"]},
        )
    await sign_in(client, invitee.phone)
    mine = (await client.get("/orgs?lang=en")).text
    offered = mine.split('data-invitation="时间测试"', 1)[1].split("</span>", 1)[0]
    assert "sent 2026-01-02 04:30" in offered
    client.cookies.clear()
    await sign_in(client, owner.phone)
    theirs = (await client.get(f"/orgs/{org_id}?lang=en")).text
    waiting = theirs.split("data-pending-invite=", 1)[1].split("<form", 1)[0]
    assert "sent 2026-01-02 04:30" in waiting
