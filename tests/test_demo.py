"""``blockbotx demo`` is believable: over a day of the simulated market every bot type trades,
the account wins some and loses some, the arbitrage bot's spread wanders around zero so fees eat
some of its crossings, and the credentials come out on stdout (diagnostics on stderr)."""

from __future__ import annotations

import itertools
import os
import re
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import event, func, select, text

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.trading import Position, Trade
from core.db.models.users import User
from core.engine.offset_feed import OffsetFeed, WanderingSpread
from core.market.simulated import TICKS_PER_DAY, SimulatedMarket
from core.seed import seed_reference_data
from core.services import bots, trade_history
from core.services.actor import Actor, Role
from core.strategies.arbitrage import ArbitrageBotConfig
from tests import pg
from tui.cli.demo import build_demo

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BOT_TYPES = {"dca", "signal", "ai", "grid", "arbitrage", "pump_screener"}


# Round trips to the database for the demo day (2,9xx measured): the build's time is mostly
# waiting for them, so a change that adds many shows here rather than on a stopwatch.
STATEMENT_BUDGET = 3_600


@dataclass
class Built:
    db: Database
    actor: Actor
    statements: int = 0
    waited_for_the_disk: set[str] = field(default_factory=set)


@pytest.fixture
async def demo() -> AsyncIterator[Built]:
    """One day of the demo, ending at ``NOW``, in a database of its own; the statements its
    build sent are counted, and the ``synchronous_commit`` its connections had."""
    url = await pg.migrated_copy("bbx_demo", wait_for_disk=True)
    db = Database(url)
    built = Built(db, Actor(user_id="", role=Role.USER))

    def count(*_: object) -> None:
        built.statements += 1

    def seen(dbapi_connection: Any, *_: Any) -> None:
        value = dbapi_connection.run_async(lambda c: c.fetchval("SHOW synchronous_commit"))
        built.waited_for_the_disk.add(value)

    try:
        await seed_reference_data(db)
        await db.dispose()
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        event.listen(db.engine.sync_engine, "checkout", seen)
        account = await build_demo(
            db,
            email="demo@example.com",
            password="Wander-spread-0517",
            days=1,
            clock=FrozenClock(NOW),
        )
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        event.remove(db.engine.sync_engine, "checkout", seen)
        async with db.session() as session:
            user_id = await session.scalar(select(User.id).where(User.email == account.email))
            after = await session.scalar(text("SHOW synchronous_commit"))
        assert user_id is not None and after == "on"  # the setting stayed with the build
        built.actor = Actor(user_id=user_id, role=Role(account.role))
        yield built
    finally:
        await db.dispose()
        await pg.drop_database(url)


async def test_a_demo_day_is_believable_and_quick_to_build(demo: Built) -> None:
    """One test, so the day is traded through once (a fixture shared by several tests would be
    built again on each test worker)."""
    db, actor = demo.db, demo.actor
    await _every_bot_type_trades(db, actor)
    await _the_account_wins_some_and_loses_some(db, actor)
    await _arbitrage_wins_and_loses_after_fees(db, actor)
    # Quick: its commits don't wait for the disk, and its round trips stay within budget.
    assert demo.waited_for_the_disk == {"off"}, demo.waited_for_the_disk
    assert 0 < demo.statements <= STATEMENT_BUDGET, demo.statements


async def _every_bot_type_trades(db: Database, actor: Actor) -> None:
    async with db.session() as session:
        counted = dict(
            (
                await session.execute(
                    select(Bot.type, func.count(Trade.id))
                    .join(Trade, Trade.bot_id == Bot.id)
                    .where(Bot.user_id == actor.user_id)
                    .group_by(Bot.type)
                )
            ).all()
        )
    assert set(counted) == BOT_TYPES, counted
    assert all(n >= 1 for n in counted.values()), counted


async def _the_account_wins_some_and_loses_some(db: Database, actor: Actor) -> None:
    totals = await trade_history.totals(db, actor)  # the trade history's win rate
    assert totals.win_rate is not None and 0 < totals.win_rate < 100, totals
    async with db.session() as session:  # the bots screen: closed positions, net of fees
        summaries = await bots.list_bots(session, actor)
    rates = {b.type: b.win_rate for b in summaries if b.win_rate is not None}
    assert 0 < rates["arbitrage"] < 100, rates
    assert not all(rate == 100 for rate in rates.values()), rates


async def _arbitrage_wins_and_loses_after_fees(db: Database, actor: Actor) -> None:
    """Its spread wanders around zero: it trades only on the crossings that beat both fees
    and the threshold, and the smaller market's slippage makes some of those lose."""
    async with db.session() as session:
        bot = await session.scalar(
            select(Bot).where(Bot.user_id == actor.user_id, Bot.type == "arbitrage")
        )
        assert bot is not None
        config = ArbitrageBotConfig.model_validate(bot.config)
        pnls = list(
            await session.scalars(
                select(Position.profit_loss).where(
                    Position.bot_id == bot.id, Position.status == "closed"
                )
            )
        )
    assert config.simulated_offset_percent == 0 and config.simulated_spread_percent > 0
    assert len(pnls) >= 2
    assert any(p is not None and p < 0 for p in pnls), pnls
    assert any(p is not None and p > 0 for p in pnls), pnls


