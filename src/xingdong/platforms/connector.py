"""The interface every short-video platform connector implements, and how one is chosen.

Only the built-in ``sandbox`` platform exists so far; a real connector (Kuaishou …)
implements the same protocol and is registered in :data:`CONNECTORS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from xingdong.core.errors import ValidationFailed
from xingdong.core.i18n import N_


@dataclass(frozen=True)
class AccountInfo:
    handle: str
    followers: int


class PlatformConnector(Protocol):
    name: str

    async def describe_account(self, handle: str, *, declared_followers: int) -> AccountInfo:
        """What the platform says about the account a person wants to bind."""
        ...


class SandboxConnector:
    """The simulated platform built into Xingdong. It trusts what the person declares,
    which is what a simulation is for; a real connector reads it from the platform."""

    name = "sandbox"

    async def describe_account(self, handle: str, *, declared_followers: int) -> AccountInfo:
        return AccountInfo(handle=handle, followers=declared_followers)


CONNECTORS: dict[str, PlatformConnector] = {"sandbox": SandboxConnector()}


class UnknownPlatform(ValidationFailed):
    code = "unknown_platform"
    title = N_("This platform is not supported")


def get_connector(platform: str) -> PlatformConnector:
    try:
        return CONNECTORS[platform]
    except KeyError:
        raise UnknownPlatform(detail=N_("Supported platforms: sandbox.")) from None
