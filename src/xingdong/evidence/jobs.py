"""Background jobs of the evidence domain: reading the text on screenshots, deleting the
files of erased accounts, and sweeping away bytes no file row points to."""

from __future__ import annotations

from uuid import UUID

import procrastinate

from xingdong.core.logging import get_logger

NAMESPACE = "evidence"
blueprint = procrastinate.Blueprint()
log = get_logger(__name__)


@blueprint.task(name="read_screenshot", retry=2)
async def read_screenshot(file_id: str) -> str:
    """OCR one uploaded screenshot and keep the text (for reviewers and the risk checks)."""
    from xingdong.core.runtime import current_runtime
    from xingdong.evidence import service
    from xingdong.work import service as work

    runtime = current_runtime()
    async with runtime.db.session_scope() as session:
        reading = await service.read_and_keep_text(session, runtime.evidence, file_id=UUID(file_id))
        if reading is not None and reading.status == "read":
            # What the text says about the hand-in it came with is the work domain's.
            await work.screenshot_read(
                session, file_id=UUID(file_id), text=reading.text, settings=runtime.settings
            )
    return "missing" if reading is None else reading.status


@blueprint.task(name="delete_stored_files", retry=5)
async def delete_stored_files(file_ids: list[str]) -> int:
    """Delete the stored bytes of an erased account's evidence (deferred by the erasure,
    so it runs only once that committed). Idempotent."""
    from xingdong.core.runtime import current_runtime
    from xingdong.evidence import service

    runtime = current_runtime()
    async with runtime.db.session_scope() as session:
        done = await service.delete_stored_files(
            session, runtime.evidence, file_ids=[UUID(f) for f in file_ids]
        )
    log.info("evidence_files_deleted", files=done)
    return done


@blueprint.periodic(cron="53 19 * * *")  # 03:53 in China, when little else runs
@blueprint.task(name="sweep_unreferenced")
async def sweep_unreferenced(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the sweep does not need it.
    """Delete stored evidence bytes that no file row points to, a day after upload."""
    from xingdong.core.runtime import current_runtime
    from xingdong.evidence import service

    runtime = current_runtime()
    async with runtime.db.session_scope() as session:
        deleted = await service.sweep_unreferenced(session, runtime.evidence)
    if deleted:
        log.info("evidence_unreferenced_deleted", files=deleted)
    return deleted
