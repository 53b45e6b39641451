"""Where the engine keeps what it has seen: a small interface and its in-memory version.

The engine reads and writes only through :class:`RiskStore`; the replay and the benchmark
use :class:`MemoryRiskStore`, the server will back the same interface with its database.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Protocol

from xingdong.risk.phash_index import PhashIndex
from xingdong.risk.windows import SlidingCount, SlidingDistinct


@dataclass(slots=True)
class AccountState:
    first_seen: float
    devices: dict[str, float] = field(default_factory=dict)
    """Device → when this account first used it."""
    claims: dict[str, float] = field(default_factory=dict)
    """Task → when this account claimed it."""
    registration_flags: tuple[str, ...] = ()
    blocked: int = 0
    """Blocks that rested on the account's own behaviour."""
    flagged: int = 0
    """Reviews that rested on the account's own behaviour."""
    flagged_ips: set[str] = field(default_factory=set)
    decisions: int = 0


@dataclass(slots=True, frozen=True)
class EvidenceRecord:
    account: str
    task: str | None
    ts: float
    clock_minute: int | None


@dataclass(slots=True, frozen=True)
class Action:
    account: str
    target: str
    ts: float


class RiskStore(Protocol):
    """Everything the real-time engine remembers between events."""

    def note_distinct(self, kind: str, key: str, member: str, now: float) -> int:
        """Record ``member`` under ``key`` and return how many distinct members ``key`` had
        within the window of ``kind``."""
        ...

    def distinct(self, kind: str, key: str, now: float) -> int: ...

    def note_count(self, kind: str, key: str, now: float) -> int:
        """Record one event under ``key``; return the events within the window of ``kind``."""
        ...

    def account(self, account: str, now: float) -> AccountState:
        """The account's state, created on first sight."""
        ...

    def save_account(self, account: str, state: AccountState) -> None:
        """Keep the state the engine changed (a no-op when it lives in memory)."""
        ...

    def evidence_by_sha(self, sha256: str) -> list[EvidenceRecord]: ...

    def nearest_other(
        self, phash: int, radius: int, account: str
    ) -> tuple[int, EvidenceRecord] | None:
        """The nearest image within ``radius`` bits that another account handed in."""
        ...

    def add_evidence(
        self, sha256: str | None, phash: int | None, record: EvidenceRecord
    ) -> None: ...

    def payout_accounts(self, payout: str) -> set[str]: ...

    def add_payout(self, payout: str, account: str) -> None: ...

    def phone_neighbours(self, number: int, distance: int) -> list[int]:
        """Registered numeric phone tokens within ``distance`` of ``number``."""
        ...

    def add_phone(self, number: int) -> None: ...

    def log_action(self, action: Action) -> None:
        """Keep an action on a target for the batch detectors."""
        ...

    def log_link(self, account: str, kind: str, value: str) -> None:
        """Keep an account's use of a device, IP or payout account for ring detection."""
        ...


class MemoryRiskStore:
    """The store in process memory: used by replay, the benchmark and tests."""

    def __init__(self, windows: dict[str, float], *, phash_radius: int = 7) -> None:
        self._distinct = {kind: SlidingDistinct(seconds) for kind, seconds in windows.items()}
        self._counts = {kind: SlidingCount(seconds) for kind, seconds in windows.items()}
        self._accounts: dict[str, AccountState] = {}
        self._by_sha: dict[str, list[EvidenceRecord]] = {}
        self._phash = PhashIndex(phash_radius)
        self._phash_records: list[EvidenceRecord] = []
        self._payouts: dict[str, set[str]] = {}
        self._phones: list[int] = []
        self.actions: list[Action] = []
        self.links: dict[str, dict[str, set[str]]] = {}
        """Kind → value → accounts."""

    def note_distinct(self, kind: str, key: str, member: str, now: float) -> int:
        return self._distinct[kind].add(key, member, now)

    def distinct(self, kind: str, key: str, now: float) -> int:
        return self._distinct[kind].count(key, now)

    def note_count(self, kind: str, key: str, now: float) -> int:
        return self._counts[kind].add(key, now)

    def account(self, account: str, now: float) -> AccountState:
        state = self._accounts.get(account)
        if state is None:
            state = self._accounts[account] = AccountState(first_seen=now)
        return state

    def save_account(self, account: str, state: AccountState) -> None:
        self._accounts[account] = state

    def known_accounts(self) -> dict[str, AccountState]:
        return self._accounts

    def evidence_by_sha(self, sha256: str) -> list[EvidenceRecord]:
        return self._by_sha.get(sha256, [])

    def nearest_other(
        self, phash: int, radius: int, account: str
    ) -> tuple[int, EvidenceRecord] | None:
        records = self._phash_records
        for distance, image in self._phash.near(phash, radius):
            if records[image].account != account:
                return distance, records[image]
        return None

    def add_evidence(self, sha256: str | None, phash: int | None, record: EvidenceRecord) -> None:
        if sha256 is not None:
            self._by_sha.setdefault(sha256, []).append(record)
        if phash is not None:
            self._phash.add(phash)
            self._phash_records.append(record)

    def payout_accounts(self, payout: str) -> set[str]:
        return self._payouts.get(payout, set())

    def add_payout(self, payout: str, account: str) -> None:
        self._payouts.setdefault(payout, set()).add(account)

    def phone_neighbours(self, number: int, distance: int) -> list[int]:
        low = bisect.bisect_left(self._phones, number - distance)
        high = bisect.bisect_right(self._phones, number + distance)
        return self._phones[low:high]

    def add_phone(self, number: int) -> None:
        bisect.insort(self._phones, number)

    def log_action(self, action: Action) -> None:
        self.actions.append(action)

    def log_link(self, account: str, kind: str, value: str) -> None:
        self.links.setdefault(kind, {}).setdefault(value, set()).add(account)
