"""A live bot through the engine against the fake Binance: the wallet is synced from the
exchange, the buy is a real (fake) exchange order, and the stop-loss sells on the exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.models.bots import BotBalance, BotWallet, Execution
from core.db.models.trading import Order, Position, Trade
from core.engine.venues import Markets
from core.market.hub import MarketHubs
from core.services import exchanges
from tests.engine.support import START, World
from tests.engine.support import world as make_world
from tests.fake_exchange import FakeBinance, exchange_factory

KEY, SECRET = "LiveKey0000000001", "LiveSecret00000001"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance(hang_seconds=2) as server:
        server.add_account(KEY, SECRET, USDT=5000)
        yield server


async def live_world(db, fake: FakeBinance) -> tuple[World, str]:  # type: ignore[no-untyped-def]
    w = await make_world(db)
    w.markets = Markets(
        hubs=MarketHubs(), exchanges=exchange_factory(fake, timeout_ms=500), clock=w.clock
    )
    conn = await exchanges.add_connection(
        db, w.actor, exchange="binance", api_key=KEY, secret=SECRET, permissions=["trade"]
    )
    return w, conn.id


async def test_live_dca_buys_on_the_exchange_and_the_stop_sells_there(
    db, fake: FakeBinance
) -> None:  # type: ignore[no-untyped-def]
    w, conn_id = await live_world(db, fake)
    w.clock = FrozenClock(START)
    bot_id = await w.bot(
        "dca",
        {
            "symbol": "BTC/USDT",
            "timeframe": "1m",
            "quote_amount": "500.6",
            "levels": [],
            "interval_minutes": 600,
        },
        {"stop_loss_percent": "2"},
        paper_trading=False,
        exchange_connection_id=conn_id,
    )
    runner = w.runner()
    try:
        await trade_and_stop(w, runner, fake, bot_id)
    finally:
        await runner.ctx.close()
        await w.markets.hubs.close()


async def trade_and_stop(w: World, runner, fake: FakeBinance, bot_id: str) -> None:  # type: ignore[no-untyped-def]
    db = w.db
    await w.step(runner)
    (placed,) = fake.orders.values()
    async with db.session() as s:
        (order,) = (await s.scalars(select(Order))).all()
        (position,) = (await s.scalars(select(Position))).all()
        wallet = await s.scalar(
            select(BotWallet).where(BotWallet.bot_id == bot_id, BotWallet.wallet_type == "live")
        )
        usdt = await s.scalar(
            select(BotBalance.amount).where(
                BotBalance.wallet_id == wallet.id, BotBalance.asset == "USDT"
            )
        )
    assert (order.is_paper, order.status, order.client_order_id) == (
        False,
        "filled",
        placed.client_order_id,
    )
    assert (position.is_paper_trade, position.remaining_quantity) == (
        False,
        D("0.00999"),
    )  # fee in BTC
    assert position.entry_price == D(50000) and position.stop_loss == D(49000)
    assert usdt == D(5000) - D("0.01") * 50000  # synced from the exchange, then the fill
    fake.set_price("BTC/USDT", "49000.01")
    await w.step(runner)
    assert len(fake.orders) == 1
    fake.set_price("BTC/USDT", "49000")
    await w.step(runner)
    assert len(fake.orders) == 2
    async with db.session() as s:
        position = await s.get(Position, position.id)
        sells = (await s.scalars(select(Trade).where(Trade.side == "SELL"))).all()
        exits = (
            await s.scalars(select(Execution).where(Execution.execution_id.contains("-exit-")))
        ).all()
    assert (position.status, position.close_reason) == ("closed", "STOP_LOSS")
    assert [t.executed_price for t in sells] == [D(49000)] and not sells[0].is_paper_trade
    assert [e.indicators["rule"] for e in exits] == ["STOP_LOSS"]
