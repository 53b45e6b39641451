"""Who may do what: the one authorisation policy."""

from __future__ import annotations

import uuid

import pytest

from xingdong.core.errors import Forbidden, NotFound
from xingdong.core.policy import Action, Actor, OrgRole, StaffRole, can, require

ME = uuid.uuid4()
OTHER = uuid.uuid4()
ORG = uuid.uuid4()


def actor(*roles: StaffRole, membership: OrgRole | None = None) -> Actor:
    return Actor(
        person_id=ME,
        staff_roles=frozenset(roles),
        memberships={ORG: membership} if membership else {},
    )


KEY = Actor(person_id=ME, memberships={ORG: OrgRole.OWNER}, api_key_id=uuid.uuid4())
"""An owner's API key."""


@pytest.mark.parametrize(
    ("who", "action", "target", "allowed"),
    [
        (actor(), Action.PERSON_READ, {"person_id": ME}, True),
        (actor(), Action.PERSON_READ, {"person_id": OTHER}, False),
        (actor(StaffRole.OPERATOR), Action.PERSON_READ, {"person_id": OTHER}, True),
        (actor(StaffRole.REVIEWER), Action.PERSON_READ, {"person_id": OTHER}, False),
        (actor(StaffRole.ADMIN), Action.PERSON_EDIT, {"person_id": OTHER}, False),
        (actor(), Action.ORG_READ, {"org_id": ORG}, False),
        (actor(membership=OrgRole.MEMBER), Action.ORG_READ, {"org_id": ORG}, True),
        (actor(membership=OrgRole.MEMBER), Action.ORG_MANAGE_MEMBERS, {"org_id": ORG}, False),
        (actor(membership=OrgRole.OWNER), Action.ORG_MANAGE_MEMBERS, {"org_id": ORG}, True),
        (actor(StaffRole.OPERATOR), Action.ORG_MANAGE_MEMBERS, {"org_id": ORG}, False),
        (actor(StaffRole.ADMIN), Action.ORG_MANAGE_MEMBERS, {"org_id": ORG}, True),
        (actor(membership=OrgRole.OWNER), Action.ORG_SIGN_CREATORS, {"org_id": ORG}, True),
        (actor(membership=OrgRole.MEMBER), Action.ORG_SIGN_CREATORS, {"org_id": ORG}, False),
        (actor(StaffRole.ADMIN), Action.ORG_SIGN_CREATORS, {"org_id": ORG}, False),
        (actor(StaffRole.ADMIN), Action.ORG_MANAGE_FUNDS, {"org_id": ORG}, False),
        (actor(membership=OrgRole.OWNER), Action.ORG_MANAGE_INTEGRATIONS, {"org_id": ORG}, True),
        (actor(membership=OrgRole.MEMBER), Action.ORG_MANAGE_INTEGRATIONS, {"org_id": ORG}, False),
        (actor(StaffRole.ADMIN), Action.ORG_MANAGE_INTEGRATIONS, {"org_id": ORG}, False),
        (actor(membership=OrgRole.OWNER), Action.ORG_PAYOUT_ACCOUNT, {"org_id": ORG}, True),
        (actor(StaffRole.ADMIN), Action.ORG_PAYOUT_ACCOUNT, {"org_id": ORG}, False),
        (KEY, Action.ORG_READ, {"org_id": ORG}, True),
        (KEY, Action.ORG_MANAGE_FUNDS, {"org_id": ORG}, True),
        (KEY, Action.ORG_MANAGE_MEMBERS, {"org_id": ORG}, False),
        (KEY, Action.ORG_SIGN_CREATORS, {"org_id": ORG}, False),
        (KEY, Action.ORG_PAYOUT_ACCOUNT, {"org_id": ORG}, False),
        (KEY, Action.ORG_MANAGE_INTEGRATIONS, {"org_id": ORG}, False),
        (KEY, Action.PERSON_READ, {"person_id": ME}, False),
        (KEY, Action.PERSON_EDIT, {"person_id": ME}, False),
        (actor(), Action.STAFF_CONSOLE, {}, False),
        (actor(StaffRole.OPERATOR), Action.STAFF_CONSOLE, {}, True),
        (actor(StaffRole.REVIEWER), Action.REVIEW_QUEUE, {}, True),
        (actor(StaffRole.OPERATOR), Action.REVIEW_QUEUE, {}, False),
        (actor(StaffRole.OPERATOR), Action.STAFF_GRANT, {}, False),
        (actor(StaffRole.ADMIN), Action.STAFF_GRANT, {}, True),
    ],
)
def test_policy(who: Actor, action: Action, target: dict[str, uuid.UUID], allowed: bool) -> None:
    assert can(who, action, **target) is allowed


def test_reading_what_one_may_not_see_answers_not_found() -> None:
    with pytest.raises(NotFound):
        require(actor(), Action.ORG_READ, org_id=ORG)
    with pytest.raises(Forbidden):
        require(actor(membership=OrgRole.MEMBER), Action.ORG_MANAGE_MEMBERS, org_id=ORG)
