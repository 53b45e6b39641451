"""Helpers for the brand's and the operators' side of campaigns over HTTP, on top of the
lifecycle world (a funded brand, workers, reviewers, operators)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text

from tests.lifecycle_world import BRAND_HANDLE, World, add_worker
from xingdong.core.clock import utcnow
from xingdong.identity import service as identity
from xingdong.identity.models import Person


async def bearer(world: World, person: Person) -> dict[str, str]:
    """An ``Authorization`` header for ``person`` (a token issued directly)."""
    async with world.db.session_scope() as s:
        token, _row = await identity.issue_api_token(
            s, person=person, name="test", settings=world.settings
        )
    return {"Authorization": f"Bearer {token}"}


async def join_org(world: World, person: Person, role: str = "member") -> None:
    async with world.db.session_scope() as s:
        await s.execute(
            text("INSERT INTO memberships (org_id, person_id, role) VALUES (:org, :id, :role)"),
            {"org": world.org_id, "id": person.id, "role": role},
        )


async def member(world: World) -> Person:
    """A plain member (not an owner) of the world's brand."""
    person = await add_worker(world)
    await join_org(world, person)
    return person


def campaign_body(**overrides: Any) -> dict[str, Any]:
    """A campaign the default policy accepts: a disclosed, targeted, paced follow task."""
    now = utcnow()
    body: dict[str, Any] = {
        "title": "关注品牌官方号",
        "task_type": "follow",
        "target": "@" + BRAND_HANDLE,
        "brief": "关注我们的官方账号，了解新品动态。",
        "disclosure": "广告：本任务由品牌方赞助",
        "quantity": 5,
        "unit_price_fen": 100,
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(),
        "interests": ["美妆"],
        "pacing_per_hour": 60,
    }
    body.update(overrides)
    return body


async def create_draft(
    http: httpx.AsyncClient, world: World, auth: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await http.post(
        f"/api/v1/orgs/{world.org_id}/campaigns", json=campaign_body(**overrides), headers=auth
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def org_balance(http: httpx.AsyncClient, org_id: UUID, auth: dict[str, str]) -> int:
    response = await http.get(f"/api/v1/orgs/{org_id}/balance", headers=auth)
    assert response.status_code == 200, response.text
    available: int = response.json()["available_fen"]
    return available
