"""Request and response bodies of the identity API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=200)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SmsCodeRequest(Input):
    phone: str
    purpose: Literal["register", "reset"] = Field(
        default="register",
        description="register: a new account; reset: a new password for an existing one.",
    )


class SmsCodeIssued(Output):
    phone: str
    expires_at: datetime
    code: str | None = Field(default=None, description="Only in demo deployments.")


class RegisterRequest(Input):
    phone: str
    code: str = Field(max_length=12)
    password: str = Field(max_length=128)
    display_name: str | None = Field(default=None, max_length=40)


class PasswordResetRequest(Input):
    phone: str
    code: str = Field(max_length=12, description="The code sent with purpose reset.")
    password: str = Field(max_length=128, description="The new password.")


class PasswordChange(Input):
    password: str = Field(max_length=200, description="The current password.")
    new_password: str = Field(max_length=128, description="The new password.")


class LoginRequest(Input):
    phone: str
    password: str = Field(max_length=128)
    token_name: str = Field(default="api", max_length=60)


class TokenOut(Output):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: datetime


class PersonOut(Output):
    id: UUID
    phone: str
    display_name: str
    birth_year: int | None
    region: str | None
    interests: list[str]
    locale: str | None
    created_at: datetime


class MeOut(PersonOut):
    staff_roles: list[str]
    agreement_version: str
    has_accepted_agreement: bool


class ProfileUpdate(Input):
    display_name: str | None = Field(default=None, max_length=40)
    birth_year: int | None = Field(default=None, strict=True)
    region: str | None = Field(default=None, max_length=20)
    interests: list[str] | None = Field(default=None, max_length=20)
    locale: Literal["zh_CN", "en", ""] | None = None


class ConsentRequest(Input):
    version: str = Field(max_length=20)


class ConsentOut(Output):
    agreement_version: str
    created_at: datetime


class PlatformAccountIn(Input):
    platform: Literal["sandbox"] = "sandbox"
    handle: str = Field(max_length=40)
    followers: int = Field(strict=True, ge=0, le=1_000_000_000)


class PlatformAccountOut(Output):
    platform: str
    handle: str
    followers: int
    created_at: datetime


class OrganisationIn(Input):
    kind: Literal["brand", "agency"]
    name: str = Field(max_length=80)


class OrganisationOut(Output):
    id: UUID
    kind: str
    name: str
    created_at: datetime
    closed_at: datetime | None = Field(
        default=None, description="When an owner closed it (only staff still see it then)."
    )
    my_role: str | None = None


class MemberOut(Output):
    person_id: UUID
    display_name: str
    phone: str
    role: str
    joined_at: datetime


class InvitationIn(Input):
    phone: str
    role: Literal["owner", "member"] = "member"


class InvitationOut(Output):
    id: UUID
    org_id: UUID
    phone: str
    role: str
    status: str
    created_at: datetime
    org_name: str | None = None


class RoleChange(Input):
    role: Literal["owner", "member"]


class InvitationAnswer(Input):
    accept: StrictBool


class AccountStateIn(Input):
    why: str = Field(max_length=1000, description="Why, for the audit log (1–500 characters).")


class AccountStateOut(Output):
    person_id: UUID
    frozen: bool
    changed: bool
    """False when the account already was as asked."""


class LinkedAccountIn(Input):
    platform: str = Field(default="sandbox", description="The platform's connector name.")
    handle: str = Field(
        max_length=300,
        description="The account: ``@handle``, a handle, or its address on the platform.",
    )


class LinkedAccountOut(Output):
    id: UUID
    org_id: UUID
    platform: str
    handle: str
    linked_by: UUID
    created_at: datetime


class ApiKeyIn(Input):
    name: str = Field(description="What the key is for, 1 to 60 characters.")
    access: Literal["read", "write"] = Field(
        description="``read``: GET requests only; ``write``: the owner's rights on campaigns "
        "and money, never members, contracts, keys, webhooks or payout accounts."
    )


class ApiKeyOut(Output):
    id: UUID
    org_id: UUID
    name: str
    prefix: str
    access: Literal["read", "write"]
    created_by: UUID
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself: shown this once, never again.")


class ErasureBlockerOut(Output):
    code: str = Field(description="Why erasure waits (docs/privacy.md lists the codes).")
    detail: str


class ErasureCheckOut(Output):
    allowed: bool = Field(description="Whether the account can be erased now.")
    blockers: list[ErasureBlockerOut]
    organisations_left: list[str] = Field(description="Organisations you would leave.")
    agency: str | None = Field(description="The agency whose contract would end.")
    points_forfeited: int = Field(description="Points that would be lost with the account.")
    remainder_given_up_fen: int = Field(
        description="An available balance below the smallest withdrawal, given up on erasure."
    )


class ErasureIn(Input):
    password: str = Field(max_length=200, description="Your password, once more.")
    confirm: StrictBool = Field(description="Must be true: erasure cannot be undone.")
    remainder_given_up_fen: int = Field(
        default=0,
        strict=True,
        ge=0,
        description="The balance too small to withdraw that you agree to give up, as "
        "GET /me/erasure showed it; refused with erasure_changed if it is not that now.",
    )


class ClosureBlockerOut(Output):
    code: str = Field(description="Why closing waits (docs/api.md lists the codes).")
    detail: str


class ClosureCheckOut(Output):
    allowed: bool = Field(description="Whether the organisation can be closed now.")
    blockers: list[ClosureBlockerOut]
    name: str = Field(description="The name to type (``name`` of the POST) to confirm.")
    members_leaving: int = Field(description="Members who would leave, you included.")
    invitations_withdrawn: int
    offers_withdrawn: int = Field(description="Contracts offered to creators, not answered.")
    api_keys_revoked: int
    webhook_endpoints_disabled: int
    unpaid_top_ups_closed: int
    remainder_given_up_fen: int = Field(
        description="An agency's balance below the smallest payout, given up on closing."
    )


class ClosureIn(Input):
    name: str = Field(max_length=200, description="The organisation's name, typed to confirm.")
    password: str = Field(max_length=200, description="Your password, once more.")
    remainder_given_up_fen: int = Field(
        default=0,
        strict=True,
        ge=0,
        description="The agency's balance too small to pay out that you agree to give up, "
        "as GET .../closure showed it; refused with closure_changed if it is not that now.",
    )


class ClosureOut(Output):
    org_id: UUID
    closed_at: datetime


class ErasureOnRequestIn(Input):
    why: str = Field(
        max_length=1000,
        description="The person's request and its reference, for the audit log (1–500 characters).",
    )
    confirm: StrictBool = Field(description="Must be true: erasure cannot be undone.")
    remainder_given_up_fen: int = Field(
        default=0,
        strict=True,
        ge=0,
        description="The balance too small to withdraw that is given up, as "
        "GET /ops/people/{id}/erasure showed it; refused with erasure_changed if it is not "
        "that now.",
    )


class ErasureOut(Output):
    person_id: UUID
    erased_at: datetime
