"""Risk decisions on the live platform: the same engine as ``xingdong risk replay``, kept
in memory in each server process and in step with every other process through the
``risk_events`` table.

``decide`` first applies the events other processes recorded since this one last looked
(so a farm spread over many servers is still seen as one), then decides the new event,
then records it in the caller's transaction. A request that fails afterwards drops the
record; the process's memory keeps it, which can only make later decisions more careful.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Text, bindparam, cast, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.client_signals import ClientSignals
from xingdong.core.clock import utcnow
from xingdong.core.db import DELETE_BATCH, Database, delete_in_batches
from xingdong.core.logging import get_logger
from xingdong.core.security import keyed_digest
from xingdong.core.settings import RISK_WARM_DAYS, Settings, get_settings
from xingdong.risk.engine import Decision, RiskEngine, memory_store
from xingdong.risk.errors import REFUSED, RiskRefused
from xingdong.risk.events import MalformedEvent, parse_event
from xingdong.risk.model import RiskModel
from xingdong.risk.models import RiskEvent, RiskLabel
from xingdong.risk.settings import RiskSettings

log = get_logger(__name__)

WARM_DAYS = RISK_WARM_DAYS
"""How far back a starting process reads recorded events to rebuild its memory."""
CATCH_UP_BATCH = 5_000


@dataclass
class LiveRisk:
    settings: RiskSettings
    model: RiskModel | None = None
    engine: RiskEngine = field(init=False)
    seen_id: int | None = None
    own_ids: set[int] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.engine = RiskEngine(self.settings, memory_store(self.settings), self.model)

    async def catch_up(self, session: AsyncSession) -> None:
        if self.seen_id is None:
            since = utcnow() - timedelta(days=WARM_DAYS)
            first = await session.scalar(
                select(func.min(RiskEvent.id)).where(RiskEvent.recorded_at >= since)
            )
            self.seen_id = (
                (first - 1)
                if first is not None
                else (await session.scalar(select(func.max(RiskEvent.id))) or 0)
            )
        while True:
            rows = (
                await session.execute(
                    select(RiskEvent.id, RiskEvent.event)
                    .where(RiskEvent.id > self.seen_id)
                    .order_by(RiskEvent.id)
                    .limit(CATCH_UP_BATCH)
                )
            ).all()
            for row_id, raw in rows:
                if row_id in self.own_ids:
                    self.own_ids.discard(row_id)
                else:
                    try:
                        self.engine.decide(parse_event(raw))
                    except MalformedEvent:
                        log.warning("risk_event_unreadable", id=row_id)
                self.seen_id = row_id
            if len(rows) < CATCH_UP_BATCH:
                return


_LIVE: dict[tuple[int, str], tuple[weakref.ref[Any], LiveRisk]] = {}


def rules_from(path: Path | None) -> RiskSettings:
    return RiskSettings.from_file(path) if path is not None else RiskSettings()


def live_risk(
    session: AsyncSession, rules_file: Path | None, model_file: Path | None = None
) -> LiveRisk:
    """This process's engine for the session's database engine (and these rules)."""
    engine = session.get_bind().engine
    key = (id(engine), f"{rules_file}|{model_file}")
    known = _LIVE.get(key)
    if known is not None and known[0]() is engine:
        return known[1]
    model = RiskModel.from_file(model_file) if model_file is not None else None
    live = LiveRisk(rules_from(rules_file), model)
    _LIVE[key] = (weakref.ref(engine), live)
    return live


@dataclass(frozen=True)
class RiskVerdict:
    decision: str
    score: float
    reasons: list[str]

    @property
    def blocks(self) -> bool:
        return self.decision == "block"

    @property
    def needs_review(self) -> bool:
        return self.decision == "review"


async def decide(
    session: AsyncSession,
    *,
    event: dict[str, Any],
    settings: Settings | None = None,
) -> RiskVerdict:
    """Decide one platform event (a dict in the replay format; ``ts`` is filled in when
    absent) and record it. Never raises for a gap in the event: the engine decides from
    what it has and says which signals were missing."""
    event = {**event}
    event.setdefault("ts", utcnow().timestamp())
    chosen = settings or get_settings()
    live = live_risk(session, chosen.risk_rules_file, chosen.risk_model_file)
    async with live.lock:
        await live.catch_up(session)
        decision: Decision = live.engine.decide(parse_event(event))
        row = RiskEvent(
            kind=str(event["type"])[:10],
            account=str(event["account"])[:64],
            event=json.loads(json.dumps(event, default=str)),
            decision=None if event["type"] == "login" else decision.decision,
            score=round(decision.score, 4),
            reasons=list(decision.reasons),
        )
        session.add(row)
        await session.flush()
        live.own_ids.add(row.id)
    if decision.decision != "allow":
        log.info(
            "risk_decision", kind=event["type"], account=event["account"],
            decision=decision.decision, reasons=decision.reasons,
        )  # fmt: skip
    return RiskVerdict(decision.decision, decision.score, list(decision.reasons))


_OLDEST_PRUNED = delete(RiskEvent).where(
    RiskEvent.id.in_(
        select(RiskEvent.id)
        .where(RiskEvent.recorded_at < bindparam("cutoff"))
        .order_by(RiskEvent.id)
        .limit(bindparam("batch"))
    )
)


async def prune_events(
    db: Database, *, settings: Settings, now: datetime | None = None, batch: int = DELETE_BATCH
) -> int:
    """Delete the recorded events older than ``risk_event_retention_days``, oldest first,
    ``batch`` a transaction; answers how many."""
    cutoff = (now or utcnow()) - timedelta(days=settings.risk_event_retention_days)
    return await delete_in_batches(db, _OLDEST_PRUNED, {"cutoff": cutoff}, batch=batch)


async def recorded_event_lines(session: AsyncSession, *, since: datetime) -> list[str]:
    """Recorded events since a moment, oldest first, in the replay format: JSON text, one
    event a line, as ``risk export`` writes them and the scan replays them (decoded by
    their reader, off the event loop where there is much of it)."""
    query = (
        select(cast(RiskEvent.event, Text))
        .where(RiskEvent.recorded_at >= since)
        .order_by(RiskEvent.id)
    )
    return list((await session.scalars(query)).all())


def client_fields(signals: ClientSignals | None) -> dict[str, Any]:
    """The address, device and user agent of an event, when the request told them."""
    if signals is None:
        return {}
    return {"ip": signals.ip, "device": signals.device, "ua": signals.user_agent}


async def screen_withdrawal(
    session: AsyncSession,
    *,
    person_id: UUID,
    amount_fen: int,
    signals: ClientSignals | None,
    settings: Settings,
) -> list[str]:
    """A withdrawal request, before the ledger sees it: a block refuses it; the reasons of
    a review are returned, for the ledger to hold the withdrawal for an operator."""
    from xingdong.ledger import withdrawals

    payout = await withdrawals.payout_account(session, person_id)
    verdict = await decide(
        session,
        event={
            "type": "withdraw",
            "account": str(person_id),
            "amount_fen": amount_fen,
            "payout_account": payout.account_hash if payout else None,
            **client_fields(signals),
        },
        settings=settings,
    )
    if verdict.blocks:
        raise RiskRefused(detail=REFUSED)
    return verdict.reasons if verdict.needs_review else []


def phone_facts(phone: str, secret: str) -> dict[str, str]:
    """What the engine may know of a phone number: a keyed hash (the same number gives the
    same hash, and without the key no number can be found from it: there are too few
    numbers for a plain hash to hide one) and the operator prefix."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    national = digits[-11:]
    return {
        "phone_hash": keyed_digest(secret, "phone:" + national),
        "phone_prefix": national[:3],
    }


