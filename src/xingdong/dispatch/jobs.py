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


# 19:30 UTC is 03:30 in China, when the platform is quietest.
@blueprint.periodic(cron="30 19 * * *")
# The lock makes a seeding an operator asked for and the nightly one run one after the
# other; each replaces the stored prices.
@blueprint.task(name="seed_prices", lock=SEEDING_LOCK, queueing_lock=SEEDING_LOCK)
async def seed_prices(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the seeding reads the clock itself.
    """Every night: replay the last day's visits through the optimum and store each live
    campaign's starting pacing price."""
    from xingdong.core.runtime import current_runtime
    from xingdong.dispatch import nightly

    runtime = current_runtime()
    try:
        seeding = await nightly.seed_prices(runtime.db, runtime.settings)
    except Exception as exc:
        # Said on the feed console until a seeding stores prices; the job still fails.
        await nightly.record_seeding_failure(runtime.db, exc)
        raise
    log.info(
        "dispatch_prices_seeded",
        visits=seeding.visits,
        campaigns=seeding.campaigns,
        scarce=seeding.scarce,
        exact=seeding.exact,
    )
    return seeding.campaigns


# Every three hours on the quarter: 08:15, 11:15 … in China (00:15 UTC and on). The seeding
# lock keeps it from running beside a seeding; each replaces the stored prices.
@blueprint.periodic(cron="15 */3 * * *")
@blueprint.task(name="resolve_prices", lock=SEEDING_LOCK, queueing_lock="dispatch_resolve_prices")
async def resolve_prices(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Solve the pacing prices again on the traffic the rest of the day should bring, with
    the units left now (``dispatch.rest_of_day``), and store them as the seeding."""
    from xingdong.core.runtime import current_runtime
    from xingdong.dispatch import nightly

    runtime = current_runtime()
    try:
        seeding = await nightly.resolve_prices(runtime.db, runtime.settings)
    except Exception as exc:
        await nightly.record_seeding_failure(runtime.db, exc, job=RESOLVING_JOB)
        raise
    log.info(
        "dispatch_prices_resolved",
        visits=seeding.visits,
        campaigns=seeding.campaigns,
        scarce=seeding.scarce,
    )
    return seeding.campaigns
