"""Marking to market, hourly wallet snapshots and portfolio history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core.brokers import OrderRequest, OrderType, Side
from core.db.engine import Database
from core.db.models.bots import BotBalanceSnapshot
from core.db.models.trading import PortfolioHistory, Position
from core.ledger import Ledger, OrderDesk, open_wallet
from core.ledger.snapshots import (
    snapshot_portfolio,
    snapshot_portfolios,
    snapshot_wallets,
    wallet_values,
)
from tests.ledger.support import START, PaperWorld, add_bot, paper_world


async def buy(w: PaperWorld, symbol: str, qty: str, wallet=None) -> None:  # type: ignore[no-untyped-def]
    await OrderDesk(clock=w.clock).submit(
        w.db.sessions,
        w.broker(),
        wallet=wallet or w.wallet,
        pair=w.pairs[symbol],
        request=OrderRequest(symbol, Side.BUY, OrderType.MARKET, Decimal(qty)),
    )


async def test_mark_to_market_only_touches_the_given_wallets(db: Database) -> None:
    w = await paper_world(db)
    other_bot = await add_bot(db, w.actor.user_id, "Second")
    async with db.sessions.begin() as s:
        other = await open_wallet(s, other_bot, initial_balance=Decimal(5000))
    await buy(w, "BTC/USDT", "0.01")
    await buy(w, "BTC/USDT", "0.02", wallet=other)
    async with db.sessions.begin() as s:
        n = await Ledger(clock=w.clock).mark_to_market(
            s, {"BTC/USDT": Decimal("99999.5")}, wallet_ids=[other.id]
        )
    assert n == 1
    async with db.session() as s:
        positions = {p.wallet_id: p for p in await s.scalars(select(Position))}
    moved, kept = positions[other.id], positions[w.wallet.id]
    assert moved.current_price == Decimal("99999.5") and moved.peak_price == Decimal("99999.5")
    assert moved.lowest_price == moved.entry_price
    assert moved.unrealized_pnl == Decimal("0.02") * Decimal("99999.5") - moved.cost_basis
    assert moved.unrealized_pnl_percent == (moved.unrealized_pnl / moved.cost_basis * 100).quantize(
        Decimal("1e-8")
    )
    assert kept.current_price == kept.entry_price and kept.unrealized_pnl == 0


async def test_hourly_wallet_snapshots_and_portfolio_history(db: Database) -> None:
    w = await paper_world(db)
    await buy(w, "ETH/USDT", "1")
    await buy(w, "SOL/USDT", "10")
    async with db.sessions.begin() as s:
        assert await snapshot_wallets(s, now=START + timedelta(minutes=10)) == 1
    # Later in the same hour the row is refreshed, not duplicated; the next hour adds one.
    w.clock.advance(minutes=40)
    async with db.sessions.begin() as s:
        await Ledger(clock=w.clock).mark_to_market(
            s, {"ETH/USDT": (await w.hub.ticker("ETH/USDT")).last}
        )
        await snapshot_wallets(s, now=w.clock.now())
        (value,) = await wallet_values(s, wallet_ids=[w.wallet.id])
    w.clock.advance(minutes=30)
    async with db.sessions.begin() as s:
        await snapshot_wallets(s, now=w.clock.now())
    async with db.session() as s:
        snaps = list(
            await s.scalars(select(BotBalanceSnapshot).order_by(BotBalanceSnapshot.timestamp))
        )
    assert [x.timestamp for x in snaps] == [START, START + timedelta(hours=1)]
    first = snaps[0]
    assert first.total_value == value.total == value.cash + value.positions_value
    assert (first.cash_balance, first.positions_value, first.unrealized_pnl) == (
        value.cash,
        value.positions_value,
        value.unrealized_pnl,
    )
    assert {b["asset"] for b in first.balances} == {"USDT", "ETH", "SOL"}
    assert (
        value.cash + value.positions_value
        == w.wallet.initial_balance + value.realized_pnl + value.unrealized_pnl - value.fees_paid
    )

    async with db.sessions.begin() as s:
        row = await snapshot_portfolio(s, w.actor.user_id, now=w.clock.now())
    assert row.total_value == value.total
    assets = {a["asset"]: a for a in row.assets}
    assert Decimal(assets["ETH"]["amount"]) == 1 and assets["ETH"]["mode"] == "paper"
    assert assets["USDT"]["mode"] == "paper" and Decimal(assets["USDT"]["value"]) == value.cash
    assert sum(Decimal(a["value"]) for a in row.assets) == row.total_value

    someone = await paper_world(db, email="second@example.com")
    async with db.sessions.begin() as s:
        assert await snapshot_portfolios(s, now=w.clock.now()) == 2
    async with db.session() as s:
        totals = {
            r.user_id: r.total_value
            for r in await s.scalars(
                select(PortfolioHistory).where(PortfolioHistory.timestamp == w.clock.now())
            )
        }
    assert totals[someone.actor.user_id] == Decimal(10000)
