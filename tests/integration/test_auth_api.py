"""Registration, sign-in, tokens and their bad inputs, through the REST API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text

from tests.factories import PASSWORD, next_phone, register
from xingdong.core.db import Database
from xingdong.identity.models import Person, SmsCode

PROBLEM = "application/problem+json"


async def count_people(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(Person))).scalar_one())


async def send_code(http: httpx.AsyncClient, phone: str) -> str:
    response = await http.post("/api/v1/auth/sms-codes", json={"phone": phone})
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def test_register_then_sign_in_with_password(client: httpx.AsyncClient) -> None:
    user = await register(client, phone="138 0013 8000", name="小明")
    me = await client.get("/api/v1/me", headers=user.auth)
    assert me.status_code == 200
    assert me.json()["phone"] == "+8613800138000"
    assert me.json()["display_name"] == "小明"
    login = await client.post(
        "/api/v1/auth/tokens", json={"phone": "+86 13800138000", "password": PASSWORD}
    )
    assert login.status_code == 201
    assert login.json()["token_type"] == "bearer"


async def test_an_empty_sign_in_names_the_empty_fields(client: httpx.AsyncClient) -> None:
    user = await register(client)
    for body, fields in (
        ({"phone": "", "password": ""}, ["phone", "password"]),
        ({"phone": user.phone, "password": ""}, ["password"]),
        ({"phone": "  ", "password": PASSWORD}, ["phone"]),
    ):
        refused = await client.post(
            "/api/v1/auth/tokens", json=body, headers={"Accept-Language": "en"}
        )
        assert refused.status_code == 422, refused.text
        answer = refused.json()
        assert answer["code"] == "validation_failed"
        assert [e["field"] for e in answer["errors"]] == fields
    # None of them counted as a failed sign-in.
    login = await client.post(
        "/api/v1/auth/tokens", json={"phone": user.phone, "password": PASSWORD}
    )
    assert login.status_code == 201


@pytest.mark.parametrize(
    "phone",
    ["12345", "1380013800", "23800138000", "abc", "+1 415 555 0100", ""],
    ids=["short", "ten-digits", "not-mobile", "letters", "foreign", "empty"],
)
async def test_malformed_phone_is_refused_with_a_field_error(
    client: httpx.AsyncClient, db: Database, phone: str
) -> None:
    response = await client.post("/api/v1/auth/sms-codes", json={"phone": phone})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("phone", "invalid_phone")]
    assert problem["status"] == 422
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(SmsCode))).scalar_one() == 0


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "Use at least 8 characters."),
        ("onlyletters", "Use both letters and digits."),
        ("1234567890", "Use both letters and digits."),
        ("password123", "This password is too common."),
    ],
    ids=["too-short", "no-digits", "no-letters", "common"],
)
async def test_weak_password_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, db: Database, password: str, reason: str
) -> None:
    phone = next_phone()
    code = await send_code(client, phone)
    response = await client.post(
        "/api/v1/auth/register",
        json={"phone": phone, "code": code, "password": password},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["password"]["code"] == "weak_password"
    assert errors["password"]["message"] == reason
    assert await count_people(db) == 0


async def test_password_containing_the_phone_number_is_refused(client: httpx.AsyncClient) -> None:
    phone = next_phone()
    code = await send_code(client, phone)
    response = await client.post(
        "/api/v1/auth/register",
        json={"phone": phone, "code": code, "password": "x" + phone[-8:]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


async def test_wrong_code_is_refused_and_attempts_are_limited(
    client: httpx.AsyncClient, db: Database
) -> None:
    phone = next_phone()
    code = await send_code(client, phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/register", json={"phone": phone, "code": wrong, "password": PASSWORD}
        )
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_code"
    # The attempts were counted even though each request failed; the right code is now
    # refused too.
    response = await client.post(
        "/api/v1/auth/register", json={"phone": phone, "code": code, "password": PASSWORD}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_code"
    assert await count_people(db) == 0


async def test_expired_code_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    phone = next_phone()
    code = await send_code(client, phone)
    async with db.session_scope() as s:
        await s.execute(text("UPDATE sms_codes SET expires_at = now() - interval '1 second'"))
    response = await client.post(
        "/api/v1/auth/register", json={"phone": phone, "code": code, "password": PASSWORD}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_code"
    assert await count_people(db) == 0


async def test_code_cannot_be_used_twice(client: httpx.AsyncClient) -> None:
    phone = next_phone()
    code = await send_code(client, phone)
    body = {"phone": phone, "code": code, "password": PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
    again = await client.post("/api/v1/auth/register", json=body)
    assert again.status_code == 409
    assert again.json()["code"] == "phone_already_registered"


async def test_duplicate_registration_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    user = await register(client)
    response = await client.post("/api/v1/auth/sms-codes", json={"phone": user.phone})
    assert response.status_code == 409
    assert response.json()["code"] == "phone_already_registered"
    assert await count_people(db) == 1


async def test_parallel_registrations_of_one_phone_create_one_account(
    client: httpx.AsyncClient, db: Database
) -> None:
    """Ten clients race with valid codes for the same number: one account, nine refusals."""
    phone = next_phone()
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    codes = []
    for _ in range(10):
        await runtime.limits.storage.reset()
        codes.append(await send_code(client, phone))
    # Each code replaces the previous; only the newest is valid, so give every racer it.
    newest = codes[-1]
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/auth/register",
                json={"phone": phone, "code": newest, "password": PASSWORD},
            )
            for _ in range(10)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1
    assert all(s in (409, 422) for s in statuses if s != 201)
    assert await count_people(db) == 1


async def test_sms_codes_are_rate_limited_per_phone(client: httpx.AsyncClient) -> None:
    phone = next_phone()
    await send_code(client, phone)
    response = await client.post("/api/v1/auth/sms-codes", json={"phone": phone})
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


async def test_unknown_fields_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/sms-codes", json={"phone": next_phone(), "is_admin": True}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "is_admin"
    assert response.json()["errors"][0]["code"] == "extra_forbidden"


async def test_oversized_body_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post(
        "/api/v1/auth/sms-codes",
        content=b'{"phone": "' + b"1" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "payload_too_large"
    # Said in the request's language, the limit in the problem too.
    chinese = await client.post(
        "/api/v1/auth/sms-codes",
        content=b'{"phone": "' + b"1" * 2_000_000 + b'"}',
        headers={"content-type": "application/json", "Accept-Language": "zh-CN"},
    )
    limit = chinese.json()["limit"]
    assert str(limit) in chinese.json()["detail"] and chinese.json()["detail"].startswith("上限")


async def test_streamed_oversized_body_without_length_is_refused(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    response = await client.post(
        "/api/v1/auth/sms-codes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_wrong_password_is_refused_then_locks_the_account(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/tokens", json={"phone": user.phone, "password": "wrongPass999"}
        )
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    locked = await client.post(
        "/api/v1/auth/tokens", json={"phone": user.phone, "password": PASSWORD}
    )
    assert locked.status_code == 423
    assert locked.json()["code"] == "account_locked"
    assert locked.json()["seconds"] >= 55
    async with db.sessionmaker() as s:
        person = (await s.execute(select(Person))).scalar_one()
    assert person.failed_login_count == 5
    assert person.locked_until is not None


async def test_lock_out_backs_off_and_success_resets_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    async with db.session_scope() as s:
        await s.execute(text("UPDATE people SET failed_login_count = 6"))
    await client.post("/api/v1/auth/tokens", json={"phone": user.phone, "password": "nope12345"})
    async with db.sessionmaker() as s:
        locked_for = (
            await s.execute(text("SELECT extract(epoch FROM locked_until - now()) FROM people"))
        ).scalar_one()
    assert 230 < float(locked_for) <= 240  # 60 s doubled for the 6th and 7th failure
    async with db.session_scope() as s:
        await s.execute(text("UPDATE people SET locked_until = now() - interval '1 second'"))
    ok = await client.post("/api/v1/auth/tokens", json={"phone": user.phone, "password": PASSWORD})
    assert ok.status_code == 201
    async with db.sessionmaker() as s:
        person = (await s.execute(select(Person))).scalar_one()
    assert person.failed_login_count == 0
    assert person.locked_until is None


async def test_unknown_phone_gets_the_same_answer_as_a_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/tokens", json={"phone": next_phone(), "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_login_is_rate_limited(client: httpx.AsyncClient) -> None:
    statuses = []
    for _ in range(11):
        response = await client.post(
            "/api/v1/auth/tokens", json={"phone": next_phone(), "password": PASSWORD}
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


async def test_api_needs_a_valid_bearer_token(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/me")
    assert missing.status_code == 401
    assert missing.json()["code"] == "not_authenticated"
    forged = await client.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401
    assert forged.json()["code"] == "session_expired"
    # Each says how to authenticate (RFC 9110).
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert forged.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_body_that_is_not_json_names_the_body(client: httpx.AsyncClient) -> None:
    broken = await client.post(
        "/api/v1/auth/tokens",
        content=b'{"phone": "138',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    assert [e["field"] for e in broken.json()["errors"]] == ["body"]


async def test_expired_token_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    user = await register(client)
    async with db.session_scope() as s:
        await s.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second'"))
    response = await client.get("/api/v1/me", headers=user.auth)
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


async def test_logout_revokes_the_token(client: httpx.AsyncClient) -> None:
    user = await register(client)
    assert (
        await client.delete("/api/v1/auth/tokens/current", headers=user.auth)
    ).status_code == 204
    assert (await client.get("/api/v1/me", headers=user.auth)).status_code == 401


async def test_problem_details_follow_the_request_language(client: httpx.AsyncClient) -> None:
    zh = await client.post("/api/v1/auth/sms-codes", json={"phone": "1"})
    en = await client.post(
        "/api/v1/auth/sms-codes", json={"phone": "1"}, headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert en.json()["title"] == "Some fields are not valid"
    assert zh.json()["title"] != en.json()["title"]
    assert zh.json()["type"] == en.json()["type"]


def hour_from_now(hours: int) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


async def test_expired_sign_ins_are_forgotten_and_live_ones_still_work(
    client: httpx.AsyncClient, db: Database
) -> None:
    from xingdong.identity.service import purge_expired_sign_ins

    gone, kept = await register(client), await register(client)
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE api_tokens SET expires_at = :past WHERE person_id = :p"),
            {"p": gone.id, "past": hour_from_now(-1)},
        )
        await s.execute(
            text(
                "INSERT INTO web_sessions (id, token_digest, person_id, expires_at, ip, created_at)"
                " VALUES (gen_random_uuid(), 'a', :gone, :past, '198.51.100.1', now()),"
                " (gen_random_uuid(), 'b', :kept, :future, '198.51.100.2', now())"
            ),
            {
                "gone": gone.id,
                "kept": kept.id,
                "past": hour_from_now(-1),
                "future": hour_from_now(1),
            },
        )
    refused_before = await client.get("/api/v1/me", headers=gone.auth)
    async with db.session_scope() as s:
        assert await purge_expired_sign_ins(s) == (1, 1)
    async with db.sessionmaker() as s:
        tokens = (await s.execute(text("SELECT person_id::text FROM api_tokens"))).scalars()
        sessions = (await s.execute(text("SELECT ip FROM web_sessions"))).scalars()
        assert tokens.all() == [kept.id]
        assert sessions.all() == ["198.51.100.2"]
    assert (await client.get("/api/v1/me", headers=kept.auth)).status_code == 200
    # The purged token is refused as it was while it was only expired.
    refused = await client.get("/api/v1/me", headers=gone.auth)
    assert refused.status_code == refused_before.status_code == 401
    assert refused.json()["detail"] == refused_before.json()["detail"]
