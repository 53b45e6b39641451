"""Errors of the creators domain."""

from __future__ import annotations

from xingdong.core.errors import Conflict
from xingdong.core.i18n import N_


class NotAnAgency(Conflict):
    code = "not_an_agency"
    title = N_("Only an agency (MCN) does this")


class AlreadySigned(Conflict):
    code = "already_signed"
    title = N_("This creator is already signed with an agency")


class MemberNotSignable(Conflict):
    code = "member_not_signable"
    title = N_("An agency cannot sign its own members")


class ContractNotOpen(Conflict):
    code = "contract_not_open"
    title = N_("This offer or contract is no longer open")
