"""Organisations' linked platform accounts: a brand links the accounts it manages, and its
shoot tasks and profile ads may only promote those; its other tasks on anyone else's
account go to the approving operator flagged; an agency may promote its creators' bound
accounts while their contracts are in force."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from tests.brand_world import bearer, campaign_body, create_draft, member, org_balance
from tests.integration.answers import csrf_from, problem
from tests.integration.conftest import make_settings
from tests.integration.test_money_pages import sign_in
from tests.lifecycle_world import BRAND_HANDLE, World, add_worker, build_world, draft
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.errors import ComplianceBlocked
from xingdong.core.audit import AuditEntry
from xingdong.core.errors import XingdongError
from xingdong.creators import agencies
from xingdong.identity import org_accounts
from xingdong.identity import service as identity
from xingdong.identity.models import OrgPlatformAccount, Person
from xingdong.platforms.sandbox import service as sandbox
from xingdong.platforms.sandbox.models import SandboxAccount

OTHER = "other_brand"


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=1, funds=1_000_000)
    async with built.db.session_scope() as s:
        await sandbox.create_account(s, handle=OTHER, display_name="别家品牌", followers=50)
    yield built
    await built.db.dispose()


@pytest.fixture
async def owner(world: World) -> dict[str, str]:
    return await bearer(world, world.owner)


async def second_brand(world: World) -> tuple[Person, UUID]:
    person = await add_worker(world)
    async with world.db.session_scope() as s:
        actor = await identity.actor_for(s, person=person)
        org = await identity.create_organisation(s, actor=actor, kind="brand", name="别家")
        return person, org.id


async def test_an_owner_links_an_account_once_and_unlinks_it(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    url = f"/api/v1/orgs/{world.org_id}/accounts"
    made = await client.post(url, json={"handle": f"@{OTHER}"}, headers=owner)
    assert made.status_code == 201, made.text
    assert (made.json()["handle"], made.json()["platform"]) == (OTHER, "sandbox")
    # Again, by its address on the platform: the same link, nothing new.
    again = await client.post(url, json={"handle": f"/sandbox/@{OTHER}"}, headers=owner)
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert {"200", "201"} <= spec["paths"]["/api/v1/orgs/{org_id}/accounts"]["post"][
        "responses"
    ].keys()
    listed = (await client.get(url, headers=owner)).json()
    assert [a["handle"] for a in listed["items"]] == [BRAND_HANDLE, OTHER]
    assert listed["next_cursor"] is None
    gone = await client.delete(f"{url}/{made.json()['id']}", headers=owner)
    assert gone.status_code == 204
    assert [a["handle"] for a in (await client.get(url, headers=owner)).json()["items"]] == [
        BRAND_HANDLE
    ]
    problem(await client.delete(f"{url}/{made.json()['id']}", headers=owner), 404, "not_found")
    async with world.db.sessionmaker() as s:
        actions = list(
            await s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_id == str(world.org_id))
                .order_by(AuditEntry.created_at)
            )
        )
    assert actions.count("identity.account_linked") == 2  # the world's own, and this one
    assert actions.count("identity.account_unlinked") == 1


async def test_the_platform_refuses_an_account_someone_else_manages(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    rival, rival_org = await second_brand(world)
    rival_auth = await bearer(world, rival)
    # The world's brand linked its account first: the platform now knows it as theirs.
    taken = await client.post(
        f"/api/v1/orgs/{rival_org}/accounts",
        json={"handle": "@" + BRAND_HANDLE},
        headers={**rival_auth, "Accept-Language": "en"},
    )
    body = problem(taken, 403, "platform_account_not_yours")
    assert body["errors"][0]["field"] == "handle"
    assert BRAND_HANDLE in body["detail"]
    # A worker's own account, opened by binding it, is theirs alone too.
    worker_handle = await worker_account(world, world.workers[0])
    problem(
        await client.post(
            f"/api/v1/orgs/{world.org_id}/accounts", json={"handle": worker_handle}, headers=owner
        ),
        403,
        "platform_account_not_yours",
    )
    missing = await client.post(
        f"/api/v1/orgs/{world.org_id}/accounts",
        json={"handle": "@nobody_here"},
        headers={**owner, "Accept-Language": "en"},
    )
    body = problem(missing, 422, "target_not_found")
    assert body["errors"][0]["field"] == "handle" and "nobody_here" in body["detail"]
    empty = await client.post(
        f"/api/v1/orgs/{world.org_id}/accounts", json={"handle": "  "}, headers=owner
    )
    assert problem(empty, 422, "validation_failed")["errors"][0]["field"] == "handle"
    async with world.db.sessionmaker() as s:
        links = await s.scalar(select(func.count()).select_from(OrgPlatformAccount))
    assert links == 1


async def test_only_owners_link_and_outsiders_do_not_learn_the_organisation_exists(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    url = f"/api/v1/orgs/{world.org_id}/accounts"
    plain = await bearer(world, await member(world))
    assert (await client.get(url, headers=plain)).status_code == 200
    problem(await client.post(url, json={"handle": OTHER}, headers=plain), 403, "forbidden")
    outsider = await bearer(world, await add_worker(world))
    problem(await client.get(url, headers=outsider), 404, "not_found")
    problem(await client.post(url, json={"handle": OTHER}, headers=outsider), 404, "not_found")
    made = await client.post(
        f"/api/v1/orgs/{world.org_id}/api-keys", json={"name": "ERP", "access": "write"},
        headers=owner,
    )  # fmt: skip
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    assert (await client.get(url, headers=key)).status_code == 200
    assert (await client.post(url, json={"handle": OTHER}, headers=key)).status_code == 403
    async with world.db.sessionmaker() as s:
        account = await s.scalar(select(SandboxAccount).where(SandboxAccount.handle == OTHER))
    # Nobody refused got as far as the platform.
    assert account is not None and account.opened_by is None


async def test_two_brands_linking_one_account_at_once_leave_it_to_one(world: World) -> None:
    rival, rival_org = await second_brand(world)

    async def link(person: Person, org_id: UUID) -> str:
        actor = await world.actor(person)
        try:
            async with world.db.session_scope() as s:
                await org_accounts.link_account(
                    s, actor=actor, org_id=org_id, platform="sandbox", handle=OTHER
                )
        except XingdongError as exc:
            return exc.code
        return "linked"

    results = await asyncio.gather(link(world.owner, world.org_id), link(rival, rival_org))
    assert sorted(results) == ["linked", "platform_account_not_yours"]
    async with world.db.sessionmaker() as s:
        holders = list(
            await s.scalars(
                select(OrgPlatformAccount.org_id).where(OrgPlatformAccount.handle == OTHER)
            )
        )
        account = await s.scalar(select(SandboxAccount).where(SandboxAccount.handle == OTHER))
    assert len(holders) == 1 and account is not None
    assert account.opened_by == org_accounts.org_claimant(holders[0])


async def test_a_profile_ad_for_another_account_cannot_be_submitted(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    before = await org_balance(client, world.org_id, owner)
    made = await create_draft(
        client, world, owner, task_type="profile_ad", target=f"@{OTHER}", unit_price_fen=3_000,
        pacing_per_hour=None,
    )  # fmt: skip
    assert [(f["code"], f["severity"]) for f in made["compliance"]] == [
        ("target_not_linked", "block")
    ]
    refused = await client.post(
        f"/api/v1/campaigns/{made['id']}/submit",
        headers={**owner, "Accept-Language": "en", "Idempotency-Key": "first"},
    )
    body = problem(refused, 422, "compliance_blocked")
    assert body["findings"][0]["code"] == "target_not_linked"
    assert f"@{OTHER} is not one of the organisation's linked accounts" in str(body)
    assert await org_balance(client, world.org_id, owner) == before
    # Once the brand links the account (the platform lets it: nobody manages it yet), the
    # same draft goes.
    linked = await client.post(
        f"/api/v1/orgs/{world.org_id}/accounts", json={"handle": OTHER}, headers=owner
    )
    assert linked.status_code == 201
    submitted = await client.post(
        f"/api/v1/campaigns/{made['id']}/submit", headers={**owner, "Idempotency-Key": "again"}
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["compliance"] == []


async def test_a_follow_of_another_account_goes_to_the_operator_flagged(
    client: httpx.AsyncClient, world: World, owner: dict[str, str]
) -> None:
    made = await create_draft(client, world, owner, target=f"@{OTHER}")
    assert [(f["code"], f["severity"]) for f in made["compliance"]] == [
        ("target_not_linked", "review")
    ]
    submitted = await client.post(
        f"/api/v1/campaigns/{made['id']}/submit", headers={**owner, "Idempotency-Key": "s"}
    )
    assert submitted.status_code == 200, submitted.text
    await sign_in(client, world.operator.phone)
    queue = await client.get("/ops/campaigns", headers={"Accept-Language": "en"})
    assert 'data-finding="target_not_linked"' in queue.text
    assert f"The target belongs to @{OTHER}, which is not one of" in queue.text
    # Its own account's follow has no such flag.
    own = await create_draft(client, world, owner, **campaign_body())
    assert own["compliance"] == []


async def test_the_brand_unlinking_its_account_flags_the_draft_at_submission(
    world: World,
) -> None:
    actor = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        made = await campaigns.create_campaign(
            s, actor=actor, org_id=world.org_id, settings=world.settings,
            draft=draft(task_type="shoot", brief="拍一条视频介绍新品。", pacing_per_hour=None),
        )  # fmt: skip
    assert made.compliance == [] and made.target_owner == BRAND_HANDLE
    async with world.db.session_scope() as s:
        (link,) = await org_accounts.linked_accounts(s, actor=actor, org_id=world.org_id)
        await org_accounts.unlink_account(s, actor=actor, org_id=world.org_id, link_id=link.id)
    with pytest.raises(ComplianceBlocked):
        async with world.db.session_scope() as s:
            await campaigns.submit_campaign(
                s, actor=actor, campaign_id=made.id, settings=world.settings
            )


async def test_an_agency_promotes_its_creators_accounts_while_under_contract(
    world: World,
) -> None:
    agency_owner = await add_worker(world)
    creator = world.workers[0]
    handle = await worker_account(world, creator)
    async with world.db.session_scope() as s:
        actor = await identity.actor_for(s, person=agency_owner)
        agency = await identity.create_organisation(s, actor=actor, kind="agency", name="星光")
    actor = await world.actor(agency_owner)
    async with world.db.session_scope() as s:
        assert not await org_accounts.may_promote(
            s, org_id=agency.id, platform="sandbox", handle=handle
        )
        contract = await agencies.offer_contract(
            s, actor=actor, org_id=agency.id, phone=creator.phone, share_percent=20
        )
    async with world.db.session_scope() as s:
        await agencies.answer_offer(s, person=creator, contract_id=contract.id, accept=True)
    async with world.db.session_scope() as s:
        assert await org_accounts.may_promote(
            s, org_id=agency.id, platform="sandbox", handle=handle
        )
        await agencies.leave_agency(s, person=creator)
    async with world.db.session_scope() as s:
        assert not await org_accounts.may_promote(
            s, org_id=agency.id, platform="sandbox", handle=handle
        )


async def test_the_organisation_page_links_and_unlinks(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, world.owner.phone)
    english = {"Accept-Language": "en"}
    page = await client.get(f"/orgs/{world.org_id}", headers=english)
    assert f'data-linked-account="{BRAND_HANDLE}"' in page.text
    csrf = csrf_from(page.text)
    refused = await client.post(
        f"/orgs/{world.org_id}/accounts", data={"handle": "@nobody_here", "csrf_token": csrf},
        headers=english,
    )  # fmt: skip
    assert refused.status_code == 422
    assert "There is no account @nobody_here on the sandbox platform." in refused.text
    assert 'value="@nobody_here"' in refused.text  # what was typed stays
    linked = await client.post(
        f"/orgs/{world.org_id}/accounts", data={"handle": OTHER, "csrf_token": csrf},
        headers=english, follow_redirects=True,
    )  # fmt: skip
    assert "The account is linked." in linked.text
    assert f'data-linked-account="{OTHER}"' in linked.text
    async with world.db.sessionmaker() as s:
        link_id = await s.scalar(
            select(OrgPlatformAccount.id).where(OrgPlatformAccount.handle == OTHER)
        )
    assert f'action="/orgs/{world.org_id}/accounts/{link_id}/unlink"' in linked.text
    assert f"Unlink @{OTHER}?" in linked.text  # the confirm question
    unlinked = await client.post(
        f"/orgs/{world.org_id}/accounts/{link_id}/unlink", data={"csrf_token": csrf},
        headers=english, follow_redirects=True,
    )  # fmt: skip
    assert "The account is unlinked." in unlinked.text
    assert f'data-linked-account="{OTHER}"' not in unlinked.text
    # A member sees the accounts, without the forms.
    plain = await member(world)
    client.cookies.clear()
    await sign_in(client, plain.phone)
    seen = await client.get(f"/orgs/{world.org_id}", headers=english)
    assert f'data-linked-account="{BRAND_HANDLE}"' in seen.text
    assert "data-link-account" not in seen.text and "/unlink" not in seen.text


async def worker_account(world: World, worker: Person) -> str:
    async with world.db.sessionmaker() as s:
        (bound,) = await identity.platform_accounts(s, person=worker)
    return bound.handle
