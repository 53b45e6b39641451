"""One platform event, parsed and checked, as the engine sees it.

An event the engine cannot place at all (not an object, no type, no time, no account) is
malformed and skipped by the caller. Every other gap is tolerated: the event keeps the
names of the fields it lacked, and the engine decides from what is there and says which
signals were missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

DECIDED_TYPES = frozenset({"register", "claim", "submit", "withdraw"})
EVENT_TYPES = DECIDED_TYPES | {"login"}

_COMMON = ("ip", "device", "ua")
_BY_TYPE: dict[str, tuple[str, ...]] = {
    "register": ("phone_hash", "phone_prefix"),
    "login": (),
    "claim": ("task", "target", "task_type"),
    "submit": ("task", "target", "task_type", "evidence", "trajectory", "verified"),
    "withdraw": ("amount_fen", "payout_account"),
}


class MalformedEvent(ValueError):
    """The line cannot be placed in the stream; the reason is user-facing."""


@dataclass(slots=True, frozen=True)
class Evidence:
    sha256: str | None
    phash: int | None
    width: int | None
    height: int | None
    ocr_text: str | None


@dataclass(slots=True)
class Event:
    type: str
    ts: float
    account: str
    ip: str | None = None
    device: str | None = None
    ua: str | None = None
    phone_hash: str | None = None
    phone_prefix: str | None = None
    birth_year: int | None = None
    region: str | None = None
    interests: tuple[str, ...] = ()
    platform_handle: str | None = None
    platform_followers: int | None = None
    platform_account_age_days: int | None = None
    task: str | None = None
    campaign: str | None = None
    target: str | None = None
    task_type: str | None = None
    evidence: Evidence | None = None
    trajectory: list[tuple[float, float, float]] | None = None
    verified: bool | None = None
    amount_fen: int | None = None
    payout_account: str | None = None
    missing: list[str] = field(default_factory=list)
    """Names of expected fields that were absent or unusable, in a stable order."""


def _text(raw: dict[str, Any], name: str, missing: list[str]) -> str | None:
    value = raw.get(name)
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    missing.append(name)
    return None


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _phash(value: object) -> int | None:
    if not isinstance(value, str) or len(value) != 16:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None


def _evidence(value: object, missing: list[str]) -> Evidence | None:
    if not isinstance(value, dict):
        missing.append("evidence")
        return None
    sha = _optional_text(value.get("sha256"))
    phash = _phash(value.get("phash"))
    ocr = value.get("ocr_text")
    if sha is None:
        missing.append("evidence.sha256")
    if phash is None:
        missing.append("evidence.phash")
    if not isinstance(ocr, str):
        missing.append("evidence.ocr_text")
    return Evidence(
        sha256=sha.lower() if sha else None,
        phash=phash,
        width=_integer(value.get("width")),
        height=_integer(value.get("height")),
        ocr_text=ocr if isinstance(ocr, str) else None,
    )


def _trajectory(value: object, missing: list[str]) -> list[tuple[float, float, float]] | None:
    if not isinstance(value, list):
        missing.append("trajectory")
        return None
    try:
        points = [(float(s[0]), float(s[1]), float(s[2])) for s in value]
    except (TypeError, ValueError, IndexError, KeyError):
        points = [
            (float(s[0]), float(s[1]), float(s[2]))
            for s in value
            if isinstance(s, list | tuple)
            and len(s) >= 3
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in s[:3])
        ]
    if len(points) < 3:
        missing.append("trajectory")
        return None
    return points


def parse_event(raw: object) -> Event:
    """Check one decoded JSON value and build the event; raise MalformedEvent when the
    stream cannot place it (no object, type, finite time or account)."""
    if not isinstance(raw, dict):
        raise MalformedEvent("not a JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise MalformedEvent("no event type")
    ts = raw.get("ts")
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
        raise MalformedEvent("no usable ts")
    account = raw.get("account")
    if isinstance(account, int) and not isinstance(account, bool):
        account = str(account)
    if not isinstance(account, str) or not account:
        raise MalformedEvent("no account")
    missing: list[str] = []
    event = Event(type=kind, ts=float(ts), account=account, missing=missing)
    event.ip = _text(raw, "ip", missing)
    event.device = _text(raw, "device", missing)
    event.ua = _text(raw, "ua", missing)
    if kind == "register":
        event.phone_hash = _text(raw, "phone_hash", missing)
        event.phone_prefix = _text(raw, "phone_prefix", missing)
        event.birth_year = _integer(raw.get("birth_year"))
        event.region = _optional_text(raw.get("region"))
        interests = raw.get("interests")
        if isinstance(interests, list):
            event.interests = tuple(str(i) for i in interests if isinstance(i, str))
        event.platform_handle = _optional_text(raw.get("platform_handle"))
        event.platform_followers = _integer(raw.get("platform_followers"))
        event.platform_account_age_days = _integer(raw.get("platform_account_age_days"))
    elif kind in ("claim", "submit"):
        event.task = _text(raw, "task", missing)
        event.campaign = _optional_text(raw.get("campaign"))
        event.target = _text(raw, "target", missing)
        event.task_type = _text(raw, "task_type", missing)
        if kind == "submit":
            event.evidence = _evidence(raw.get("evidence"), missing)
            event.trajectory = _trajectory(raw.get("trajectory"), missing)
            verified = raw.get("verified")
            event.verified = verified if isinstance(verified, bool) else None
            # null is a valid answer (the connector could not tell); only absence is a gap
            if "verified" not in raw:
                missing.append("verified")
    elif kind == "withdraw":
        amount = _integer(raw.get("amount_fen"))
        if amount is None or amount < 0:
            missing.append("amount_fen")
        event.amount_fen = amount
        event.payout_account = _text(raw, "payout_account", missing)
    return event


def expected_fields(kind: str) -> tuple[str, ...]:
    """The fields the contract promises for an event of this type."""
    return _COMMON + _BY_TYPE.get(kind, ())
