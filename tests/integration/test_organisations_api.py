"""Organisations, invitations, roles, and who may see or change what."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select, update

from tests.factories import add_member, create_org, next_phone, register
from xingdong.core.audit import AuditEntry
from xingdong.core.db import Database
from xingdong.core.text import CONTROL_CHARACTERS
from xingdong.identity.models import Membership, Organisation


async def test_create_organisation_makes_the_creator_its_owner(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner, name="星动美妆")
    org = (await client.get(f"/api/v1/orgs/{org_id}", headers=owner.auth)).json()
    assert org["name"] == "星动美妆"
    assert org["my_role"] == "owner"
    members = (await client.get(f"/api/v1/orgs/{org_id}/members", headers=owner.auth)).json()
    assert [(m["person_id"], m["role"]) for m in members["items"]] == [(owner.id, "owner")]
    async with db.sessionmaker() as s:
        actions = (await s.execute(select(AuditEntry.action))).scalars().all()
    assert actions == ["identity.organisation_created"]


async def test_bad_organisation_input_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    owner = await register(client)
    bad_kind = await client.post(
        "/api/v1/orgs", json={"kind": "bank", "name": "X公司"}, headers=owner.auth
    )
    assert bad_kind.status_code == 422
    short = await client.post(
        "/api/v1/orgs", json={"kind": "brand", "name": " A "}, headers=owner.auth
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "name"
    for name in ("\b\x16星动", "星动\t美妆", "星动\n美妆", "星\x1b[2J动", "\u202e妆美动星"):
        hidden = await client.post(
            "/api/v1/orgs",
            json={"kind": "brand", "name": name},
            headers={**owner.auth, "Accept-Language": "en"},
        )
        assert hidden.status_code == 422, name
        assert [(e["field"], e["message"]) for e in hidden.json()["errors"]] == [
            ("name", CONTROL_CHARACTERS)
        ]
    # A name or title others read: the person's name and a campaign's title likewise.
    renamed = await client.patch(
        "/api/v1/me", json={"display_name": "小\u0007明"}, headers=owner.auth
    )
    assert renamed.status_code == 422
    assert renamed.json()["errors"][0]["field"] == "display_name"
    # A line break at an end is trimmed as spaces are, not refused.
    trimmed = await client.patch("/api/v1/me", json={"display_name": "小明\n"}, headers=owner.auth)
    assert trimmed.status_code == 200 and trimmed.json()["display_name"] == "小明"
    async with db.sessionmaker() as s:
        assert (await s.execute(select(Membership))).first() is None


async def test_one_person_s_organisations_have_different_names(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    headers = {**owner.auth, "Accept-Language": "en"}
    # A form sent twice at once: one organisation, and the other answer says which.
    sent = await asyncio.gather(
        *(
            client.post(
                "/api/v1/orgs", json={"kind": "brand", "name": "星动 美妆"}, headers=headers
            )
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in sent) == [201, 409]
    refused = next(r for r in sent if r.status_code == 409).json()
    assert refused["code"] == "organisation_name_taken"
    assert "“星动 美妆”" in refused["detail"] and refused["errors"][0]["field"] == "name"
    # Case and runs of spaces aside, in a brand or an agency alike.
    again = await client.post(
        "/api/v1/orgs", json={"kind": "agency", "name": " 星动  美妆 "}, headers=headers
    )
    assert again.status_code == 409
    listed = (await client.get("/api/v1/orgs", headers=owner.auth)).json()["items"]
    assert [o["name"] for o in listed] == ["星动 美妆"]
    # Someone else may use the name; so may the owner once that one is closed.
    other = await register(client)
    assert (await create_org(client, other, name="星动 美妆")) is not None
    async with db.session_scope() as s:
        await s.execute(
            update(Organisation).where(Organisation.name == "星动 美妆",
                                       Organisation.created_by == owner.id)
            .values(closed_at=func.now())
        )  # fmt: skip
    assert (await create_org(client, owner, name="星动 美妆")) is not None


async def test_invite_accept_and_list_members(client: httpx.AsyncClient) -> None:
    owner = await register(client, name="老板")
    member = await register(client, name="员工")
    org_id = await create_org(client, owner)
    invited = await client.post(
        f"/api/v1/orgs/{org_id}/invitations",
        json={"phone": member.phone, "role": "member"},
        headers=owner.auth,
    )
    assert invited.status_code == 201
    assert invited.json()["phone"] == "+86" + member.phone
    assert invited.json()["org_name"] == "测试品牌"  # every answer names the organisation
    (listed,) = (await client.get(f"/api/v1/orgs/{org_id}/invitations", headers=owner.auth)).json()
    assert listed["org_name"] == "测试品牌"
    mine = (await client.get("/api/v1/me/invitations", headers=member.auth)).json()
    assert [(i["org_id"], i["org_name"]) for i in mine] == [(org_id, "测试品牌")]
    accepted = await client.post(
        f"/api/v1/me/invitations/{mine[0]['id']}", json={"accept": True}, headers=member.auth
    )
    assert (accepted.json()["status"], accepted.json()["org_name"]) == ("accepted", "测试品牌")
    again = await client.post(
        f"/api/v1/me/invitations/{mine[0]['id']}", json={"accept": True}, headers=member.auth
    )
    assert again.status_code == 409
    members = (await client.get(f"/api/v1/orgs/{org_id}/members", headers=member.auth)).json()
    assert sorted(m["display_name"] for m in members["items"]) == ["员工", "老板"]
    # A plain member sees colleagues' numbers masked; the owner sees them in full.
    seen = {m["display_name"]: m["phone"] for m in members["items"]}
    assert seen["员工"] == "+86" + member.phone
    assert seen["老板"] == f"+86 {owner.phone[:3]}****{owner.phone[-4:]}"
    by_owner = (await client.get(f"/api/v1/orgs/{org_id}/members", headers=owner.auth)).json()
    assert {m["phone"] for m in by_owner["items"]} == {"+86" + member.phone, "+86" + owner.phone}


async def test_invitation_to_someone_not_yet_registered_waits_for_them(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    phone = next_phone()
    await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": phone}, headers=owner.auth
    )
    newcomer = await register(client, phone=phone)
    mine = (await client.get("/api/v1/me/invitations", headers=newcomer.auth)).json()
    assert [i["org_id"] for i in mine] == [org_id]


async def test_duplicate_invitations_and_members_are_refused(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    member = await register(client)
    org_id = await create_org(client, owner)
    first = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": member.phone}, headers=owner.auth
    )
    assert first.status_code == 201
    second = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": member.phone}, headers=owner.auth
    )
    assert second.status_code == 409
    self_invite = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": owner.phone}, headers=owner.auth
    )
    assert self_invite.status_code == 409
    assert self_invite.json()["code"] == "already_member"
    bad = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": "12"}, headers=owner.auth
    )
    assert bad.status_code == 422


async def test_outsiders_cannot_see_or_change_an_organisation(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    outsider = await register(client)
    org_id = await create_org(client, owner)
    for method, path, body in [
        ("GET", f"/api/v1/orgs/{org_id}", None),
        ("GET", f"/api/v1/orgs/{org_id}/members", None),
        ("GET", f"/api/v1/orgs/{org_id}/invitations", None),
    ]:
        response = await client.request(method, path, json=body, headers=outsider.auth)
        assert response.status_code == 404, path
    invite = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": outsider.phone}, headers=outsider.auth
    )
    # Writes too answer "not found": an outsider cannot tell the organisation exists.
    assert invite.status_code == 404
    demote = await client.patch(
        f"/api/v1/orgs/{org_id}/members/{owner.id}", json={"role": "member"}, headers=outsider.auth
    )
    assert demote.status_code == 404
    remove = await client.delete(f"/api/v1/orgs/{org_id}/members/{owner.id}", headers=outsider.auth)
    assert remove.status_code == 404
    listed = (await client.get("/api/v1/orgs", headers=outsider.auth)).json()
    assert listed["items"] == []


async def test_members_cannot_manage_members(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    member = await register(client)
    org_id = await create_org(client, owner)
    await add_member(client, org_id, owner, member)
    invite = await client.post(
        f"/api/v1/orgs/{org_id}/invitations", json={"phone": next_phone()}, headers=member.auth
    )
    assert invite.status_code == 403
    promote = await client.patch(
        f"/api/v1/orgs/{org_id}/members/{member.id}", json={"role": "owner"}, headers=member.auth
    )
    assert promote.status_code == 403
    # A member may leave on their own.
    leave = await client.delete(f"/api/v1/orgs/{org_id}/members/{member.id}", headers=member.auth)
    assert leave.status_code == 204


async def test_an_organisation_keeps_at_least_one_owner(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    demote = await client.patch(
        f"/api/v1/orgs/{org_id}/members/{owner.id}", json={"role": "member"}, headers=owner.auth
    )
    assert demote.status_code == 409
    assert demote.json()["code"] == "last_owner"
    leave = await client.delete(f"/api/v1/orgs/{org_id}/members/{owner.id}", headers=owner.auth)
    assert leave.status_code == 409


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    client: httpx.AsyncClient, db: Database
) -> None:
    first = await register(client)
    second = await register(client)
    org_id = await create_org(client, first)
    await add_member(client, org_id, first, second, role="owner")
    results = await asyncio.gather(
        client.patch(
            f"/api/v1/orgs/{org_id}/members/{second.id}",
            json={"role": "member"},
            headers=first.auth,
        ),
        client.patch(
            f"/api/v1/orgs/{org_id}/members/{first.id}",
            json={"role": "member"},
            headers=second.auth,
        ),
    )
    assert sorted(r.status_code for r in results) in ([200, 403], [200, 409])
    async with db.sessionmaker() as s:
        roles = (await s.execute(select(Membership.role))).scalars().all()
    assert sorted(roles) == ["member", "owner"]


async def test_organisation_list_is_paginated_and_searchable(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    for n in range(23):
        await create_org(client, owner, name=f"品牌{n:02d}")
    first = (await client.get("/api/v1/orgs", headers=owner.auth)).json()
    assert len(first["items"]) == 20
    second = (
        await client.get(f"/api/v1/orgs?cursor={first['next_cursor']}", headers=owner.auth)
    ).json()
    assert len(second["items"]) == 3
    assert second["next_cursor"] is None
    names = [o["name"] for o in first["items"] + second["items"]]
    assert names == [f"品牌{n:02d}" for n in range(23)]
    found = (await client.get("/api/v1/orgs?q=品牌1", headers=owner.auth)).json()
    assert [o["name"] for o in found["items"]] == [f"品牌{n}" for n in range(10, 20)]
    small = (await client.get("/api/v1/orgs?limit=5", headers=owner.auth)).json()
    assert len(small["items"]) == 5
    bad = await client.get("/api/v1/orgs?cursor=not-a-cursor", headers=owner.auth)
    assert bad.status_code == 422
    too_big = await client.get("/api/v1/orgs?limit=1000", headers=owner.auth)
    assert too_big.status_code == 422


async def test_people_are_private_except_to_operators(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    bob = await register(client)
    assert (await client.get(f"/api/v1/people/{alice.id}", headers=alice.auth)).status_code == 200
    assert (await client.get(f"/api/v1/people/{alice.id}", headers=bob.auth)).status_code == 404
