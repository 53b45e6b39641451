"""Background jobs of the task lifecycle: expiry, checks in the hold, hold release,
closing ended campaigns."""

from __future__ import annotations

import procrastinate

from xingdong.core.logging import get_logger

NAMESPACE = "work"
blueprint = procrastinate.Blueprint()
log = get_logger(__name__)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="expire_claims")
async def expire_claims(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the sweep reads the clock itself.
    """Release claims whose time ran out: their budget goes back to the campaign."""
    from xingdong.core.runtime import current_runtime
    from xingdong.work import service

    async with current_runtime().db.session_scope() as session:
        expired = await service.expire_claims(session)
    if expired:
        log.info("claims_expired", count=expired)
    return expired


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(name="settle_holds")
async def settle_holds(timestamp: int | None = None) -> dict[str, int]:  # noqa: ARG001
    """After the hold, check retention on the platform: release or claw back."""
    from xingdong.core.clock import utcnow
    from xingdong.core.runtime import current_runtime
    from xingdong.work import service

    db = current_runtime().db
    moment = utcnow()
    async with db.sessionmaker() as session:
        due = await service.due_holds(session, now=moment)
    outcome = {"released": 0, "clawed_back": 0, "waiting": 0}
    for assignment_id in due:
        # One transaction a hold: its ledger locks end with it (see service.settle_holds).
        async with db.session_scope() as session:
            settled = await service.settle_hold(session, assignment_id, now=moment)
        if settled in outcome:
            outcome[settled] += 1
    if outcome["released"] or outcome["clawed_back"]:
        log.info("holds_settled", **outcome)
    return outcome


@blueprint.periodic(cron="13,43 * * * *")
@blueprint.task(name="check_holds")
async def check_holds(timestamp: int | None = None) -> dict[str, int]:  # noqa: ARG001
    """Look at rewards in hold every ``hold_check_hours``: is the action still there? The
    answer is kept on the task, so a worker who undid it sees so while there is time."""
    from datetime import timedelta

    from xingdong.core.clock import utcnow
    from xingdong.core.runtime import current_runtime
    from xingdong.work import service

    runtime = current_runtime()
    hours = runtime.settings.hold_check_hours
    outcome = {"released": 0, "clawed_back": 0, "waiting": 0}
    if hours <= 0:
        return outcome
    moment = utcnow()
    async with runtime.db.sessionmaker() as session:
        due = await service.holds_to_check(session, now=moment, every=timedelta(hours=hours))
    for assignment_id in due:
        # One transaction a check: a platform that is slow for one holds up no other.
        async with runtime.db.session_scope() as session:
            found = await service.check_hold(session, assignment_id, now=moment)
        if found in outcome:
            outcome[found] += 1
    if due:
        log.info("holds_checked", **outcome)
    return outcome


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="close_ended_campaigns")
async def close_ended_campaigns(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Close campaigns whose window has ended and return their unused escrow."""
    from xingdong.campaigns import service
    from xingdong.core.runtime import current_runtime

    async with current_runtime().db.session_scope() as session:
        closed = await service.close_ended_campaigns(session)
    if closed:
        log.info("campaigns_closed", count=closed)
    return closed
