"""A user's fee tier on an exchange: set through the service (acting as that user) or the CLI,
and paid by their paper fills on that exchange's prices instead of the market's taker fee."""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal as D

import pytest
from click.testing import Result
from sqlalchemy import select

from core.db.engine import Database
from core.db.models.trading import Trade
from core.engine.venues import Markets
from core.errors import InvalidInput, NotFound
from core.services import fee_tiers
from core.services.actor import SYSTEM
from tests.cli_runner import invoke
from tests.engine.support import World, world
from tests.fake_exchange import exchange_factory
from tests.fake_exchange.binance import FakeBinance
from tests.service_users import add_user


async def test_set_list_clear_and_the_rules(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        view = await fee_tiers.set_fee_tier(s, alice, "Binance", taker_percent="0.075")
        assert (view.exchange, view.taker_percent, view.maker_percent) == (
            "binance",
            D("0.075"),
            None,
        )
        view = await fee_tiers.set_fee_tier(
            s, alice, "binance", taker_percent="0.04", maker_percent="0.02"
        )  # replaces the first
        assert (view.taker_percent, view.maker_percent) == (D("0.04"), D("0.02"))
    async with db.session() as s:
        assert [v.exchange for v in await fee_tiers.list_fee_tiers(s, alice)] == ["binance"]
        assert await fee_tiers.list_fee_tiers(s, bob) == []  # each user sees their own
    for bad, words in (("-0.1", "between 0 and 5"), ("7", "between 0 and 5"), ("abc", "number")):
        async with db.sessions.begin() as s:
            with pytest.raises(InvalidInput, match=words):
                await fee_tiers.set_fee_tier(s, alice, "binance", taker_percent=bad)
    async with db.sessions.begin() as s:
        with pytest.raises(InvalidInput, match="not an exchange"):
            await fee_tiers.set_fee_tier(s, alice, "nowhere", taker_percent="0.1")
        with pytest.raises(InvalidInput, match="belongs to a user"):
            await fee_tiers.set_fee_tier(s, SYSTEM, "binance", taker_percent="0.1")
    async with db.sessions.begin() as s:
        await fee_tiers.clear_fee_tier(s, alice, "binance")
    async with db.sessions.begin() as s:
        with pytest.raises(NotFound):
            await fee_tiers.clear_fee_tier(s, alice, "binance")


async def binance_dca(
    db: Database, fake: FakeBinance, email: str, interval_minutes: int, tier: str | None = None
) -> tuple[World, str]:
    """A new user's DCA paper bot on the fake Binance's prices (with a fee tier of theirs)."""
    w = await world(db, email=email)
    if tier is not None:
        async with db.sessions.begin() as s:
            await fee_tiers.set_fee_tier(s, w.actor, "binance", taker_percent=tier)
    w.markets = Markets(
        hubs=w.markets.hubs, exchanges=exchange_factory(fake), clock=w.clock,
        slippage=w.markets.slippage,
    )  # fmt: skip
    bot_id = await w.bot(
        "dca",
        {"symbol": "BTC/USDT", "timeframe": "1m", "quote_amount": "500", "levels": [],
         "interval_minutes": interval_minutes},
        paper_market="binance",
    )  # fmt: skip
    return w, bot_id


async def paper_buy(db: Database, fake: FakeBinance, email: str, tier: str | None) -> Trade:
    """A DCA paper bot of a new user buys BTC on the fake Binance's prices, in one cycle."""
    w, bot_id = await binance_dca(db, fake, email, 600, tier)
    runner = w.runner()
    try:
        await runner.run_pass()
    finally:
        await runner.ctx.close()
        await w.markets.hubs.close()
    async with db.session() as s:
        return (await s.scalars(select(Trade).where(Trade.bot_id == bot_id))).one()


async def test_paper_fills_pay_the_users_fee_tier(db: Database) -> None:
    async with FakeBinance() as fake:
        market = await paper_buy(db, fake, "market@example.com", None)
        tiered = await paper_buy(db, fake, "vip@example.com", "0.02")
    for trade in (market, tiered):
        assert trade.executed_price == D(50000)
    assert market.fee == market.quantity * market.executed_price * D("0.001")  # Binance's 0.1 %
    assert tiered.fee == tiered.quantity * tiered.executed_price * D("0.0002")  # the 0.02 % tier


async def test_the_cli_sets_lists_and_clears_a_tier(db: Database) -> None:
    """In the test's process (tests/cli_runner.py): the command's work, not its start-up."""
    await add_user(db, "carol@example.com")

    def cli(*args: str) -> Awaitable[Result]:
        return invoke(db.url, "fees", *args)

    done = await cli(
        "set", "okx", "--user", "carol@example.com", "--taker", "0.08", "--maker", "0.06"
    )
    assert done.exit_code == 0, done.stderr
    assert "okx: taker 0.08 %, maker 0.06 %" in done.stdout
    listed = await cli("list", "--user", "carol@example.com", "--json")
    assert '"taker_percent": "0.08"' in listed.stdout
    bad = await cli("set", "okx", "--user", "carol@example.com", "--taker", "9")
    assert bad.exit_code == 1 and "between 0 and 5" in bad.stderr and "Traceback" not in bad.stderr
    cleared = await cli("clear", "okx", "--user", "carol@example.com")
    assert cleared.exit_code == 0, cleared.stderr


async def test_a_running_engine_pays_a_changed_tier_on_the_next_fill(db: Database) -> None:
    """The tier is set, changed and cleared while one engine keeps its venue open: each next
    buy of the DCA bot pays what is in force at that moment."""
    async with FakeBinance() as fake:
        w, bot_id = await binance_dca(db, fake, "changes@example.com", 60)
        runner = w.runner()

        async def next_buy_fee_rate() -> D:
            before = await buys(db, bot_id)
            w.clock.advance(minutes=61)
            await runner.run_pass()
            trades = await buys(db, bot_id)
            assert len(trades) == len(before) + 1, "one more buy each pass"
            return trades[-1].fee / (trades[-1].quantity * trades[-1].executed_price)

        try:
            assert await next_buy_fee_rate() == D("0.001")  # Binance's own 0.1 %
            venues = dict(runner.ctx._venues)
            async with db.sessions.begin() as s:
                await fee_tiers.set_fee_tier(s, w.actor, "binance", taker_percent="0.02")
            assert await next_buy_fee_rate() == D("0.0002")
            async with db.sessions.begin() as s:
                await fee_tiers.set_fee_tier(s, w.actor, "binance", taker_percent="0.05")
            assert await next_buy_fee_rate() == D("0.0005")
            async with db.sessions.begin() as s:
                await fee_tiers.clear_fee_tier(s, w.actor, "binance")
            assert await next_buy_fee_rate() == D("0.001")
            assert runner.ctx._venues == venues  # the same venue all along: never reopened
        finally:
            await runner.ctx.close()
            await w.markets.hubs.close()


async def buys(db: Database, bot_id: str) -> list[Trade]:
    async with db.session() as s:
        rows = await s.scalars(
            select(Trade)
            .where(Trade.bot_id == bot_id, Trade.side == "BUY")
            .order_by(Trade.executed_at)
        )
        return list(rows)
