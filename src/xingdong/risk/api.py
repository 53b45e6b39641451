"""REST API of the risk domain: the operators' cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from xingdong.core.policy import Action, require
from xingdong.risk import cases
from xingdong.risk.models import RiskCase
from xingdong.web.deps import ApiActor, DbSession, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["ops"])

CaseId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The case's number")]
"""A case's number as the database can hold it: a larger one is no case (not a fault)."""


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    accounts: list[str]
    reasons: dict[str, list[str]]
    """Each account's batch reasons (docs/risk.md)."""
    links: dict[str, dict[str, list[str]]]
    """What joins the members: ``device``, ``ip``, ``payout_account`` values two or more
    of them used, with who used each."""
    score: float
    status: str
    note: str | None
    created_at: datetime
    decided_at: datetime | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fraud: StrictBool
    note: str = Field(min_length=1, max_length=500)


class ScanOut(BaseModel):
    events: int
    judged_accounts: int
    cases_opened: int
    cases_updated: int


def _out(case: RiskCase) -> CaseOut:
    return CaseOut.model_validate(case)


@router.get("/ops/risk/cases")
async def list_cases(
    actor: ApiActor,
    session: DbSession,
    status: Annotated[Literal["open", "confirmed", "cleared"], Query()] = "open",
    page: Annotated[int, Query(ge=1, le=100_000, description="Fifty cases a page")] = 1,
) -> list[CaseOut]:
    """Cases of one status, riskiest first, fifty a page (an empty page after the last)."""
    found = await cases.cases(
        session, actor=actor, status=status, offset=(page - 1) * cases.CASES_PAGE
    )
    return [_out(c) for c in found]


@router.post("/ops/risk/cases/{case_id}/decision")
async def decide_case(
    case_id: CaseId, body: DecisionIn, actor: ApiActor, session: DbSession
) -> CaseOut:
    """Confirm (``fraud: true``: accounts frozen, unsettled work undone) or clear a case;
    each account gets a label."""
    case = await cases.decide(
        session, actor=actor, case_id=case_id, fraud=body.fraud, note=body.note
    )
    return _out(case)


@router.post("/ops/risk/scan")
async def scan(actor: ApiActor, session: DbSession, runtime: RuntimeDep) -> ScanOut:
    """Run the batch detectors over the last week's traffic now."""
    require(actor, Action.STAFF_CONSOLE)
    result = await cases.scan(session, rules_file=runtime.settings.risk_rules_file)
    return ScanOut(**result.__dict__)
