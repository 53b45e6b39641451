"""What the wallet, the organisation's top-ups, the operators' money and people pages and
the profile say: confirmations before money moves, words instead of codes, Beijing time,
and a phone found however it is typed."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from uuid import UUID, uuid4

import httpx
from sqlalchemy import text

from tests.factories import create_org, register
from tests.integration.answers import csrf_from
from tests.integration.test_deposits import balance, start_deposit
from tests.integration.test_money_pages import sign_in
from tests.integration.test_withdrawals import bind, fund, make_operator, withdraw
from xingdong.core.clock import local_time
from xingdong.core.db import Database
from xingdong.ledger import service as ledger
from xingdong.ledger.wallets import available_account, pending_account

# 20:30 UTC is 04:30 the next day in Beijing: the date and the hour both tell.
UTC_MOMENT = datetime(2026, 1, 1, 20, 30, tzinfo=UTC)


def confirm_of(page: str, action: str) -> str:
    """The question the app asks before sending the form to ``action``."""
    match = re.search(rf'<form method="post" action="{action}"[^>]*data-confirm="([^"]*)"', page)
    assert match, f"the form to {action} asks nothing"
    return html.unescape(match.group(1))


async def test_binding_and_withdrawing_ask_first(client: httpx.AsyncClient, db: Database) -> None:
    user = await register(client)
    await fund(db, user, 20_000)
    await sign_in(client, user.phone)
    page = (await client.get("/wallet?lang=en")).text
    question = confirm_of(page, "/wallet/payout-account")
    assert "only once" in question
    assert "alipay" not in question.lower() and "****" not in question
    await bind(client, user, "6222900011117777")
    page = (await client.get("/wallet?lang=en")).text
    # The withdrawal's question names the amount, the fee, what arrives and where (the
    # page's script fills in the amount typed).
    asked = re.search(
        r'<form method="post" action="/wallet/withdrawals"[^>]*data-confirm-money="([^"]*)"', page
    )
    assert asked is not None
    question = html.unescape(asked.group(1))
    assert all(part in question for part in ("{amount}", "{fee}", "{net}", "{account}"))
    assert re.search(r'data-account="Bank card \*{4} 7777"', page)
    assert 'data-fee-fen="100"' in page
    assert "Withdraw money" in page


async def test_the_wallet_says_withdraw_money_not_retract(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await fund(db, user, 20_000)
    await bind(client, user)
    await sign_in(client, user.phone)
    chinese = (await client.get("/wallet?lang=zh_CN")).text
    assert "撤回" not in chinese
    assert "data-support" not in chinese  # no support contact set, none shown


async def test_wallet_times_are_beijing_time(client: httpx.AsyncClient, db: Database) -> None:
    user = await register(client)
    await fund(db, user, 20_000)
    await bind(client, user)
    asked = await withdraw(client, user, 5_000, "beijing")
    assert asked.status_code == 201, asked.text
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE ledger_withdrawals SET created_at = :at WHERE id = :id"),
            {"at": UTC_MOMENT, "id": asked.json()["id"]},
        )
    await sign_in(client, user.phone)
    page = (await client.get("/wallet?lang=en")).text
    withdrawal = page.split("data-withdrawal-status=", 1)[1].split("</li>", 1)[0]
    assert "01-02 04:30" in withdrawal and "20:30" not in withdrawal
    wallet = (await client.get("/api/v1/me/wallet", headers=user.auth)).json()
    moment = datetime.fromisoformat(wallet["movements"][0]["at"])
    assert f">{local_time(moment)}</td>" in page
    assert f">{moment.astimezone(UTC).strftime('%m-%d %H:%M')}</td>" not in page


async def test_movements_are_said_in_words_with_a_link_to_their_task(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    person = UUID(user.id)
    assignment = uuid4()
    await fund(db, user, 300)
    async with db.session_scope() as s:
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                f"release-{assignment}",
                available_account(person),
                pending_account(person),
                100,
                "task_release",
                reference=f"assignment:{assignment}",
            ),
        )
    await sign_in(client, user.phone)
    page = (await client.get("/wallet?lang=en")).text
    row = page.split('data-movement="task_release"', 1)[1].split("</tr>", 1)[0]
    assert "Reward out of hold" in row and "task_release" not in row
    assert f'<a href="/me/tasks/{assignment}" data-movement-task>' in row
    assert "assignment:" not in page
    assert 'data-movement-state="posted">Recorded<' in row
    # A reward set aside for a claim is not income yet: no sign, greyed.
    async with db.session_scope() as s:
        await ledger.transfer(
            s,
            ledger.TransferRequest(
                f"claim-{assignment}", available_account(person), pending_account(person), 160,
                "task_reward", reference=f"assignment:{assignment}", pending=True,
                timeout_seconds=3600,
            ),
        )  # fmt: skip
    page = (await client.get("/wallet?lang=en")).text
    row = page.split('data-movement="task_reward"', 1)[1].split("</tr>", 1)[0]
    assert 'class="muted" data-not-moved>¥1.60</td>' in row, row
    assert "Set aside for your claim" in row


async def test_the_organisation_lists_top_ups_in_beijing_time(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    started = await start_deposit(client, owner, org_id, 50_000, "beijing")
    assert started.status_code == 201, started.text
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE ledger_deposits SET created_at = :at WHERE org_id = :org"),
            {"at": UTC_MOMENT, "org": org_id},
        )
    await sign_in(client, owner.phone)
    page = (await client.get(f"/orgs/{org_id}")).text
    top_up = page.split("data-deposit-status=", 1)[1].split("</li>", 1)[0]
    assert "2026-01-02 04:30" in top_up and "2026-01-01 20:30" not in top_up


async def test_operators_confirm_before_approving_a_withdrawal(
    client: httpx.AsyncClient, db: Database
) -> None:
    worker = await register(client)
    operator = await register(client)
    await fund(db, worker, 500_000)
    await bind(client, worker)
    big = await withdraw(client, worker, 300_000, "big")
    assert big.json()["status"] == "requested"
    await make_operator(db, operator)
    await sign_in(client, operator.phone)
    page = (await client.get("/ops/money?lang=en")).text
    action = f"/ops/withdrawals/{big.json()['id']}"
    forms = re.findall(rf'<form method="post" action="{action}"[^>]*>', page)
    assert len(forms) == 2
    assert all("data-confirm=" in form for form in forms)
    assert "¥3,000.00" in confirm_of(page, action)
    # A reason too long is refused, not cut, and stays in its row's field to shorten.
    long_reason = "账户信息与实名不符" * 23
    refused = await client.post(
        f"{action}?lang=en",
        data={"decision": "reject", "reason": long_reason, "csrf_token": csrf_from(page)},
    )
    assert refused.status_code == 422 and "Use at most 200 characters." in refused.text
    assert f'value="{long_reason}"' in refused.text
    async with db.sessionmaker() as s:
        status = await s.scalar(
            text("SELECT status FROM ledger_withdrawals WHERE id = :id"), {"id": big.json()["id"]}
        )
    assert status == "requested"


async def test_operators_read_registrations_and_reconciliations_in_beijing_time(
    client: httpx.AsyncClient, db: Database
) -> None:
    operator = await register(client)
    late = await register(client, phone="13800000033")
    await make_operator(db, operator)
    report = await client.post("/api/v1/ops/reconciliation", headers=operator.auth)
    assert report.status_code == 201, report.text
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE people SET created_at = :at WHERE id = :id"),
            {"at": UTC_MOMENT, "id": late.id},
        )
        await s.execute(
            text("UPDATE ledger_reconciliation_reports SET created_at = :at"), {"at": UTC_MOMENT}
        )
    await sign_in(client, operator.phone)
    people = (await client.get("/ops/people", params={"q": "13800000033"})).text
    row = people.split('data-phone="+8613800000033">+86 138 0000 0033', 1)[1].split("</tr>", 1)[0]
    assert "2026-01-02" in row and "2026-01-01" not in row
    money = (await client.get("/ops/money?lang=en")).text
    reconciliation = money.split('id="reconciliation"', 1)[1].split("</section>", 1)[0]
    assert "2026-01-02 04:30" in reconciliation and "20:30" not in reconciliation


async def test_operators_find_a_phone_however_it_is_typed(
    client: httpx.AsyncClient, db: Database
) -> None:
    operator = await register(client)
    await register(client, phone="13800000011")
    await register(client, phone="13800000022")
    await make_operator(db, operator)
    await sign_in(client, operator.phone)

    async def found(typed: str) -> set[str]:
        page = (await client.get("/ops/people", params={"q": typed})).text
        return set(re.findall(r'data-phone="(\+86138000000\d\d)"', page))

    for whole in ("+8613800000011", "+86 138 0000 0011", "138-0000-0011", "0086 13800000011"):
        assert await found(whole) == {"+8613800000011"}, whole
    assert await found("+86 138 0000 00") == {"+8613800000011", "+8613800000022"}
    # A plus typed by hand into the address arrives as a space.
    page = (await client.get("/ops/people?q=+8613800000011")).text
    assert 'data-phone="+8613800000011"' in page and "+86 138 0000 0022" not in page
    assert await found("nobody by this name") == set()


async def test_the_profile_names_the_platform_in_the_page_language(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    page = await client.get("/profile?lang=zh_CN")
    bound = await client.post(
        "/profile/platform",
        data={"handle": "my_channel", "followers": "120", "csrf_token": csrf_from(page.text)},
    )
    assert bound.status_code == 303, bound.text
    chinese = (await client.get("/profile?lang=zh_CN")).text
    line = chinese.split('data-bound-handle="my_channel">', 1)[1].split("</p>", 1)[0]
    assert "沙盒平台" in line and "sandbox" not in line
    # The follower count typed is for a new account only, and binding again asks first.
    english = (await client.get("/profile?lang=en")).text
    assert "one that is already there reports its own followers" in english
    again = english.split('action="/profile/platform" novalidate', 1)[1].split("</form>", 1)[0]
    assert "takes the place of the one bound now" in html.unescape(again)
    first = page.text.split('action="/profile/platform" novalidate', 1)[1].split("</form>", 1)[0]
    assert "data-confirm" not in first  # nothing bound yet: nothing to replace


async def test_the_profile_takes_numbers_as_people_type_them(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    token = csrf_from((await client.get("/profile?lang=en")).text)

    async def bind(handle: str, followers: str) -> httpx.Response:
        return await client.post(
            "/profile/platform?lang=en",
            data={"handle": handle, "followers": followers, "csrf_token": token},
        )

    # Both mistakes are named at once, and a superscript digit is no number (not a fault).
    both = await bind("x", "²")
    assert both.status_code == 422
    assert 'id="handle-error"' in both.text and 'id="followers-error"' in both.text
    # Thousands separators and full-width digits, as input methods give them.
    assert (await bind("my_channel", "1,200")).status_code == 303
    me = (await client.get("/api/v1/me/platform-accounts", headers=user.auth)).json()
    assert [(a["handle"], a["followers"]) for a in me] == [("my_channel", 1200)]
    assert (await bind("other_channel", "\uff13\uff14\uff10\uff10")).status_code == 303
    me = (await client.get("/api/v1/me/platform-accounts", headers=user.auth)).json()
    assert [(a["handle"], a["followers"]) for a in me] == [("other_channel", 3400)]
    page = await client.post(
        "/profile?lang=en",
        data={"display_name": "某人", "birth_year": "19²5", "csrf_token": token},
    )
    assert page.status_code == 422 and "four digits" in page.text


async def test_a_long_wallet_history_is_read_page_by_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    for n in range(55):
        await fund(db, user, 100 + n, tag=str(n))
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": "20", **({"cursor": cursor} if cursor else {})}
        answer = await client.get("/api/v1/me/wallet", params=params, headers=user.auth)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen += [m["amount"] for m in body["movements"]]
        assert body["available_fen"] == sum(range(100, 155))  # balances on every page
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(154, 99, -1))  # each movement once, newest first
    refused = await client.get("/api/v1/me/wallet?cursor=abc", headers=user.auth)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")

    await sign_in(client, user.phone)
    first = (await client.get("/wallet?lang=en")).text
    assert first.count("data-movement=") == 50
    older = re.search(r'href="(/wallet\?cursor=\d+)#movements"[^>]*data-older-movements', first)
    assert older, "no link to the older movements"
    second = (await client.get(older.group(1) + "&lang=en")).text
    assert second.count("data-movement=") == 5
    assert "data-older-movements" not in second and "data-latest-movements" in second
    assert "+1.00" in second and "+1.54" not in second  # the oldest five


async def test_a_top_up_cancelled_at_the_checkout_says_so(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    started = await start_deposit(client, owner, org_id, 50_000, "cancelled")
    deposit_id = started.json()["id"]
    await sign_in(client, owner.phone)
    checkout = await client.get(f"/sandbox/pay/{deposit_id}")
    cancelled = await client.post(
        f"/sandbox/pay/{deposit_id}",
        data={"decision": "cancel", "csrf_token": csrf_from(checkout.text)},
    )
    assert cancelled.status_code == 303
    page = await client.get(cancelled.headers["location"] + "&lang=en")
    assert "The top-up was cancelled at the checkout; nothing was paid." in page.text
    assert 'data-deposit-status="closed"' in page.text


async def test_an_unpaid_top_up_says_so_and_leads_back_to_the_payment(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    started = await start_deposit(client, owner, org_id, 50_000, "unpaid")
    deposit_id = started.json()["id"]
    await sign_in(client, owner.phone)
    page = (await client.get(f"/orgs/{org_id}?lang=en")).text
    top_up = page.split('data-deposit-status="created">', 1)[1].split("</li>", 1)[0]
    assert "waiting for payment" in top_up and "created" not in top_up
    resume = f"/orgs/{org_id}/deposits/{deposit_id}/pay"
    assert f'href="{resume}"' in top_up
    back = await client.get(resume)
    assert back.status_code == 303
    assert back.headers["location"].startswith(f"/sandbox/pay/{deposit_id}")
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE ledger_deposits SET status = 'closed' WHERE id = :id"), {"id": deposit_id}
        )
    closed = await client.get(resume, follow_redirects=True, params={"lang": "en"})
    assert "no longer waiting for payment" in closed.text
    assert "closed without payment" in closed.text and f'href="{resume}"' not in closed.text
    # Someone else's organisation: refused, and nothing about it is said.
    stranger = await register(client)
    client.cookies.clear()
    await sign_in(client, stranger.phone)
    assert (await client.get(resume)).status_code in (403, 404)


async def test_a_payer_whose_payment_notice_was_lost_sees_it_credited_on_asking(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    first = (await start_deposit(client, owner, org_id, 8_800, "asked")).json()["id"]
    second = (await start_deposit(client, owner, org_id, 9_900, "resumed")).json()["id"]
    await sign_in(client, owner.phone)
    page = (await client.get(f"/orgs/{org_id}?lang=en")).text
    check = f"/orgs/{org_id}/deposits/{first}/check"
    assert f'action="{check}"' in page and "Paid already? Check" in page
    # Not paid: the page says the provider has nothing yet, and it stays waiting.
    asked = await client.post(check, data={"csrf_token": csrf_from(page)})
    assert asked.status_code == 303
    told = (await client.get(asked.headers["location"] + "&lang=en")).text
    assert "The payment provider has no payment for this top-up yet." in told
    assert 'data-flash="info"' in told  # nothing was done: not shown as a success
    assert told.count('data-deposit-status="created"') == 2
    # Both paid at the provider; neither notice arrived.
    sandbox = client.app.state.runtime.payments  # type: ignore[attr-defined]
    await sandbox.record_payment(order_id=first, amount=8_800, status="paid")
    await sandbox.record_payment(order_id=second, amount=9_900, status="paid")
    asked = await client.post(check, data={"csrf_token": csrf_from(told)})
    told = (await client.get(asked.headers["location"] + "&lang=en")).text
    assert "This top-up was already paid: it is in the balance." in told
    assert 'data-flash="ok"' in told
    assert await balance(client, owner, org_id) == 8_800
    # "Pay now" on the other asks first instead of sending the payer to pay twice.
    resumed = await client.get(f"/orgs/{org_id}/deposits/{second}/pay")
    assert resumed.status_code == 303 and "/sandbox/pay" not in resumed.headers["location"]
    told = (await client.get(resumed.headers["location"] + "&lang=en")).text
    assert "This top-up was already paid: it is in the balance." in told
    assert 'data-deposit-status="created"' not in told
    assert await balance(client, owner, org_id) == 18_700


async def test_an_unpaid_top_up_can_be_closed_from_the_page_after_a_question(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    started = await start_deposit(client, owner, org_id, 123_400, "typo")
    deposit_id = started.json()["id"]
    await sign_in(client, owner.phone)
    page = (await client.get(f"/orgs/{org_id}?lang=en")).text
    top_up = page.split('data-deposit-status="created">', 1)[1].split("</li>", 1)[0]
    close = f"/orgs/{org_id}/deposits/{deposit_id}/close"
    assert f'action="{close}"' in top_up
    assert "Close this top-up of ¥1,234.00?" in top_up  # asked first, with the amount
    checkout = await client.get(f"/sandbox/pay/{deposit_id}")
    closed = await client.post(close, data={"csrf_token": csrf_from(page)})
    assert closed.status_code == 303
    after = await client.get(closed.headers["location"] + "&lang=en")
    assert "The top-up was closed: it can no longer be paid." in after.text
    assert 'data-deposit-status="closed"' in after.text and f'action="{close}"' not in after.text
    # A checkout tab left open cannot pay it any more.
    late = await client.post(
        f"/sandbox/pay/{deposit_id}",
        data={"decision": "pay", "csrf_token": csrf_from(checkout.text)},
    )
    told = await client.get(late.headers["location"] + "&lang=en")
    assert "This top-up was closed; nothing was paid." in told.text
    assert await balance(client, owner, org_id) == 0


async def test_older_top_ups_are_a_page_away(client: httpx.AsyncClient, db: Database) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    for n in range(12):
        await start_deposit(client, owner, org_id, 10_000 + n * 100, f"top-{n}")
    await sign_in(client, owner.phone)
    first = (await client.get(f"/orgs/{org_id}?lang=en")).text
    assert first.count("data-deposit-status=") == 10
    assert "¥ 111.00" in first and "¥ 101.00" not in first  # newest first
    older = re.search(r'href="(/orgs/[^"?]+\?[^"#]*top_ups=[^"#]+)#top-ups"[^>]*data-older', first)
    assert older, "no link to the older top-ups"
    assert "lang=en" in older.group(1)  # the rest of the page's query is kept
    second = (await client.get(html.unescape(older.group(1)))).text
    assert second.count("data-deposit-status=") == 2
    assert "¥ 100.00" in second and "¥ 101.00" in second
    assert "data-older-top-ups" not in second and "data-latest-top-ups" in second
    # An old one is still there to be closed, and closing it comes back to its page.
    assert second.count("data-close-top-up") == 2
    assert second.count("data-top-up-expires") == 2
    assert "Closes on its own at" in second and "if still unpaid." in second
    oldest = re.findall(r'action="(/orgs/[^"]+/deposits/[^"]+/close)"', second)[-1]
    closed = await client.post(
        oldest,
        data={"csrf_token": csrf_from(second), "top_ups": top_ups_cursor(second)},
    )
    assert closed.status_code == 303
    assert "top_ups=" in closed.headers["location"]
    assert closed.headers["location"].endswith("#top-ups")
    back = (await client.get(closed.headers["location"].split("#")[0] + "&lang=en")).text
    assert "The top-up was closed: it can no longer be paid." in back
    assert back.count("data-deposit-status=") == 2  # the same older page, not the first
    assert back.count('data-deposit-status="closed"') == 1
    assert "¥ 100.00" in back
    # The message was for this page only: the link back to the latest does not repeat it.
    latest = re.search(r'href="([^"]+)"[^>]*data-latest-top-ups', back)
    assert latest and "done=" not in latest.group(1) and "lang=en" in latest.group(1)


def top_ups_cursor(page: str) -> str:
    """The older top-ups' cursor a page's close forms carry."""
    found = re.search(r'name="top_ups" value="([^"]+)"', page)
    assert found, "the close form does not say which page of top-ups it is on"
    return html.unescape(found.group(1))


async def test_older_withdrawals_are_a_page_away(client: httpx.AsyncClient, db: Database) -> None:
    user = await register(client)
    await fund(db, user, 100_000)
    await bind(client, user)
    for n in range(22):
        made = await withdraw(client, user, 1_000 + n, f"w-{n}")
        assert made.status_code == 201, made.text
    await sign_in(client, user.phone)
    first = (await client.get("/wallet?lang=en")).text
    assert first.count("data-withdrawal-status=") == 20
    assert "¥ 10.21" in first and "¥ 10.01" not in first  # newest first
    older = re.search(
        r'href="(/wallet\?[^"#]*withdrawals=[^"#]+)#withdrawals"[^>]*data-older', first
    )
    assert older, "no link to the older withdrawals"
    second = (await client.get(html.unescape(older.group(1)) + "&lang=en")).text
    assert second.count("data-withdrawal-status=") == 2
    assert "¥ 10.00" in second and "¥ 10.01" in second
    assert "data-older-withdrawals" not in second and "data-latest-withdrawals" in second


async def test_a_wallet_with_too_little_to_withdraw_says_so_instead_of_a_form(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await bind(client, user)
    await sign_in(client, user.phone)
    empty = (await client.get("/wallet?lang=en")).text
    assert "data-nothing-to-withdraw" in empty and 'action="/wallet/withdrawals"' not in empty
    assert "once at least ¥10.00 is withdrawable (fee included); now ¥0.00 is." in empty
    await fund(db, user, 1_000)
    funded = (await client.get("/wallet?lang=en")).text
    assert "data-nothing-to-withdraw" not in funded and 'action="/wallet/withdrawals"' in funded
    # Too little typed: the field says the same bound as the message.
    refused = await client.post(
        "/wallet/withdrawals",
        data={"csrf_token": csrf_from(funded), "form_id": "x", "amount": "5", "lang": "en"},
    )
    assert "The smallest withdrawal is ¥10.00." in refused.text
    assert "At least ¥10.00." in refused.text and "Too small." not in refused.text
