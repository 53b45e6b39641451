"""Operator endpoints of the ledger, under ``/api/v1/ops/ledger``."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from xingdong.core.policy import Action, require
from xingdong.ledger import service
from xingdong.web.deps import ApiActor, DbSession

router = APIRouter(prefix="/api/v1/ops/ledger", tags=["ledger"])


class VerifyOut(BaseModel):
    ok: bool
    accounts: int
    transfers: int
    problems: list[str]


@router.get("/verify")
async def verify_ledger(actor: ApiActor, session: DbSession) -> VerifyOut:
    """Check every ledger invariant now (operators)."""
    require(actor, Action.STAFF_CONSOLE)
    report = await service.verify(session)
    return VerifyOut(
        ok=report.ok,
        accounts=report.accounts,
        transfers=report.transfers,
        problems=report.problems,
    )
