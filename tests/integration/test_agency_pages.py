"""The agency (MCN) pages over HTTP: an owner offers contracts and ends them on the
agency's page of creators, members only look, and a creator answers and leaves on
``/agency``; mistakes come back on the form with nothing written."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select, text

from tests.factories import User, add_member, create_org, register
from tests.integration.answers import csrf_from, form_id_from
from tests.integration.test_agencies_api import fund_agency as share_paid
from tests.integration.test_money_pages import sign_in
from xingdong.core.audit import AuditEntry
from xingdong.core.db import Database
from xingdong.creators.models import AgencyContract

ENGLISH = {"Accept-Language": "en"}
CHINESE = {"Accept-Language": "zh-CN"}


async def sign_in_as(client: httpx.AsyncClient, user: User) -> None:
    """Sign out whoever is signed in on this client, and sign ``user`` in."""
    client.cookies.clear()
    await sign_in(client, user.phone)


async def contracts(db: Database) -> list[tuple[str, int, str]]:
    """Every contract as (phone, share, status), oldest first."""
    async with db.sessionmaker() as s:
        rows = await s.execute(
            select(
                AgencyContract.phone, AgencyContract.share_percent, AgencyContract.status
            ).order_by(AgencyContract.created_at)
        )
    return [(row.phone, row.share_percent, row.status) for row in rows]


async def offer_by_api(client: httpx.AsyncClient, owner: User, org_id: str, phone: str) -> str:
    offered = await client.post(
        f"/api/v1/orgs/{org_id}/creators",
        json={"phone": phone, "share_percent": 20},
        headers=owner.auth,
    )
    assert offered.status_code == 201, offered.text
    contract_id: str = offered.json()["id"]
    return contract_id


async def test_an_owner_offers_a_contract_from_the_agency_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client, name="机构老板")
    creator = await register(client, name="小美")
    org_id = await create_org(client, owner, name="星光 MCN", kind="agency")
    await sign_in_as(client, owner)

    org_page = await client.get(f"/orgs/{org_id}", headers=ENGLISH)
    assert "data-org-creators" in org_page.text
    assert "In force: 0 · Offers waiting: 0" in org_page.text
    page = await client.get(f"/orgs/{org_id}/creators", headers=ENGLISH)
    assert page.status_code == 200
    assert "data-offer-form" in page.text
    # The list first (what an agency comes back for), the forms under it, a link away.
    assert page.text.index('id="creators"') < page.text.index('id="offer"')
    assert 'href="#offer"' in page.text
    assert "No creator is signed with the agency yet." in page.text
    assert 'data-agency-balance-fen="0"' in page.text

    sent = await client.post(
        f"/orgs/{org_id}/creators",
        data={"phone": creator.phone, "share_percent": "20%", "csrf_token": csrf_from(page.text)},
    )
    assert sent.status_code == 303
    assert sent.headers["location"].startswith(f"/orgs/{org_id}/creators?status=offered&done=")
    offers = await client.get(sent.headers["location"], headers=ENGLISH)
    assert "Offer sent. The creator sees it after signing in" in offers.text
    assert 'data-contract-count="offered">1<' in offers.text
    assert 'data-contract-status="offered"' in offers.text
    local = creator.phone
    assert f"+86 {local[:3]} {local[3:7]} {local[7:]}" in offers.text  # whole, to an owner
    assert 'data-share-percent="20"' in offers.text
    assert await contracts(db) == [("+86" + creator.phone, 20, "offered")]
    org_page = await client.get(f"/orgs/{org_id}", headers=CHINESE)
    assert "生效中：0 · 待回复邀请：1" in org_page.text
    # To a number nobody has registered with: said so, the offer waits for them.
    nobody = await client.post(
        f"/orgs/{org_id}/creators",
        data={"phone": "13900009999", "share_percent": "10", "csrf_token": csrf_from(page.text)},
    )
    told = await client.get(nobody.headers["location"], headers=ENGLISH)
    assert "Nobody has registered with this number yet: they see the offer once they do." in (
        told.text
    )


async def test_a_bad_offer_shows_its_field_errors_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    creator = await register(client)
    org_id = await create_org(client, owner, name="星光 MCN", kind="agency")
    await sign_in_as(client, owner)
    page = await client.get(f"/orgs/{org_id}/creators")

    bad = await client.post(
        f"/orgs/{org_id}/creators",
        data={"phone": "12345", "share_percent": "80", "csrf_token": csrf_from(page.text)},
        headers=ENGLISH,
    )
    assert bad.status_code == 422
    assert "Please correct the marked fields." in bad.text
    assert 'data-error-for="phone"' in bad.text
    assert "Enter a whole percentage from 1 to 50." in bad.text
    assert 'aria-describedby="offer-share-help share_percent-error"' in bad.text
    assert 'value="12345"' in bad.text and 'value="80"' in bad.text  # as typed
    assert await contracts(db) == []

    await offer_by_api(client, owner, org_id, creator.phone)
    again = await client.post(
        f"/orgs/{org_id}/creators",
        data={"phone": creator.phone, "share_percent": "30", "csrf_token": csrf_from(page.text)},
        headers=CHINESE,
    )
    assert again.status_code == 409
    assert 'data-error-for="phone"' in again.text
    assert "已向该号码发出过签约邀请或已与其签约。" in again.text
    assert await contracts(db) == [("+86" + creator.phone, 20, "offered")]
    async with db.sessionmaker() as s:
        offered = await s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "creators.contract_offered")
        )
    assert offered == 1


async def test_a_member_sees_the_creators_but_cannot_offer_or_end(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    member = await register(client)
    creator = await register(client)
    org_id = await create_org(client, owner, name="星光 MCN", kind="agency")
    await add_member(client, org_id, owner, member)
    contract_id = await offer_by_api(client, owner, org_id, creator.phone)
    await sign_in_as(client, member)

    page = await client.get(f"/orgs/{org_id}/creators?status=offered", headers=ENGLISH)
    assert page.status_code == 200
    assert "data-offer-form" not in page.text
    assert "data-close-contract" not in page.text
    assert f"+86 {creator.phone[:3]}****{creator.phone[-4:]}" in page.text
    assert creator.phone not in page.text
    org_page = await client.get(f"/orgs/{org_id}", headers=ENGLISH)
    assert "See creators" in org_page.text

    token = csrf_from(page.text)
    refused = await client.post(
        f"/orgs/{org_id}/creators",
        data={"phone": "13700000000", "share_percent": "10", "csrf_token": token},
        headers=ENGLISH,
    )
    assert refused.status_code == 403
    assert "You are not allowed to do this." in refused.text
    closing = await client.post(
        f"/orgs/{org_id}/creators/{contract_id}/close",
        data={"status": "offered", "csrf_token": token},
        headers=ENGLISH,
    )
    assert closing.status_code == 403
    assert await contracts(db) == [("+86" + creator.phone, 20, "offered")]


async def test_a_creator_accepts_declines_and_ends_from_the_agency_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    creator = await register(client, name="小美")
    first = await create_org(client, owner, name="星光 MCN", kind="agency")
    second = await create_org(client, owner, name="月亮机构", kind="agency")
    accepted_id = await offer_by_api(client, owner, first, creator.phone)
    declined_id = await offer_by_api(client, owner, second, creator.phone)
    await sign_in_as(client, creator)

    home = await client.get("/", headers=ENGLISH)
    assert 'data-home-agency-offers="2"' in home.text
    profile = await client.get("/profile", headers=ENGLISH)
    assert 'data-profile-agency-offers="2"' in profile.text
    page = await client.get("/agency", headers=CHINESE)
    assert "星光 MCN 邀请签约你，抽取你任务奖励的 20% 作为分成。" in page.text
    assert 'data-agency-offer="月亮机构"' in page.text
    assert "你还没有与机构签约。" in page.text
    token = csrf_from(page.text)

    signed = await client.post(
        f"/agency/offers/{accepted_id}", data={"answer": "accept", "csrf_token": token}
    )
    assert (signed.status_code, signed.headers["location"].split("?")[0]) == (303, "/agency")
    page = await client.get("/agency", headers=ENGLISH)
    assert 'data-agency-contract="星光 MCN"' in page.text
    assert "End that contract before accepting another." in page.text

    # A second acceptance is refused while the first contract is in force.
    refused = await client.post(
        f"/agency/offers/{declined_id}",
        data={"answer": "accept", "csrf_token": token},
        headers=ENGLISH,
    )
    assert refused.status_code == 409
    assert "You are signed with 星光 MCN. End that contract before accepting another." in (
        refused.text
    )
    nothing = await client.post(
        f"/agency/offers/{declined_id}", data={"csrf_token": token}, headers=ENGLISH
    )
    assert nothing.status_code == 422
    declined = await client.post(
        f"/agency/offers/{declined_id}", data={"answer": "decline", "csrf_token": token}
    )
    assert declined.status_code == 303

    await share_paid(db, first, 300, accepted_id)
    page = await client.get("/agency", headers=ENGLISH)
    assert 'data-shared-fen="300"' in page.text
    assert "data-agency-offer" not in page.text
    home = await client.get("/", headers=ENGLISH)
    assert "Managed by 星光 MCN for 20% of your task rewards." in home.text

    left = await client.post("/agency/leave", data={"csrf_token": token})
    assert left.status_code == 303
    page = await client.get(left.headers["location"], headers=ENGLISH)
    assert "Your contract with the agency has ended." in page.text
    assert "You are not signed with an agency." in page.text
    again = await client.post("/agency/leave", data={"csrf_token": token}, headers=ENGLISH)
    assert again.status_code == 404
    assert [c[2] for c in await contracts(db)] == ["ended", "declined"]

    # The agency sees the ended contract with what it shared.
    await sign_in_as(client, owner)
    closed = await client.get(f"/orgs/{first}/creators?status=closed", headers=ENGLISH)
    assert 'data-creator="小美"' in closed.text
    assert "Contract ended" in closed.text
    assert 'data-shared-fen="300"' in closed.text
    assert 'data-agency-balance-fen="300"' in closed.text


async def test_an_owner_withdraws_an_offer_and_ends_a_contract_from_the_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    creator = await register(client, name="小美")
    latecomer = await register(client)
    org_id = await create_org(client, owner, name="星光 MCN", kind="agency")
    signed_id = await offer_by_api(client, owner, org_id, creator.phone)
    accepted = await client.post(
        f"/api/v1/me/agency-offers/{signed_id}", json={"accept": True}, headers=creator.auth
    )
    assert accepted.status_code == 200
    offered_id = await offer_by_api(client, owner, org_id, latecomer.phone)

    await sign_in_as(client, owner)
    page = await client.get(f"/orgs/{org_id}/creators", headers=ENGLISH)
    assert 'data-creator="小美"' in page.text
    assert "End the contract with 小美?" in page.text
    token = csrf_from(page.text)
    withdrawn = await client.post(
        f"/orgs/{org_id}/creators/{offered_id}/close",
        data={"status": "offered", "csrf_token": token},
    )
    assert withdrawn.headers["location"].startswith(f"/orgs/{org_id}/creators?status=offered")
    ended = await client.post(
        f"/orgs/{org_id}/creators/{signed_id}/close", data={"status": "active", "csrf_token": token}
    )
    assert ended.status_code == 303
    twice = await client.post(
        f"/orgs/{org_id}/creators/{signed_id}/close",
        data={"status": "active", "csrf_token": token},
        headers=ENGLISH,
    )
    assert twice.status_code == 409
    assert "This contract has ended." in twice.text
    assert [c[2] for c in await contracts(db)] == ["ended", "withdrawn"]

    # The latecomer answers the offer as a page opened before it was withdrawn sends it.
    await sign_in_as(client, latecomer)
    page = await client.get("/agency")
    assert "data-agency-offer" not in page.text
    late = await client.post(
        f"/agency/offers/{offered_id}",
        data={"answer": "accept", "csrf_token": csrf_from(page.text)},
        headers=ENGLISH,
    )
    assert late.status_code == 409
    assert "The agency has withdrawn this offer." in late.text
    assert [c[2] for c in await contracts(db)] == ["ended", "withdrawn"]


async def test_a_brand_has_no_page_of_creators(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    brand_id = await create_org(client, owner, name="某品牌", kind="brand")
    await sign_in_as(client, owner)
    org_page = await client.get(f"/orgs/{brand_id}", headers=ENGLISH)
    assert "data-org-creators" not in org_page.text
    page = await client.get(f"/orgs/{brand_id}/creators", headers=ENGLISH)
    assert page.status_code == 409
    assert page.headers["content-type"].startswith("text/html")
    assert "Only an agency (MCN) does this" in page.text
    assert "This organisation is a brand. Signing creators and paying out" in page.text
    chinese = await client.get(f"/orgs/{brand_id}/creators", headers=CHINESE)
    assert "只有 MCN 机构可以这样做" in chinese.text
    stranger = await register(client)
    await sign_in_as(client, stranger)
    hidden = await client.get(f"/orgs/{brand_id}/creators", headers=ENGLISH)
    assert hidden.status_code == 404


async def test_an_owner_pays_the_shares_out_from_the_agency_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    creator = await register(client)
    org_id = await create_org(client, owner, name="星光 MCN", kind="agency")
    contract_id = await offer_by_api(client, owner, org_id, creator.phone)
    await share_paid(db, org_id, 5_000, contract_id)
    await sign_in_as(client, owner)
    # The organisation page says what there is to pay out, apart from the campaign balance.
    org_page = await client.get(f"/orgs/{org_id}", headers=ENGLISH)
    assert 'data-agency-earnings-fen="5000"' in org_page.text
    assert "data-two-balances" in org_page.text  # the campaign balance is said to be apart
    assert "Earnings to pay out: ¥50.00" in org_page.text
    assert "Balance <small>for campaigns</small>" in org_page.text
    page = await client.get(f"/orgs/{org_id}/creators", headers=ENGLISH)
    assert "Pay out the agency's shares" in page.text
    assert 'data-agency-balance-fen="5000"' in page.text

    bad = await client.post(
        f"/orgs/{org_id}/payout-account",
        data={
            "kind": "bank",
            "number": "12",
            "number_again": "12",
            "holder_name": "王小明",
            "csrf_token": csrf_from(page.text),
        },
        headers=ENGLISH,
    )
    assert bad.status_code == 422
    assert 'data-error-for="number"' in bad.text
    bound = await client.post(
        f"/orgs/{org_id}/payout-account",
        data={
            "kind": "bank",
            "number": "6222600011118888",
            "number_again": "6222600011118888",
            "holder_name": "王小明",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert bound.status_code == 303
    page = await client.get(f"/orgs/{org_id}/creators", headers=ENGLISH)
    assert 'data-payout-masked="**** 8888"' in page.text

    too_much = await client.post(
        f"/orgs/{org_id}/withdrawals",
        data={
            "amount": "80",
            "form_id": form_id_from(page.text),
            "csrf_token": csrf_from(page.text),
        },
        headers=ENGLISH,
    )
    assert too_much.status_code == 409
    assert "¥50.00" in too_much.text  # says what there is to pay out
    form = {"amount": "30", "form_id": form_id_from(page.text), "csrf_token": csrf_from(page.text)}
    asked = await client.post(f"/orgs/{org_id}/withdrawals", data=form)
    again = await client.post(f"/orgs/{org_id}/withdrawals", data=form)  # a double click
    assert (asked.status_code, again.status_code) == (303, 303)
    after = await client.get(asked.headers["location"], headers=ENGLISH)
    assert "an operator will review it" in after.text
    assert after.text.count('data-withdrawal-status="requested"') == 1
    assert 'data-agency-balance-fen="2000"' in after.text

    # The operator who decides sees whose money it is.
    operator = await register(client, name="运营")
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'operator')"),
            {"id": operator.id},
        )
    await sign_in_as(client, operator)
    money = await client.get("/ops/money", headers=ENGLISH)
    assert "For the agency 星光 MCN, asked by" in money.text
    assert "payout (always reviewed)" in money.text

    member = await register(client)
    await add_member(client, org_id, owner, member)
    await sign_in_as(client, member)
    seen = await client.get(f"/orgs/{org_id}/creators", headers=ENGLISH)
    assert "Pay out the agency's shares" not in seen.text
    refused = await client.post(
        f"/orgs/{org_id}/withdrawals",
        data={"amount": "10", "form_id": "x", "csrf_token": csrf_from(seen.text)},
    )
    assert refused.status_code == 403
