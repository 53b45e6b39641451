"""Errors of the insights domain."""

from __future__ import annotations

from xingdong.core.errors import Conflict, ValidationFailed
from xingdong.core.i18n import N_


class TooManyEndpoints(Conflict):
    code = "too_many_endpoints"
    title = N_("This organisation has as many webhook endpoints as it may have")


class WebhookUrlNotAllowed(ValidationFailed):
    code = "webhook_url_not_allowed"
    title = N_("Webhooks cannot be sent to this URL")


class UnknownEventType(ValidationFailed):
    code = "unknown_event_type"
    title = N_("Unknown event type")


class EndpointDisabled(Conflict):
    code = "webhook_disabled"
    title = N_("This webhook endpoint is disabled")
