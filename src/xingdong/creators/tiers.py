"""Creator tiers (新人 / 腰部 / 头部) from the audience of the bound account."""

from __future__ import annotations

from xingdong.core.i18n import N_

TIERS = ("novice", "growing", "head")
TIER_LABELS = {"novice": N_("novice"), "growing": N_("growing"), "head": N_("head")}
GROWING_FROM = 1_000
HEAD_FROM = 100_000


def tier_for_followers(followers: int) -> str:
    if followers >= HEAD_FROM:
        return "head"
    if followers >= GROWING_FROM:
        return "growing"
    return "novice"


def follower_range(tier: str) -> tuple[int, int | None]:
    """The followers a bound account has in ``tier``: from, and up to (excluded; None: no
    upper end)."""
    if tier == "head":
        return HEAD_FROM, None
    if tier == "growing":
        return GROWING_FROM, HEAD_FROM
    return 0, GROWING_FROM


def ladder() -> list[tuple[str, int, int | None]]:
    """Every tier with its followers, from and up to (excluded), lowest first."""
    return [(tier, *follower_range(tier)) for tier in TIERS]
