"""The sandbox platform's pages over HTTP: who may act, and each action reaching the
platform's records so that the connector sees it."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from tests.factories import User, register
from tests.integration.answers import csrf_from
from tests.integration.test_pages_http import sign_in
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.security import keyed_digest
from xingdong.core.settings import Settings
from xingdong.platforms.connector import TargetInfo
from xingdong.platforms.sandbox import service
from xingdong.platforms.sandbox.connector import SandboxConnector
from xingdong.platforms.sandbox.demo import BRAND_HANDLE, seed_sandbox
from xingdong.platforms.sandbox.models import (
    SandboxComment,
    SandboxFollow,
    SandboxLiveVisit,
    SandboxOrder,
    SandboxProfileAd,
)
from xingdong.platforms.sandbox.pages import credited_watch_seconds


@pytest.fixture
async def brand_videos(db: Database) -> list[UUID]:
    async with db.session_scope() as s:
        await seed_sandbox(s)
    async with db.sessionmaker() as s:
        view = await service.profile(s, handle=BRAND_HANDLE, viewer=None)
    return [video.id for video in view.videos]


async def brand_room(db: Database) -> UUID:
    async with db.sessionmaker() as s:
        view = await service.profile(s, handle=BRAND_HANDLE, viewer=None)
    return view.live_rooms[0].id


async def signed_in_worker(client: httpx.AsyncClient, handle: str = "page_worker") -> User:
    user = await register(client)
    bound = await client.put(
        "/api/v1/me/platform-accounts",
        json={"handle": handle, "followers": 150},
        headers=user.auth,
    )
    assert bound.status_code == 200, bound.text
    assert (await sign_in(client, user.phone)).status_code == 303
    return user


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Post a form the way the browser does: with the token rendered into ``page``."""
    html = (await client.get(page)).text
    return await client.post(action, data={"csrf_token": csrf_from(html), **(data or {})})


async def verify(
    db: Database, action: str, kind: str, ref: str, *, min_watch_seconds: int = 0
) -> tuple[str, str, int | None]:
    connector = SandboxConnector(db)
    target: TargetInfo = await connector.resolve_target(kind, ref)
    result = await connector.verify_action(
        action,
        actor_handle="page_worker",
        target=target,
        since=utcnow() - timedelta(minutes=5),
        min_watch_seconds=min_watch_seconds,
    )
    return result.status, result.detail, result.watched_seconds


