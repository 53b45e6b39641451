"""A platform whose answers about actions come late: the benchmark of hand-ins and the
tests put one around the sandbox to stand for a real platform's slow API (a fixed delay,
or a gate the test opens)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from xingdong.platforms.connector import AccountInfo, PlatformConnector, TargetInfo, Verification


class LateAnswers:
    """``inner``, whose answers to "was this done?" and "is it still there?" come only
    after ``before_answer()`` returns; its other answers too when ``everything``."""

    def __init__(
        self,
        inner: PlatformConnector,
        before_answer: Callable[[], Awaitable[None]],
        *,
        everything: bool = False,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.before_answer = before_answer
        self.everything = everything

    async def _other_answer(self) -> None:
        if self.everything:
            await self.before_answer()

    async def describe_account(
        self, handle: str, *, declared_followers: int, claimant: str
    ) -> AccountInfo:
        await self._other_answer()
        return await self.inner.describe_account(
            handle, declared_followers=declared_followers, claimant=claimant
        )

    async def authorise_org_link(self, handle: str, *, claimants: tuple[str, ...]) -> AccountInfo:
        await self._other_answer()
        return await self.inner.authorise_org_link(handle, claimants=claimants)

    async def resolve_target(self, kind: str, ref: str) -> TargetInfo:
        await self._other_answer()
        return await self.inner.resolve_target(kind, ref)

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
        await self.before_answer()
        return await self.inner.verify_action(
            action, actor_handle=actor_handle, target=target, since=since,
            min_watch_seconds=min_watch_seconds, min_stay_seconds=min_stay_seconds,
            tracking_code=tracking_code, min_impressions=min_impressions,
        )  # fmt: skip

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
        await self.before_answer()
        return await self.inner.check_retention(
            action, actor_handle=actor_handle, target=target, tracking_code=tracking_code,
            until=until, min_impressions=min_impressions,
        )  # fmt: skip

    async def public_stats(self, target: TargetInfo) -> dict[str, int]:
        await self._other_answer()
        return await self.inner.public_stats(target)
