"""An operator's page about one person: who they are, their accounts, money, tasks, risk
cases and audit log; and freezing and unfreezing their account, on the page and in the
API, with the reason kept."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, text

from tests.brand_world import bearer
from tests.integration.answers import csrf_from, problem
from tests.integration.conftest import make_settings
from tests.integration.test_money_pages import sign_in
from tests.lifecycle_world import PASSWORD, World, add_worker, build_world, live_campaign
from xingdong.core.audit import AuditEntry, record_audit
from xingdong.core.errors import XingdongError
from xingdong.creators import agencies
from xingdong.identity import erasure
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.web import person_file as person_file_module
from xingdong.work import service as work

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=2, funds=100_000)
    yield built
    await built.db.dispose()


async def is_active(world: World, person: Person) -> bool:
    async with world.db.sessionmaker() as s:
        found = await s.get(Person, person.id)
        assert found is not None
        return found.is_active


async def test_the_person_page_shows_who_they_are_and_what_they_did(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    campaign = await live_campaign(world)
    async with world.db.session_scope() as s:
        await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)
    await sign_in(client, world.operator.phone)
    listed = await client.get("/ops/people", params={"q": worker.phone[-8:]}, headers=ENGLISH)
    assert f'href="/ops/people/{worker.id}" data-person-link' in listed.text
    page = await client.get(f"/ops/people/{worker.id}", headers=ENGLISH)
    assert page.status_code == 200
    assert 'data-person-state="active"' in page.text
    async with world.db.sessionmaker() as s:
        (bound,) = await identity.platform_accounts(s, person=worker)
    assert f"@{bound.handle} (sandbox, 500 followers)" in page.text
    assert 'data-work-count="claimed">To do 1<' in page.text
    assert f'<a href="/campaigns/{campaign.id}">{campaign.title}</a>' in page.text
    assert 'data-available-fen="0"' in page.text
    assert "data-freeze-form" in page.text
    assert "<dd data-agency-contract>—</dd>" in page.text
    # A creator signed with an agency: the contract, its share and since when.
    agency_owner = await add_worker(world)
    async with world.db.session_scope() as s:
        owner_actor = await identity.actor_for(s, person=agency_owner)
        agency = await identity.create_organisation(
            s, actor=owner_actor, kind="agency", name="星光 MCN"
        )
    async with world.db.session_scope() as s:
        contract = await agencies.offer_contract(
            s, actor=await world.actor(agency_owner), org_id=agency.id, phone=worker.phone,
            share_percent=15,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await agencies.answer_offer(s, person=worker, contract_id=contract.id, accept=True)
    signed = await client.get(f"/ops/people/{worker.id}", headers=ENGLISH)
    assert f'<a href="/orgs/{agency.id}">星光 MCN</a> · 15% of each reward · since' in signed.text
    # A reviewer may not look; an unknown person is not found.
    client.cookies.clear()
    await sign_in(client, world.reviewer.phone)
    assert (await client.get(f"/ops/people/{worker.id}")).status_code == 403
    client.cookies.clear()
    await sign_in(client, world.operator.phone)
    assert (await client.get(f"/ops/people/{campaign.id}")).status_code == 404


async def test_an_operator_freezes_and_unfreezes_on_the_page_with_a_reason(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    token = await bearer(world, worker)
    await sign_in(client, world.operator.phone)
    page = await client.get(f"/ops/people/{worker.id}", headers=ENGLISH)
    csrf = csrf_from(page.text)
    no_reason = await client.post(
        f"/ops/people/{worker.id}/freeze", data={"why": "  ", "csrf_token": csrf}, headers=ENGLISH
    )
    assert no_reason.status_code == 422
    assert 'data-error-for="why"' in no_reason.text
    assert await is_active(world, worker)
    # Shown at the form's POST address, the page says where it belongs (the page the
    # form was on, from a same-site Referer) and its language links lead there.
    here = f"/ops/people/{worker.id}"
    sent_from = await client.post(
        f"{here}/freeze",
        data={"why": "", "csrf_token": csrf},
        headers={**ENGLISH, "Referer": f"http://testserver{here}?done=x&lang=en&tab=2"},
    )
    assert f'<body data-page-address="{here}?tab=2" ' in sent_from.text
    assert f'href="{here}?tab=2&amp;lang=zh_CN" data-lang="zh_CN"' in sent_from.text
    elsewhere = await client.post(
        f"{here}/freeze",
        data={"why": "", "csrf_token": csrf},
        headers={**ENGLISH, "Referer": f"https://example.com{here}"},
    )
    assert "data-page-address" not in elsewhere.text and 'href="?lang=zh_CN"' in elsewhere.text
    frozen = await client.post(
        f"/ops/people/{worker.id}/freeze",
        data={"why": "用户来电要求暂停账号 #1024", "csrf_token": csrf},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "The account is frozen." in frozen.text
    assert 'data-person-state="frozen"' in frozen.text and "data-unfreeze-form" in frozen.text
    assert "用户来电要求暂停账号 #1024" in frozen.text  # the audit entry, with its reason
    assert not await is_active(world, worker)
    # Their token stops working, and they cannot sign in.
    problem(await client.get("/api/v1/me", headers=token), 401, "session_expired")
    # Who knows the password is told the account is stopped and where to turn; a wrong
    # password says only that, as for anyone.
    answer = await client.post(
        "/api/v1/auth/tokens", json={"phone": worker.phone, "password": PASSWORD}, headers=ENGLISH
    )
    assert problem(answer, 403, "account_frozen")["detail"].startswith("This account is stopped")
    wrong = await client.post(
        "/api/v1/auth/tokens", json={"phone": worker.phone, "password": "not-it-1"}
    )
    problem(wrong, 401, "invalid_credentials")
    client.cookies.clear()
    login = await client.get("/login", headers=ENGLISH)
    on_page = await client.post(
        "/login",
        data={
            "phone": worker.phone[-11:],
            "password": PASSWORD,
            "csrf_token": csrf_from(login.text),
        },
        headers=ENGLISH,
    )
    assert on_page.status_code == 403 and "This account is stopped" in on_page.text
    await sign_in(client, world.operator.phone)
    csrf = csrf_from((await client.get(f"/ops/people/{worker.id}")).text)
    unfrozen = await client.post(
        f"/ops/people/{worker.id}/unfreeze",
        data={"why": "核实后恢复", "csrf_token": csrf},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "The account can sign in again." in unfrozen.text
    assert await is_active(world, worker)
    async with world.db.sessionmaker() as s:
        entries = list(
            await s.execute(
                select(AuditEntry.action, AuditEntry.data, AuditEntry.actor_id)
                .where(AuditEntry.object_id == str(worker.id))
                .where(AuditEntry.action.like("identity.person_%"))
                .order_by(AuditEntry.id)
            )
        )
    assert [(a, d["why"], by) for a, d, by in entries] == [
        ("identity.person_frozen", "用户来电要求暂停账号 #1024", world.operator.id),
        ("identity.person_unfrozen", "核实后恢复", world.operator.id),
    ]


async def test_the_api_refuses_what_an_operator_may_not_freeze(
    client: httpx.AsyncClient, world: World
) -> None:
    operator = await bearer(world, world.operator)
    url = "/api/v1/ops/people/{}/{}"
    reason = {"why": "测试"}
    mine = await client.post(url.format(world.operator.id, "freeze"), json=reason, headers=operator)
    problem(mine, 403, "forbidden")
    staff = await client.post(
        url.format(world.operator2.id, "freeze"), json=reason, headers={**operator, **ENGLISH}
    )
    assert problem(staff, 403, "forbidden")["detail"] == "Only an admin can freeze a staff account."
    # The page says so instead of offering a form that would be refused.
    await sign_in(client, world.operator.phone)
    staff_page = await client.get(f"/ops/people/{world.operator2.id}", headers=ENGLISH)
    assert "data-staff-account" in staff_page.text and "data-freeze-form" not in staff_page.text
    reviewer = await bearer(world, world.reviewer)
    problem(
        await client.post(url.format(world.workers[0].id, "freeze"), json=reason, headers=reviewer),
        403,
        "forbidden",
    )
    worker = world.workers[1]
    not_frozen = await client.post(url.format(worker.id, "unfreeze"), json=reason, headers=operator)
    assert not_frozen.json() == {"person_id": str(worker.id), "frozen": False, "changed": False}
    # An erased account cannot come back.
    async with world.db.session_scope() as s:
        await erasure.erase_on_request(
            s, phone=worker.phone, why="用户申请注销", settings=world.settings
        )
    erased = await client.post(url.format(worker.id, "unfreeze"), json=reason, headers=operator)
    problem(erased, 409, "person_erased")
    async with world.db.sessionmaker() as s:
        found = await s.get(Person, worker.id)
    assert found is not None and not found.is_active


async def test_two_operators_freezing_at_once_freeze_once(world: World) -> None:
    worker = world.workers[0]
    actors = [await world.actor(world.operator), await world.actor(world.operator2)]

    async def freeze(index: int) -> bool | str:
        try:
            async with world.db.session_scope() as s:
                return await identity.freeze_account(
                    s, actor=actors[index], person_id=worker.id, why=f"第 {index} 位运营"
                )
        except XingdongError as exc:
            return exc.code

    results = await asyncio.gather(freeze(0), freeze(1))
    assert sorted(results, key=str) == [False, True]
    async with world.db.sessionmaker() as s:
        count = await s.scalar(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'identity.person_frozen'"
                " AND object_id = :id"
            ),
            {"id": str(worker.id)},
        )
    assert count == 1


async def make_admin(world: World, person: Person) -> None:
    async with world.db.session_scope() as s:
        await identity.grant_staff_role(s, phone=person.phone, role="admin", granted_by=None)


async def one_busy_one_settled(world: World) -> tuple[Person, Person]:
    """The two workers: the first holds a claimed task (which stops erasure), the second
    has nothing to settle."""
    busy, settled = world.workers
    campaign = await live_campaign(world)
    async with world.db.session_scope() as s:
        await work.claim(s, person=busy, campaign_id=campaign.id, settings=world.settings)
    return busy, settled


async def test_an_admin_erases_an_account_on_request_on_the_page(
    client: httpx.AsyncClient, world: World
) -> None:
    busy, settled = await one_busy_one_settled(world)
    # An operator sees how it is done, but no form.
    await sign_in(client, world.operator.phone)
    page = await client.get(f"/ops/people/{settled.id}", headers=ENGLISH)
    assert "data-person-erase" in page.text and "data-erase-form" not in page.text
    assert "xingdong admin erase-account" in page.text
    client.cookies.clear()
    await make_admin(world, world.operator2)
    await sign_in(client, world.operator2.phone)
    blocked = await client.get(f"/ops/people/{busy.id}", headers=ENGLISH)
    assert 'data-erasure="blocked"' in blocked.text
    assert 'data-blocker="open_work"' in blocked.text and "data-erase-form" not in blocked.text
    # Told about the person, not as if to them.
    assert "Tasks of theirs not settled (taken, handed in, in hold or disputed): 1." in (
        blocked.text
    )
    page = await client.get(f"/ops/people/{settled.id}", headers=ENGLISH)
    assert 'data-erasure="allowed"' in page.text and "data-erase-form" in page.text
    csrf = csrf_from(page.text)
    url = f"/ops/people/{settled.id}/erase"
    no_reason = await client.post(
        url, data={"why": " ", "confirm": "yes", "csrf_token": csrf}, headers=ENGLISH
    )
    assert no_reason.status_code == 422
    assert 'id="erase-why" name="why" rows="2" maxlength="500" required aria-invalid="true"' in (
        no_reason.text
    )
    assert no_reason.text.count('data-error-for="why"') == 1
    unconfirmed = await client.post(
        url, data={"why": "用户邮件申请注销 #77", "csrf_token": csrf}, headers=ENGLISH
    )
    assert unconfirmed.status_code == 422
    assert 'data-error-for="confirm"' in unconfirmed.text
    assert ">用户邮件申请注销 #77</textarea>" in unconfirmed.text  # what was typed stays
    assert (await world.person(settled.id)).erased_at is None
    erased = await client.post(
        url,
        data={
            "why": "用户邮件申请注销 #77",
            "confirm": "yes",
            "remainder_fen": "0",
            "csrf_token": csrf,
        },
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "The account is erased." in erased.text
    assert 'data-person-state="erased"' in erased.text and "data-person-erase" not in erased.text
    assert f'<h1 data-person="{settled.id}">Erased account' in erased.text
    found = await world.person(settled.id)
    assert found.erased_at is not None and found.phone != settled.phone
    async with world.db.sessionmaker() as s:
        entry = await s.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "identity.account_erased",
                AuditEntry.object_id == str(settled.id),
            )
        )
    assert entry is not None and entry.actor_id == world.operator2.id
    assert (entry.data["via"], entry.data["why"]) == ("operator", "用户邮件申请注销 #77")


async def test_the_api_erases_on_request_for_admins_only(
    client: httpx.AsyncClient, world: World
) -> None:
    busy, settled = await one_busy_one_settled(world)
    url = "/api/v1/ops/people/{}/erasure"
    request = {"why": "用户来信申请注销", "confirm": True}
    operator = await bearer(world, world.operator)
    problem(await client.get(url.format(settled.id), headers=operator), 403, "forbidden")
    problem(
        await client.post(url.format(settled.id), json=request, headers=operator), 403, "forbidden"
    )
    await make_admin(world, world.operator2)
    admin = {**await bearer(world, world.operator2), **ENGLISH}
    check = (await client.get(url.format(busy.id), headers=admin)).json()
    assert check["allowed"] is False
    assert [b["code"] for b in check["blockers"]] == ["open_work"]
    blocked = problem(
        await client.post(url.format(busy.id), json=request, headers=admin), 409, "erasure_blocked"
    )
    assert blocked["detail"].startswith("The account cannot be erased yet:")
    problem(
        await client.post(url.format(world.operator2.id), json=request, headers=admin),
        403,
        "forbidden",
    )
    problem(
        await client.post(
            url.format(settled.id), json={**request, "confirm": False}, headers=admin
        ),
        422,
        "erasure_not_confirmed",
    )
    changed = problem(
        await client.post(
            url.format(settled.id), json={**request, "remainder_given_up_fen": 5}, headers=admin
        ),
        409,
        "erasure_changed",
    )
    assert changed["detail"].startswith("The wallet changed")
    # A frozen account waits for its reason to be settled.
    async with world.db.session_scope() as s:
        await identity.freeze_account(
            s, actor=await world.actor(world.operator), person_id=settled.id, why="风控复核"
        )
    problem(
        await client.post(url.format(settled.id), json=request, headers=admin), 409, "person_frozen"
    )
    async with world.db.session_scope() as s:
        await identity.unfreeze_account(
            s, actor=await world.actor(world.operator), person_id=settled.id, why="复核通过"
        )
    assert (await client.get(url.format(settled.id), headers=admin)).json()["allowed"] is True
    done = await client.post(url.format(settled.id), json=request, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["person_id"] == str(settled.id)
    problem(
        await client.post(url.format(settled.id), json=request, headers=admin), 409, "person_erased"
    )
    problem(await client.get(url.format(settled.id), headers=admin), 409, "person_erased")
    assert check["blockers"][0]["detail"].startswith("Tasks of theirs not settled")
    assert (await world.person(busy.id)).erased_at is None


async def test_a_long_history_is_read_a_page_at_a_time_and_the_audit_log_holds_the_rest(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(person_file_module, "RECENT", 2)
    worker = world.workers[0]
    titles = []
    for n in range(3):
        campaign = await live_campaign(world, title=f"关注任务 {n}")
        titles.append(campaign.title)
        async with world.db.session_scope() as s:
            await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)
    for n in range(3):
        async with world.db.session_scope() as s:
            await record_audit(
                s, actor_id=world.operator.id, action="identity.note", object_type="person",
                object_id=worker.id, data={"n": n},
            )  # fmt: skip
    await sign_in(client, world.operator.phone)
    first = (await client.get(f"/ops/people/{worker.id}", headers=ENGLISH)).text
    assert first.count("data-work=") == 2
    assert titles[2] in first and titles[0] not in first  # the latest claims first
    older = re.search(r'href="(/ops/people/[^"]+\?[^"#]*tasks=[^"#]+)#tasks"[^>]*data-older', first)
    assert older, "no link to the older tasks"
    second = (await client.get(html.unescape(older.group(1)), headers=ENGLISH)).text
    assert second.count("data-work=") == 1 and titles[0] in second
    assert "data-older-work" not in second and "data-first-page" in second
    only = await client.get(f"/ops/people/{worker.id}?status=claimed", headers=ENGLISH)
    assert '<strong class="chip" data-work-count="claimed">To do 3</strong>' in only.text
    none = await client.get(f"/ops/people/{worker.id}?status=released", headers=ENGLISH)
    assert "data-work=" not in none.text  # a status they have no task in lists nothing
    # Two audit entries shown, and where the rest are.
    assert first.count("data-audit-action=") == 2 and "data-audit-more" in first
    assert f'href="/ops/audit?object={worker.id}"' in first
    assert f'href="/ops/audit?who={worker.id}"' in first
