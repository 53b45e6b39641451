"""Domain errors. Services raise these; one handler per interface turns them into
RFC 9457 problem+json (API) or a message on the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from xingdong.core.i18n import N_


@dataclass(eq=False)
class FieldError:
    """A problem with one input field, shown next to that field on pages."""

    field: str
    message: str
    code: str = "invalid"


@dataclass(eq=False)
class XingdongError(Exception):
    """Base of all domain errors: a stable ``code``, an HTTP status, and a readable detail.

    ``title`` is a short English summary (also the translation key on pages); ``detail``
    says what went wrong in this case.
    """

    detail: str = ""
    fields: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = N_("Bad request")
    sends_to_support: ClassVar[bool] = False
    """True when the message tells people to contact support: pages then say how
    (``support_contact``)."""
    keeps_changes: ClassVar[bool] = False
    """True when what the service wrote before raising must be committed all the same
    (a failed sign-in is counted even though the request fails)."""

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)


class ValidationFailed(XingdongError):
    status = 422
    code = "validation_failed"
    title = N_("Some fields are not valid")


class NotAuthenticated(XingdongError):
    status = 401
    code = "not_authenticated"
    title = N_("Please sign in")


class Forbidden(XingdongError):
    status = 403
    code = "forbidden"
    title = N_("You are not allowed to do this")


class NotFound(XingdongError):
    status = 404
    code = "not_found"
    title = N_("Not found")


class Conflict(XingdongError):
    status = 409
    code = "conflict"
    title = N_("Conflict with the current state")


class RateLimited(XingdongError):
    status = 429
    code = "rate_limited"
    title = N_("Too many attempts, please wait")


class PayloadTooLarge(XingdongError):
    status = 413
    code = "payload_too_large"
    title = N_("The request body is too large")


class DatabaseUnavailable(XingdongError):
    status = 503
    code = "database_unavailable"
    title = N_("The service is briefly unavailable; please try again")


class CsrfFailed(XingdongError):
    status = 403
    code = "csrf_failed"
    title = N_("The form expired or was not sent by this site; please try again")
