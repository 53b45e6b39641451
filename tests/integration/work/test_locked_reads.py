"""A row locked for an update is read as it is once the lock is held, even when the same
session read it before: otherwise a count changed meanwhile by another transaction is
written back from the stale value, and the change is lost."""

from __future__ import annotations

from sqlalchemy import update

from tests.lifecycle_world import World, live_campaign
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign


async def test_a_locked_campaign_is_read_afresh(world: World) -> None:
    campaign = await live_campaign(world, title="计数")
    async with world.db.sessionmaker() as mine:
        seen = await campaigns.get_campaign(mine, actor=None, campaign_id=campaign.id)
        assert seen.units_open == 0
        # Another transaction takes a unit meanwhile.
        async with world.db.session_scope() as theirs:
            await theirs.execute(
                update(Campaign).where(Campaign.id == campaign.id).values(units_open=1)
            )
        locked = await campaigns.get_campaign(mine, actor=None, campaign_id=campaign.id, lock=True)
        assert locked is seen and locked.units_open == 1
        locked.units_open += 1
        await mine.commit()
    async with world.db.sessionmaker() as s:
        assert (
            await campaigns.get_campaign(s, actor=None, campaign_id=campaign.id)
        ).units_open == 2
