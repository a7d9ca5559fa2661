"""Analytics from the ledger's rows: exact figures per period for trading, bots, portfolio and
DeFi, the cache (one row per user, type and period; fresh within max_age), the periodic
refresh, and one user's figures never holding another's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.analytics import Analytics
from core.db.models.bots import BotWallet
from core.db.models.defi import StakingPosition, Wallet
from core.db.models.trading import PortfolioHistory, Position, Trade
from core.errors import InvalidInput
from core.services import analytics
from core.services.bots import BotSpec, create_bot
from tests.service_users import add_user

D = Decimal


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


async def ledger_of(db: Database, actor, clock: FrozenClock) -> str:  # type: ignore[no-untyped-def]
    """A paper bot (10,000 USDT), four trades over 100 days, an open position, two portfolio
    snapshots and a staking position."""
    now = clock.now()
    async with db.sessions.begin() as s:
        funded = FrozenClock(now - timedelta(days=5))  # the starting cash predates the periods
        bot = await create_bot(s, actor, BotSpec(name="Swing", type="dca"), clock=funded)
        wallet_id = await s.scalar(select(BotWallet.id).where(BotWallet.bot_id == bot.id))

        def trade(symbol, side, qty, price, fee, fee_ccy, pnl, ago):  # type: ignore[no-untyped-def]
            s.add(Trade(user_id=actor.user_id, bot_id=bot.id, symbol=symbol, side=side,
                        price=D(price), quantity=D(qty), executed_price=D(price),
                        total=D(qty) * D(price), fee=D(fee), fee_currency=fee_ccy,
                        profit_loss=None if pnl is None else D(pnl), executed_at=now - ago))  # fmt: skip

        trade("BTC/USDT", "BUY", "0.1", "60000", "6", "USDT", None, timedelta(days=2))
        trade("BTC/USDT", "SELL", "0.1", "62000", "6.2", "USDT", "200", timedelta(hours=2))
        trade("ETH/USDT", "BUY", "1", "3000", "0.001", "ETH", None, timedelta(days=10))
        trade("ETH/USDT", "SELL", "1", "2900", "2.9", "USDT", "-100", timedelta(days=100))
        s.add(Position(bot_id=bot.id, wallet_id=wallet_id, symbol="SOL/USDT", side="BUY", quantity=D(10),
                       entry_price=D(150), current_price=D(160), stop_loss=D(0), take_profit=D(0),
                       unrealized_pnl=D(100), cost_basis=D(1500), status="open"))  # fmt: skip
        for value, ago in (("9000", timedelta(days=3)), ("9500", timedelta(hours=12))):
            s.add(PortfolioHistory(user_id=actor.user_id, total_value=D(value), assets=[],
                                   timestamp=now - ago))  # fmt: skip
        wallet = Wallet(user_id=actor.user_id, address="0x" + "ab" * 20, chain="ethereum")
        s.add(wallet)
        await s.flush()
        s.add(StakingPosition(wallet_id=wallet.id, protocol="Lido", chain="ethereum",
                              token_address="0x" + "cd" * 20, token_symbol="ETH", amount=D(1),
                              value_usd=D(500), apy=D(4), rewards=D(5),
                              staked_at=now - timedelta(days=40)))  # fmt: skip
    return bot.id


async def figures(db: Database, actor, kind: str, period: str, clock) -> dict:  # type: ignore[no-untyped-def]
    async with db.sessions.begin() as s:
        return (await analytics.get_analytics(s, actor, kind, period, clock=clock)).data


async def test_trading_figures_per_period(db: Database, clock: FrozenClock) -> None:
    ann = await add_user(db, "ann@example.com")
    await ledger_of(db, ann, clock)
    day = await figures(db, ann, "trading", "24h", clock)
    assert (day["trades"], day["volume"], day["fees"], day["realized_pnl"]) == (
        1, D("6200.0"), D("6.2"), D(200),
    )  # fmt: skip
    assert day["net_pnl"] == D("193.8") and day["win_rate"] == 100
    week = await figures(db, ann, "trading", "7d", clock)
    assert (week["trades"], week["buys"], week["volume"], week["fees"]) == (
        2, 1, D("12200.0"), D("12.2"),
    )  # fmt: skip
    month = await figures(db, ann, "trading", "30d", clock)
    assert month["trades"] == 3 and month["fees"] == D("12.2")  # an ETH fee has no USDT value
    everything = await figures(db, ann, "trading", "all", clock)
    assert (everything["realized_pnl"], everything["wins"], everything["losses"]) == (D(100), 1, 1)
    assert everything["win_rate"] == 50 and everything["best_trade"] == 200
    assert everything["worst_trade"] == -100 and everything["paper_trades"] == 4
    assert [row["symbol"] for row in everything["by_symbol"]] == ["BTC/USDT", "ETH/USDT"]
    assert (await figures(db, ann, "trading", "1y", clock))["trades"] == 4


async def test_bot_portfolio_and_defi_figures(db: Database, clock: FrozenClock) -> None:
    ann = await add_user(db, "ann@example.com")
    bot_id = await ledger_of(db, ann, clock)
    bots = await figures(db, ann, "bot_performance", "7d", clock)
    (swing,) = bots["bots"]
    assert swing["bot_id"] == bot_id and swing["trades"] == 2
    assert (swing["realized_pnl"], swing["fees"], swing["net_pnl"]) == (
        D(200),
        D("12.2"),
        D("187.8"),
    )
    assert swing["open_positions"] == 1 and swing["unrealized_pnl"] == 100
    assert bots["best_bot"] == "Swing" and bots["unrealized_pnl"] == 100

    day = await figures(db, ann, "portfolio", "24h", clock)
    # Now: 10,000 USDT cash plus 10 SOL marked at 160.
    assert (day["value"], day["cash"], day["positions_value"]) == (D(11600), D(10000), D(1600))
    assert day["start_value"] == 9000 and day["change"] == 2600
    assert day["change_percent"] == D("28.88888889")
    assert (day["high"], day["low"], day["snapshots"]) == (D(11600), D(9500), 1)
    week = await figures(db, ann, "portfolio", "7d", clock)
    assert week["start_value"] == 9000 and week["low"] == 9000 and week["snapshots"] == 2

    recent = await figures(db, ann, "defi", "30d", clock)
    assert (recent["total_value"], recent["staking_rewards"], recent["earned"]) == (
        D(500), D(5), D(5),
    )  # fmt: skip
    assert recent["opened_in_period"] == 0
    assert (await figures(db, ann, "defi", "90d", clock))["opened_in_period"] == 1


async def test_cache_refresh_and_isolation(db: Database, clock: FrozenClock) -> None:
    ann = await add_user(db, "ann@example.com")
    bob = await add_user(db, "bob@example.com")
    await ledger_of(db, ann, clock)
    assert (await figures(db, ann, "trading", "all", clock))["trades"] == 4
    assert (await figures(db, bob, "trading", "all", clock))["trades"] == 0
    bob_portfolio = await figures(db, bob, "portfolio", "all", clock)
    assert bob_portfolio["value"] == 0 and bob_portfolio["start_value"] is None
    async with db.sessions.begin() as s:
        s.add(Trade(user_id=ann.user_id, symbol="BTC/USDT", side="BUY", price=D(1),
                    quantity=D(1), executed_price=D(1), executed_at=clock.now()))  # fmt: skip
    clock.advance(minutes=4)
    assert (await figures(db, ann, "trading", "all", clock))["trades"] == 4  # cached
    clock.advance(minutes=2)
    assert (await figures(db, ann, "trading", "all", clock))["trades"] == 5  # stale: recomputed
    async with db.sessions.begin() as s:
        views = await analytics.refresh_analytics(s, ann, clock=clock)
        assert len(views) == 24
        await analytics.refresh_analytics(s, ann, clock=clock)
    async with db.session() as s:
        rows = (await s.execute(
            select(Analytics.type, Analytics.period, func.count())
            .where(Analytics.user_id == ann.user_id)
            .group_by(Analytics.type, Analytics.period)
        )).all()  # fmt: skip
    assert len(rows) == 24 and {n for *_, n in rows} == {1}  # upserted, never duplicated
    with pytest.raises(InvalidInput, match="Period is one of"):
        await figures(db, ann, "trading", "2w", clock)
    with pytest.raises(InvalidInput, match="Analytics type"):
        await figures(db, ann, "market_analysis", "7d", clock)


async def test_periodic_refresh_takes_stale_users_only(db: Database, clock: FrozenClock) -> None:
    await add_user(db, "ann@example.com")
    await add_user(db, "bob@example.com")
    await add_user(db, "gone@example.com", status="banned")
    assert await analytics.refresh_stale(db, clock=clock) == 2
    assert await analytics.refresh_stale(db, clock=clock) == 0
    clock.advance(minutes=16)
    assert await analytics.refresh_stale(db, clock=clock, batch=1) == 1
    assert await analytics.refresh_stale(db, clock=clock) == 1
