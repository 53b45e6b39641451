"""Profile, user agreement consent and bound platform accounts, through the REST API."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from tests.factories import register
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.identity.models import Consent, PlatformAccount


async def test_profile_is_filled_and_read_back(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.patch(
        "/api/v1/me",
        json={
            "display_name": "小红",
            "birth_year": 1995,
            "region": "广东",
            "interests": ["美食", "美妆", "美食"],
            "locale": "en",
        },
        headers=user.auth,
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["display_name"] == "小红"
    assert me["birth_year"] == 1995
    assert me["region"] == "广东"
    assert me["interests"] == ["美妆", "美食"]  # de-duplicated, in catalogue order
    assert me["locale"] == "en"
    cleared = await client.patch("/api/v1/me", json={"birth_year": None}, headers=user.auth)
    assert cleared.json()["birth_year"] is None
    assert cleared.json()["region"] == "广东"  # fields left out stay as they were


async def test_a_minor_cannot_type_their_way_to_adult_tasks(client: httpx.AsyncClient) -> None:
    user = await register(client)
    this_year = utcnow().year
    minor = await client.patch("/api/v1/me", json={"birth_year": this_year - 15}, headers=user.auth)
    assert minor.status_code == 200
    # Older, but still a minor: a correction among minors is fine.
    still = await client.patch("/api/v1/me", json={"birth_year": this_year - 16}, headers=user.auth)
    assert still.json()["birth_year"] == this_year - 16
    for body in ({"birth_year": this_year - 30}, {"birth_year": None}):
        refused = await client.patch(
            "/api/v1/me", json=body, headers={**user.auth, "Accept-Language": "en"}
        )
        assert refused.status_code == 422, body
        (error,) = refused.json()["errors"]
        assert (error["field"], error["code"]) == ("birth_year", "birth_year_locked")
        assert "contact support" in error["message"]
    me = (await client.get("/api/v1/me", headers=user.auth)).json()
    assert me["birth_year"] == this_year - 16
    # An adult corrects a typo freely.
    grown = await register(client)
    await client.patch("/api/v1/me", json={"birth_year": 1990}, headers=grown.auth)
    fixed = await client.patch("/api/v1/me", json={"birth_year": 1991}, headers=grown.auth)
    assert fixed.json()["birth_year"] == 1991


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"birth_year": 1800}, "birth_year"),
        ({"birth_year": 2999}, "birth_year"),
        ({"region": "火星"}, "region"),
        ({"interests": ["炒股"]}, "interests"),
        ({"interests": ["美妆", "母婴", "美食", "游戏", "运动", "旅行", "数码", "时尚", "宠物"]},
         "interests"),
        ({"display_name": "   "}, "display_name"),
        ({"locale": "fr"}, "locale"),
    ],
    ids=["born-1800", "born-future", "unknown-region", "unknown-interest", "nine-interests",
         "blank-name", "unsupported-language"],
)  # fmt: skip
async def test_bad_profile_values_are_refused_and_nothing_changes(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    user = await register(client, name="原名")
    before = (await client.get("/api/v1/me", headers=user.auth)).json()
    response = await client.patch("/api/v1/me", json=body, headers=user.auth)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    # The years' range comes with a birth-year problem only.
    assert ("low" in response.json()) == (field == "birth_year")
    after = (await client.get("/api/v1/me", headers=user.auth)).json()
    assert after == before


async def test_consent_is_recorded_with_version_time_and_address(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    me = (await client.get("/api/v1/me", headers=user.auth)).json()
    assert me["has_accepted_agreement"] is False
    version = me["agreement_version"]
    response = await client.post(
        "/api/v1/me/consents",
        json={"version": version},
        headers={**user.auth, "User-Agent": "tests/1.0"},
    )
    assert response.status_code == 201
    assert [c["agreement_version"] for c in response.json()] == [version]
    again = await client.post("/api/v1/me/consents", json={"version": version}, headers=user.auth)
    assert len(again.json()) == 1  # accepting twice records it once
    async with db.sessionmaker() as s:
        consent = (await s.execute(select(Consent))).scalar_one()
    assert consent.ip == "203.0.113.7"
    assert consent.user_agent == "tests/1.0"
    assert consent.created_at is not None
    me = (await client.get("/api/v1/me", headers=user.auth)).json()
    assert me["has_accepted_agreement"] is True


async def test_consent_to_an_old_version_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    response = await client.post(
        "/api/v1/me/consents", json={"version": "2001-01"}, headers=user.auth
    )
    assert response.status_code == 422
    async with db.sessionmaker() as s:
        assert (await s.execute(select(Consent))).first() is None


async def test_bind_replace_and_unbind_a_sandbox_account(client: httpx.AsyncClient) -> None:
    user = await register(client)
    bound = await client.put(
        "/api/v1/me/platform-accounts",
        json={"handle": "@my_channel", "followers": 1200},
        headers=user.auth,
    )
    assert bound.status_code == 200, bound.text
    assert bound.json()["handle"] == "my_channel"
    replaced = await client.put(
        "/api/v1/me/platform-accounts",
        json={"handle": "new_channel", "followers": 5},
        headers=user.auth,
    )
    assert replaced.json()["handle"] == "new_channel"
    listed = await client.get("/api/v1/me/platform-accounts", headers=user.auth)
    assert [a["handle"] for a in listed.json()] == ["new_channel"]
    gone = await client.delete("/api/v1/me/platform-accounts/sandbox", headers=user.auth)
    assert gone.status_code == 204
    assert (await client.get("/api/v1/me/platform-accounts", headers=user.auth)).json() == []
    again = await client.delete("/api/v1/me/platform-accounts/sandbox", headers=user.auth)
    assert again.status_code == 404


async def test_a_handle_bound_by_someone_else_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    first = await register(client)
    second = await register(client)
    body = {"handle": "shared_handle", "followers": 10}
    assert (
        await client.put("/api/v1/me/platform-accounts", json=body, headers=first.auth)
    ).status_code == 200
    taken = await client.put("/api/v1/me/platform-accounts", json=body, headers=second.auth)
    assert taken.status_code == 409
    assert taken.json()["code"] == "handle_already_bound"
    async with db.sessionmaker() as s:
        rows = (await s.execute(select(PlatformAccount))).scalars().all()
    assert [str(r.person_id) for r in rows] == [first.id]


@pytest.mark.parametrize(
    "body",
    [
        {"handle": "a", "followers": 1},
        {"handle": "has space", "followers": 1},
        {"handle": "ok_handle", "followers": -1},
        {"handle": "ok_handle", "followers": 1, "platform": "kuaishou"},
    ],
    ids=["too-short", "space", "negative-followers", "unsupported-platform"],
)
async def test_bad_platform_accounts_are_refused(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    user = await register(client)
    response = await client.put("/api/v1/me/platform-accounts", json=body, headers=user.auth)
    assert response.status_code == 422
    assert (await client.get("/api/v1/me/platform-accounts", headers=user.auth)).json() == []
