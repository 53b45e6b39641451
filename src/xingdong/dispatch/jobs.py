"""Background jobs of the dispatch domain: the nightly seeding of the pacing prices and
their solving again on the rest of the day every three hours."""

from __future__ import annotations

import procrastinate

from xingdong.core.logging import get_logger

NAMESPACE = "dispatch"
blueprint = procrastinate.Blueprint()
log = get_logger(__name__)
SEEDING_JOB = f"{NAMESPACE}:seed_prices"
SEEDING_LOCK = "dispatch_seed_prices"
"""One seeding waits at a time, the nightly one or one an operator asked for."""
RESOLVING_JOB = f"{NAMESPACE}:resolve_prices"


async def _seed(job: str, event: str) -> int:
    """Run the seeding ``job`` names and log it as ``event``; a failure is written to the
    audit log (said on the feed console until a seeding stores prices) and the job still
    fails."""
    from xingdong.core.runtime import current_runtime
    from xingdong.dispatch import nightly

    runtime = current_runtime()
    run = nightly.seed_prices if job == SEEDING_JOB else nightly.resolve_prices
    try:
        seeding = await run(runtime.db, runtime.settings)
    except Exception as exc:
        await nightly.record_seeding_failure(runtime.db, exc, job=job)
        raise
    log.info(
        event,
        visits=seeding.visits,
        day_visits=seeding.day_visits,
        campaigns=seeding.campaigns,
        scarce=seeding.scarce,
        exact=seeding.exact,
    )
    return seeding.campaigns


# 19:30 UTC is 03:30 in China, when the platform is quietest.
@blueprint.periodic(cron="30 19 * * *")
# The lock makes a seeding an operator asked for and the nightly one run one after the
# other; each replaces the stored prices.
@blueprint.task(name="seed_prices", lock=SEEDING_LOCK, queueing_lock=SEEDING_LOCK)
async def seed_prices(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the seeding reads the clock itself.
    """Every night: replay the last day's visits through the optimum and store each live
    campaign's starting pacing price."""
    return await _seed(SEEDING_JOB, "dispatch_prices_seeded")


# Every three hours on the quarter: 08:15, 11:15 … in China (00:15 UTC and on). The seeding
# lock keeps it from running beside a seeding; each replaces the stored prices.
@blueprint.periodic(cron="15 */3 * * *")
@blueprint.task(name="resolve_prices", lock=SEEDING_LOCK, queueing_lock="dispatch_resolve_prices")
async def resolve_prices(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Solve the pacing prices again on the traffic the rest of the day should bring, with
    the units left now (``dispatch.rest_of_day``), and store them as the seeding."""
    return await _seed(RESOLVING_JOB, "dispatch_prices_resolved")


@blueprint.periodic(cron="7 20 * * *")  # 04:07 in China, after the seeding read the day
@blueprint.task(name="prune_exposures", queueing_lock="dispatch_prune_exposures")
async def prune_exposures(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Forget the feeds shown more than XINGDONG_DISPATCH_EXPOSURE_RETENTION_DAYS ago: the
    log grows by a row a feed request, and who was shown what is personal data."""
    from xingdong.core.runtime import current_runtime
    from xingdong.dispatch import exposures

    runtime = current_runtime()
    days = runtime.settings.dispatch_exposure_retention_days
    pruned = await exposures.prune_exposures(runtime.db, days=days)
    if pruned:
        log.info("exposures_pruned", count=pruned)
    return pruned
