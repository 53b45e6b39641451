"""Tables of the identity domain."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from xingdong.core.db import Base, CreatedAtMixin, IdMixin


class Person(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "people"

    phone: Mapped[str] = mapped_column(String(20), unique=True)
    """Mobile number in E.164 form (``+8613800138000``); the sign-in name."""
    password_hash: Mapped[str] = mapped_column(String(255))
    """argon2id hash; the password itself is never stored."""
    display_name: Mapped[str] = mapped_column(String(40))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    """Year of birth, for age checks (minors cannot take paid tasks) and targeting."""
    region: Mapped[str | None] = mapped_column(String(20))
    """Province-level region, as a Chinese name (``广东``)."""
    interests: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{}'::varchar[]")
    )
    locale: Mapped[str | None] = mapped_column(String(8))
    """Preferred language of pages and messages; empty means the browser's."""
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    failed_login_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Failed sign-ins since the last successful one; drives the lock-out back-off."""
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the person erased their account (identity/erasure.py): the row stays, with
    nothing left that identifies them, because money records and completions point to it."""

    __table_args__ = (
        CheckConstraint("birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", "birth_year"),
    )


class StaffGrant(CreatedAtMixin, Base):
    """A platform staff role held by a person (granted with ``xingdong admin grant``)."""

    __tablename__ = "staff_grants"

    person_id: Mapped[UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_by: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (CheckConstraint("role IN ('reviewer', 'operator', 'admin')", "role"),)


class Organisation(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "organisations"

    kind: Mapped[str] = mapped_column(String(10))
    """``brand`` (publishes campaigns) or ``agency`` (an MCN managing creators)."""
    name: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Set when an owner closed it (``identity.org_closure``): the row stays, as campaigns,
    money records and the audit log point to it, but nobody is a member any more."""
    closed_by: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (CheckConstraint("kind IN ('brand', 'agency')", "kind"),)


class Membership(CreatedAtMixin, Base):
    __tablename__ = "memberships"

    org_id: Mapped[UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    """``owner`` (manages members) or ``member``."""

    __table_args__ = (CheckConstraint("role IN ('owner', 'member')", "role"),)


class Invitation(IdMixin, CreatedAtMixin, Base):
    """An invitation, by phone number, to join an organisation."""

    __tablename__ = "invitations"

    org_id: Mapped[UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    role: Mapped[str] = mapped_column(String(10))
    invited_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    status: Mapped[str] = mapped_column(String(10), server_default=text("'pending'"))
    """``pending``, ``accepted``, ``declined`` or ``revoked``."""
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("role IN ('owner', 'member')", "role"),
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'revoked')", "status"),
        Index(
            "uq_invitations_pending",
            "org_id",
            "phone",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
    )


class SmsCode(IdMixin, CreatedAtMixin, Base):
    """A one-time code sent by SMS; removed by a job once it expires."""

    __tablename__ = "sms_codes"

    phone: Mapped[str] = mapped_column(String(20), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    code_digest: Mapped[str] = mapped_column(String(64))
    """Keyed hash of the code; the code itself is only in the SMS."""
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(IdMixin, CreatedAtMixin, Base):
    """A signed-in browser. The cookie holds the token; we keep only its digest."""

    __tablename__ = "web_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class ApiToken(IdMixin, CreatedAtMixin, Base):
    """A bearer token for the REST API."""

    __tablename__ = "api_tokens"

    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Consent(IdMixin, CreatedAtMixin, Base):
    """Acceptance of one version of the user agreement (when, from where)."""

    __tablename__ = "consents"

    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    agreement_version: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (UniqueConstraint("person_id", "agreement_version"),)


class PlatformAccount(IdMixin, CreatedAtMixin, Base):
    """A short-video account a person has bound (one per platform)."""

    __tablename__ = "platform_accounts"

    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    """Connector name: ``sandbox`` for the built-in simulated platform."""
    handle: Mapped[str] = mapped_column(String(40))
    followers: Mapped[int] = mapped_column(Integer)
    """Follower count as the platform reported it when bound."""

    __table_args__ = (
        UniqueConstraint("platform", "handle"),
        UniqueConstraint("person_id", "platform"),
        CheckConstraint("followers >= 0", "followers"),
    )


class OrgPlatformAccount(IdMixin, CreatedAtMixin, Base):
    """A short-video account an organisation has linked: one the platform let it (or the
    member who linked it) manage, and so one its campaigns may promote as its own."""

    __tablename__ = "org_platform_accounts"

    org_id: Mapped[UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(40))
    linked_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (UniqueConstraint("org_id", "platform", "handle"),)


class OrgApiKey(IdMixin, CreatedAtMixin, Base):
    """An organisation's API key: lets the brand's own systems call the API for it, with
    the rights of the owner who made it and never more (see ``policy.KEYS_NEVER``)."""

    __tablename__ = "org_api_keys"

    org_id: Mapped[UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(12))
    """The key's first characters, shown so people can tell their keys apart."""
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    access: Mapped[str] = mapped_column(String(5))
    """``read`` (GET only) or ``write``."""
    created_by: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (CheckConstraint("access IN ('read', 'write')", "access"),)
