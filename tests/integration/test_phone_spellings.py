"""A number typed in full-width digits (as a Chinese input method gives them) or in another
script's digits is the same number as in ASCII: registering, signing in, resetting a
password, inviting and searching all read it so, and only ASCII digits are ever stored."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text

from tests.factories import PASSWORD, add_member, create_org, next_phone, register
from tests.integration.answers import csrf_from, problem
from xingdong.core.db import Database
from xingdong.identity import service as identity

FULL_WIDTH = str.maketrans("+0123456789", "＋０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
ENGLISH = {"Accept-Language": "en"}


def last_digit_full_width(phone: str) -> str:
    """``phone`` as the audit saw it typed: one digit slipped into full width."""
    return phone[:-1] + phone[-1].translate(FULL_WIDTH)


async def stored_phones(db: Database) -> list[str]:
    """Every number kept for a person or an invitation."""
    async with db.sessionmaker() as s:
        rows = await s.execute(
            text("SELECT phone FROM people UNION ALL SELECT phone FROM invitations")
        )
    return sorted(rows.scalars())


async def sign_in(client: httpx.AsyncClient, typed: str) -> httpx.Response:
    page = await client.get("/login", headers=ENGLISH)
    return await client.post(
        "/login",
        data={"phone": typed, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        headers=ENGLISH,
    )


async def test_a_full_width_number_registers_as_its_ascii_number(
    client: httpx.AsyncClient, db: Database
) -> None:
    phone = next_phone()
    typed = last_digit_full_width(phone)
    page = await client.get("/register", headers=ENGLISH)
    sent = await client.post(
        "/register/code",
        data={"phone": typed, "csrf_token": csrf_from(page.text)},
        headers=ENGLISH,
    )
    assert f"We sent a 6-digit code to +86{phone}." in sent.text
    code = sent.text.split('data-demo-code="', 1)[1].split('"', 1)[0]
    registered = await client.post(
        "/register",
        data={
            "phone": typed,
            "code": code,
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert registered.status_code == 303, registered.text
    assert await stored_phones(db) == [f"+86{phone}"]
    # No look-alike second account: the number is taken however it is typed.
    for again in (phone, phone.translate(FULL_WIDTH)):
        refused = await client.post("/api/v1/auth/sms-codes", json={"phone": again})
        problem(refused, 409, "phone_already_registered")


async def test_the_owner_signs_in_with_the_number_typed_in_full_width(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    for typed in (last_digit_full_width(owner.phone), f"+86 {owner.phone}".translate(FULL_WIDTH)):
        client.cookies.clear()
        signed_in = await sign_in(client, typed)
        assert signed_in.status_code == 303, signed_in.text
        assert (await client.get("/profile")).status_code == 200


async def test_a_password_reset_code_for_a_full_width_number_is_the_ascii_numbers(
    client: httpx.AsyncClient, db: Database
) -> None:
    phone = next_phone()
    # Made without a code, so that the number's code allowance stays for the reset.
    async with db.session_scope() as s:
        await identity.create_person_directly(s, phone=phone, password=PASSWORD, display_name="")
    sent = await client.post(
        "/api/v1/auth/sms-codes", json={"phone": phone.translate(FULL_WIDTH), "purpose": "reset"}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["phone"] == f"+86{phone}"
    reset = await client.post(
        "/api/v1/auth/password-reset",
        json={"phone": phone, "code": sent.json()["code"], "password": "brand-new-2026"},
    )
    assert reset.status_code == 204, reset.text


async def test_a_members_number_in_full_width_is_refused_as_already_a_member(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    await sign_in(client, owner.phone)
    page = await client.get(f"/orgs/{org_id}")
    refused = await client.post(
        f"/orgs/{org_id}/invitations",
        data={"phone": last_digit_full_width(owner.phone), "csrf_token": csrf_from(page.text)},
        headers=ENGLISH,
    )
    assert refused.status_code == 409
    assert "Already a member." in refused.text
    assert await stored_phones(db) == [f"+86{owner.phone}"]


async def test_a_new_number_in_full_width_is_invited_by_its_ascii_number(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    await sign_in(client, owner.phone)
    page = await client.get(f"/orgs/{org_id}")
    newcomer = next_phone()
    invited = await client.post(
        f"/orgs/{org_id}/invitations",
        data={"phone": last_digit_full_width(newcomer), "csrf_token": csrf_from(page.text)},
    )
    assert invited.status_code == 303, invited.text
    listed = await client.get(f"/orgs/{org_id}")
    assert f'data-pending-invite="+86{newcomer}"' in listed.text
    spaced = f"+86 {newcomer[:3]} {newcomer[3:7]} {newcomer[7:]}"
    assert spaced in listed.text
    assert await stored_phones(db) == sorted([f"+86{owner.phone}", f"+86{newcomer}"])


@pytest.mark.parametrize(
    ("spelling", "stored"),
    [
        pytest.param(lambda p: p.translate(ARABIC_INDIC), True, id="arabic-indic-digits"),
        pytest.param(lambda p: p[:-1] + "²", False, id="superscript-two"),
        pytest.param(lambda p: p[:-1] + "①", False, id="circled-one"),
        pytest.param(lambda p: p[:-1] + "〇", False, id="ideographic-zero"),
    ],
)
async def test_other_digits_are_read_as_ascii_or_refused_never_stored(
    client: httpx.AsyncClient, db: Database, spelling: Callable[[str], str], stored: bool
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    await sign_in(client, owner.phone)
    page = await client.get(f"/orgs/{org_id}")
    newcomer = next_phone()
    answer = await client.post(
        f"/orgs/{org_id}/invitations",
        data={"phone": spelling(newcomer), "csrf_token": csrf_from(page.text)},
        headers=ENGLISH,
    )
    if stored:
        assert answer.status_code == 303, answer.text
        assert await stored_phones(db) == sorted([f"+86{owner.phone}", f"+86{newcomer}"])
    else:
        assert answer.status_code == 422
        assert "Enter an 11-digit mainland China mobile number." in answer.text
        assert await stored_phones(db) == [f"+86{owner.phone}"]


async def test_a_members_search_finds_a_number_typed_in_full_width(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client, name="老板")
    member = await register(client, name="小李")
    org_id = await create_org(client, owner)
    await add_member(client, org_id, owner, member)
    await sign_in(client, owner.phone)
    for typed in (member.phone.translate(FULL_WIDTH), member.phone[-4:].translate(FULL_WIDTH)):
        found = await client.get(f"/orgs/{org_id}", params={"q": typed})
        assert 'data-member="小李"' in found.text, typed
        assert 'data-member="老板"' not in found.text, typed
