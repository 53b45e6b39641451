"""Test factories as plain functions: they go through the public API, as a user would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import httpx

_phones = itertools.count(13900000000)
PASSWORD = "goodPass2026"


def next_phone() -> str:
    return str(next(_phones))


@dataclass
class User:
    phone: str
    token: str
    id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(
    http: httpx.AsyncClient, phone: str | None = None, password: str = PASSWORD, name: str = ""
) -> User:
    phone = phone or next_phone()
    sent = await http.post("/api/v1/auth/sms-codes", json={"phone": phone})
    assert sent.status_code == 201, sent.text
    body: dict[str, object] = {"phone": phone, "code": sent.json()["code"], "password": password}
    if name:
        body["display_name"] = name
    registered = await http.post("/api/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    token = registered.json()["access_token"]
    me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return User(phone=phone, token=token, id=me.json()["id"])


async def create_org(
    http: httpx.AsyncClient, owner: User, name: str = "测试品牌", kind: str = "brand"
) -> str:
    response = await http.post(
        "/api/v1/orgs", json={"kind": kind, "name": name}, headers=owner.auth
    )
    assert response.status_code == 201, response.text
    org_id: str = response.json()["id"]
    return org_id


async def add_member(
    http: httpx.AsyncClient, org_id: str, owner: User, member: User, role: str = "member"
) -> None:
    invited = await http.post(
        f"/api/v1/orgs/{org_id}/invitations",
        json={"phone": member.phone, "role": role},
        headers=owner.auth,
    )
    assert invited.status_code == 201, invited.text
    answered = await http.post(
        f"/api/v1/me/invitations/{invited.json()['id']}", json={"accept": True}, headers=member.auth
    )
    assert answered.status_code == 200, answered.text
