"""Errors of the identity domain."""

from __future__ import annotations

from xingdong.core.errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    ValidationFailed,
    XingdongError,
)
from xingdong.core.i18n import N_


class PhoneAlreadyRegistered(Conflict):
    code = "phone_already_registered"
    title = N_("This phone number is already registered")


class InvalidCode(ValidationFailed):
    code = "invalid_code"
    title = N_("The verification code is wrong or has expired")
    keeps_changes = True


class AccountFrozen(Forbidden):
    code = "account_frozen"
    title = N_("This account is stopped")
    sends_to_support = True


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    title = N_("Wrong phone number or password")
    keeps_changes = True


class AccountLocked(XingdongError):
    status = 423
    code = "account_locked"
    title = N_("Too many failed sign-ins; the account is locked for a while")
    keeps_changes = True


class SessionExpired(NotAuthenticated):
    code = "session_expired"
    title = N_("Your session has expired; please sign in again")


class HandleAlreadyBound(Conflict):
    code = "handle_already_bound"
    title = N_("This account is already bound by someone else")


class PasswordWrong(ValidationFailed):
    code = "password_wrong"
    title = N_("The password is wrong")
    keeps_changes = True


class OrganisationClosed(Conflict):
    code = "organisation_closed"
    title = N_("This organisation is closed")


class OrganisationNameTaken(Conflict):
    code = "organisation_name_taken"
    title = N_("You already have an organisation of this name")


class LastOwner(Conflict):
    code = "last_owner"
    title = N_("An organisation needs at least one owner")


class AlreadyMember(Conflict):
    code = "already_member"
    title = N_("This person is already a member")


class InvitationNotPending(Conflict):
    code = "invitation_not_pending"
    title = N_("This invitation is no longer waiting for an answer")


class TooManyKeys(Conflict):
    code = "too_many_keys"
    title = N_("This organisation has as many API keys as it may have")


class PersonErased(Conflict):
    code = "person_erased"
    title = N_("This account was erased")


class TooManyAccounts(Conflict):
    code = "too_many_accounts"
    title = N_("Too many linked accounts")


class ApiKeyReadOnly(Forbidden):
    code = "api_key_read_only"
    title = N_("This API key may only read")


class PersonTokenRequired(Forbidden):
    code = "person_token_required"
    title = N_("This needs a person's sign-in token, not an API key")