@pytest.mark.slow  # runs the CLI in a process of its own
def test_the_credentials_are_on_stdout(db: Database, migrated_url: str, tmp_path: Path) -> None:
    """A real process, as a person runs it: the result on stdout, the rest on stderr."""
    env = {
        **os.environ,
        "DATABASE_URL": migrated_url,
        "BLOCKBOTX_STATE_DIR": str(tmp_path / "state"),
        "BLOCKBOTX_CONFIG_DIR": str(tmp_path / "config"),
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "demo", "--days", "0.1", "--email", "demo@example.com"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    email = re.search(r"email\s+(\S+)", done.stdout)
    password = re.search(r"password\s+(\S+)", done.stdout)
    assert email and email.group(1) == "demo@example.com", done.stdout
    assert password and re.fullmatch(r"[0-9a-f]{6}(-[0-9a-f]{6}){3}", password.group(1))
    assert "Demo ready" in done.stdout
    assert password.group(1) not in done.stderr and "demo@example.com" not in done.stderr


# -- the wandering spread of an arbitrage bot's second market ---------------------------------


def test_the_spread_wanders_around_zero() -> None:
    spread = WanderingSpread(Decimal("0.15"), seed=7)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    samples = [spread.at("BTC/USDT", start + timedelta(minutes=m)) for m in range(0, 30 * 1440, 7)]
    assert abs(statistics.fmean(samples)) < 0.05
    assert 0.08 < statistics.pstdev(samples) < 0.25
    crossings = sum(1 for a, b in itertools.pairwise(samples) if a * b < 0)
    assert crossings > 30  # it keeps coming back


def test_the_spread_is_a_function_of_time() -> None:
    """The same at the same moment however it is reached, and no jump at midnight."""
    a, b = WanderingSpread(Decimal("0.15"), seed=7), WanderingSpread(Decimal("0.15"), seed=7)
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    before, after = midnight - timedelta(seconds=5), midnight
    assert a.at("ETH/USDT", after) == b.at("ETH/USDT", after)  # b saw no earlier day
    assert a.at("ETH/USDT", before) == b.at("ETH/USDT", before)
    assert abs(a.at("ETH/USDT", after) - a.at("ETH/USDT", before)) < 0.05
    assert a.at("ETH/USDT", after) != a.at("BTC/USDT", after)  # each pair its own
    assert WanderingSpread(Decimal("0.15"), seed=8).at("ETH/USDT", after) != a.at("ETH/USDT", after)


async def test_market_b_quotes_the_spread_on_a_smaller_venue() -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
    base = SimulatedMarket(clock=clock)
    feed = OffsetFeed(base, Decimal(0), Decimal("0.15"))
    assert feed.name == "simulated+0pct~0.15"
    gaps = []
    for _ in range(50):
        a, b = await base.ticker("BTC/USDT"), await feed.ticker("BTC/USDT")
        expected = feed.spread_at("BTC/USDT", a.timestamp)
        gap = (b.last / a.last - 1) * 100
        assert abs(gap - expected) < Decimal("0.001")  # the tick's rounding only
        assert b.quote_volume_24h < a.quote_volume_24h / 100
        gaps.append(gap)
        clock.advance(timedelta(minutes=10))
    assert min(gaps) < 0 < max(gaps)


def test_two_simulated_markets_need_an_offset_or_a_spread() -> None:
    ArbitrageBotConfig(symbol="BTC/USDT", simulated_offset_percent=0, simulated_spread_percent=1)
    ArbitrageBotConfig(symbol="BTC/USDT", simulated_offset_percent="0.5")
    with pytest.raises(ValidationError, match="offset or spread"):
        ArbitrageBotConfig(symbol="BTC/USDT", simulated_offset_percent=0)


# -- the simulated market's trailing 24 hours, from running sums --------------------------------


@pytest.mark.parametrize("symbol", ["BTC/USDT", "PEPE/USDT"])
def test_ticker_24h_figures_match_the_ticks(symbol: str) -> None:
    market = SimulatedMarket()
    index, spec = market._spec(symbol)
    for when in (
        datetime(2024, 1, 1, 3, tzinfo=UTC),  # the first day: no yesterday
        datetime(2026, 5, 17, 0, 0, tzinfo=UTC),
        datetime(2026, 5, 17, 13, 27, 35, tzinfo=UTC),
        datetime(2026, 5, 17, 23, 59, 55, tzinfo=UTC),  # the last tick of a day
    ):
        day, tick = market._position(when)
        prices = market._day(index, day).price[: tick + 1]
        volumes = market._day(index, day).volume[: tick + 1]
        if day > 0 and tick + 1 < TICKS_PER_DAY:
            prices = [*market._day(index, day - 1).price[tick + 1 :], *prices]
            volumes = [*market._day(index, day - 1).volume[tick + 1 :], *volumes]
        ticker = market.ticker_at(symbol, when)
        step = Decimal(1).scaleb(-spec.quantity_precision)
        tick_size = Decimal(1).scaleb(-spec.price_precision)
        assert ticker.high_24h == Decimal(int(max(prices))) * tick_size
        assert ticker.low_24h == Decimal(int(min(prices))) * tick_size
        assert ticker.open_24h == Decimal(int(prices[0])) * tick_size
        assert ticker.volume_24h == sum(int(v) for v in volumes) * step
        quote = sum(int(p) * int(v) for p, v in zip(prices, volumes, strict=True))
        assert ticker.quote_volume_24h == (Decimal(quote) * step * tick_size).quantize(tick_size)
