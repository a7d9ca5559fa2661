"""Every bot type through real engine cycles on the simulated market, against PostgreSQL: the
rows each cycle writes (executions per slot, orders, trades, positions, signal executions,
pump detections, arbitrage runs, notifications)."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN
from decimal import Decimal as D

from sqlalchemy import select

from core.db.models.bots import Bot, BotBalance, BotExecution, BotWallet, Execution, PumpDetection
from core.db.models.notifications import Notification
from core.db.models.signals import Signal, SignalExecution
from core.db.models.trading import Order, Position, Trade
from core.engine.leases import slot_of
from tests.engine.support import START, World, executions, world


async def notes(w: World) -> list[Notification]:
    async with w.db.session() as s:
        return list(
            await s.scalars(
                select(Notification)
                .where(Notification.channel == "IN_APP")
                .order_by(Notification.created_at)
            )
        )


async def rows(w: World, model, *where):  # type: ignore[no-untyped-def]
    async with w.db.session() as s:
        return list(await s.scalars(select(model).where(*where)))


async def test_technical_signal_bot_cycles_every_slot_and_trades_once_per_signal(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot(
        "signal",
        {
            "symbol": "BTC/USDT",
            "timeframe": "1m",
            "indicator": {"name": "sma_cross", "fast": 3, "slow": 8},
        },
        {"stop_loss_percent": "1", "take_profit_percent": "2", "max_position_size": "1000"},
    )
    runner = w.runner()
    first_slot = slot_of(w.clock.now(), 10)
    for _ in range(90):
        await w.step(runner)
    done = await executions(db, bot_id)
    # one execution per 10-second slot, keyed by the slot, none missing, none twice
    assert [e.execution_id for e in done] == [f"{bot_id}-{first_slot + i}" for i in range(90)]
    assert {e.status for e in done} == {"success"}
    buys = [e for e in done if e.signal == "BUY"]
    assert buys, "the seeded market crosses within 15 minutes"
    buy = buys[0]
    assert buy.indicators.keys() == {"sma_fast", "sma_slow"} and buy.confidence >= 50
    assert "crossed above" in buy.reason
    # the same candle's later cycles hold: a signal is acted on once
    same_candle = [
        e
        for e in done
        if e.timestamp > buy.timestamp and e.timestamp < buy.timestamp + timedelta(seconds=50)
    ]
    assert same_candle and all(e.signal == "HOLD" for e in same_candle)
    trades = await rows(w, Trade, Trade.bot_id == bot_id)
    positions = await rows(w, Position, Position.bot_id == bot_id)
    first = min(positions, key=lambda p: p.created_at)
    assert first.stop_loss == (
        first.entry_price * D("0.99")
    ) and first.take_profit == first.entry_price * D("1.02")
    assert first.total_invested <= D("1000")
    assert trades[0].side == "BUY" and trades[0].bot_id == bot_id
    assert any(n.type.value == "TRADE_EXECUTED" for n in await notes(w))
    async with db.session() as s:
        bot = await s.get(Bot, bot_id)
    assert bot.lease_owner is None and bot.last_execution_at == done[-1].timestamp


async def test_provider_signals_are_each_recorded_once_per_bot(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    provider = await w.provider()
    bot_id = await w.bot(
        "signal",
        {
            "symbol": "BTC/USDT",
            "timeframe": "1m",
            "source": "provider",
            "provider_id": provider,
            "min_confidence": 50,
        },
        {"max_position_size": "500"},
    )
    w.pin("BTC/USDT", "100")
    at = START + timedelta(seconds=1)
    other = await w.signal(provider, "BUY", at=at, symbol="ETH/USDT")
    weak = await w.signal(provider, "BUY", at=at + timedelta(seconds=1), confidence="10")
    early = await w.signal(provider, "BUY", at=at + timedelta(seconds=2))
    chosen = await w.signal(provider, "BUY", at=at + timedelta(seconds=3), reason="breakout")
    later = await w.signal(provider, "SELL", at=START + timedelta(seconds=65))  # the next candle
    runner = w.runner()
    w.clock.advance(seconds=61)
    await w.step(runner)
    await w.step(runner)  # same candle: nothing read twice
    async with db.session() as s:
        outcome = {
            r.signal_id: (r.status, r.reason, r.trade_id, r.execution_id)
            for r in await s.scalars(
                select(SignalExecution).where(SignalExecution.bot_id == bot_id)
            )
        }
        processed = dict((await s.execute(select(Signal.id, Signal.processed))).all())
    assert set(outcome) == {other, weak, early, chosen}
    assert outcome[other][:2] == ("skipped", "for ETH/USDT; this bot trades BTC/USDT")
    assert outcome[weak][0] == "skipped" and "below the minimum 50" in outcome[weak][1]
    assert outcome[early][:2] == ("skipped", "a later signal in the same candle decided")
    status, reason, trade_id, execution_id = outcome[chosen]
    assert status == "success" and trade_id is not None and "breakout" in reason
    first = (await executions(db, bot_id))[0]
    assert execution_id == first.execution_id and first.signal == "BUY"
    assert processed[chosen] and not processed[later]
    w.clock.current = START + timedelta(minutes=2, seconds=1)
    await w.step(runner)
    async with db.session() as s:
        sold = await s.scalar(select(SignalExecution).where(SignalExecution.signal_id == later))
        position = await s.scalar(select(Position).where(Position.bot_id == bot_id))
    assert (
        sold.status == "success"
        and position.status == "closed"
        and position.close_reason == "SIGNAL"
    )


async def test_ai_bot_records_its_features_and_decisions(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot(
        "ai",
        {
            "symbol": "ETH/USDT",
            "timeframe": "1m",
            "train_window": 100,
            "min_train": 50,
            "refit_every": 10,
        },
        {"max_position_size": "500"},
    )
    runner = w.runner()
    for _ in range(30):
        await w.step(runner)
    done = await executions(db, bot_id)
    assert len(done) == 30 and {e.status for e in done} == {"success"}
    features = {"rsi", "macd_hist", "percent_b", "return_1", "return_5", "volume_z", "p_up"}
    assert all(features <= e.indicators.keys() for e in done)
    acted = [e for e in done if e.signal != "HOLD"]
    assert acted and all(
        e.confidence > 0 and "logistic regression trained on" in e.reason for e in acted
    )


async def test_dca_buys_the_ladder_and_takes_profit_over_the_average(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot(
        "dca",
        {
            "symbol": "SOL/USDT",
            "timeframe": "1m",
            "quote_amount": "100",
            "cooldown_minutes": 0,
            "levels": [{"drop_percent": "5", "buy_percent": "50"}],
            "take_profit_percent": "3",
        },
    )
    runner = w.runner()
    w.pin("SOL/USDT", "100")
    await w.step(runner)  # the first buy
    w.pin("SOL/USDT", "95.01")
    await w.step(runner)  # not 5 % down yet
    w.pin("SOL/USDT", "95")
    await w.step(runner)  # level 1: 50 % more
    [position] = await rows(w, Position, Position.bot_id == bot_id)
    # quantities leave room for the fee and a tick: 100 / (100.01 × 1.001), then 50 % of what
    # is held at 95: 0.998 × 0.5 × 95 / (95.01 × 1.001), each cut to the 0.001 step
    first, second = D("0.998"), D("0.498")
    assert (position.quantity, position.dca_count) == (first + second, 1)
    average = position.entry_price
    assert average == ((first * 100 + second * 95) / (first + second)).quantize(D("1e-18"))
    target = average * D("1.03")
    w.pin("SOL/USDT", str((target - D("0.01")).quantize(D("0.01"), ROUND_DOWN)))
    await w.step(runner)
    w.pin("SOL/USDT", str(target.quantize(D("0.01")) + D("0.01")))
    await w.step(runner)
    done = await executions(db, bot_id)
    assert [e.signal for e in done] == ["BUY", "HOLD", "BUY", "HOLD", "SELL"]
    assert "level 1 buys 50" in done[2].reason and "reached the take-profit" in done[4].reason
    [position] = await rows(w, Position, Position.bot_id == bot_id)
    assert (position.status, position.close_reason) == ("closed", "TAKE_PROFIT")
    async with db.session() as s:
        bot = await s.get(Bot, bot_id)
    assert "dca" not in (bot.engine_state or {})
    assert [n.type.value for n in await notes(w)][-1] == "TAKE_PROFIT_HIT"


async def test_grid_rests_orders_fills_and_rearms(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot(
        "grid",
        {
            "symbol": "BNB/USDT",
            "lower_price": "500",
            "upper_price": "700",
            "grid_count": 11,
            "quote_per_grid": "100",
        },
    )
    runner = w.runner()
    w.pin("BNB/USDT", "600")
    await w.step(runner)
    resting = await rows(w, Order, Order.status == "open")
    assert sorted((o.side, o.price) for o in resting) == [
        ("buy", D(p)) for p in ("500", "520", "540", "560", "580")
    ]
    async with db.session() as s:
        wallet = await s.scalar(select(BotWallet).where(BotWallet.bot_id == bot_id))
        usdt = await s.scalar(
            select(BotBalance).where(BotBalance.wallet_id == wallet.id, BotBalance.asset == "USDT")
        )
    assert usdt.locked == sum(o.reserved for o in resting) > 0
    w.pin("BNB/USDT", "590")
    await w.step(runner)  # nothing crossed: no transaction at all
    assert (await executions(db, bot_id))[-1].reason.startswith(
        "Grid: 5 buy and 0 sell orders resting"
    )
    w.pin("BNB/USDT", "580")
    await w.step(runner)  # the 580 buy fills, a sell rests at 600
    orders = {(o.side, o.price, o.status) for o in await rows(w, Order)}
    assert ("buy", D("580"), "filled") in orders and ("sell", D("600"), "open") in orders
    w.pin("BNB/USDT", "600")
    await w.step(runner)  # the sell fills: one round trip, the 580 buy is back
    done = await executions(db, bot_id)
    assert [e.signal for e in done[-2:]] == ["BUY", "SELL"]
    assert done[-1].indicators["round_trips"] == 1
    open_buys = sorted(o.price for o in await rows(w, Order, Order.status == "open"))
    assert open_buys == [D(p) for p in ("500", "520", "540", "560", "580")]
    [position] = await rows(w, Position, Position.bot_id == bot_id)
    assert (
        position.status == "closed" and position.profit_loss > 0
    )  # 20 a unit, less two maker fees


async def test_arbitrage_trades_both_legs_and_records_the_run(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot(
        "arbitrage",
        {
            "symbol": "BTC/USDT",
            "simulated_offset_percent": "0.5",
            "threshold_percent": "0.1",
            "trade_amount": "100",
        },
    )
    idle = await w.bot(
        "arbitrage",
        {"symbol": "BTC/USDT", "simulated_offset_percent": "0.1", "threshold_percent": "0.1"},
        name="narrow",
    )
    w.pin("BTC/USDT", "100")
    runner = w.runner()
    await w.step(runner)
    [run] = await rows(w, BotExecution, BotExecution.bot_id == bot_id)
    assert (run.status, run.trades_count) == ("completed", 2) and run.ended_at is not None
    assert [leg["leg"] for leg in run.logs] == ["buy", "sell"]
    trades = await rows(w, Trade, Trade.bot_id == bot_id)
    assert sorted((t.side, t.executed_price) for t in trades) == [
        ("BUY", D("100")),
        ("SELL", D("100.5")),
    ]
    quantity = trades[0].quantity
    assert run.profit_loss == quantity * D("100.5") * D("0.999") - quantity * D("100") * D("1.001")
    [execution] = await executions(db, bot_id)
    assert execution.signal == "BUY" and "net spread 0.2992%" in execution.reason
    [hold] = await executions(db, idle)
    assert hold.signal == "HOLD" and "does not beat the threshold" in hold.reason
    assert await rows(w, BotExecution, BotExecution.bot_id == idle) == []


async def test_pump_screener_records_detections_notifies_and_enters_with_a_tight_stop(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot(
        "pump_screener",
        {
            "symbols": ["PEPE/USDT", "WIF/USDT", "BONK/USDT"],
            "timeframe": "1m",
            "window": 3,
            "price_change_percent": "0.01",
            "volume_change_percent": "1",
            "enter": True,
            "entry_amount": "50",
            "stop_loss_percent": "2",
        },
        {"max_open_positions": 3},
    )
    runner = w.runner()
    for _ in range(60):
        await w.step(runner)
    detections = await rows(w, PumpDetection, PumpDetection.bot_id == bot_id)
    assert detections, "low thresholds catch a move within 10 minutes"
    assert all(
        d.confidence in ("high", "medium", "low") and d.price_change >= D("0.01")
        for d in detections
    )
    per_candle = {(d.symbol, d.detected_at.replace(second=0)) for d in detections}
    assert len(per_candle) == len(detections)  # one detection per symbol and candle
    pump_notes = [n for n in await notes(w) if (n.metadata_ or {}).get("kind") == "PUMP_DETECTED"]
    assert len(pump_notes) == len(detections) and pump_notes[0].title.startswith("Pump detected")
    positions = await rows(w, Position, Position.bot_id == bot_id)
    assert positions and len({p.symbol for p in positions if p.status == "open"}) <= 3
    for p in positions:
        assert p.total_invested <= D("50")
        assert p.stop_loss in (D(0), (p.entry_price * D("0.98")))  # tight stop (0 once closed)
    assert any(e.signal == "BUY" for e in await executions(db, bot_id))


async def test_hold_cycles_write_no_trade_rows(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot(
        "grid", {"symbol": "BNB/USDT", "lower_price": "100", "upper_price": "101", "grid_count": 2}
    )
    runner = w.runner()
    for _ in range(3):
        await w.step(runner)
    assert await rows(w, Trade) == [] and len(await executions(db, bot_id)) == 3
    assert await rows(w, Execution, Execution.status == "error") == []
