"""Organisations' API keys over HTTP: a brand's systems run its campaigns with a key and
read its events; a key never acts as a person, never manages the organisation, and stops
working when revoked or when its creator leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from tests.brand_world import bearer, campaign_body, create_draft, join_org, member
from tests.integration.answers import problem
from tests.integration.conftest import make_settings
from tests.lifecycle_world import World, add_worker, build_world
from xingdong.core.audit import AuditEntry
from xingdong.identity import api_keys
from xingdong.identity.models import OrgApiKey


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=1, funds=100_000)
    yield built
    await built.db.dispose()


@pytest.fixture
async def owner(world: World) -> dict[str, str]:
    return await bearer(world, world.owner)


async def make_key(
    client: httpx.AsyncClient, world: World, auth: dict[str, str], access: str = "write"
) -> tuple[dict[str, str], dict[str, Any]]:
    made = await client.post(
        f"/api/v1/orgs/{world.org_id}/api-keys",
        json={"name": f"ERP 同步 {access}", "access": access},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return {"Authorization": f"Bearer {body['key']}"}, body


async def test_a_write_key_runs_the_brands_campaigns(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    key, made = await make_key(client, world, owner)
    assert made["key"].startswith("xdk_") and made["key"].startswith(made["prefix"])
    assert made["access"] == "write" and made["last_used_at"] is None
    draft = await create_draft(client, world, key)
    submitted = await client.post(
        f"/api/v1/campaigns/{draft['id']}/submit", headers={**key, "Idempotency-Key": "s1"}
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "pending_approval"
    listed = await client.get(f"/api/v1/orgs/{world.org_id}/campaigns", headers=key)
    assert [c["id"] for c in listed.json()["items"]] == [draft["id"]]
    # The key itself is never shown again; its use is.
    keys = (await client.get(f"/api/v1/orgs/{world.org_id}/api-keys", headers=owner)).json()
    assert "key" not in keys[0] and made["key"] not in str(keys)
    assert keys[0]["last_used_at"] is not None
    async with world.db.sessionmaker() as s:
        stored = await s.scalar(select(OrgApiKey.token_digest))
    assert stored is not None and made["key"] not in stored


async def test_a_read_key_reads_and_is_refused_every_change(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    key, _made = await make_key(client, world, owner, access="read")
    assert (await client.get(f"/api/v1/orgs/{world.org_id}/campaigns", headers=key)).is_success
    assert (await client.get(f"/api/v1/orgs/{world.org_id}/events", headers=key)).is_success
    refused = await client.post(
        f"/api/v1/orgs/{world.org_id}/campaigns", json=campaign_body(), headers=key
    )
    problem(refused, 403, "api_key_read_only")
    async with world.db.sessionmaker() as s:
        assert await s.scalar(text("SELECT count(*) FROM campaigns")) == 0


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("GET", "/api/v1/me", None, "person_token_required"),
        ("PATCH", "/api/v1/me", {"display_name": "x"}, "person_token_required"),
        ("GET", "/api/v1/orgs", None, "person_token_required"),
        ("POST", "/api/v1/orgs", {"kind": "brand", "name": "另一家"}, "person_token_required"),
        ("DELETE", "/api/v1/auth/tokens/current", None, "person_token_required"),
        ("GET", "/api/v1/tasks", None, "person_token_required"),
        ("GET", "/api/v1/orgs/{org}/api-keys", None, "person_token_required"),
        ("POST", "/api/v1/orgs/{org}/api-keys", {"name": "n", "access": "write"},
         "person_token_required"),
        ("POST", "/api/v1/orgs/{org}/invitations", {"phone": "13911112222", "role": "owner"},
         "forbidden"),
        ("POST", "/api/v1/orgs/{org}/webhooks", {"url": "https://example.com/h"}, "forbidden"),
        ("GET", "/api/v1/people/{person}", None, "not_found"),
    ],
)  # fmt: skip
async def test_a_key_never_acts_as_a_person_nor_manages_the_organisation(
    client: httpx.AsyncClient,
    world: World,
    owner: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    code: str,
) -> None:
    key, _made = await make_key(client, world, owner)
    url = path.format(org=world.org_id, person=world.owner.id)
    answer = await client.request(method, url, json=body, headers=key)
    status = {"person_token_required": 403, "forbidden": 403, "not_found": 404}[code]
    problem(answer, status, code)
    async with world.db.sessionmaker() as s:
        assert await s.scalar(text("SELECT count(*) FROM invitations")) == 0
        assert await s.scalar(text("SELECT count(*) FROM organisations")) == 1
        assert await s.scalar(text("SELECT count(*) FROM webhook_endpoints")) == 0


async def test_a_key_sees_nothing_of_another_organisation(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    key, _made = await make_key(client, world, owner)
    other = await client.post(
        "/api/v1/orgs", json={"kind": "brand", "name": "同一人的另一家"}, headers=owner
    )
    other_id = other.json()["id"]
    # The key's creator owns the other organisation too; the key still does not reach it.
    problem(await client.get(f"/api/v1/orgs/{other_id}/campaigns", headers=key), 404, "not_found")
    problem(await client.get(f"/api/v1/orgs/{other_id}/events", headers=key), 404, "not_found")


async def test_a_revoked_key_and_a_departed_creators_key_stop_working(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    revoked, made = await make_key(client, world, owner)
    answer = await client.post(
        f"/api/v1/orgs/{world.org_id}/api-keys/{made['id']}/revoke", headers=owner
    )
    assert answer.json()["revoked_at"] is not None
    problem(
        await client.get(f"/api/v1/orgs/{world.org_id}/campaigns", headers=revoked),
        401,
        "session_expired",
    )
    # A second owner makes a key, then leaves: the key goes with them.
    second = await add_worker(world)
    await join_org(world, second, role="owner")
    second_auth = await bearer(world, second)
    left_behind, theirs = await make_key(client, world, second_auth)
    assert (
        await client.get(f"/api/v1/orgs/{world.org_id}/campaigns", headers=left_behind)
    ).is_success
    listed = f"/api/v1/orgs/{world.org_id}/api-keys"
    in_use = len((await client.get(listed, headers=owner)).json())
    gone = await client.delete(
        f"/api/v1/orgs/{world.org_id}/members/{second.id}", headers=second_auth
    )
    assert gone.status_code == 204, gone.text
    problem(
        await client.get(f"/api/v1/orgs/{world.org_id}/campaigns", headers=left_behind),
        401,
        "session_expired",
    )
    # Revoked as they left: the owners' list says so, and its place is free again.
    assert len((await client.get(listed, headers=owner)).json()) == in_use - 1
    every = (await client.get(listed + "?include_revoked=true", headers=owner)).json()
    (row,) = [k for k in every if k["id"] == theirs["id"]]
    assert row["revoked_at"] is not None


async def test_a_key_has_no_more_rights_than_its_creator_has_now(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    second = await add_worker(world)
    await join_org(world, second, role="owner")
    key, _made = await make_key(client, world, await bearer(world, second))
    demoted = await client.patch(
        f"/api/v1/orgs/{world.org_id}/members/{second.id}", json={"role": "member"}, headers=owner
    )
    assert demoted.status_code == 200, demoted.text
    draft = await create_draft(client, world, key)
    problem(
        await client.post(
            f"/api/v1/campaigns/{draft['id']}/submit", headers={**key, "Idempotency-Key": "m"}
        ),
        403,
        "forbidden",
    )


async def test_only_owners_make_keys_and_a_key_cannot_remove_its_creator(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    plain = await bearer(world, await member(world))
    problem(
        await client.post(
            f"/api/v1/orgs/{world.org_id}/api-keys",
            json={"name": "x", "access": "read"},
            headers=plain,
        ),
        403,
        "forbidden",
    )
    admin = await add_worker(world)
    async with world.db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'admin')"),
            {"id": admin.id},
        )
    problem(
        await client.post(
            f"/api/v1/orgs/{world.org_id}/api-keys",
            json={"name": "x", "access": "read"},
            headers=await bearer(world, admin),
        ),
        403,
        "forbidden",
    )
    key, _made = await make_key(client, world, owner)
    problem(
        await client.delete(f"/api/v1/orgs/{world.org_id}/members/{world.owner.id}", headers=key),
        403,
        "forbidden",
    )


async def test_bad_input_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    url = f"/api/v1/orgs/{world.org_id}/api-keys"
    problem(
        await client.post(url, json={"name": "  ", "access": "write"}, headers=owner),
        422,
        "validation_failed",
    )
    problem(
        await client.post(url, json={"name": "x", "access": "admin"}, headers=owner),
        422,
        "validation_failed",
    )
    for hidden in ("ERP\x1b[31m", "\u202eERP"):
        refused = problem(
            await client.post(url, json={"name": hidden, "access": "read"}, headers=owner),
            422,
            "validation_failed",
        )
        assert [e["field"] for e in refused["errors"]] == ["name"]
    problem(
        await client.get(
            f"/api/v1/orgs/{world.org_id}/campaigns",
            headers={"Authorization": "Bearer xdk_not-a-key"},
        ),
        401,
        "session_expired",
    )
    async with world.db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(OrgApiKey)) == 0


async def test_parallel_requests_cannot_pass_the_limit_of_keys(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    for n in range(api_keys.MAX_ACTIVE_KEYS - 1):
        await make_key(client, world, owner, access="read" if n % 2 else "write")
    actor = await world.actor(world.owner)

    async def one(n: int) -> str:
        try:
            async with world.db.session_scope() as s:
                await api_keys.create_key(
                    s, actor=actor, org_id=world.org_id, name=f"parallel {n}", access="read"
                )
        except Exception as exc:  # noqa: BLE001 - the error's code is the answer
            return str(getattr(exc, "code", exc))
        return "made"

    outcomes = await asyncio.gather(*(one(n) for n in range(4)))
    assert sorted(outcomes) == ["made", "too_many_keys", "too_many_keys", "too_many_keys"]
    async with world.db.sessionmaker() as s:
        active = await s.scalar(
            select(func.count()).select_from(OrgApiKey).where(OrgApiKey.revoked_at.is_(None))
        )
        audited = await s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "identity.api_key_created")
        )
    assert active == api_keys.MAX_ACTIVE_KEYS
    assert audited == api_keys.MAX_ACTIVE_KEYS


async def test_the_events_list_pages_and_filters(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    key, _made = await make_key(client, world, owner)
    for n in range(3):
        draft = await create_draft(client, world, key, title=f"活动 {n}")
        closed = await client.post(
            f"/api/v1/campaigns/{draft['id']}/close", headers={**key, "Idempotency-Key": f"c{n}"}
        )
        assert closed.status_code == 200, closed.text
    url = f"/api/v1/orgs/{world.org_id}/events"
    first = (await client.get(url, params={"limit": 2}, headers=key)).json()
    assert [e["data"]["title"] for e in first["items"]] == ["活动 2", "活动 1"]
    rest = (
        await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=key)
    ).json()
    assert [e["data"]["title"] for e in rest["items"]] == ["活动 0"]
    assert rest["next_cursor"] is None
    assert {e["type"] for e in first["items"]} == {"campaign.closed"}
    none = (await client.get(url, params={"type": "campaign.paused"}, headers=key)).json()
    assert none["items"] == []
    problem(
        await client.get(url, params={"type": "campaign.exploded"}, headers=key),
        422,
        "unknown_event_type",
    )


async def test_a_key_sees_its_makers_phone_masked_like_everyone_elses(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    key, _made = await make_key(client, world, owner)
    by_key = await client.get(f"/api/v1/orgs/{world.org_id}/members", headers=key)
    by_owner = await client.get(f"/api/v1/orgs/{world.org_id}/members", headers=owner)
    (seen_by_key,) = by_key.json()["items"]
    (seen_by_owner,) = by_owner.json()["items"]
    assert seen_by_owner["phone"] == world.owner.phone
    assert seen_by_key["phone"] != world.owner.phone
    assert seen_by_key["phone"][-4:] == world.owner.phone[-4:]


async def test_the_audit_log_names_the_key_beside_its_maker(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    key, made = await make_key(client, world, owner)
    by_key = await create_draft(client, world, key, title="用密钥关闭")
    by_owner = await create_draft(client, world, owner, title="本人关闭")
    for draft, auth in ((by_key, key), (by_owner, owner)):
        closed = await client.post(
            f"/api/v1/campaigns/{draft['id']}/close",
            headers={**auth, "Idempotency-Key": f"close-{draft['id']}"},
        )
        assert closed.status_code == 200, closed.text
    async with world.db.sessionmaker() as s:
        entries = {
            entry.object_id: entry
            for entry in await s.scalars(
                select(AuditEntry).where(AuditEntry.action == "campaigns.closed")
            )
        }
    assert entries[by_key["id"]].actor_id == world.owner.id
    assert entries[by_key["id"]].data["api_key"] == made["id"]
    assert entries[by_owner["id"]].actor_id == world.owner.id
    assert "api_key" not in entries[by_owner["id"]].data


async def test_a_key_stays_dead_when_its_maker_comes_back(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    second = await add_worker(world)
    await join_org(world, second, role="owner")
    second_auth = await bearer(world, second)
    key, _made = await make_key(client, world, second_auth)
    left = await client.delete(
        f"/api/v1/orgs/{world.org_id}/members/{second.id}", headers=second_auth
    )
    assert left.status_code == 204, left.text
    await join_org(world, second, role="owner")
    problem(
        await client.get(f"/api/v1/orgs/{world.org_id}/campaigns", headers=key),
        401,
        "session_expired",
    )


async def test_only_those_who_manage_members_see_invited_numbers_in_full(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    invited = await client.post(
        f"/api/v1/orgs/{world.org_id}/invitations",
        json={"phone": "13912345678", "role": "member"},
        headers=owner,
    )
    assert invited.status_code == 201, invited.text
    key, _made = await make_key(client, world, owner, access="read")
    url = f"/api/v1/orgs/{world.org_id}/invitations"
    (for_owner,) = (await client.get(url, headers=owner)).json()
    (for_key,) = (await client.get(url, headers=key)).json()
    assert for_owner["phone"].endswith("13912345678")
    assert "13912345678" not in for_key["phone"]
    assert for_key["phone"].endswith("5678")
