"""The interface every short-video platform connector implements, and how one is chosen.

A connector is Xingdong's window on a platform that is not ours: it describes accounts,
finds the targets of tasks, and checks whether a person really did an action (and whether
it is still there later). Only the built-in ``sandbox`` platform exists so far; a real
connector (Kuaishou …) implements :class:`PlatformConnector` and is added in
:func:`build_connectors`. Code reaches a connector only through :func:`get_connector`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from prometheus_client import Counter

from xingdong.core.errors import FieldError, ValidationFailed, XingdongError
from xingdong.core.i18n import N_
from xingdong.core.logging import get_logger

if TYPE_CHECKING:
    from xingdong.core.db import Database

TARGET_KINDS = ("account", "video", "live_room", "product")
ACTIONS = ("follow", "like", "comment", "share", "shoot", "live_visit", "purchase", "profile_ad")

ACTION_TARGET_KIND: dict[str, str] = {
    "follow": "account",
    "like": "video",
    "comment": "video",
    "share": "video",
    # A shoot task is done by posting one's own video that mentions the target account.
    "shoot": "account",
    "live_visit": "live_room",
    # Bought in the platform's own shop, so the order is tied to the buyer's account.
    "purchase": "product",
    # The advertiser's account, whose ad card the person shows on their own profile.
    "profile_ad": "account",
}
"""Which kind of target each action is done to."""

VerificationStatus = Literal["verified", "absent", "unknown"]


@dataclass(frozen=True)
class AccountInfo:
    handle: str
    followers: int


@dataclass(frozen=True)
class TargetInfo:
    """Something a task points at: an account, a video or a live room."""

    platform: str
    kind: str
    """One of :data:`TARGET_KINDS`."""
    ref: str
    """The platform's own reference: the handle of an account, the id of a video or room."""
    title: str
    owner_handle: str
    """The account the target belongs to (for an account, its own handle)."""
    url: str
    """Where a person goes to act on it."""
    price_fen: int | None = None
    """For a product: its price in the shop, in fen."""


@dataclass(frozen=True)
class Verification:
    """What the platform shows about one person's action on one target."""

    status: VerificationStatus
    """``verified`` (the action is there and meets the conditions), ``absent`` (it is not,
    or not in time, or too short) or ``unknown`` (the platform cannot tell, for instance
    because the person's account or the target is not found)."""
    observed_at: datetime | None
    """When the action was made, as the platform recorded it; None when not verified."""
    detail: str
    """A short machine reason: ``follow_found``, ``no_follow``, ``watched_too_short`` …"""
    watched_seconds: int | None = None
    stayed_seconds: int | None = None
    comment_text: str | None = None
    impressions: int | None = None
    """For a profile ad: the times it was seen so far."""

    @property
    def is_verified(self) -> bool:
        return self.status == "verified"


class UnknownPlatform(ValidationFailed):
    code = "unknown_platform"
    title = N_("This platform is not supported")


class TargetNotFound(ValidationFailed):
    code = "target_not_found"
    title = N_("The target was not found on the platform")


class UnsupportedAction(ValidationFailed):
    code = "unsupported_action"
    title = N_("This action cannot be checked on this target")


