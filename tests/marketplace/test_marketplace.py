"""Marketplace: publishing (validated, paid needs a plan), browsing and sorting, buying once
(free and through the Stripe stand-in), deploying, one review per buyer with an exact average,
sales, refunds, and nobody touching another user's purchases."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
from sqlalchemy import func, select

from core.billing.money import PaymentFailed
from core.billing.payments import Billing
from core.db.engine import Database
from core.db.models.billing import Payment
from core.db.models.bots import Bot
from core.db.models.marketplace import Strategy, StrategyPurchase
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.services import marketplace as market
from core.services.actor import Role
from tests.billing.fake_stripe import DECLINED_CARD, FakeStripe
from tests.billing.support import add_card, received
from tests.service_users import add_user

GRID = {
    "bot_type": "grid",
    "config": {"symbol": "ETH/USDT", "lower_price": "3000", "upper_price": "3400"},
    "risk_settings": {"stop_loss_percent": "10"},
}
RSI = {"strategy": "rsi_reversal", "params": {"period": 10}, "timeframe": "4h"}


async def publish(db: Database, actor, name: str, price: str = "0", **kw):  # type: ignore[no-untyped-def]
    async with db.sessions.begin() as s:
        return await market.publish_strategy(
            s, actor, name=name, description=f"{name} does things",
            price=price, type=kw.pop("type", "bot_config"), config=kw.pop("config", GRID), **kw,
        )  # fmt: skip


async def test_publishing_validates_everything(db: Database) -> None:
    free = await add_user(db, "free@example.com")
    pro = await add_user(db, "pro@example.com", plan="pro")
    bad = [
        ({"price": "-1"}, "price is from 0"),
        ({"price": 1.5}, "decimal"),
        ({"price": "1.999"}, "whole cents"),
        ({"price": "abc"}, "not a number"),
        ({"type": "robot"}, "Type is one of"),
        ({"config": {**GRID, "config": {"lower_price": "5", "upper_price": "1"}}}, "lower_price"),
        ({"config": {"bot_type": "grid", "extra": 1}}, "bot_type, config and risk_settings"),
        (
            {
                "type": "trading_strategy",
                "config": {"strategy": "sma_cross", "params": {"fast": 30, "slow": 10}},
            },
            r"(?i)fast",
        ),
        ({"type": "trading_strategy", "config": {**RSI, "timeframe": "soon"}}, "timeframe"),
        ({"category": "astrology"}, "Category is one of"),
    ]
    for change, message in bad:
        with pytest.raises(InvalidInput, match=message):
            await publish(db, pro, "Bad", **({"price": "0"} | change))
    with pytest.raises(Forbidden, match="Selling strategies is not part of the Free plan"):
        await publish(db, free, "Paid", price="10")
    shared = await publish(db, free, "Shared grid")  # free ones need no plan
    paid = await publish(db, pro, "RSI pro", price="12.50", type="trading_strategy", config=RSI,
                         category="mean_reversion")  # fmt: skip
    assert shared.price == 0 and paid.price == Decimal("12.50") and paid.config is not None
    assert paid.config["params"]["period"] == 10 and paid.config["params"]["oversold"] == 30
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Strategy)) == 2


async def test_browse_search_sort_and_hidden_settings(db: Database) -> None:
    ann = await add_user(db, "ann@example.com", plan="pro", first_name="Ann", last_name="Lee")
    bob = await add_user(db, "bob@example.com")
    cheap = await publish(db, ann, "Cheap grid", price="5")
    dear = await publish(db, ann, "Dear grid", price="50", category="grid")
    free = await publish(db, ann, "Free RSI", type="trading_strategy", config=RSI)
    async with db.sessions.begin() as s:
        await s.execute(Strategy.__table__.update().where(Strategy.id == dear.id)
                        .values(rating=Decimal("4.5"), downloads=3))  # fmt: skip
        await s.execute(Strategy.__table__.update().where(Strategy.id == free.id)
                        .values(rating=Decimal("3"), downloads=9))  # fmt: skip
    async with db.session() as s:
        by = {}
        for sort in ("rating", "downloads", "price"):
            by[sort] = [v.name for v in await market.browse_strategies(s, bob, sort=sort)]
        cheapest = await market.browse_strategies(s, bob, sort="price", descending=False)
        found = await market.browse_strategies(s, bob, search="rsi")
        grids = await market.browse_strategies(s, bob, category="grid")
        with pytest.raises(InvalidInput, match="Sort is one of"):
            await market.browse_strategies(s, bob, sort="vibes")
    assert by["rating"] == ["Dear grid", "Free RSI", "Cheap grid"]
    assert by["downloads"] == ["Free RSI", "Dear grid", "Cheap grid"]
    assert by["price"] == ["Dear grid", "Cheap grid", "Free RSI"]
    assert [v.name for v in cheapest] == ["Free RSI", "Cheap grid", "Dear grid"]
    assert [v.name for v in found] == ["Free RSI"] and [v.name for v in grids] == ["Dear grid"]
    shown = {v.name: v for v in cheapest}
    assert shown["Cheap grid"].config is None  # paid and not bought: settings hidden
    assert shown["Free RSI"].config is not None and shown["Cheap grid"].creator == "Ann Lee"
    async with db.session() as s:
        assert (await market.get_strategy(s, ann, cheap.id)).config is not None  # the creator


async def test_buying_once_free_and_paid(
    db: Database, billing: Billing, fake_stripe: FakeStripe
) -> None:
    ann = await add_user(db, "ann@example.com", plan="pro")
    bob = await add_user(db, "bob@example.com")
    free = await publish(db, ann, "Free grid")
    paid = await publish(db, ann, "Paid grid", price="19.99")
    bought = await market.buy_strategy(db, bob, free.id, billing=billing)
    assert (bought.price, bought.status) == (0, "completed")
    with pytest.raises(Conflict, match="already own"):
        await market.buy_strategy(db, bob, free.id, billing=billing)
    with pytest.raises(Conflict, match="your own strategy"):
        await market.buy_strategy(db, ann, free.id, billing=billing)
    with pytest.raises(PaymentFailed, match="no card on file"):
        await market.buy_strategy(db, bob, paid.id, billing=billing)
    await add_card(db, billing, fake_stripe, bob)
    receipt = await market.buy_strategy(db, bob, paid.id, billing=billing)
    assert receipt.price == Decimal("19.99")
    with pytest.raises(Conflict, match="already own"):
        await market.buy_strategy(db, bob, paid.id, billing=billing)
    assert [c["amount"] for c in fake_stripe.charges()] == [1999]  # one purchase, one charge
    async with db.session() as s:
        (payment,) = await s.scalars(select(Payment).where(Payment.status == "completed"))
        assert payment.type == "strategy_purchase" and payment.amount == Decimal("19.99")
        assert payment.metadata_["purchase_id"] == receipt.id
        assert (await market.get_strategy(s, bob, paid.id)).config is not None
        assert (await market.get_strategy(s, bob, paid.id)).downloads == 1
        assert len(await market.my_purchases(s, bob)) == 2
    assert set(await received(db, ann.user_id)) == {"STRATEGY_PURCHASED"}
    assert "PAYMENT_SUCCESS" in await received(db, bob.user_id)


async def test_a_declined_purchase_buys_nothing(
    db: Database, billing: Billing, fake_stripe: FakeStripe
) -> None:
    ann = await add_user(db, "ann@example.com", plan="pro")
    cid = await add_user(db, "cid@example.com")
    paid = await publish(db, ann, "Paid grid", price="9")
    await add_card(db, billing, fake_stripe, cid, DECLINED_CARD)
    with pytest.raises(PaymentFailed, match="declined"):
        await market.buy_strategy(db, cid, paid.id, billing=billing)
    async with db.session() as s:
        assert await market.my_purchases(s, cid) == []
        assert (await market.get_strategy(s, cid, paid.id)).downloads == 0
        (payment,) = await s.scalars(select(Payment))
        assert payment.status == "failed"
    assert await received(db, cid.user_id) == ["PAYMENT_FAILED"]


async def test_one_review_per_buyer_and_an_exact_average(
    db: Database, billing: Billing, clock
) -> None:  # type: ignore[no-untyped-def]
    ann = await add_user(db, "ann@example.com")
    grid = await publish(db, ann, "Free grid")
    buyers = [await add_user(db, f"b{i}@example.com") for i in range(3)]
    outsider = await add_user(db, "out@example.com")
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden, match="buy it first"):
            await market.review_strategy(s, outsider, grid.id, rating=5)
        with pytest.raises(Forbidden, match="your own"):
            await market.review_strategy(s, ann, grid.id, rating=5)
    for buyer in buyers:
        await market.buy_strategy(db, buyer, grid.id, billing=billing)
    async with db.sessions.begin() as s:
        for bad in (0, 6, True, "5", 4.0):
            with pytest.raises(InvalidInput, match="1 to 5"):
                await market.review_strategy(s, buyers[0], grid.id, rating=bad)  # type: ignore[arg-type]
    ratings = [5, 4, 4]
    for buyer, stars in zip(buyers, ratings, strict=True):
        async with db.sessions.begin() as s:
            await market.review_strategy(s, buyer, grid.id, rating=stars, comment=" solid ",
                                         clock=clock)  # fmt: skip
    async with db.sessions.begin() as s:
        with pytest.raises(Conflict, match="already reviewed"):
            await market.review_strategy(s, buyers[0], grid.id, rating=1)
    async with db.session() as s:
        view = await market.get_strategy(s, outsider, grid.id)
        reviews = await market.list_reviews(s, buyers[1], grid.id)
    with localcontext(prec=80):
        exact = (Decimal(13) / Decimal(3)).quantize(Decimal(10) ** -30, ROUND_HALF_EVEN)
    assert view.rating == exact and view.reviews == 3
    assert str(view.rating).startswith("4.333333333333333333333333333333")
    assert sorted(r.rating for r in reviews) == [4, 4, 5] and reviews[0].comment == "solid"
    assert sum(r.is_mine for r in reviews) == 1
    assert (await received(db, ann.user_id)).count("STRATEGY_REVIEW") == 3


async def test_sales_refunds_and_nobody_touches_another_users_purchases(
    db: Database, billing: Billing, fake_stripe: FakeStripe
) -> None:
    ann = await add_user(db, "ann@example.com", plan="pro")
    bob = await add_user(db, "bob@example.com")
    eve = await add_user(db, "eve@example.com")
    admin = await add_user(db, "admin@example.com", role=Role.ADMIN)
    paid = await publish(db, ann, "Paid grid", price="30")
    await add_card(db, billing, fake_stripe, bob)
    purchase = await market.buy_strategy(db, bob, paid.id, billing=billing)
    async with db.session() as s:
        sales = await market.my_sales(s, ann)
        assert (sales.completed, sales.refunded, sales.revenue) == (1, 0, Decimal(30))
        assert (await market.my_sales(s, eve)).sales == ()
        assert await market.my_purchases(s, eve) == []
    for stranger in (eve, bob):  # neither a stranger nor the buyer can refund
        with pytest.raises(NotFound):
            await market.refund_purchase(db, stranger, purchase.id, reason="mine now",
                                         billing=billing)  # fmt: skip
    with pytest.raises(InvalidInput, match="Reason"):
        await market.refund_purchase(db, ann, purchase.id, reason=" ", billing=billing)
    refunded = await market.refund_purchase(db, ann, purchase.id, reason="asked nicely",
                                            billing=billing)  # fmt: skip
    assert refunded.status == "refunded" and len(fake_stripe.refunds) == 1
    with pytest.raises(Conflict, match="already refunded"):
        await market.refund_purchase(db, admin, purchase.id, reason="again", billing=billing)
    async with db.session() as s:
        (payment,) = await s.scalars(select(Payment))
        assert payment.status == "refunded" and payment.metadata_["refund_reason"] == "asked nicely"
        sales = await market.my_sales(s, ann)
        assert (sales.completed, sales.refunded, sales.revenue) == (0, 1, 0)
        assert (await market.get_strategy(s, eve, paid.id)).downloads == 0
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden, match="Buy 'Paid grid' before deploying"):
            await market.deploy_strategy(s, bob, paid.id, name="Refunded grid")
    assert "STRATEGY_PURCHASED" in await received(db, bob.user_id)  # the refund notice
    # Bought again after a refund: the one purchase row is in force again.
    await market.buy_strategy(db, bob, paid.id, billing=billing)
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(StrategyPurchase)) == 1


async def test_deploying_a_bought_or_own_strategy(db: Database, billing: Billing) -> None:
    ann = await add_user(db, "ann@example.com")
    bob = await add_user(db, "bob@example.com")
    grid = await publish(db, ann, "Free grid")
    rsi = await publish(db, ann, "RSI", type="trading_strategy", config=RSI)
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden, match="before deploying"):
            await market.deploy_strategy(s, bob, grid.id, name="Mine")
    await market.buy_strategy(db, bob, grid.id, billing=billing)
    await market.buy_strategy(db, bob, rsi.id, billing=billing)
    async with db.sessions.begin() as s:
        with pytest.raises(InvalidInput, match="upper_price"):
            await market.deploy_strategy(s, bob, grid.id, name="Mine",
                                         config={"upper_price": "100"})  # fmt: skip
        grid_bot = await market.deploy_strategy(s, bob, grid.id, name="Bob grid",
                                                config={"grid_count": 4})  # fmt: skip
        rsi_bot = await market.deploy_strategy(s, bob, rsi.id, name="Bob RSI",
                                               config={"symbol": "SOL/USDT"})  # fmt: skip
        own = await market.deploy_strategy(s, ann, rsi.id, name="Ann RSI")
    async with db.session() as s:
        bots = {b.name: b for b in await s.scalars(select(Bot))}
    assert bots["Bob grid"].id == grid_bot and bots["Bob grid"].config["grid_count"] == 4
    assert bots["Bob grid"].risk_settings == {"stop_loss_percent": "10"}
    signal = bots["Bob RSI"]
    assert signal.id == rsi_bot and signal.type == "signal" and signal.user_id == bob.user_id
    assert signal.config["symbol"] == "SOL/USDT" and signal.config["timeframe"] == "4h"
    assert signal.config["indicator"] == {"name": "rsi_reversal", "period": 10,
                                          "oversold": 30.0, "overbought": 70.0}  # fmt: skip
    assert bots["Ann RSI"].id == own and bots["Ann RSI"].user_id == ann.user_id
