"""Reading the text on screenshots: an upload enqueues the job in its own transaction, the
job reads the target, the done word and the clock, keeps one reading per file,
and a picture without text is recorded as unreadable instead of failing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.integration.conftest import make_settings
from tests.integration.test_evidence import add_person
from tests.integration.work_support import noise_png
from xingdong.core.db import Database
from xingdong.core.runtime import build_runtime
from xingdong.core.settings import Settings
from xingdong.evidence import jobs as evidence_jobs
from xingdong.evidence import service
from xingdong.evidence.screenshots import render_action_screenshot
from xingdong.evidence.storage import LocalFolderStorage

SHOT = render_action_screenshot(
    handle="brand_official", target_title="品牌官方号", done_word="已关注",
    clock=datetime(2026, 12, 1, 12, 34, tzinfo=UTC), seed=3,
)  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(evidence_dir=tmp_path / "evidence")


async def jobs_for(db: Database) -> list[tuple[str, str]]:
    async with db.sessionmaker() as s:
        rows = await s.execute(
            text("SELECT task_name, args->>'file_id' FROM procrastinate_jobs ORDER BY id")
        )
        return [(r[0], r[1]) for r in rows]


async def test_an_upload_is_read_by_the_job_worker(db: Database, settings: Settings) -> None:
    runtime = build_runtime(settings, db.url)
    owner = await add_person(db)
    try:
        async with db.session_scope() as s:
            file = await service.store_image(
                s, runtime.evidence, owner_id=owner, data=SHOT, filename="s.png",
                settings=settings,
            )  # fmt: skip
        assert await jobs_for(db) == [("evidence:read_screenshot", str(file.id))]
        # What the worker runs for that job (a worker of its own would have to register
        # every domain's jobs a second time in this process: tests/integration/test_jobs.py
        # runs the real worker).
        status = await evidence_jobs.read_screenshot.func(file_id=str(file.id))
        async with db.sessionmaker() as s:
            reading = await service.reading_of(s, file.id)
    finally:
        await runtime.db.dispose()
    assert status == "read"
    assert reading is not None and reading.status == "read"
    lines = reading.text.splitlines()
    assert "@brand_official" in lines
    assert "已关注" in lines
    assert "20:34" in lines  # the status-bar clock, in China time
    assert all(0.5 <= line["confidence"] <= 1 for line in reading.lines)


async def test_a_reading_is_kept_once_and_a_textless_picture_is_unreadable(
    db: Database, settings: Settings
) -> None:
    storage = LocalFolderStorage(settings.evidence_dir)
    owner = await add_person(db)
    async with db.session_scope() as s:
        noise = await service.store_image(
            s, storage, owner_id=owner, data=noise_png(64), filename="n.png", settings=settings
        )
    async with db.session_scope() as s:
        first = await service.read_and_keep_text(s, storage, file_id=noise.id)
    async with db.session_scope() as s:
        again = await service.read_and_keep_text(s, storage, file_id=noise.id)
    assert first is not None and again is not None
    assert (first.status, first.text, first.lines) == ("unreadable", "", [])
    assert again.read_at == first.read_at  # not read a second time


async def test_reading_can_be_turned_off(db: Database, tmp_path: Path) -> None:
    settings = make_settings(evidence_dir=tmp_path / "evidence", evidence_ocr=False)
    owner = await add_person(db)
    async with db.session_scope() as s:
        await service.store_image(
            s, LocalFolderStorage(settings.evidence_dir), owner_id=owner, data=SHOT,
            filename="s.png", settings=settings,
        )  # fmt: skip
    assert await jobs_for(db) == []
