"""A forgotten password (忘记密码): a code to the account's number sets a new one and
signs the account out everywhere; a number with no account is answered the same way and
learns nothing; on the pages, from the sign-in page's link to signing in again."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import select

from tests.factories import PASSWORD, next_phone
from tests.integration.answers import csrf_from, problem
from xingdong.core.audit import AuditEntry
from xingdong.core.db import Database
from xingdong.identity import service as identity

ENGLISH = {"Accept-Language": "en"}
NEW_PASSWORD = "brand-new-2026"


@dataclass(frozen=True)
class Someone:
    phone: str
    auth: dict[str, str]


async def someone(client: httpx.AsyncClient, db: Database) -> Someone:
    """An account made without a code (the number's code allowance stays for the reset),
    signed in through the API."""
    phone = next_phone()
    async with db.session_scope() as s:
        await identity.create_person_directly(s, phone=phone, password=PASSWORD, display_name="")
    token = await client.post("/api/v1/auth/tokens", json={"phone": phone, "password": PASSWORD})
    assert token.status_code == 201, token.text
    return Someone(phone, {"Authorization": f"Bearer {token.json()['access_token']}"})


async def reset_code(client: httpx.AsyncClient, phone: str) -> str | None:
    sent = await client.post("/api/v1/auth/sms-codes", json={"phone": phone, "purpose": "reset"})
    assert sent.status_code == 201, sent.text
    code: str | None = sent.json()["code"]
    return code


async def test_a_code_sets_a_new_password_and_signs_out_everywhere(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await someone(client, db)
    code = await reset_code(client, user.phone)
    assert code is not None
    url = "/api/v1/auth/password-reset"
    wrong = await client.post(
        url, json={"phone": user.phone, "code": "000000", "password": NEW_PASSWORD}
    )
    problem(wrong, 422, "invalid_code")
    weak = await client.post(url, json={"phone": user.phone, "code": code, "password": "short"})
    assert problem(weak, 422, "validation_failed")["errors"][0]["field"] == "password"
    done = await client.post(
        url, json={"phone": user.phone, "code": code, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    # The token from before stops working; the old password too; the new one signs in.
    problem(await client.get("/api/v1/me", headers=user.auth), 401, "session_expired")
    old = await client.post("/api/v1/auth/tokens", json={"phone": user.phone, "password": PASSWORD})
    problem(old, 401, "invalid_credentials")
    new = await client.post(
        "/api/v1/auth/tokens", json={"phone": user.phone, "password": NEW_PASSWORD}
    )
    assert new.status_code == 201
    # The code is spent.
    again = await client.post(
        url, json={"phone": user.phone, "code": code, "password": "another-2026"}
    )
    problem(again, 422, "invalid_code")
    async with db.sessionmaker() as s:
        entry = await s.scalar(
            select(AuditEntry).where(AuditEntry.action == "identity.password_reset")
        )
    assert entry is not None and entry.data == {"signed_out": 1}


async def test_a_number_without_an_account_learns_nothing(client: httpx.AsyncClient) -> None:
    phone = next_phone()
    answered = await client.post(
        "/api/v1/auth/sms-codes", json={"phone": phone, "purpose": "reset"}
    )
    assert answered.status_code == 201 and set(answered.json()) == {"phone", "expires_at", "code"}
    assert answered.json()["code"] is None  # nothing was sent (demo deployments show codes)
    tried = await client.post(
        "/api/v1/auth/password-reset",
        json={"phone": phone, "code": "123456", "password": NEW_PASSWORD},
    )
    problem(tried, 422, "invalid_code")


async def test_the_pages_lead_from_sign_in_to_a_new_password(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await someone(client, db)
    login = await client.get("/login", headers=ENGLISH)
    assert 'href="/password-reset" data-forgot-password>Forgot your password?' in login.text
    page = await client.get("/password-reset", headers=ENGLISH)
    csrf = csrf_from(page.text)
    sent = await client.post(
        "/password-reset/code", data={"phone": user.phone, "csrf_token": csrf}, headers=ENGLISH
    )
    assert "a 6-digit code is on its way to it." in sent.text
    code = sent.text.split('data-demo-code="', 1)[1].split('"', 1)[0]
    weak = await client.post(
        "/password-reset",
        data={"phone": user.phone, "code": code, "password": "abc", "csrf_token": csrf},
        headers=ENGLISH,
    )
    assert weak.status_code == 422 and 'data-error-for="password"' in weak.text
    assert f'value="{code}"' in weak.text  # the code typed stays
    done = await client.post(
        "/password-reset",
        data={"phone": user.phone, "code": code, "password": NEW_PASSWORD, "csrf_token": csrf},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "Your password is changed" in done.text and str(done.url).startswith(
        "http://testserver/login"
    )


async def test_a_signed_in_person_changes_their_password(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await someone(client, db)
    other_device = await client.post(
        "/api/v1/auth/tokens", json={"phone": user.phone, "password": PASSWORD}
    )
    url = "/api/v1/me/password"
    wrong = await client.post(
        url, json={"password": "not-mine-1", "new_password": NEW_PASSWORD}, headers=user.auth
    )
    problem(wrong, 422, "password_wrong")
    weak = await client.post(
        url, json={"password": PASSWORD, "new_password": "short"}, headers=user.auth
    )
    assert problem(weak, 422, "validation_failed")["errors"][0]["field"] == "new_password"
    changed = await client.post(
        url, json={"password": PASSWORD, "new_password": NEW_PASSWORD}, headers=user.auth
    )
    assert changed.status_code == 201, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200
    # Every earlier token ended: this one and the other device's.
    other = {"Authorization": f"Bearer {other_device.json()['access_token']}"}
    for ended in (user.auth, other):
        problem(await client.get("/api/v1/me", headers=ended), 401, "session_expired")


async def test_the_profile_changes_the_password_and_keeps_this_browser_signed_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await someone(client, db)
    login = await client.get("/login")
    await client.post(
        "/login",
        data={"phone": user.phone, "password": PASSWORD, "csrf_token": csrf_from(login.text)},
    )
    profile = await client.get("/profile", headers=ENGLISH)
    assert "data-password-change" in profile.text
    csrf = csrf_from(profile.text)
    wrong = await client.post(
        "/profile/password",
        data={"password": "nope-1234", "new_password": NEW_PASSWORD, "csrf_token": csrf},
        headers=ENGLISH,
    )
    assert wrong.status_code == 422 and 'data-error-for="password"' in wrong.text
    done = await client.post(
        "/profile/password",
        data={"password": PASSWORD, "new_password": NEW_PASSWORD, "csrf_token": csrf},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "Your password is changed" in done.text and "data-password-change" in done.text
    problem(await client.get("/api/v1/me", headers=user.auth), 401, "session_expired")
