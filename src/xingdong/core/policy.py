"""Authorisation in one place: which role may do what to which object.

Every endpoint and page asks :func:`require` (or :func:`can`) before it reads or changes an
object that is not plainly the caller's own; nothing else decides access.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from xingdong.core.errors import Forbidden, NotFound
from xingdong.core.i18n import N_


class StaffRole(StrEnum):
    REVIEWER = "reviewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class OrgRole(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class Action(StrEnum):
    PERSON_READ = "person.read"
    PERSON_EDIT = "person.edit"
    ORG_READ = "org.read"
    ORG_MANAGE_MEMBERS = "org.manage_members"
    ORG_MANAGE_FUNDS = "org.manage_funds"
    ORG_SIGN_CREATORS = "org.sign_creators"
    ORG_PAYOUT_ACCOUNT = "org.payout_account"
    ORG_MANAGE_INTEGRATIONS = "org.manage_integrations"
    ORG_LINK_ACCOUNTS = "org.link_accounts"
    ORG_CLOSE = "org.close"
    STAFF_CONSOLE = "staff.console"
    APPROVE_MONEY = "staff.approve_money"
    REVIEW_QUEUE = "review.queue"
    STAFF_GRANT = "staff.grant"
    ERASE_ON_REQUEST = "staff.erase_on_request"


@dataclass(frozen=True)
class Actor:
    """Who is asking: a person with their staff roles and organisation memberships, or an
    organisation's API key (``api_key_id``), which acts for that organisation alone with the
    role of the owner who made it (``person_id``)."""

    person_id: UUID
    staff_roles: frozenset[StaffRole] = frozenset()
    memberships: Mapping[UUID, OrgRole] = field(default_factory=dict)
    api_key_id: UUID | None = None

    def has_staff(self, *roles: StaffRole) -> bool:
        return bool(self.staff_roles.intersection(roles))


KEYS_NEVER = frozenset(
    {
        Action.PERSON_READ,
        Action.PERSON_EDIT,
        Action.ORG_MANAGE_MEMBERS,
        Action.ORG_SIGN_CREATORS,
        Action.ORG_PAYOUT_ACCOUNT,
        Action.ORG_MANAGE_INTEGRATIONS,
        Action.ORG_LINK_ACCOUNTS,
        Action.ORG_CLOSE,
    }
)
"""What an API key may never do, whoever made it: a leaked key must not let anyone in as
a person, take over the organisation or redirect its money."""


def can(  # noqa: PLR0911 - one case per action reads best
    actor: Actor, action: Action, *, person_id: UUID | None = None, org_id: UUID | None = None
) -> bool:
    if actor.api_key_id is not None and action in KEYS_NEVER:
        return False
    admin = StaffRole.ADMIN in actor.staff_roles
    match action:
        case Action.PERSON_READ:
            return person_id == actor.person_id or actor.has_staff(
                StaffRole.OPERATOR, StaffRole.ADMIN
            )
        case Action.PERSON_EDIT:
            return person_id == actor.person_id
        case Action.ORG_READ:
            return (org_id is not None and org_id in actor.memberships) or actor.has_staff(
                StaffRole.OPERATOR, StaffRole.ADMIN
            )
        case Action.ORG_MANAGE_MEMBERS:
            return (org_id is not None and actor.memberships.get(org_id) == OrgRole.OWNER) or admin
        case (
            Action.ORG_MANAGE_FUNDS
            | Action.ORG_SIGN_CREATORS
            | Action.ORG_PAYOUT_ACCOUNT
            | Action.ORG_MANAGE_INTEGRATIONS
            | Action.ORG_LINK_ACCOUNTS
            | Action.ORG_CLOSE
        ):
            # The organisation's own owners only: staff do not spend its money, sign
            # contracts that move money in its name or speak for it to its systems.
            return org_id is not None and actor.memberships.get(org_id) == OrgRole.OWNER
        case Action.STAFF_CONSOLE:
            return actor.has_staff(StaffRole.OPERATOR, StaffRole.ADMIN)
        case Action.APPROVE_MONEY:
            return actor.has_staff(StaffRole.OPERATOR, StaffRole.ADMIN)
        case Action.REVIEW_QUEUE:
            return actor.has_staff(StaffRole.REVIEWER, StaffRole.ADMIN)
        case Action.STAFF_GRANT | Action.ERASE_ON_REQUEST:
            # Erasing for someone cannot be undone: the role that could also run
            # ``xingdong admin erase-account`` on the server.
            return admin


def require(
    actor: Actor, action: Action, *, person_id: UUID | None = None, org_id: UUID | None = None
) -> None:
    """Raise unless allowed. Anything about an object one may not even see (another
    organisation, another person) answers "not found", reads and writes alike, so that ids
    cannot be probed for existence; one may see but not change answers "forbidden"."""
    if can(actor, action, person_id=person_id, org_id=org_id):
        return
    if action in (Action.PERSON_READ, Action.ORG_READ):
        raise NotFound(detail=N_("No such object."))
    if org_id is not None and not can(actor, Action.ORG_READ, org_id=org_id):
        raise NotFound(detail=N_("No such object."))
    if person_id is not None and not can(actor, Action.PERSON_READ, person_id=person_id):
        raise NotFound(detail=N_("No such object."))
    raise Forbidden(detail=N_("You are not allowed to do this."))
