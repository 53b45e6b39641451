"""Helpers for the work API and page tests: a lifecycle world behind the in-process app,
bearer tokens and browser sessions for its people, and uploads of chosen sizes."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from PIL import Image
from sqlalchemy import func, select, update

from tests.lifecycle_world import World, follow_on_sandbox
from xingdong.campaigns.models import Campaign
from xingdong.core.settings import Settings
from xingdong.evidence.models import EvidenceFile
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.web.deps import SESSION_COOKIE
from xingdong.work.models import Assignment


def work_settings(evidence_dir: object, **overrides: Any) -> dict[str, Any]:
    """Limits small enough to test both the request body limit and the evidence limits:
    the submission routes take up to the video limit (3 MB), images up to 2.5 MB, every
    other route the default 1 MiB."""
    values: dict[str, Any] = {
        "evidence_dir": evidence_dir,
        "evidence_max_image_bytes": 2_500_000,
        "evidence_max_video_bytes": 3_000_000,
        "hold_hours": 24,
    }
    values.update(overrides)
    return values


async def bearer(world: World, person: Person) -> dict[str, str]:
    async with world.db.session_scope() as s:
        token, _row = await identity.issue_api_token(
            s, person=person, name="test", settings=world.settings
        )
    return {"Authorization": f"Bearer {token}"}


async def browse_as(client: httpx.AsyncClient, world: World, person: Person) -> None:
    """Sign ``client`` in as ``person`` (a browser session cookie)."""
    async with world.db.session_scope() as s:
        token = await identity.open_web_session(
            s, person=person, settings=world.settings, ip=None, user_agent=None
        )
    # Only the session changes: the CSRF and language cookies stay, as in one browser.
    client.cookies.delete(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, token)


async def grant_reviewer(world: World, person: Person) -> None:
    async with world.db.session_scope() as s:
        await identity.grant_staff_role(s, phone=person.phone, role="reviewer", granted_by=None)


async def handle_of(world: World, person: Person) -> str:
    async with world.db.sessionmaker() as s:
        accounts = await identity.platform_accounts(s, person=person)
    handle: str = accounts[0].handle
    return handle


async def act_like_a_person(world: World, assignment_id: str | UUID, *, follow: bool) -> None:
    """Move the claim a minute into the past (a person takes longer than the
    too-fast-to-be-true threshold), then follow on the sandbox if asked."""
    async with world.db.session_scope() as s:
        row = await s.get(Assignment, UUID(str(assignment_id)))
        assert row is not None
        await s.execute(
            update(Assignment)
            .where(Assignment.id == row.id)
            .values(claimed_at=row.claimed_at - timedelta(minutes=1))
        )
        person = await s.get(Person, row.person_id)
        assert person is not None
    if follow:
        await follow_on_sandbox(await handle_of(world, person), world.db)


async def assignment_row(world: World, assignment_id: str | UUID) -> Assignment:
    async with world.db.sessionmaker() as s:
        found = await s.get(Assignment, UUID(str(assignment_id)))
        assert found is not None
        return found


async def campaign_row(world: World, campaign_id: str | UUID) -> Campaign:
    async with world.db.sessionmaker() as s:
        found = await s.get(Campaign, UUID(str(campaign_id)))
        assert found is not None
        return found


async def evidence_count(world: World) -> int:
    async with world.db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(EvidenceFile)) or 0)


def noise_png(side: int) -> bytes:
    """A PNG of random pixels: it hardly compresses, so its size is about 3 bytes a pixel."""
    picture = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


async def set_columns(world: World, model: Any, row_id: object, **values: Any) -> None:
    async with world.db.session_scope() as s:
        await s.execute(update(model).where(model.id == row_id).values(**values))


def settings_of(client: httpx.AsyncClient) -> Settings:
    settings: Settings = client.app.state.runtime.settings  # type: ignore[attr-defined]
    return settings
