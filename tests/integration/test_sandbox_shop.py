"""The sandbox platform's shop: products, orders and returns, and how the connector sees
a purchase (resolve, verify in the claim's window, retention after a return, counts)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import ValidationFailed
from xingdong.platforms.connector import TargetNotFound, UnsupportedAction, tracked_link
from xingdong.platforms.sandbox import service
from xingdong.platforms.sandbox.connector import SandboxConnector, product_url
from xingdong.platforms.sandbox.demo import BRAND_HANDLE, seed_sandbox
from xingdong.platforms.sandbox.errors import (
    OrderNotRefundable,
    SandboxOrderNotFound,
    SandboxProductNotFound,
)
from xingdong.platforms.sandbox.models import (
    SandboxAccount,
    SandboxOrder,
    SandboxProduct,
    SandboxVideo,
)


@dataclass
class Shop:
    brand: SandboxAccount
    buyer: SandboxAccount
    other: SandboxAccount
    product: SandboxProduct
    video: SandboxVideo
    t0: datetime


@pytest.fixture
async def shop(db: Database) -> Shop:
    t0 = utcnow() - timedelta(hours=2)
    async with db.session_scope() as s:
        brand = await service.create_account(s, handle="shop_brand", display_name="品牌小店")
        buyer = await service.create_account(s, handle="buyer_a", display_name="买家A")
        other = await service.create_account(s, handle="buyer_b", display_name="买家B")
        product = await service.create_product(
            s, account=brand, title="保湿精华 30ml", price_fen=12_900, orders=5
        )
        video = await service.create_video(s, account=brand, title="新品介绍")
    return Shop(brand, buyer, other, product, video, t0)


@pytest.fixture
def connector(db: Database) -> SandboxConnector:
    return SandboxConnector(db)


async def reload_product(db: Database, shop: Shop) -> SandboxProduct:
    async with db.sessionmaker() as s:
        product = await s.get(SandboxProduct, shop.product.id)
    assert product is not None
    return product


@pytest.mark.parametrize(
    ("title", "price_fen", "fields"),
    [
        ("X", 100, {"title"}),
        ("好物", 0, {"price_fen"}),
        ("好物", 10_000_001, {"price_fen"}),
        ("", -5, {"title", "price_fen"}),
    ],
)
async def test_a_product_needs_a_title_and_a_price(
    db: Database, shop: Shop, title: str, price_fen: int, fields: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        async with db.session_scope() as s:
            await service.create_product(s, account=shop.brand, title=title, price_fen=price_fen)
    assert {error.field for error in caught.value.fields} == fields


async def test_an_order_records_the_price_and_the_tracking_code(db: Database, shop: Shop) -> None:
    async with db.session_scope() as s:
        order = await service.buy(
            s, account=shop.buyer, product=shop.product, ref="xd-" + "a" * 60, now=shop.t0
        )
    async with db.sessionmaker() as s:
        stored = await s.get(SandboxOrder, order.id)
    assert stored is not None
    assert (stored.price_fen, stored.ref, stored.created_at) == (12_900, "xd-" + "a" * 37, shop.t0)
    assert (await reload_product(db, shop)).orders == 6


async def test_a_shop_cannot_buy_its_own_product_nor_one_off_sale(db: Database, shop: Shop) -> None:
    with pytest.raises(ValidationFailed):
        async with db.session_scope() as s:
            await service.buy(s, account=shop.brand, product=shop.product)
    async with db.session_scope() as s:
        product = await s.get(SandboxProduct, shop.product.id)
        assert product is not None
        product.on_sale = False
    off_sale = await reload_product(db, shop)
    with pytest.raises(SandboxProductNotFound):
        async with db.session_scope() as s:
            await service.buy(s, account=shop.buyer, product=off_sale)
    assert (await reload_product(db, shop)).orders == 5


async def test_an_order_is_returned_once_within_the_return_period(db: Database, shop: Shop) -> None:
    async with db.session_scope() as s:
        order = await service.buy(s, account=shop.buyer, product=shop.product, now=shop.t0)
        late = await service.buy(
            s, account=shop.buyer, product=shop.product, now=shop.t0 - timedelta(days=8)
        )
    with pytest.raises(SandboxOrderNotFound):
        async with db.session_scope() as s:
            await service.refund(s, account=shop.other, order_id=order.id)
    async with db.session_scope() as s:
        returned = await service.refund(s, account=shop.buyer, order_id=order.id)
    assert returned.refunded_at is not None
    with pytest.raises(OrderNotRefundable) as again:
        async with db.session_scope() as s:
            await service.refund(s, account=shop.buyer, order_id=order.id)
    assert again.value.code == "order_not_refundable"
    with pytest.raises(OrderNotRefundable) as too_late:
        async with db.session_scope() as s:
            await service.refund(s, account=shop.buyer, order_id=late.id)
    assert too_late.value.extra == {"days": service.RETURN_DAYS}
    product = await reload_product(db, shop)
    assert (product.orders, product.refunds) == (7, 1)


async def test_orders_placed_at_once_are_all_counted(db: Database, shop: Shop) -> None:
    async def one() -> None:
        async with db.session_scope() as s:
            await service.buy(s, account=shop.buyer, product=shop.product)

    await asyncio.gather(*(one() for _ in range(12)))
    async with db.sessionmaker() as s:
        rows = (
            await s.execute(select(SandboxOrder).where(SandboxOrder.product_id == shop.product.id))
        ).all()
    assert len(rows) == 12
    assert (await reload_product(db, shop)).orders == 17


async def test_a_product_is_found_by_id_or_url_with_its_price(
    connector: SandboxConnector, shop: Shop
) -> None:
    url = product_url(shop.product.id)
    for ref in (
        str(shop.product.id),
        url,
        f"https://xingdong.example{url}?ref=xd-1#top",
        tracked_link(url, "xd-2"),
    ):
        found = await connector.resolve_target("product", ref)
        assert (found.kind, found.ref, found.title, found.url, found.price_fen) == (
            "product",
            str(shop.product.id),
            "保湿精华 30ml",
            url,
            12_900,
        ), ref
        assert found.owner_handle == "shop_brand"
    for missing in (str(shop.video.id), f"/sandbox/videos/{shop.video.id}", "nothing"):
        with pytest.raises(TargetNotFound):
            await connector.resolve_target("product", missing)
    video = await connector.resolve_target("video", str(shop.video.id))
    assert video.price_fen is None


def test_a_tracked_link_replaces_an_earlier_code_and_keeps_other_parameters() -> None:
    assert tracked_link("/sandbox/products/1", "xd-a") == "/sandbox/products/1?ref=xd-a"
    assert (
        tracked_link("https://h.example/p?lang=zh&ref=old#x", "xd-b")
        == "https://h.example/p?lang=zh&ref=xd-b#x"
    )


async def test_a_purchase_is_verified_in_its_window_until_it_is_returned(
    db: Database, connector: SandboxConnector, shop: Shop
) -> None:
    product = await connector.resolve_target("product", str(shop.product.id))
    claimed = shop.t0 + timedelta(minutes=5)

    async def verify() -> tuple[str, str, datetime | None]:
        found = await connector.verify_action(
            "purchase", actor_handle="buyer_a", target=product, since=claimed
        )
        return found.status, found.detail, found.observed_at

    assert await verify() == ("absent", "no_order", None)
    async with db.session_scope() as s:
        # An order before the claim was not made for the task.
        await service.buy(s, account=shop.buyer, product=shop.product, now=shop.t0)
    assert await verify() == ("absent", "no_order", None)
    paid_at = claimed + timedelta(minutes=3)
    async with db.session_scope() as s:
        order = await service.buy(s, account=shop.buyer, product=shop.product, now=paid_at)
    assert await verify() == ("verified", "order_found", paid_at)
    kept = await connector.check_retention("purchase", actor_handle="buyer_a", target=product)
    assert kept.status == "verified"

    async with db.session_scope() as s:
        await service.refund(s, account=shop.buyer, order_id=order.id)
    assert await verify() == ("absent", "order_refunded", paid_at)
    # The order made before the claim is still kept: retention asks about any order.
    still = await connector.check_retention("purchase", actor_handle="buyer_a", target=product)
    assert still.status == "verified"
    # Up to a moment: only orders placed by then (the early one was, the returned one too).
    by_then = await connector.check_retention(
        "purchase", actor_handle="buyer_a", target=product, until=shop.t0 - timedelta(seconds=1)
    )
    assert (by_then.status, by_then.detail) == ("absent", "no_order")
    by_paid = await connector.check_retention(
        "purchase", actor_handle="buyer_a", target=product, until=paid_at
    )
    assert by_paid.status == "verified"
    other = await connector.check_retention("purchase", actor_handle="buyer_b", target=product)
    assert (other.status, other.detail) == ("absent", "no_order")
    unknown = await connector.verify_action(
        "purchase", actor_handle="nobody_here", target=product, since=claimed
    )
    assert (unknown.status, unknown.detail) == ("unknown", "actor_not_found")


async def test_with_a_tracking_code_only_the_order_through_that_link_counts(
    db: Database, connector: SandboxConnector, shop: Shop
) -> None:
    product = await connector.resolve_target("product", str(shop.product.id))

    async def verify(code: str) -> tuple[str, str]:
        found = await connector.verify_action(
            "purchase", actor_handle="buyer_a", target=product, since=shop.t0,
            tracking_code=code,
        )  # fmt: skip
        return found.status, found.detail

    async def kept(code: str) -> tuple[str, str]:
        found = await connector.check_retention(
            "purchase", actor_handle="buyer_a", target=product, tracking_code=code
        )
        return found.status, found.detail

    assert await verify("xd-1") == ("absent", "no_order")
    async with db.session_scope() as s:
        # Bought straight from the shop, and for another claim.
        await service.buy(s, account=shop.buyer, product=shop.product)
        await service.buy(s, account=shop.buyer, product=shop.product, ref="xd-2")
    assert await verify("xd-1") == ("absent", "order_not_tracked")
    assert await verify("xd-2") == ("verified", "order_found")
    async with db.session_scope() as s:
        mine = await service.buy(s, account=shop.buyer, product=shop.product, ref="xd-1")
    assert await verify("xd-1") == ("verified", "order_found")
    async with db.session_scope() as s:
        await service.refund(s, account=shop.buyer, order_id=mine.id)
    # The other orders, kept, do not stand in for the one returned.
    assert await kept("xd-1") == ("absent", "order_refunded")
    assert await kept("xd-2") == ("verified", "order_found")


async def test_a_product_off_sale_cannot_be_a_target(
    db: Database, connector: SandboxConnector, shop: Shop
) -> None:
    async with db.session_scope() as s:
        product = await s.get(SandboxProduct, shop.product.id)
        assert product is not None
        product.on_sale = False
    with pytest.raises(TargetNotFound):
        await connector.resolve_target("product", str(shop.product.id))


async def test_an_order_is_returned_only_from_its_own_product(db: Database, shop: Shop) -> None:
    async with db.session_scope() as s:
        order = await service.buy(s, account=shop.buyer, product=shop.product)
        other = await service.create_product(s, account=shop.brand, title="眉笔", price_fen=3_900)
    with pytest.raises(SandboxOrderNotFound):
        async with db.session_scope() as s:
            await service.refund(s, account=shop.buyer, order_id=order.id, product_id=other.id)
    async with db.session_scope() as s:
        await service.refund(s, account=shop.buyer, order_id=order.id, product_id=shop.product.id)
    assert (await reload_product(db, shop)).refunds == 1


async def test_the_page_offers_a_return_only_within_the_period(db: Database, shop: Shop) -> None:
    async with db.session_scope() as s:
        await service.buy(s, account=shop.buyer, product=shop.product)
        await service.buy(
            s, account=shop.buyer, product=shop.product, now=utcnow() - timedelta(days=8)
        )
    async with db.sessionmaker() as s:
        view = await service.product_page(s, product_id=shop.product.id, viewer=shop.buyer)
    assert [view.returnable(order) for order in view.orders] == [True, False]


async def test_retention_sees_the_only_order_returned(
    db: Database, connector: SandboxConnector, shop: Shop
) -> None:
    product = await connector.resolve_target("product", str(shop.product.id))
    async with db.session_scope() as s:
        order = await service.buy(s, account=shop.other, product=shop.product)
        await service.refund(s, account=shop.other, order_id=order.id)
    gone = await connector.check_retention("purchase", actor_handle="buyer_b", target=product)
    assert (gone.status, gone.detail) == ("absent", "order_refunded")


async def test_a_purchase_is_only_of_a_product(connector: SandboxConnector, shop: Shop) -> None:
    product = await connector.resolve_target("product", str(shop.product.id))
    video = await connector.resolve_target("video", str(shop.video.id))
    for action, target in (("purchase", video), ("follow", product), ("like", product)):
        with pytest.raises(UnsupportedAction):
            await connector.verify_action(
                action, actor_handle="buyer_a", target=target, since=shop.t0
            )


async def test_public_stats_of_a_product_count_orders_and_returns(
    db: Database, connector: SandboxConnector, shop: Shop
) -> None:
    product = await connector.resolve_target("product", str(shop.product.id))
    async with db.session_scope() as s:
        order = await service.buy(s, account=shop.buyer, product=shop.product)
        await service.buy(s, account=shop.other, product=shop.product)
        await service.refund(s, account=shop.buyer, order_id=order.id)
    assert await connector.public_stats(product) == {
        "price_fen": 12_900,
        "orders": 7,
        "refunds": 1,
        "on_sale": 1,
    }


async def test_the_demo_brand_has_a_shop(db: Database) -> None:
    async with db.session_scope() as s:
        await seed_sandbox(s)
    async with db.session_scope() as s:
        await seed_sandbox(s)
    async with db.sessionmaker() as s:
        view = await service.profile(s, handle=BRAND_HANDLE, viewer=None)
    shop = [
        (3_900, "星动美妆 通勤防水眉笔"),
        (12_900, "星动美妆 新品保湿精华 30ml"),
    ]
    assert sorted((p.price_fen, p.title) for p in view.products) == shop

    # A demo database from before the shop: the brand is there, its products are not.
    async with db.session_scope() as s:
        await s.execute(delete(SandboxProduct))
    async with db.session_scope() as s:
        await seed_sandbox(s)
    async with db.sessionmaker() as s:
        view = await service.profile(s, handle=BRAND_HANDLE, viewer=None)
    assert sorted((p.price_fen, p.title) for p in view.products) == shop
