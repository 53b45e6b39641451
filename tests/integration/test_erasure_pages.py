"""The erase-my-account page over HTTP: the profile links to it; an organisation's only
owner sees why they must wait and no form; a person with nothing to settle sees what
will happen, is told (in their language) when the password is wrong or the box is not
ticked, with nothing changed, and is signed out and sent to sign-in once it is done; a
GET cannot erase anyone and a form from elsewhere is refused."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from tests.factories import PASSWORD, User, create_org, register
from tests.integration.answers import csrf_from
from tests.integration.test_agency_pages import CHINESE, ENGLISH, sign_in_as
from xingdong.core.db import Database
from xingdong.identity.models import Person


async def person_row(db: Database, user: User) -> Person:
    async with db.sessionmaker() as s:
        found = await s.scalar(select(Person).where(Person.id == user.id))
        assert found is not None
        return found


async def test_an_only_owner_sees_why_and_no_form(client: httpx.AsyncClient) -> None:
    owner = await register(client, name="店主")
    await create_org(client, owner, name="好物品牌")
    await sign_in_as(client, owner)
    profile = await client.get("/profile", headers=CHINESE)
    assert 'href="/me/erase"' in profile.text
    page = await client.get("/me/erase", headers=CHINESE)
    assert page.status_code == 200
    assert 'data-erasure="blocked"' in page.text
    assert 'data-blocker="last_owner"' in page.text
    assert "你是好物品牌的唯一所有者" in page.text
    assert "data-erase-account" not in page.text


async def test_a_person_erases_their_account_from_the_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    worker = await register(client, name="小林")
    await sign_in_as(client, worker)
    page = await client.get("/me/erase", headers=ENGLISH)
    assert 'data-erasure="allowed"' in page.text
    assert "the number can be registered again" in page.text
    token = csrf_from(page.text)

    wrong = await client.post(
        "/me/erase",
        data={"password": "not-it", "confirm": "yes", "csrf_token": token},
        headers=CHINESE,
    )
    assert wrong.status_code == 422
    assert 'data-error-for="password"' in wrong.text
    assert "密码错误。" in wrong.text
    unticked = await client.post(
        "/me/erase", data={"password": PASSWORD, "csrf_token": token}, headers=ENGLISH
    )
    assert unticked.status_code == 422
    assert 'data-error-for="confirm"' in unticked.text
    assert "Tick the box" in unticked.text
    assert (await person_row(db, worker)).erased_at is None

    # A link from elsewhere (a GET) cannot erase; a form without this site's token neither.
    assert (await client.get("/me/erase")).status_code == 200
    forged = await client.post("/me/erase", data={"password": PASSWORD, "confirm": "yes"})
    assert forged.status_code == 403
    assert (await person_row(db, worker)).erased_at is None

    done = await client.post(
        "/me/erase",
        data={"password": PASSWORD, "confirm": "yes", "csrf_token": token},
        headers=ENGLISH,
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/login?done=")
    assert any(
        h.startswith('xd_session=""') or "Max-Age=0" in h
        for h in done.headers.get_list("set-cookie")
    )
    landed = await client.get(done.headers["location"], headers=ENGLISH)
    assert "Your account is erased." in landed.text
    row = await person_row(db, worker)
    assert row.erased_at is not None and row.phone != "+86" + worker.phone
    again = await client.get("/profile")
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
