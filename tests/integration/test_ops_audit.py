"""Operators search the audit log on a page and in the API: by action, by object, by who
acted (a phone number, an id or the system), fifty at a time, newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

from tests.brand_world import bearer
from tests.integration.answers import problem
from tests.integration.conftest import make_settings
from tests.integration.test_money_pages import sign_in
from tests.lifecycle_world import World, build_world
from xingdong.core.audit import record_audit
from xingdong.identity import service as identity

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=1, funds=100_000)
    yield built
    await built.db.dispose()


async def test_an_operator_finds_entries_by_action_object_and_who(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    operator = await world.actor(world.operator)
    async with world.db.session_scope() as s:
        await identity.freeze_account(s, actor=operator, person_id=worker.id, why="工单 #5")
        await record_audit(
            s, actor_id=None, action="ledger.job_ran", object_type="job", object_id="nightly",
            data={"amount": 123_456, "fee_fen": 100, "reason": None, "accounts": ["a", "b"]},
        )  # fmt: skip
    await sign_in(client, world.operator.phone)
    by_action = await client.get(
        "/ops/audit", params={"action": "identity.person"}, headers=ENGLISH
    )
    assert by_action.status_code == 200
    assert 'data-audit-action="identity.person_frozen"' in by_action.text
    assert "why: 工单 #5" in by_action.text
    assert f'<a href="/ops/people/{worker.id}">' in by_action.text
    assert "ledger.job_ran" not in by_action.text
    # What the action means, beside its code; in Chinese on a Chinese page.
    assert "<span data-audit-label>Account frozen</span>" in by_action.text
    assert 'value="identity.person_frozen">Account frozen</option>' in by_action.text
    in_chinese = await client.get(
        "/ops/audit", params={"action": "identity.person"}, headers={"Accept-Language": "zh-CN"}
    )
    assert "<span data-audit-label>账号已冻结</span>" in in_chinese.text
    by_phone = await client.get("/ops/audit", params={"who": world.operator.phone})
    assert 'data-audit-action="identity.person_frozen"' in by_phone.text
    assert "ledger.job_ran" not in by_phone.text
    by_system = await client.get("/ops/audit", params={"who": "system"})
    assert 'data-audit-action="ledger.job_ran"' in by_system.text
    assert 'data-audit-action="identity.person_frozen"' not in by_system.text
    by_object = await client.get("/ops/audit", params={"object": "nightly"})
    assert 'data-audit-action="ledger.job_ran"' in by_object.text
    # A code with no words (written by another version) is shown as it is.
    assert '<td data-label="Action"><code>ledger.job_ran</code></td>' in (
        by_object.text.replace("操作", "Action")
    )
    # Amounts in yuan, lists joined, empty values left out.
    assert "accounts: a, b · amount: ¥1,234.56 · fee_fen: ¥1.00</small>" in by_object.text
    # Who acted, by name and masked number.
    masked = f"{world.operator.phone[-11:-8]}****{world.operator.phone[-4:]}"
    assert f"data-audit-by>{world.operator.display_name} (" in by_action.text
    assert masked in by_action.text
    nobody = await client.get("/ops/audit", params={"who": "13999999999"}, headers=ENGLISH)
    assert "No one has this phone number." in nobody.text and "data-audit-entries" not in (
        nobody.text
    )
    bad = await client.get("/ops/audit", params={"who": "abc"}, headers=ENGLISH)
    assert bad.status_code == 422 and 'data-error-for="actor"' in bad.text
    # A filter that was not applied shows no entries, which would read as its result.
    assert "data-audit-entries" not in bad.text and "data-audit-empty" not in bad.text
    # Reviewers do not read it.
    client.cookies.clear()
    await sign_in(client, world.reviewer.phone)
    assert (await client.get("/ops/audit")).status_code == 403


async def test_the_log_comes_fifty_at_a_time_newest_first(
    client: httpx.AsyncClient, world: World
) -> None:
    marker = uuid4().hex[:8]
    async with world.db.session_scope() as s:
        for n in range(60):
            await record_audit(
                s, actor_id=None, action=f"test.{marker}", object_type="n", object_id=n
            )
    auth = await bearer(world, world.operator)
    first = await client.get("/api/v1/ops/audit", params={"action": "test."}, headers=auth)
    body = first.json()
    assert [e["object_id"] for e in body["items"]] == [str(n) for n in range(59, 9, -1)]
    assert body["next_cursor"] is not None
    rest = await client.get(
        "/api/v1/ops/audit", params={"action": "test.", "cursor": body["next_cursor"]},
        headers=auth,
    )  # fmt: skip
    assert [e["object_id"] for e in rest.json()["items"]] == [str(n) for n in range(9, -1, -1)]
    assert rest.json()["next_cursor"] is None
    bad = await client.get("/api/v1/ops/audit", params={"cursor": "x"}, headers=auth)
    assert [e["field"] for e in problem(bad, 422, "validation_failed")["errors"]] == ["cursor"]
    worker = await bearer(world, world.workers[0])
    problem(await client.get("/api/v1/ops/audit", headers=worker), 403, "forbidden")
    await sign_in(client, world.operator.phone)
    page = await client.get("/ops/audit", params={"action": "test."}, headers=ENGLISH)
    assert page.text.count("data-audit-entry=") == 50 and 'rel="next"' in page.text
