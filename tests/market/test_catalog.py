"""``exchanges`` and ``trading_pairs`` rows loaded from the simulated market and from ccxt."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db.engine import Database
from core.db.models.trading import Exchange, TradingPair
from core.market.catalog import load_pair, sync_markets
from core.market.ccxt_feed import CcxtFeed
from core.market.errors import UnknownSymbol
from core.market.simulated import DEFAULT_SYMBOLS, SimulatedMarket
from tests.fake_exchange import FakeBinance, exchange_factory


async def test_simulated_market_list_becomes_rows(db: Database) -> None:
    async with db.sessions.begin() as s:
        pairs = await sync_markets(s, SimulatedMarket(seed=1))
    assert set(pairs) == {spec.symbol for spec in DEFAULT_SYMBOLS}
    async with db.session() as s:
        exchange = await s.scalar(select(Exchange))
        pepe = await s.scalar(select(TradingPair).where(TradingPair.symbol == "PEPE/USDT"))
    assert (
        exchange is not None
        and exchange.name == "simulated"
        and exchange.fees == {"maker": "0.001", "taker": "0.001"}
    )
    assert exchange.supported_pairs == [spec.symbol for spec in DEFAULT_SYMBOLS]
    assert pepe is not None
    assert (
        pepe.base,
        pepe.quote,
        pepe.price_precision,
        pepe.quantity_precision,
        pepe.min_order_size,
    ) == ("PEPE", "USDT", 8, 0, Decimal(1000))
    assert pairs["PEPE/USDT"].info.taker_fee == Decimal("0.001")


async def test_ccxt_load_markets_and_resync(db: Database) -> None:
    async with FakeBinance() as fake:
        feed = CcxtFeed(exchange_factory(fake).create("binance"))
        try:
            async with db.sessions.begin() as s:
                pairs = await sync_markets(s, feed)
            btc = pairs["BTC/USDT"].info
            assert (btc.price_precision, btc.quantity_precision, btc.min_quantity) == (
                2,
                5,
                Decimal("0.00001"),
            )
            # The exchange changes its rules and delists SOL: one upsert, no duplicates.
            fake.symbols["BTCUSDT"].min_qty = Decimal("0.0001")
            del fake.symbols["SOLUSDT"]
            fresh = CcxtFeed(exchange_factory(fake).create("binance"))
            try:
                async with db.sessions.begin() as s:
                    again = await sync_markets(s, fresh)
            finally:
                await fresh.close()
        finally:
            await feed.close()
    assert set(again) == {"BTC/USDT", "ETH/USDT"}
    assert again["BTC/USDT"].pair_id == pairs["BTC/USDT"].pair_id
    assert again["BTC/USDT"].info.min_quantity == Decimal("0.0001")
    async with db.session() as s:
        rows = {p.symbol: p.active for p in await s.scalars(select(TradingPair))}
        assert rows == {"BTC/USDT": True, "ETH/USDT": True, "SOL/USDT": False}
        with pytest.raises(UnknownSymbol, match="not an active pair on binance"):
            await load_pair(s, "binance", "SOL/USDT")
        with pytest.raises(UnknownSymbol):
            await load_pair(s, "okx", "BTC/USDT")