async def forget_phone(session: AsyncSession, *, person_id: UUID, phone: str, secret: str) -> int:
    """An erased account's recorded events keep their phone hash keyed (events recorded
    before hashes were keyed held a plain one): the same number registering again is still
    recognised, and the number cannot be read back. How many events changed."""
    result = await session.execute(
        update(RiskEvent)
        .where(RiskEvent.account == str(person_id), RiskEvent.event.has_key("phone_hash"))
        .values(
            event=RiskEvent.event.op("||")(
                func.jsonb_build_object("phone_hash", phone_facts(phone, secret)["phone_hash"])
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def decide_registration(
    session: AsyncSession,
    *,
    person_id: UUID,
    phone: str,
    signals: ClientSignals | None,
    settings: Settings,
) -> RiskVerdict:
    """A new account: a block refuses the registration."""
    verdict = await decide(
        session,
        event={
            "type": "register",
            "account": str(person_id),
            **phone_facts(phone, settings.secret_key.get_secret_value()),
            "birth_year": None,
            "region": None,
            "interests": [],
            "platform_handle": None,
            "platform_followers": None,
            "platform_account_age_days": None,
            **client_fields(signals),
        },
        settings=settings,
    )
    if verdict.blocks:
        raise RiskRefused(detail=REFUSED)
    return verdict


async def note_login(
    session: AsyncSession,
    *,
    person_id: UUID,
    signals: ClientSignals | None,
    settings: Settings,
) -> None:
    """A sign-in: recorded (devices and addresses count for later decisions)."""
    await decide(
        session,
        event={"type": "login", "account": str(person_id), **client_fields(signals)},
        settings=settings,
    )


def registration_screen(
    session: AsyncSession, signals: ClientSignals | None, settings: Settings
) -> Callable[[UUID, str], Awaitable[RiskVerdict]]:
    """The check ``identity.register_person`` runs before it creates the account."""

    async def screen(person_id: UUID, phone: str) -> RiskVerdict:
        return await decide_registration(
            session, person_id=person_id, phone=phone, signals=signals, settings=settings,
        )  # fmt: skip

    return screen


async def labels(session: AsyncSession) -> list[dict[str, str]]:
    """Operators' verdicts, the latest per account, as ``xingdong risk train`` reads them."""
    rows = (await session.execute(select(RiskLabel).order_by(RiskLabel.id))).scalars().all()
    latest = {row.account: row.is_fraud for row in rows}
    return [
        {"account": account, "label": "fraud" if fraud else "honest"}
        for account, fraud in latest.items()
    ]
