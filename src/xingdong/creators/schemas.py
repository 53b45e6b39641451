"""Request and response bodies of the agencies (MCN) API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=200)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ContractOffer(Input):
    phone: str = Field(description="The creator's mobile number.")
    share_percent: int = Field(
        strict=True, description="The agency's share of task rewards, 1 to 50."
    )


class OfferAnswer(Input):
    accept: StrictBool


class ContractOut(Output):
    id: UUID
    org_id: UUID
    phone: str
    share_percent: int
    status: Literal["offered", "active", "declined", "withdrawn", "ended"]
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    agency_name: str | None = None


class RosterItemOut(BaseModel):
    contract: ContractOut
    person_id: UUID | None = Field(description="None until the creator accepts.")
    display_name: str | None
    tier: Literal["novice", "growing", "head"] | None = Field(
        description="From the largest audience of the creator's bound accounts."
    )
    followers: int | None
    shared_fen: int = Field(description="What this contract has paid the agency so far.")


class AgencyOut(BaseModel):
    org_id: UUID
    name: str
    balance_fen: int = Field(description="The agency's shares received and not yet paid out.")
    active: int
    offered: int
    closed: int


class MyAgencyOut(BaseModel):
    contract: ContractOut | None = Field(description="The contract in force, if any.")
    shared_fen: int = Field(description="What it has paid the agency so far.")
    offers: list[ContractOut] = Field(description="Offers waiting for an answer.")
