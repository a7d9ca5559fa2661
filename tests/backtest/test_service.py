"""Backtests and datasets against the real database: storing, ownership, datasets."""

from decimal import Decimal as D
from pathlib import Path

import pytest

from core.backtest.datasets import load_dataset
from core.db.engine import Database
from core.db.models.bots import Backtest, Bot
from core.db.models.users import User
from core.errors import Forbidden, InvalidInput, NotFound
from core.services import backtests as service
from core.services.actor import SYSTEM, Actor, Role
from tests.strategies.helpers import random_walk


async def add_user(db: Database, email: str) -> Actor:
    async with db.sessions.begin() as session:
        user = User(email=email, password="$argon2id$not-a-real-hash")
        session.add(user)
        await session.flush()
        return Actor(user_id=user.id)


async def add_bot(
    db: Database, actor: Actor, bot_type: str = "signal", config=None, risk=None
) -> str:
    async with db.sessions.begin() as session:
        bot = Bot(
            user_id=actor.user_id,
            name="test bot",
            type=bot_type,
            config=config
            if config is not None
            else {"indicator": {"name": "sma_cross", "fast": 5, "slow": 20}},
            risk_settings=risk if risk is not None else {"stop_loss_percent": 3},
        )
        session.add(bot)
        await session.flush()
        return bot.id


def write_csv(path: Path, n: int = 400) -> Path:
    c = random_walk(n, seed=8)
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [",".join(str(x) for x in row) for row in c.rows()]
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_import_dataset_and_replace(db: Database, tmp_path: Path) -> None:
    alice = await add_user(db, "alice@example.com")
    path = write_csv(tmp_path / "btc.csv")
    async with db.session() as session:
        with pytest.raises(Forbidden):  # shared market history: not a user's to replace
            await service.import_csv_dataset(session, alice, path, "btc/usdt", "1h")
        assert await service.datasets(session, alice) == []
        first = await service.import_csv_dataset(session, SYSTEM, path, "btc/usdt", "1h")
    assert (first.symbol, first.timeframe, first.candle_count, first.replaced) == (
        "BTC/USDT",
        "1h",
        400,
        False,
    )
    async with db.session() as session:
        admin = Actor(user_id=alice.user_id, role=Role.ADMIN)  # what alice's Actor claims...
        with pytest.raises(Forbidden):  # ...is re-read: she is no administrator
            await service.import_csv_dataset(session, admin, path, "BTC/USDT", "1h")
        again = await service.import_csv_dataset(session, SYSTEM, path, "BTC/USDT", "1h")
        assert again.replaced and again.id == first.id
        _info, candles = await load_dataset(session, first.id)
        listed = await service.datasets(session, alice)
    assert len(candles) == 400 and candles.rows() == random_walk(400, seed=8).rows()
    assert [d.id for d in listed] == [first.id]
    async with db.session() as session:
        with pytest.raises(InvalidInput, match="not a trading pair"):
            await service.import_csv_dataset(session, SYSTEM, path, "bitcoin", "1h")
        with pytest.raises(NotFound):
            await load_dataset(session, "nope")


async def test_bot_backtest_is_stored_and_private(db: Database, tmp_path: Path) -> None:
    alice = await add_user(db, "alice@example.com")
    bob = await add_user(db, "bob@example.com")
    bot_id = await add_bot(db, alice)
    async with db.session() as session:
        dataset = await service.import_csv_dataset(
            session, SYSTEM, write_csv(tmp_path / "d.csv", 600), "ETH/USDT", "1h"
        )
    request = service.BacktestRequest(
        cash=D(10000), fee=D("0.001"), dataset_id=dataset.id, bot_id=bot_id
    )
    async with db.session() as session:
        done = await service.run_backtest(session, alice, request)
    assert done.backtest_id is not None and done.result.trades > 0
    assert "STOP_LOSS" in {
        t.exit_reason for t in done.result.trade_list
    }  # the bot's own risk settings

    async with db.session() as session:
        row = await session.get(Backtest, done.backtest_id)
        assert (row.bot_id, row.user_id, row.execution_time) == (
            bot_id,
            alice.user_id,
            done.result.elapsed_ms,
        )
        assert row.config["config"]["indicator"]["name"] == "sma_cross"
        assert row.config["risk_settings"] == {"stop_loss_percent": "3"}
        assert row.result["final_equity"] == str(done.result.final_equity)
        assert len(row.result["trade_list"]) == done.result.trades
        # the report keeps its candles for the chart: 600 candles fold into at most 240 bars
        assert row.result["chart"] == done.chart and 200 <= len(done.chart) <= 240

        mine = await service.list_backtests(session, alice)
        assert [b.id for b in mine] == [done.backtest_id]
        assert mine[0].final_equity == done.result.final_equity
        record = await service.get_backtest(session, alice, done.backtest_id)
        assert record.result["trades"] == done.result.trades

        assert await service.list_backtests(session, bob) == []
        with pytest.raises(NotFound):
            await service.get_backtest(session, bob, done.backtest_id)
        with pytest.raises(NotFound, match="No bot"):
            await service.run_backtest(session, bob, request)
        with pytest.raises(InvalidInput, match="brings its own risk settings"):
            await service.run_backtest(
                session,
                alice,
                service.BacktestRequest(
                    D(1), D(0), dataset_id=dataset.id, bot_id=bot_id, risk_settings={}
                ),
            )


