"""Ledger speed: paper fills per second through broker + ledger, and the cost of a price update.

1. Paper fills/s: market orders through ``OrderDesk.submit`` (paper broker pricing against the
   shared price hub, then order, trade, position and balance rows written and committed, one
   transaction per order), first one wallet in sequence, then several wallets at once.
2. Price update: ``Ledger.mark_to_market`` of 1,000 open positions (one UPDATE), best of a
   few runs, plus an hourly ``snapshot_wallets`` pass over the same wallets.

Runs against a scratch database on ``DATABASE_URL`` or the embedded PostgreSQL, created and
dropped by the script.

    python bench/bench_ledger.py [--orders 2000] [--wallets 8] [--positions 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from core.brokers import OrderRequest, OrderType, PaperBroker, Side
from core.clock import FrozenClock
from core.db import migrate
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.users import User
from core.ledger import Ledger, OrderDesk, WalletInfo, open_wallet
from core.ledger.snapshots import snapshot_wallets
from core.market.catalog import Pair, sync_markets
from core.market.hub import PriceHub
from core.market.simulated import SimulatedMarket

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # scratch databases like the tests'
from tests import pg

START = datetime(2026, 1, 1, 12, tzinfo=UTC)


async def wallets(db: Database, n: int, balance: Decimal) -> list[WalletInfo]:
    async with db.sessions.begin() as s:
        user = User(email=f"bench-{time.monotonic_ns()}@example.com", password="x")
        s.add(user)
        await s.flush()
        out = []
        for i in range(n):
            bot = Bot(user_id=user.id, name=f"bench {i}", config={}, risk_settings={})
            s.add(bot)
            await s.flush()
            out.append(await open_wallet(s, bot.id, initial_balance=balance))
        return out


async def trade_loop(
    db: Database, desk: OrderDesk, broker: PaperBroker, wallet: WalletInfo, pair: Pair, orders: int
) -> None:
    """Alternate buys and sells so the position opens, grows, shrinks and closes."""
    for i in range(orders):
        side = Side.BUY if i % 4 < 2 else Side.SELL
        request = OrderRequest(pair.symbol, side, OrderType.MARKET, Decimal("0.001"))
        await desk.submit(db.sessions, broker, wallet=wallet, pair=pair, request=request)


async def bench_fills(db: Database, orders: int, n_wallets: int) -> None:
    clock = FrozenClock(START)
    market = SimulatedMarket(seed=11, clock=clock)
    hub = PriceHub(market, clock=clock)
    broker = PaperBroker(hub, clock=clock)
    desk = OrderDesk(clock=clock)
    async with db.sessions.begin() as s:
        pairs = await sync_markets(s, market)
    btc = pairs["BTC/USDT"]

    (one,) = await wallets(db, 1, Decimal(10_000_000))
    await trade_loop(db, desk, broker, one, btc, 40)  # warm-up: connections, statement cache
    t = time.perf_counter()
    await trade_loop(db, desk, broker, one, btc, orders)
    sequential = orders / (time.perf_counter() - t)

    many = await wallets(db, n_wallets, Decimal(10_000_000))
    per_wallet = orders // n_wallets
    t = time.perf_counter()
    await asyncio.gather(*(trade_loop(db, desk, broker, w, btc, per_wallet) for w in many))
    concurrent = per_wallet * n_wallets / (time.perf_counter() - t)
    print(f"paper fills, 1 wallet, sequential : {sequential:8.0f} fills/s  ({orders} orders)")
    print(
        f"paper fills, {n_wallets} wallets at once   : {concurrent:8.0f} fills/s  "
        f"(pool of {db.pool_size}+{db.pool_size} connections)"
    )


async def bench_marks(db: Database, positions: int, repeat: int) -> None:
    clock = FrozenClock(START)
    market = SimulatedMarket(seed=12, clock=clock)
    broker = PaperBroker(PriceHub(market, clock=clock), clock=clock)
    async with db.sessions.begin() as s:
        pairs = await sync_markets(s, market)
    symbols = sorted(pairs)
    needed = -(-positions // len(symbols))
    books = await wallets(db, needed, Decimal(1_000_000_000))
    ledger = Ledger(clock=clock)
    made = 0
    async with db.sessions.begin() as s:
        for wallet in books:
            for symbol in symbols:
                if made == positions:
                    break
                pair = pairs[symbol]
                qty = (
                    max(pair.info.min_quantity, Decimal(1).scaleb(-pair.info.quantity_precision))
                    * 10
                )
                request = OrderRequest(symbol, Side.BUY, OrderType.MARKET, qty).normalized(
                    pair.info
                )
                answer = await broker.place(request, pair.info)
                await ledger.apply_fill(s, answer.fills[0], wallet=wallet, pair=pair)
                made += 1
    ids = [w.id for w in books]
    timings = []
    for i in range(repeat):
        clock.advance(timedelta(minutes=1 + i))
        prices = {s: market.price_at(s, clock.now()) for s in symbols}
        t = time.perf_counter()
        async with db.sessions.begin() as s:
            updated = await ledger.mark_to_market(s, prices, wallet_ids=ids)
        timings.append(time.perf_counter() - t)
        assert updated == positions, updated
    t = time.perf_counter()
    async with db.sessions.begin() as s:
        snapshots = await snapshot_wallets(s, now=clock.now())
    snap = time.perf_counter() - t
    best = min(timings)
    print(
        f"price update, {positions} open positions : {best * 1000:8.1f} ms  "
        f"({best / positions * 1e6:.1f} µs per position, one UPDATE, best of {repeat})"
    )
    print(f"hourly snapshot of {snapshots} wallets     : {snap * 1000:8.1f} ms")


async def main(args: argparse.Namespace) -> None:
    url = await pg.create_database("bbx_bench")
    db = Database(url)
    try:
        await migrate.upgrade(db)
        await bench_fills(db, args.orders, args.wallets)
        await bench_marks(db, args.positions, args.repeat)
    finally:
        await db.dispose()
        await pg.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--wallets", type=int, default=8)
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
