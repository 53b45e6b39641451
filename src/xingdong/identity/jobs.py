"""Background jobs of the identity domain."""

from __future__ import annotations

import procrastinate

from xingdong.core.logging import get_logger

NAMESPACE = "identity"
blueprint = procrastinate.Blueprint()
log = get_logger(__name__)


@blueprint.periodic(cron="*/10 * * * *")
@blueprint.task(name="purge_expired_sms_codes")
async def purge_expired_sms_codes(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the purge does not need it.
    """Delete one-time codes that expired or were used. Idempotent; also deferred for
    each code at its expiry, and run every ten minutes as a sweep."""
    from xingdong.core.runtime import current_runtime
    from xingdong.identity import service

    runtime = current_runtime()
    async with runtime.db.session_scope() as session:
        removed = await service.purge_expired_sms_codes(session)
    log.info("sms_codes_purged", removed=removed)
    return removed


@blueprint.periodic(cron="7 * * * *")
@blueprint.task(name="purge_expired_sign_ins")
async def purge_expired_sign_ins(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Delete browser sessions and API tokens past their expiry, hourly: they answer as
    if they had never been, and kept they would only hold on to addresses and devices
    (PIPL's minimum necessary)."""
    from xingdong.core.runtime import current_runtime
    from xingdong.identity import service

    async with current_runtime().db.session_scope() as session:
        sessions, tokens = await service.purge_expired_sign_ins(session)
    if sessions or tokens:
        log.info("expired_sign_ins_purged", sessions=sessions, tokens=tokens)
    return sessions + tokens


@blueprint.task(name="forget_stragglers", retry=5)
async def forget_stragglers(person_id: str) -> None:
    """A few minutes after an erasure: delete what requests of the account that were under
    way wrote after it (identity/erasure.py)."""
    from uuid import UUID

    from xingdong.core.runtime import current_runtime
    from xingdong.identity import erasure

    runtime = current_runtime()
    async with runtime.db.session_scope() as session:
        await erasure.forget_stragglers(session, person_id=UUID(person_id))
    log.info("erasure_stragglers_forgotten", person=person_id)