async def test_signed_out_visitors_browse_with_the_simulation_banner(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    room = await brand_room(db)
    for path in (
        "/sandbox",
        f"/sandbox/@{BRAND_HANDLE}",
        f"/sandbox/videos/{brand_videos[0]}",
        f"/sandbox/live/{room}",
        "/sandbox/post",
    ):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "data-sandbox-banner" in page.text
        assert 'data-sandbox-notice="sign-in"' in page.text
        assert "data-follow-button" not in page.text
        assert "data-like-button" not in page.text
    css = await client.get("/sandbox/assets/sandbox.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert (await client.get("/sandbox/assets/secret.py")).status_code == 404


async def test_discover_searches_and_pages(
    client: httpx.AsyncClient, brand_videos: list[UUID]
) -> None:
    everything = await client.get("/sandbox")
    assert everything.text.count("data-video-link=") == 11
    assert 'data-account-link="xingdong_beauty"' in everything.text
    assert "data-live-link" in everything.text
    found = await client.get("/sandbox", params={"q": "秋冬"})
    assert re.findall(r'data-video-link="([^"]+)"', found.text) == [str(brand_videos[2])]
    assert 'rel="next"' not in found.text
    assert 'data-account-link="chenchen_cooks"' not in found.text


async def test_a_person_without_a_bound_account_is_asked_to_bind_one(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    user = await register(client)
    await sign_in(client, user.phone)
    page = await client.get(f"/sandbox/@{BRAND_HANDLE}")
    assert 'data-sandbox-notice="bind"' in page.text
    assert 'href="/profile#platform"' in page.text
    refused = await post_form(
        client, f"/sandbox/@{BRAND_HANDLE}", f"/sandbox/@{BRAND_HANDLE}/follow"
    )
    assert refused.status_code == 409
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(SandboxFollow))).scalar_one() == 0


async def test_follow_and_unfollow_on_the_profile_page(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    await signed_in_worker(client)
    profile = f"/sandbox/@{BRAND_HANDLE}"
    assert 'data-following="false"' in (await client.get(profile)).text
    followed = await post_form(client, profile, profile + "/follow")
    assert followed.status_code == 303
    assert followed.headers["location"].startswith(profile)
    page = await client.get(profile)
    assert 'data-following="true"' in page.text
    assert 'data-followers="12001"' in page.text
    assert await verify(db, "follow", "account", BRAND_HANDLE) == ("verified", "follow_found", None)
    assert (await post_form(client, profile, profile + "/unfollow")).status_code == 303
    assert await verify(db, "follow", "account", BRAND_HANDLE) == ("absent", "no_follow", None)


async def test_a_like_carries_the_watch_time_the_page_can_vouch_for(
    client: httpx.AsyncClient, db: Database, settings: Settings, brand_videos: list[UUID]
) -> None:
    await signed_in_worker(client)
    video = brand_videos[0]
    page = await client.get(f"/sandbox/videos/{video}")
    assert 'data-liked="false"' in page.text
    assert "data-watch-timer" in page.text
    # The page was opened 20 seconds ago; it claims a minute of watching.
    opened_at = int(utcnow().timestamp()) - 20
    stamp = keyed_digest(
        settings.secret_key.get_secret_value(), f"sandbox-watch:{video}:{opened_at}"
    )
    liked = await client.post(
        f"/sandbox/videos/{video}/like",
        data={
            "csrf_token": csrf_from(page.text),
            "watched_seconds": "60",
            "opened_at": str(opened_at),
            "stamp": stamp,
        },
    )
    assert liked.status_code == 303
    status, detail, watched = await verify(db, "like", "video", str(video), min_watch_seconds=15)
    assert (status, detail) == ("verified", "like_found")
    assert watched is not None
    assert 20 <= watched <= 22
    assert 'data-liked="true"' in (await client.get(f"/sandbox/videos/{video}")).text
    taken_back = await post_form(
        client, f"/sandbox/videos/{video}", f"/sandbox/videos/{video}/unlike"
    )
    assert taken_back.status_code == 303
    assert (await verify(db, "like", "video", str(video)))[:2] == ("absent", "no_like")


@pytest.mark.parametrize(
    ("claimed", "opened_ago", "stamp_ok", "credited"),
    [
        ("60", 20, True, 20),
        ("12", 20, True, 12),
        ("60", 20, False, 0),
        ("lots", 20, True, 0),
        ("5", -30, True, 0),
    ],
    ids=["capped-by-elapsed", "as-claimed", "forged-stamp", "not-a-number", "from-the-future"],
)
def test_credited_watch_time(claimed: str, opened_ago: int, stamp_ok: bool, credited: int) -> None:
    video = UUID("01900000-0000-7000-8000-000000000001")
    now = 1_800_000_000
    opened_at = now - opened_ago
    stamp = keyed_digest("s3cret", f"sandbox-watch:{video}:{opened_at}") if stamp_ok else "0" * 64
    assert (
        credited_watch_seconds(
            "s3cret", video, claimed=claimed, opened_at=str(opened_at), stamp=stamp, now=now
        )
        == credited
    )


async def test_comment_in_ones_own_words_then_delete_it(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    await signed_in_worker(client)
    video = f"/sandbox/videos/{brand_videos[1]}"
    empty = await post_form(client, video, video + "/comments", {"text": "   "})
    assert empty.status_code == 422
    assert 'data-error-for="text"' in empty.text
    posted = await post_form(client, video, video + "/comments", {"text": "今天照着画了，很自然"})
    assert posted.status_code == 303
    page = await client.get(video)
    assert "今天照着画了，很自然" in page.text
    comment_id = re.search(r'action="[^"]+/comments/([^/]+)/delete"', page.text)
    assert comment_id is not None
    assert (await verify(db, "comment", "video", str(brand_videos[1])))[:2] == (
        "verified",
        "comment_found",
    )
    deleted = await post_form(client, video, f"{video}/comments/{comment_id.group(1)}/delete")
    assert deleted.status_code == 303
    assert "今天照着画了，很自然" not in (await client.get(video)).text
    async with db.sessionmaker() as s:
        row = await s.get(SandboxComment, UUID(comment_id.group(1)))
    assert row is not None
    assert row.deleted_at is not None


async def test_share_and_post_a_video_that_mentions_the_brand(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    await signed_in_worker(client)
    video = f"/sandbox/videos/{brand_videos[0]}"
    shared = await post_form(client, video, video + "/share", {"channel": "moments"})
    assert shared.status_code == 303
    assert (await verify(db, "share", "video", str(brand_videos[0])))[:2] == (
        "verified",
        "share_found",
    )
    too_short = await post_form(client, "/sandbox/post", "/sandbox/post", {"title": "x"})
    assert too_short.status_code == 422
    assert 'data-error-for="title"' in too_short.text
    posted = await post_form(
        client,
        "/sandbox/post",
        "/sandbox/post",
        {"title": "我的通勤妆", "description": "跟着 @xingdong_beauty 学的 #推广"},
    )
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/sandbox/videos/")
    assert (await verify(db, "shoot", "account", BRAND_HANDLE))[:2] == ("verified", "video_found")
    mine = await client.get("/sandbox/@page_worker")
    assert "我的通勤妆" in mine.text


async def test_enter_a_live_room_send_heartbeats_and_leave(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    await signed_in_worker(client)
    room = await brand_room(db)
    room_page = f"/sandbox/live/{room}"
    entered = await post_form(client, room_page, room_page + "/enter")
    assert entered.status_code == 303
    in_room = await client.get(entered.headers["location"])
    visit = re.search(r'data-live-visit="([^"]+)"', in_room.text)
    assert visit is not None
    token = csrf_from(in_room.text)
    no_token = await client.post(room_page + "/heartbeat", data={"visit_id": visit.group(1)})
    assert no_token.status_code == 403
    beat = await client.post(
        room_page + "/heartbeat",
        data={"visit_id": visit.group(1)},
        headers={"X-CSRF-Token": token},
    )
    assert beat.status_code == 200
    assert beat.json() == {"stayed_seconds": 0, "open": True}
    left = await client.post(
        room_page + "/leave", data={"visit_id": visit.group(1), "csrf_token": token}
    )
    assert left.status_code == 303
    async with db.sessionmaker() as s:
        row = await s.get(SandboxLiveVisit, UUID(visit.group(1)))
    assert row is not None
    assert row.left_at is not None
    assert "data-enter-button" in (await client.get(room_page)).text


async def test_binding_signs_up_a_new_handle_and_refuses_an_account_of_someone_else(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    existing, newcomer = await register(client), await register(client)
    # A creator's account on the platform is not the person's to bind, nor is the brand's.
    for handle in ("meizhuang_xiaoyu", BRAND_HANDLE):
        refused = await client.put(
            "/api/v1/me/platform-accounts",
            json={"handle": handle, "followers": 999_999},
            headers={**existing.auth, "Accept-Language": "en"},
        )
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["code"] == "platform_account_not_yours"
        assert body["detail"].startswith(f"@{handle} is someone else's account")
        assert [e["field"] for e in body["errors"]] == ["handle"]
    fresh = await client.put(
        "/api/v1/me/platform-accounts",
        json={"handle": "@brand_new_here", "followers": 77},
        headers=newcomer.auth,
    )
    assert (fresh.json()["handle"], fresh.json()["followers"]) == ("brand_new_here", 77)
    # Unbound and bound again by its opener: the platform's count, not a new declaration.
    await client.delete("/api/v1/me/platform-accounts/sandbox", headers=newcomer.auth)
    again = await client.put(
        "/api/v1/me/platform-accounts",
        json={"handle": "brand_new_here", "followers": 5_000_000},
        headers=newcomer.auth,
    )
    assert (again.status_code, again.json()["followers"]) == (200, 77)
    taken = await client.put(
        "/api/v1/me/platform-accounts",
        json={"handle": "brand_new_here", "followers": 1},
        headers=existing.auth,
    )
    assert taken.status_code in (403, 409)  # bound by its opener, and not theirs anyway
    async with db.sessionmaker() as s:
        account = await service.get_account(s, handle="brand_new_here")
    assert (account.followers, account.display_name) == (77, "brand_new_here")


async def brand_products(db: Database) -> dict[int, UUID]:
    """The demo shop's products by price."""
    async with db.sessionmaker() as s:
        view = await service.profile(s, handle=BRAND_HANDLE, viewer=None)
    return {product.price_fen: product.id for product in view.products}


async def test_buy_through_a_tracked_link_then_return_the_order(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    serum = (await brand_products(db))[12_900]
    signed_out = await client.get(f"/sandbox/products/{serum}")
    assert signed_out.status_code == 200
    assert 'data-sandbox-notice="sign-in"' in signed_out.text
    assert "data-buy-button" not in signed_out.text
    profile = await client.get(f"/sandbox/@{BRAND_HANDLE}")
    assert f'data-product-link="{serum}"' in profile.text

    await signed_in_worker(client)
    page = f"/sandbox/products/{serum}?ref=xd-0123"
    html = (await client.get(page)).text
    assert 'data-price-fen="12900"' in html
    assert 'name="ref" value="xd-0123"' in html
    assert "data-my-orders" not in html
    bought = await client.post(
        f"/sandbox/products/{serum}/buy", data={"csrf_token": csrf_from(html), "ref": "xd-0123"}
    )
    assert bought.status_code == 303
    assert await verify(db, "purchase", "product", str(serum)) == ("verified", "order_found", None)
    async with db.sessionmaker() as s:
        [order] = (await s.execute(select(SandboxOrder))).scalars().all()
    assert (order.ref, order.price_fen, order.refunded_at) == ("xd-0123", 12_900, None)

    mine = await client.get(f"/sandbox/products/{serum}")
    assert f'data-order="{order.id}" data-order-state="paid"' in mine.text
    refund = f"/sandbox/products/{serum}/orders/{order.id}/refund"
    returned = await post_form(client, f"/sandbox/products/{serum}", refund)
    assert returned.status_code == 303
    again = await client.get(f"/sandbox/products/{serum}")
    assert 'data-order-state="refunded"' in again.text
    assert await verify(db, "purchase", "product", str(serum)) == (
        "absent",
        "order_refunded",
        None,
    )
    twice = await post_form(client, f"/sandbox/products/{serum}", refund)
    assert twice.status_code == 409
    assert "这个订单已经退款了。" in twice.text


async def test_an_unknown_product_or_someone_elses_order_is_a_readable_404(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    serum = (await brand_products(db))[12_900]
    await signed_in_worker(client)
    missing = await client.get(f"/sandbox/products/{brand_videos[0]}")
    assert missing.status_code == 404
    assert "这个商品不存在。" in missing.text
    stranger = await post_form(
        client,
        f"/sandbox/products/{serum}",
        f"/sandbox/products/{serum}/orders/{brand_videos[0]}/refund",
    )
    assert stranger.status_code == 404
    assert "你没有这个订单。" in stranger.text
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(SandboxOrder))).scalar_one() == 0


async def ad_impressions(db: Database) -> list[tuple[int, bool]]:
    async with db.sessionmaker() as s:
        rows = await s.execute(select(SandboxProfileAd).order_by(SandboxProfileAd.created_at))
        return [(ad.impressions, ad.removed_at is None) for ad in rows.scalars()]


async def test_put_a_brands_ad_on_ones_profile_count_its_views_and_take_it_down(
    client: httpx.AsyncClient, db: Database, brand_videos: list[UUID]
) -> None:
    user = await signed_in_worker(client)
    plain = await client.get(f"/sandbox/@{BRAND_HANDLE}")
    assert "data-ad-offer" not in plain.text
    page = f"/sandbox/@{BRAND_HANDLE}?ref=xd-ad-0001"
    offer = await client.get(page)
    assert "data-ad-offer" in offer.text
    assert 'name="ref" value="xd-ad-0001"' in offer.text
    put = await client.post(
        f"/sandbox/@{BRAND_HANDLE}/ad",
        data={"csrf_token": csrf_from(offer.text), "ref": "xd-ad-0001"},
    )
    assert (put.status_code, put.headers["location"].split("?")[0]) == (
        303,
        "/sandbox/@page_worker",
    )
    own = await client.get("/sandbox/@page_worker")
    assert "data-profile-ad" in own.text and 'data-ad-impressions="0"' in own.text
    assert "data-take-down-ad" in own.text
    # The owner's own views are not impressions.
    assert await ad_impressions(db) == [(0, True)]

    # Someone else sees the card (labelled 广告) and counts once in the half hour.
    client.cookies.clear()
    for _ in range(3):
        seen = await client.get("/sandbox/@page_worker")
        assert seen.status_code == 200
        assert "data-profile-ad" in seen.text and "广告" in seen.text
        assert "data-take-down-ad" not in seen.text
    assert await ad_impressions(db) == [(1, True)]

    assert (await sign_in(client, user.phone)).status_code == 303
    down = await post_form(client, "/sandbox/@page_worker", "/sandbox/me/ad/remove")
    assert down.status_code == 303
    assert await ad_impressions(db) == [(1, False)]
    assert "data-profile-ad" not in (await client.get("/sandbox/@page_worker")).text
    again = await post_form(client, "/sandbox/@page_worker", "/sandbox/me/ad/remove")
    assert again.status_code == 404
    assert "你的主页没有展示广告。" in again.text