def tracked_link(url: str, ref: str) -> str:
    """``url`` carrying the tracking code ``ref`` (``?ref=…``), which the platform records
    on the order placed, or the profile ad put up, through it."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "ref"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("ref", ref)])))


def require_action_on(action: str, kind: str) -> None:
    """Refuse an unknown action, or one done to the wrong kind of target."""
    if ACTION_TARGET_KIND.get(action) != kind:
        raise UnsupportedAction(
            detail=N_("The action {action} is not done to a {kind}."),
            extra={"action": action, "kind": kind},
        )


class PlatformConnector(Protocol):
    name: str

    async def describe_account(
        self, handle: str, *, declared_followers: int, claimant: str
    ) -> AccountInfo:
        """What the platform says about the account a person (``claimant``, their id)
        wants to bind; refused when the platform does not let them bind it (it is not
        theirs)."""
        ...

    async def authorise_org_link(self, handle: str, *, claimants: tuple[str, ...]) -> AccountInfo:
        """What the platform says about an account an organisation wants to link, refused
        unless the platform lets one of ``claimants`` manage it (the organisation, as
        ``org:<id>``, or the member linking it, by their id), as a real platform asks the
        account's owner to authorise the link. Raises :class:`TargetNotFound` for a
        handle the platform does not have."""
        ...

    async def resolve_target(self, kind: str, ref: str) -> TargetInfo:
        """Find a target from what a brand typed: ``@handle``, a handle, an id, or the
        target's URL on the platform. Raises :class:`TargetNotFound`."""
        ...

    async def verify_action(
        self,
        action: str,
        *,
        actor_handle: str,
        target: TargetInfo,
        since: datetime,
        min_watch_seconds: int = 0,
        min_stay_seconds: int = 0,
        tracking_code: str | None = None,
        min_impressions: int = 0,
    ) -> Verification:
        """Did ``actor_handle`` do ``action`` to ``target`` at or after ``since``, watching
        (likes) or staying (live visits) at least as long as asked? For a purchase or a
        profile ad with ``tracking_code``, only an order placed, or an ad put up, through a
        link carrying it counts; a profile ad is verified once seen ``min_impressions``
        times."""
        ...

    async def check_retention(
        self,
        action: str,
        *,
        actor_handle: str,
        target: TargetInfo,
        tracking_code: str | None = None,
        until: datetime | None = None,
        min_impressions: int = 0,
    ) -> Verification:
        """Is the follow, like, comment, share or posted video still there now, the order
        not returned, the profile ad's impressions still counted (``min_impressions``)?
        For a purchase, only an order placed at or before ``until`` (when the work was
        handed in) counts: one bought later cannot stand in for the order the work was
        verified by and then returned."""
        ...

    async def public_stats(self, target: TargetInfo) -> dict[str, int]:
        """Public counts: ``followers``/``videos`` for an account, ``views``/``likes``/
        ``comments``/``shares`` for a video, ``visitors``/``live`` for a live room,
        ``price_fen``/``orders``/``refunds``/``on_sale`` for a product."""
        ...


log = get_logger(__name__)
T = TypeVar("T")

PLATFORM_NO_ANSWER = Counter(
    "xingdong_platform_no_answer_total",
    "Questions to a short-video platform it did not answer in time, by platform",
    ["platform"],
)


class PlatformUnavailable(XingdongError):
    status = 503
    code = "platform_unavailable"
    title = N_("The platform did not answer")


async def answered_in_time(platform: str, question: Awaitable[T]) -> T:
    """The platform's answer to ``question``, or :class:`PlatformUnavailable` (503: try
    again) when none comes within ``platform_timeout_seconds``: a platform that hangs must
    not keep a person's request, or the locks it holds, waiting with it."""
    from xingdong.core.runtime import current_runtime

    timeout = current_runtime().settings.platform_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            return await question
    except TimeoutError:
        PLATFORM_NO_ANSWER.labels(platform=platform).inc()
        log.warning("platform_no_answer", platform=platform, timeout_seconds=timeout)
        raise PlatformUnavailable(
            detail=N_("The platform did not answer in time; please try again in a moment.")
        ) from None


def build_connectors(db: Database) -> dict[str, PlatformConnector]:
    """Every platform this process can talk to, by name (built once, in the runtime)."""
    from xingdong.platforms.sandbox.connector import SandboxConnector

    return {"sandbox": SandboxConnector(db)}


def get_connector(platform: str) -> PlatformConnector:
    from xingdong.core.runtime import current_runtime

    try:
        return current_runtime().platforms[platform]
    except KeyError:
        raise UnknownPlatform(
            detail=N_("Supported platforms: sandbox."),
            fields=[FieldError("platform", N_("Choose a supported platform."))],
        ) from None