async def test_dca_and_grid_bots_run_and_multi_market_bots_are_refused(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    candles = random_walk(400, seed=2)
    dca = await add_bot(
        db, alice, "dca", config={"take_profit_percent": 2, "cooldown_minutes": 0}, risk={}
    )
    grid_config = {"lower_price": 90, "upper_price": 110, "grid_count": 9}
    grid = await add_bot(db, alice, "grid", config=grid_config, risk={"max_position_size": 300})
    grid_with_stop = await add_bot(
        db, alice, "grid", config=grid_config, risk={"stop_loss_percent": 5}
    )
    arbitrage = await add_bot(db, alice, "arbitrage", config={"market_b": "other"}, risk={})
    screener = await add_bot(db, alice, "pump_screener", config={}, risk={})

    def request(bot_id: str) -> service.BacktestRequest:
        return service.BacktestRequest(D(1000), D("0.001"), "1h", bot_id=bot_id)

    async with db.session() as session:
        stored = []
        for bot_id, name in ((dca, "dca"), (grid, "grid")):
            done = await service.run_backtest(session, alice, request(bot_id), candles=candles)
            assert done.result.strategy == name and done.result.trades > 0
            stored.append(done.backtest_id)
            record = await service.get_backtest(session, alice, done.backtest_id)
            assert record.config["bot_type"] == name
            assert record.result["trades"] == done.result.trades
        for bot_id, reason in (
            (arbitrage, "two markets"),
            (screener, "many symbols"),
            (grid_with_stop, "don't apply to it"),
        ):
            with pytest.raises(InvalidInput, match=reason):
                await service.run_backtest(session, alice, request(bot_id), candles=candles)
        listed = await service.list_backtests(session, alice)
        assert sorted(b.id for b in listed) == sorted(stored)


async def test_dca_and_grid_by_name_with_parameters() -> None:
    def by_name(name: str, params: dict) -> service.BacktestRequest:
        return service.BacktestRequest(D(1000), D("0.001"), "1h", strategy=name, params=params)

    candles = random_walk(300, seed=3)
    levels = '[{"drop_percent": "1.5", "buy_percent": "100"}]'
    dca = await service.run_backtest(
        None, Actor("x"), by_name("dca", {"levels": levels, "quote_amount": "200"}), candles=candles
    )
    assert dca.result.strategy == "dca" and dca.result.trades > 0
    with pytest.raises(InvalidInput, match=r"Lower price is required"):
        await service.run_backtest(None, Actor("x"), by_name("grid", {}), candles=candles)
    with pytest.raises(InvalidInput, match=r"choose one of sma_cross.*dca, grid"):
        await service.run_backtest(None, Actor("x"), by_name("martingale", {}), candles=candles)


async def test_a_bare_strategy_needs_no_database() -> None:
    request = service.BacktestRequest(
        D(1000), D("0.001"), "1h", strategy="ema_cross", params={"fast": "5", "slow": "15"}
    )
    done = await service.run_backtest(None, Actor("anyone"), request, candles=random_walk(300))
    assert done.backtest_id is None and done.result.strategy == "ema_cross"
    with pytest.raises(InvalidInput, match="Choose a strategy"):
        await service.run_backtest(
            None, Actor("x"), service.BacktestRequest(D(1), D(0), "1h"), candles=random_walk(10)
        )


async def test_a_provider_bot_replays_its_stored_signals(db: Database) -> None:
    from datetime import UTC, datetime, timedelta

    from core.db.models.signals import Signal, SignalProvider
    from tests.strategies.helpers import T0_MS

    alice = await add_user(db, "alice@example.com")
    start = datetime.fromtimestamp(T0_MS / 1000, UTC)
    async with db.sessions.begin() as session:
        provider = SignalProvider(name="desk", type="webhook", config={})
        session.add(provider)
        await session.flush()
        for hours, action in ((3, "BUY"), (9, "SELL"), (20, "BUY")):
            at = start + timedelta(hours=hours, minutes=30)
            session.add(
                Signal(
                    provider_id=provider.id,
                    symbol="BTC/USDT",
                    action=action,
                    confidence=D(90),
                    created_at=at,
                )
            )
        session.add(
            Signal(provider_id=provider.id, symbol="ETH/USDT", action="BUY", created_at=start)
        )
        provider_id = provider.id
    config = {"source": "provider", "provider_id": provider_id, "max_signal_age_seconds": 3600}
    bot_id = await add_bot(db, alice, config=config, risk={})
    request = service.BacktestRequest(D(1000), D(0), "1h", bot_id=bot_id)
    async with db.session() as session:
        done = await service.run_backtest(session, alice, request, candles=random_walk(30))
    result = done.result
    assert result.trades == 1 and result.open_trade is not None

    def hour(ms: int) -> int:
        return (ms - T0_MS) // 3_600_000

    (trade,) = result.trade_list
    assert (hour(trade.entry_ms), hour(trade.exit_ms)) == (4, 10)
    assert hour(result.open_trade.entry_ms) == 21
