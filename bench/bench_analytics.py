"""Analytics speed: recomputing every type and period for one user from the ledger's rows, and
reading a cached figure.

A scratch database gets one user with ``--bots`` paper bots, ``--trades`` trades spread over
two years (inserted in bulk with generate_series) and an hourly portfolio history for a year.
Then ``refresh_analytics`` (4 types x 6 periods, 24 upserted rows) is timed, best of a few
runs, and so is ``get_analytics`` answering from the cache.

    python bench/bench_analytics.py [--trades 100000] [--bots 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from core.clock import FrozenClock
from core.db import migrate
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.users import User
from core.ledger import open_wallet
from core.services import analytics
from core.services.actor import Actor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # scratch databases like the tests'
from tests import pg

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


async def fill(db: Database, trades: int, bots: int) -> Actor:
    async with db.sessions.begin() as s:
        user = User(email="bench@example.com", password="x")
        s.add(user)
        await s.flush()
        ids = []
        for i in range(bots):
            bot = Bot(user_id=user.id, name=f"bench {i}", type="dca", config={}, risk_settings={})
            s.add(bot)
            await s.flush()
            await open_wallet(s, bot.id)
            ids.append(bot.id)
        await s.execute(
            text(
                "INSERT INTO trades (id, user_id, bot_id, symbol, side, type, price, quantity, "
                "executed_price, fee, fee_currency, total, profit_loss, balance, status, "
                "is_paper_trade, executed_at) "
                "SELECT 'bt' || g, :u, (CAST(:bots AS varchar[]))[1 + g % :n], "
                "CASE WHEN g % 3 = 0 THEN 'ETH/USDT' ELSE 'BTC/USDT' END, "
                "CASE WHEN g % 2 = 0 THEN 'BUY' ELSE 'SELL' END, 'MARKET', 100 + g % 50, 0.01, "
                "100 + g % 50, 0.001, 'USDT', 1 + (g % 50) / 100.0, "
                "CASE WHEN g % 2 = 1 THEN (g % 21) - 10 END, 0, 'FILLED', true, "
                "CAST(:now AS timestamptz) - make_interval(mins => (g::bigint * 1051200 / :t)::int) "
                "FROM generate_series(1, :t) AS g"
            ),
            {"u": user.id, "bots": ids, "n": bots, "t": trades, "now": NOW},
        )
        await s.execute(
            text(
                "INSERT INTO portfolio_history (id, user_id, total_value, assets, timestamp) "
                "SELECT 'ph' || g, :u, 10000 + g % 500, '[]'::jsonb, CAST(:now AS timestamptz) - make_interval(hours => g) "
                "FROM generate_series(1, 8760) AS g"
            ),
            {"u": user.id, "now": NOW},
        )
    return Actor(user_id=user.id)


async def main(trades: int, bots: int, runs: int) -> None:
    url = await pg.create_database("bbx_bench")
    db = Database(url)
    try:
        await migrate.upgrade(db)
        actor = await fill(db, trades, bots)
        clock = FrozenClock(NOW)
        best = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            async with db.sessions.begin() as s:
                await analytics.refresh_analytics(s, actor, clock=clock)
            best = min(best, time.perf_counter() - started)
        cached = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            async with db.session() as s:
                await analytics.get_analytics(s, actor, "trading", "30d", clock=clock)
            cached = min(cached, time.perf_counter() - started)
        print(f"{trades:,} trades, {bots} bots, 8,760 portfolio points")
        print(f"refresh_analytics (24 figures, upserted): {best * 1000:.0f} ms (best of {runs})")
        print(f"get_analytics from the cache: {cached * 1000:.1f} ms (best of {runs})")
    finally:
        await db.dispose()
        await pg.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--bots", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.trades, args.bots, args.runs))
