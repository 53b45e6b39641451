"""What a reviewer narrows the review queue to: one task type, what the platform's check
found, high or low risk, and a search over the campaign, its brand and the worker's
account. The same conditions select the gold items shown in that queue, so that a gold
item never stands out as the one entry that does not fit the filter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import ColumnElement, exists, select

from xingdong.campaigns.models import Campaign
from xingdong.campaigns.policy import TaskType
from xingdong.core.pagination import contains
from xingdong.identity.models import Organisation
from xingdong.work.models import Assignment

HIGH_RISK_SCORE = 50
"""From this risk score a hand-in counts as flagged: marked in the queue, asked about
before approval, and what the ``high`` risk filter shows."""

PlatformCheck = Literal["verified", "absent", "unknown", "none"]
"""What the platform's check of the action found; ``none``: no check is on record."""

RiskLevel = Literal["high", "low"]

PLATFORM_CHECKS: tuple[PlatformCheck, ...] = get_args(PlatformCheck)
RISK_LEVELS: tuple[RiskLevel, ...] = get_args(RiskLevel)
SEARCH_LENGTH = 80


@dataclass(frozen=True)
class ReviewFilter:
    """A narrowing of the queue; every field left ``None`` keeps everything."""

    task_type: TaskType | None = None
    check: PlatformCheck | None = None
    risk: RiskLevel | None = None
    search: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ReviewFilter:
        """From a page's address or form (``type``, ``check``, ``risk``, ``q``): a value
        that is not one of the choices (a hand-edited link) is left out, not refused."""
        task_type = query.get("type", "")
        check = query.get("check", "")
        risk = query.get("risk", "")
        search = query.get("q", "").strip()[:SEARCH_LENGTH].strip()
        return cls(
            task_type=TaskType(task_type) if task_type in set(TaskType) else None,
            check=next((c for c in PLATFORM_CHECKS if c == check), None),
            risk=next((r for r in RISK_LEVELS if r == risk), None),
            search=search or None,
        )

    @property
    def narrows(self) -> bool:
        return any(v is not None for v in (self.task_type, self.check, self.risk, self.search))

    def params(self) -> dict[str, str]:
        """The filter as an address's query (only what is set)."""
        given = {"type": self.task_type, "check": self.check, "risk": self.risk, "q": self.search}
        return {key: str(value) for key, value in given.items() if value is not None}

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter over a query that selects assignments joined with their campaign."""
        where: list[ColumnElement[bool]] = []
        if self.task_type is not None:
            where.append(Campaign.task_type == self.task_type.value)
        if self.check is not None:
            status = Assignment.verification["status"].astext
            where.append(status.is_(None) if self.check == "none" else status == self.check)
        if self.risk == "high":
            where.append(Assignment.risk_score >= HIGH_RISK_SCORE)
        elif self.risk == "low":
            where.append(Assignment.risk_score < HIGH_RISK_SCORE)
        if self.search is not None:
            brand = exists(
                select(Organisation.id).where(
                    Organisation.id == Campaign.org_id, contains(Organisation.name, self.search)
                )
            )
            found = contains(Campaign.title, self.search) | brand
            # A bare "@" names no account: it would match every handle.
            if handle := self.search.removeprefix("@").strip():
                found = found | contains(Assignment.actor_handle, handle)
            where.append(found)
        return where


EVERYTHING = ReviewFilter()
"""The whole queue."""
