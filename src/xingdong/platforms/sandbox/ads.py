"""Profile ads on the sandbox platform: an account puts an advertiser's ad card at the top
of its own profile page (labelled 广告, one at a time), and the platform counts how often
it is seen. What Xingdong's profile-ad tasks are verified and paid by (per thousand)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.errors import ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.security import keyed_digest
from xingdong.platforms.sandbox import repository as repo
from xingdong.platforms.sandbox import service
from xingdong.platforms.sandbox.errors import SandboxAdNotFound
from xingdong.platforms.sandbox.models import SandboxAccount, SandboxProfileAd

RECOUNT_AFTER = timedelta(minutes=30)
"""A viewer who comes back to the profile counts again only after this long."""
AD_TEXT_MAX_LENGTH = 100


def ad_line(advertiser: SandboxAccount) -> str:
    """What the card says: the advertiser's own line (its bio), or its name."""
    return (advertiser.bio.strip() or advertiser.display_name)[:AD_TEXT_MAX_LENGTH]


async def put_up(
    session: AsyncSession,
    *,
    account: SandboxAccount,
    advertiser: SandboxAccount,
    ref: str | None = None,
    now: datetime | None = None,
) -> SandboxProfileAd:
    """Show ``advertiser``'s ad on ``account``'s profile, in place of the one it showed;
    ``ref`` is the tracking code of the link it was put up through."""
    if advertiser.id == account.id:
        raise ValidationFailed(detail=N_("An account cannot show an ad for itself."))
    at = now or utcnow()
    await repo.lock_account(session, account.id)
    showing = await repo.ad_showing(session, account.id)
    if showing is not None:
        showing.removed_at = at
        await session.flush()
    ad = SandboxProfileAd(
        id=new_id(),
        account_id=account.id,
        advertiser_id=advertiser.id,
        line=ad_line(advertiser),
        ref=service.clean_ref(ref),
        impressions=0,
        created_at=at,
    )
    session.add(ad)
    await session.flush()
    return ad


async def take_down(
    session: AsyncSession, *, account: SandboxAccount, now: datetime | None = None
) -> SandboxProfileAd:
    """Stop showing the account's ad; its impressions stay counted."""
    await repo.lock_account(session, account.id)
    showing = await repo.ad_showing(session, account.id)
    if showing is None:
        raise SandboxAdNotFound(detail=N_("Your profile shows no ad."))
    showing.removed_at = now or utcnow()
    await session.flush()
    return showing


async def showing(session: AsyncSession, *, account: SandboxAccount) -> SandboxProfileAd | None:
    return await repo.ad_showing(session, account.id)


def viewer_key(viewer: SandboxAccount | None, address: str, *, secret: str) -> str:
    """Who saw an ad: a signed-in account, or, signed out, the network address (an IPv6
    address's /64, what one household or phone holds), keyed-hashed so the platform keeps
    no address. Not the browser's name: a script could change it at every request."""
    if viewer is not None:
        return "a:" + viewer.id.hex
    return "v:" + keyed_digest(secret, "ad-viewer:" + network_of(address))[:40]


def network_of(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


async def count_view(
    session: AsyncSession,
    *,
    profile: SandboxAccount,
    viewer: SandboxAccount | None,
    viewer_key: str,
    now: datetime | None = None,
) -> bool:
    """Someone opened ``profile``: one impression of the ad it shows, unless it is the
    account itself or the same viewer was counted within :data:`RECOUNT_AFTER`."""
    if viewer is not None and viewer.id == profile.id:
        return False
    ad = await repo.ad_showing(session, profile.id)
    if ad is None:
        return False
    at = now or utcnow()
    return await repo.count_ad_view(session, ad.id, viewer_key, at, at - RECOUNT_AFTER)


async def show_to_audience(session: AsyncSession, *, ad_id: UUID, views: int) -> None:
    """Impressions from the platform's own audience scrolling past the profile (the
    demo's stand-in for the traffic a real platform sends to a creator's page)."""
    if views > 0:
        await repo.add_ad_impressions(session, ad_id, views)
