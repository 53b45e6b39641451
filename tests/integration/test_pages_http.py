"""Page behaviour that needs no browser: CSRF, sessions, redirects, staff pages."""

from __future__ import annotations

import re
from html import unescape

import httpx
from sqlalchemy import func, select, text

from tests.factories import PASSWORD, create_org, register
from tests.integration.answers import csrf_from, form_id_from
from xingdong.core.db import Database
from xingdong.identity.models import WebSession


def field_errors(html: str) -> dict[str, str]:
    """The messages shown beside the page's fields, by field."""
    return dict(re.findall(r'data-error-for="(\w+)">([^<]*)<', html))


async def sign_in(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"phone": phone, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )


async def test_sign_in_sets_a_protected_session_cookie(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await sign_in(client, user.phone)
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("xd_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    profile = await client.get("/profile")
    assert profile.status_code == 200
    assert user.phone[-4:] in profile.text


async def test_cookies_are_secure_over_https(clean_db: str) -> None:
    from tests.integration.conftest import make_settings
    from xingdong.app import create_app

    app = create_app(make_settings(), database_url=clean_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        page = await http.get("/login")
    await app.state.runtime.db.dispose()
    assert "Secure" in page.headers["set-cookie"]


async def test_post_without_csrf_token_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    user = await register(client)
    await client.get("/login")
    response = await client.post("/login", data={"phone": user.phone, "password": PASSWORD})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(WebSession))).scalar_one() == 0


async def test_forged_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    user = await register(client)
    await client.get("/login")
    response = await client.post(
        "/login", data={"phone": user.phone, "password": PASSWORD, "csrf_token": "0" * 64}
    )
    assert response.status_code == 403


async def test_token_from_another_browser_is_refused(client: httpx.AsyncClient) -> None:
    """A token is bound to its own browser's cookie: one copied from elsewhere fails."""
    user = await register(client)
    other_page = await client.get("/login")
    stolen = csrf_from(other_page.text)
    client.cookies.set("xd_csrf", "another-browser-cookie")
    response = await client.post(
        "/login", data={"phone": user.phone, "password": PASSWORD, "csrf_token": stolen}
    )
    assert response.status_code == 403


async def test_expired_session_sends_the_person_to_sign_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    async with db.session_scope() as s:
        await s.execute(text("UPDATE web_sessions SET expires_at = now() - interval '1 second'"))
    response = await client.get("/profile")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/profile&expired=1")
    login = await client.get(response.headers["location"])
    assert 'class="notice warn"' in login.text


def sign_in_notice(html: str) -> str | None:
    """Which notice the sign-in page opens with ("expired", "asked"), if any."""
    match = re.search(r'data-sign-in-notice="(\w+)"', html)
    return match.group(1) if match else None


def next_from(html: str) -> str:
    """Where the sign-in form leads afterwards (its hidden ``next``)."""
    match = re.search(r'name="next" value="([^"]*)"', html)
    assert match, "the page has no next"
    return unescape(match.group(1))


async def test_someone_never_signed_in_is_asked_to_sign_in_not_told_it_expired(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/profile"
    login = await client.get(response.headers["location"], headers={"Accept-Language": "en"})
    assert sign_in_notice(login.text) == "asked"
    assert "Please sign in." in login.text
    assert "expired" not in login.text
    # Opening the sign-in page itself says nothing.
    assert sign_in_notice((await client.get("/login")).text) is None


async def test_after_signing_out_nobody_is_told_the_session_expired(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    profile = await client.get("/profile")
    await client.post("/logout", data={"csrf_token": csrf_from(profile.text)})
    response = await client.get("/profile")
    assert response.headers["location"] == "/login?next=/profile"
    assert sign_in_notice((await client.get(response.headers["location"])).text) == "asked"


async def test_sign_in_leads_back_to_the_page_with_its_query(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    asked_for = "/me/tasks?status=approved&q=%E5%A5%B6%E7%B2%89"
    response = await client.get(asked_for)
    assert response.headers["location"] == (
        "/login?next=/me/tasks%3Fstatus%3Dapproved%26q%3D%25E5%25A5%25B6%25E7%25B2%2589"
    )
    login = await client.get(response.headers["location"])
    assert next_from(login.text) == asked_for
    signed_in = await client.post(
        "/login",
        data={
            "phone": user.phone,
            "password": PASSWORD,
            "next": next_from(login.text),
            "csrf_token": csrf_from(login.text),
        },
    )
    assert signed_in.headers["location"] == asked_for
    # An expired session comes back to the same place, and is told it expired.
    async with db.session_scope() as s:
        await s.execute(text("UPDATE web_sessions SET expires_at = now() - interval '1 second'"))
    expired = await client.get("/me/tasks?status=approved")
    assert expired.headers["location"] == "/login?next=/me/tasks%3Fstatus%3Dapproved&expired=1"


async def test_an_address_elsewhere_is_no_place_to_return_to(client: httpx.AsyncClient) -> None:
    for elsewhere in ("//evil.example/?next=/", "https://evil.example/", "evil.example"):
        login = await client.get("/login", params={"next": elsewhere})
        assert next_from(login.text) == "/", elsewhere


async def test_the_profile_names_regions_and_interests_in_the_page_language(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    english = (await client.get("/profile?lang=en")).text
    assert '<option value="广东" >Guangdong</option>' in english
    assert 'value="母婴" > Parenting</label>' in english
    chinese = (await client.get("/profile?lang=zh_CN")).text
    assert '<option value="广东" >广东</option>' in chinese


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, db: Database) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    profile = await client.get("/profile")
    response = await client.post("/logout", data={"csrf_token": csrf_from(profile.text)})
    assert response.status_code == 303
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(WebSession))).scalar_one() == 0
    assert (await client.get("/profile")).status_code == 303


async def test_failed_page_sign_in_shows_the_error_and_counts(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    page = await client.get("/login?lang=en")
    response = await client.post(
        "/login",
        data={"phone": user.phone, "password": "wrong12345", "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 401
    assert "Wrong phone number or password." in response.text
    async with db.sessionmaker() as s:
        count = (await s.execute(text("SELECT failed_login_count FROM people"))).scalar_one()
    assert count == 1


async def test_an_empty_sign_in_form_says_what_is_missing_and_counts_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client)
    page = await client.get("/login?lang=en")
    empty = await client.post(
        "/login", data={"phone": "", "password": "", "csrf_token": csrf_from(page.text)}
    )
    assert empty.status_code == 422
    assert field_errors(empty.text) == {
        "phone": "Enter your phone number.",
        "password": "Enter your password.",
    }
    assert "Wrong phone number or password" not in empty.text
    # More empty passwords than the sign-in limit allows: none is an attempt.
    for _ in range(12):
        no_password = await client.post(
            "/login",
            data={"phone": user.phone, "password": "", "csrf_token": csrf_from(page.text)},
        )
        assert no_password.status_code == 422
    assert field_errors(no_password.text) == {"password": "Enter your password."}
    assert f'value="{user.phone}"' in no_password.text
    async with db.sessionmaker() as s:
        count = (await s.execute(text("SELECT failed_login_count FROM people"))).scalar_one()
    assert count == 0
    assert (await sign_in(client, user.phone)).status_code == 303


async def test_redirect_after_sign_in_stays_on_this_site(client: httpx.AsyncClient) -> None:
    user = await register(client)
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "phone": user.phone,
            "password": PASSWORD,
            "next": "//evil.example/steal",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.headers["location"] == "/"


async def test_the_site_icon_is_served_where_browsers_look(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    linked = page.text.split('<link rel="icon" href="', 1)[1].split('"', 1)[0]
    for path in (linked, "/favicon.ico"):
        icon = await client.get(path)
        assert icon.status_code == 200, path
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text.startswith("<svg")


async def test_the_home_page_leads_into_the_task_center_and_each_organisation(
    client: httpx.AsyncClient,
) -> None:
    anonymous = await client.get("/")
    assert 'href="/register"' in anonymous.text and "data-home-orgs" not in anonymous.text
    user = await register(client)
    await sign_in(client, user.phone)
    home = await client.get("/?lang=en")
    assert "data-home-tasks" in home.text
    assert "You do not run a brand or an agency yourself" in home.text
    brands = [await create_org(client, user, name=f"品牌{n}") for n in range(6)]
    home = await client.get("/?lang=en")
    # The first five, each straight to its campaigns; the rest are on /orgs.
    shown = [org_id for org_id in brands if f'data-home-org="{org_id}"' in home.text]
    assert len(shown) == 5
    assert f'href="/orgs/{shown[0]}/campaigns"' in home.text
    assert "All my organisations" in home.text
    chinese = await client.get("/?lang=zh_CN")
    assert "：推广活动" in chinese.text and "All my organisations" not in chinese.text


async def test_staff_pages_need_staff_roles(client: httpx.AsyncClient, db: Database) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    assert (await client.get("/ops/people")).status_code == 403
    assert (await client.get("/review")).status_code == 403
    home = await client.get("/")
    assert 'data-role-nav="operator"' not in home.text
    assert "data-home-staff" not in home.text
    async with db.session_scope() as s:
        await s.execute(
            text("INSERT INTO staff_grants (person_id, role) VALUES (:id, 'operator')"),
            {"id": user.id},
        )
    people = await client.get(f"/ops/people?q={user.phone[-6:]}")
    assert people.status_code == 200
    assert user.phone in people.text
    home = await client.get("/")
    assert 'data-role-nav="operator"' in home.text
    assert 'data-role-nav="reviewer"' not in home.text
    # The home page leads an operator to every console, as the menu does, and no further.
    consoles = home.text.split("data-home-staff>", 1)[1].split("</section>", 1)[0]
    assert 'href="/ops/dispatch" data-home-staff-page="dispatch"' in consoles
    assert 'href="/ops/campaigns"' in consoles and 'href="/review"' not in consoles


async def test_flash_messages_come_only_from_our_catalogue(client: httpx.AsyncClient) -> None:
    page = await client.get("/login?done=Call%20555-0100%20to%20claim%20a%20prize")
    assert "555-0100" not in page.text


async def test_pages_hand_out_the_form_cookie_and_the_api_does_not(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")
    assert "xd_csrf=" in page.headers.get("set-cookie", "")
    client.cookies.clear()
    api = await client.get("/api/v1/tasks")
    assert api.status_code == 401
    assert "xd_csrf" not in api.headers.get("set-cookie", "")
    assert api.headers["content-type"].startswith("application/problem+json")


async def test_a_nul_character_is_refused_with_a_message_and_changes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await register(client, name="原来的名字")
    org_id = await create_org(client, user)
    await sign_in(client, user.phone)
    # A search box: PostgreSQL cannot compare text with NUL in it.
    for path in ("/orgs", f"/orgs/{org_id}", f"/orgs/{org_id}/campaigns", "/sandbox"):
        searched = await client.get(path, params={"q": "a\x00b", "lang": "en"})
        assert searched.status_code == 422, path
        assert "NUL character" in searched.text
    # A form: nothing of it is kept. (A name is refused before the database sees it, as
    # a name with any control character is; the search boxes above reach the database.)
    page = await client.get("/profile")
    changed = await client.post(
        "/profile?lang=en",
        data={"display_name": "新\x00名字", "csrf_token": csrf_from(page.text)},
    )
    assert changed.status_code == 422 and "invisible control characters" in changed.text
    async with db.session_scope() as s:
        name = await s.scalar(
            text("SELECT display_name FROM people WHERE phone = :p"),
            {"p": "+86" + user.phone[-11:]},
        )
    assert name == "原来的名字"
    # The API says the same as problem details.
    answer = await client.patch(
        "/api/v1/me", json={"display_name": "新\x00名字"}, headers=user.auth
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "validation_failed"


async def top_up_on_the_page(client: httpx.AsyncClient, amount: str) -> httpx.Response:
    """A new organisation's owner, signed in, sends the top-up form with ``amount``."""
    user = await register(client)
    org_id = await create_org(client, user)
    await sign_in(client, user.phone)
    page = (await client.get(f"/orgs/{org_id}")).text
    return await client.post(
        f"/orgs/{org_id}/deposits?lang=en",
        data={"amount": amount, "form_id": form_id_from(page), "csrf_token": csrf_from(page)},
    )


async def test_amounts_too_large_for_any_form_are_refused_by_name(
    client: httpx.AsyncClient,
) -> None:
    top_up = await top_up_on_the_page(client, "1e309")
    assert top_up.status_code == 422
    assert 'id="amount-error"' in top_up.text and "Enter an amount in yuan" in top_up.text


async def test_a_top_up_out_of_range_is_marked_at_its_field(client: httpx.AsyncClient) -> None:
    small = await top_up_on_the_page(client, "0.50")
    assert small.status_code == 422
    assert "A top-up is between ¥1.00 and" in small.text
    field = small.text.split('id="top-up-amount"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in field and "amount_fen-error" in field
    assert 'id="amount_fen-error"' in small.text
    # The field itself says the range, for nothing, a negative amount or too much alike.
    org_path = small.text.split('action="/orgs/', 1)[1].split("/", 1)[0]
    page = (await client.get(f"/orgs/{org_path}")).text
    form = {"form_id": form_id_from(page), "csrf_token": csrf_from(page)}
    for typed in ("0.50", "0", "-100", "99999999999"):
        refused = await client.post(
            f"/orgs/{org_path}/deposits?lang=en", data={**form, "amount": typed}
        )
        assert refused.status_code == 422, typed
        error = refused.text.split('id="amount_fen-error"', 1)[1].split("</", 1)[0]
        assert "From ¥1.00 to ¥" in error, (typed, error)


async def test_a_refused_registration_keeps_the_code_and_claims_no_new_one(
    client: httpx.AsyncClient,
) -> None:
    form = await client.get("/register")
    token = csrf_from(form.text)
    sent = await client.post("/register/code", data={"csrf_token": token, "phone": "13900001234"})
    assert "已向" in sent.text and "发送 6 位验证码" in sent.text
    code = sent.text.split('data-demo-code="', 1)[1].split('"', 1)[0]
    weak = await client.post(
        "/register",
        data={"csrf_token": token, "phone": "13900001234", "code": code, "password": "short"},
    )
    assert weak.status_code == 422
    assert 'data-error-for="password"' in weak.text
    # Nothing was sent by this step, and the code typed is still in its field.
    assert "发送 6 位验证码" not in weak.text
    assert f'value="{code}"' in weak.text


async def test_a_page_address_with_a_malformed_id_is_not_found(client: httpx.AsyncClient) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    page = await client.get("/tasks/not-a-uuid")
    assert page.status_code == 404
    # The API still says which part of the path is wrong.
    api = await client.get("/api/v1/tasks/not-a-uuid", headers=user.auth)
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "campaign_id"


async def test_a_form_sent_again_with_other_values_says_so_in_plain_words(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    org_id = await create_org(client, user)
    await sign_in(client, user.phone)
    page = (await client.get(f"/orgs/{org_id}")).text
    sent = {"form_id": form_id_from(page), "csrf_token": csrf_from(page)}
    first = await client.post(f"/orgs/{org_id}/deposits", data={**sent, "amount": "100"})
    assert first.status_code == 303
    again = await client.post(f"/orgs/{org_id}/deposits?lang=en", data={**sent, "amount": "200"})
    assert again.status_code == 409
    assert "This form was already sent, with other values." in again.text
    assert "idempotency" not in again.text.lower()


async def test_a_money_form_without_its_one_off_id_is_refused_and_starts_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    """Without its id, every such form of a person would share one key: the first would
    go through and every later one be refused as its replay, for good."""
    user = await register(client)
    org_id = await create_org(client, user)
    await sign_in(client, user.phone)
    page = (await client.get(f"/orgs/{org_id}")).text
    for form_id in ("", "   ", None):
        sent = {"csrf_token": csrf_from(page), "amount": "100"}
        if form_id is not None:
            sent["form_id"] = form_id
        refused = await client.post(f"/orgs/{org_id}/deposits?lang=en", data=sent)
        assert refused.status_code == 422, form_id
        assert "This form is out of date. Open the page again" in refused.text
    async with db.sessionmaker() as s:
        assert await s.scalar(text("SELECT count(*) FROM ledger_deposits")) == 0
    # The page's own form still goes through.
    sent = {"form_id": form_id_from(page), "csrf_token": csrf_from(page), "amount": "100"}
    assert (await client.post(f"/orgs/{org_id}/deposits", data=sent)).status_code == 303


async def test_switching_language_keeps_the_search(client: httpx.AsyncClient) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    page = await client.get("/tasks?type=follow&done=x")
    assert 'href="?type=follow&amp;lang=en" data-lang="en"' in page.text


async def test_the_user_agreement_can_be_read_before_it_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    # Anyone may read it, in either language, with the deployment's own figures.
    page = await client.get("/agreement", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'data-agreement="2026-11"' in page.text and "Version 2026-11" in page.text
    assert page.text.count("data-term=") == 8
    assert "people of 18 and over" in page.text and "a fee of ¥1.00" in page.text
    chinese = await client.get("/agreement", headers={"Accept-Language": "zh-CN"})
    assert "仅限 18 岁及以上" in chinese.text
    # The profile links to it beside the button that accepts it, and every page's footer.
    user = await register(client)
    await sign_in(client, user.phone)
    profile = await client.get("/profile")
    assert 'href="/agreement" data-read-agreement' in profile.text
    assert '<a href="/agreement">' in profile.text


async def test_a_page_s_title_names_it_once_before_the_site(client: httpx.AsyncClient) -> None:
    home = await client.get("/?lang=en")
    assert re.search(r"<title>\s*Xingdong\s*</title>", home.text)
    user = await register(client)
    await sign_in(client, user.phone)
    wallet = await client.get("/wallet?lang=zh")
    assert re.search(r"<title>\s*我的钱包 · 星动\s*</title>", wallet.text)
