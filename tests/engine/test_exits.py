"""Each exit rule at its boundary, through the engine's path: a provider bot enters at a pinned
price, the price is pinned at and just short of the rule's level, and the exit watcher (on a
price update, not a cycle) acts or doesn't. The exit state lives in the position row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import select

from core.db.models.bots import Bot, Execution
from core.db.models.notifications import Notification
from core.db.models.trading import Position, Trade
from core.engine.runner import EngineRunner
from core.events import bus
from tests.engine.support import START, World, world

BTC = "BTC/USDT"


@dataclass
class Trader:
    """A provider bot that bought BTC at a pinned price, and the engine driving it."""

    w: World
    runner: EngineRunner
    bot_id: str
    provider_id: str

    async def position(self) -> Position:
        async with self.w.db.session() as s:
            row = await s.scalar(
                select(Position)
                .where(Position.bot_id == self.bot_id)
                .order_by(Position.created_at.desc())
            )
        assert row is not None
        return row

    async def tick(self, price: str, seconds: float = 5) -> Position:
        """A price update (no cycle): the exit watcher alone decides."""
        self.w.clock.advance(seconds=seconds)
        self.w.pin(BTC, price)
        await self.runner.check_exits()
        return await self.position()

    async def executions(self) -> list[Execution]:
        async with self.w.db.session() as s:
            return list(
                await s.scalars(
                    select(Execution)
                    .where(Execution.bot_id == self.bot_id)
                    .order_by(Execution.timestamp)
                )
            )

    async def positions(self) -> int:
        async with self.w.db.session() as s:
            return len(
                (await s.scalars(select(Position.id).where(Position.bot_id == self.bot_id))).all()
            )


async def enter(db, risk: dict, *, price: str = "100") -> Trader:  # type: ignore[no-untyped-def]
    """A provider bot buys BTC at ``price``, spending at most 1000."""
    w = await world(db)
    provider = await w.provider()
    bot_id = await w.bot(
        "signal",
        {"symbol": BTC, "timeframe": "1m", "source": "provider", "provider_id": provider},
        {"max_position_size": "1000", **risk},
    )
    w.pin(BTC, price)
    await w.signal(provider, "BUY", at=START + timedelta(seconds=5))
    trader = Trader(w, w.runner(), bot_id, provider)
    w.clock.advance(seconds=60)  # the 12:00 candle has closed: its signals are acted on
    await trader.runner.run_pass()
    assert (await trader.position()).entry_price == D(price)
    return trader


async def exit_rows(w: World) -> tuple[list[Execution], list[str]]:
    async with w.db.session() as s:
        rows = list(
            await s.scalars(
                select(Execution)
                .where(Execution.execution_id.contains("-exit-"))
                .order_by(Execution.timestamp)
            )
        )
        notes = list(
            await s.scalars(
                select(Notification.type)
                .where(Notification.channel == "IN_APP")
                .order_by(Notification.created_at, Notification.id)
            )
        )
    return rows, [n.value for n in notes]


async def test_fixed_stop_loss_at_its_level_not_a_tick_above(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(db, {"stop_loss_percent": "2"})
    position = await t.tick("98.01")
    assert (position.status, position.stop_loss) == ("open", D("98"))
    events = bus.subscribe(user_id=t.w.actor.user_id, kinds={"trade", "position", "notification"})
    try:
        position = await t.tick("98.00")
        heard = [events.queue.get_nowait() for _ in range(events.queue.qsize())]
    finally:
        events.close()
    assert {
        (e.kind, e.data.get("side") or e.data.get("status") or e.data.get("type")) for e in heard
    } == {
        ("trade", "SELL"),
        ("position", "closed"),
        ("notification", "STOP_LOSS_HIT"),
    }
    assert (position.status, position.close_reason, position.exit_price) == (
        "closed",
        "STOP_LOSS",
        D("98.00"),
    )
    rows, notes = await exit_rows(t.w)
    assert [(r.signal, r.indicators["rule"]) for r in rows] == [("SELL", "STOP_LOSS")]
    assert notes[-1] == "STOP_LOSS_HIT"
    async with t.w.db.session() as s:
        sells = (await s.scalars(select(Trade).where(Trade.side == "SELL"))).all()
    assert len(sells) == 1 and sells[0].executed_price == D("98.00")


async def test_take_profit_at_its_level(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(db, {"take_profit_percent": "3"})
    assert (await t.tick("102.99")).status == "open"
    position = await t.tick("103.00")
    assert (position.status, position.close_reason) == ("closed", "TAKE_PROFIT")
    _rows, notes = await exit_rows(t.w)
    assert notes[-1] == "TAKE_PROFIT_HIT"


async def test_trailing_stop_activates_ratchets_and_exits(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(db, {"trailing_stop": {"activation_percent": "5", "distance_percent": "2"}})
    position = await t.tick("104.99")
    assert (position.peak_price, position.stop_loss) == (D("104.99"), 0)  # not active yet
    position = await t.tick("105.00")
    assert position.stop_loss == D("102.9")  # 105 × 0.98, from the next tick on
    assert position.last_stop_loss_update == t.w.clock.now()
    position = await t.tick("104.00")
    assert position.stop_loss == D("102.9")  # a lower price never lowers the stop
    assert (await t.tick("102.91")).status == "open"
    position = await t.tick("102.90")
    assert (position.status, position.close_reason) == ("closed", "STOP_LOSS")
    rows, _notes = await exit_rows(t.w)
    assert rows[-1].indicators["rule"] == "TRAILING_STOP"


async def test_zone_stop_locks_part_of_the_peak_gain(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(db, {"stop_loss_percent": "5", "stop_loss_mode": "zones"})
    position = await t.tick("109.99")
    assert position.stop_loss == D("95")
    position = await t.tick("110.00")  # zone 10% → keep 50% of the peak gain
    assert position.stop_loss == D("105")
    assert position.current_stop_loss_percent == D("5")
    assert (await t.tick("105.01")).status == "open"
    position = await t.tick("105.00")
    assert position.status == "closed"
    rows, _ = await exit_rows(t.w)
    assert rows[-1].indicators["rule"] == "TRAILING_STOP"


async def test_custom_trailing_levels_step_the_stop_up(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(
        db,
        {
            "stop_loss_percent": "2",
            "stop_loss_mode": "custom",
            "trailing_levels": [{"gain_percent": "4", "stop_percent": "1"}],
        },
    )
    assert (await t.tick("103.99")).stop_loss == D("98")
    assert (await t.tick("104.00")).stop_loss == D("101")
    assert (await t.tick("101.01")).status == "open"
    assert (await t.tick("101.00")).status == "closed"


async def test_take_profit_levels_sell_parts_and_keep_the_moon_bag(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(
        db,
        {
            "stop_loss_percent": "2",
            "moon_bag_percent": "20",
            "take_profit_levels": [
                {"gain_percent": "2", "sell_percent": "50"},
                {"gain_percent": "4", "sell_percent": "30"},
            ],
        },
    )
    bought = (await t.position()).quantity
    assert (await t.tick("101.99")).remaining_quantity == bought
    position = await t.tick("102.00")
    assert (position.status, position.take_profit_levels_hit) == ("open", 1)
    assert position.remaining_quantity == bought - (bought * D("0.5")).quantize(
        D("0.00001"), "ROUND_DOWN"
    )
    assert position.take_profit == D("104")
    position = await t.tick("104.00")
    assert (position.take_profit_levels_hit, position.moon_bag_activated) == (2, True)
    moon = position.remaining_quantity
    assert moon == bought - (bought * D("0.5")).quantize(D("0.00001"), "ROUND_DOWN") - (
        bought * D("0.3")
    ).quantize(D("0.00001"), "ROUND_DOWN")
    assert (await t.tick("120.00")).status == "open"  # no more targets: the bag rides
    position = await t.tick("98.00")  # the stop takes the moon bag
    assert (position.status, position.close_reason) == ("closed", "STOP_LOSS")
    _rows, notes = await exit_rows(t.w)
    assert notes.count("TAKE_PROFIT_HIT") == 2 and notes[-1] == "STOP_LOSS_HIT"


async def test_stale_trade_exits_at_its_deadline_inside_its_band(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(
        db,
        {"stale_trade": {"after_minutes": 30, "min_gain_percent": "-1", "max_gain_percent": "1"}},
    )
    async with t.w.db.session() as s:
        opened = await s.scalar(select(Position.created_at))
    t.w.clock.current = opened + timedelta(minutes=30, seconds=-1)
    assert (await t.tick("100.50", seconds=0)).status == "open"
    t.w.clock.current = opened + timedelta(minutes=30)
    assert (await t.tick("101.50", seconds=0)).status == "open"  # outside the band
    position = await t.tick("100.50", seconds=0)
    assert (position.status, position.close_reason) == ("closed", "SIGNAL")
    rows, _ = await exit_rows(t.w)
    assert rows[-1].indicators["rule"] == "STALE_TRADE"


async def test_exit_state_survives_a_new_engine(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(db, {"trailing_stop": {"activation_percent": "0", "distance_percent": "5"}})
    await t.tick("110.00")
    t.runner = t.w.runner()  # a restarted process: nothing in memory
    position = await t.tick("104.51")
    assert (position.status, position.stop_loss, position.peak_price) == (
        "open",
        D("104.5"),
        D("110.00"),
    )
    assert (await t.tick("104.50")).status == "closed"


async def test_daily_loss_limit_pauses_the_bot_and_notifies(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(
        db, {"stop_loss_percent": "2", "max_daily_loss": "5", "cooldown_after_loss_minutes": 10}
    )
    await t.tick("98.00")  # a loss of about 20 + fees: over the limit of 5
    async with t.w.db.session() as s:
        bot = await s.get(Bot, t.bot_id)
        notes = (
            await s.execute(
                select(Notification.type, Notification.title, Notification.priority)
                .where(Notification.channel == "IN_APP")
                .order_by(Notification.created_at.desc())
            )
        ).all()
    assert bot.status == "paused"
    paused = [(t.value, p.value) for t, title, p in notes if "daily loss limit" in title]
    assert paused == [("BOT_STOPPED", "HIGH")]
    assert (await t.position()).status == "closed"


async def test_cooldown_after_a_loss_blocks_the_next_entry(db) -> None:  # type: ignore[no-untyped-def]
    t = await enter(db, {"stop_loss_percent": "2", "cooldown_after_loss_minutes": 10})
    await t.tick("98.00")  # a losing exit at 12:01:05
    t.w.pin(BTC, "100")
    t.w.clock.current = START + timedelta(minutes=3, seconds=5)
    await t.w.signal(t.provider_id, "BUY", at=t.w.clock.now())
    t.w.clock.current = START + timedelta(minutes=4, seconds=1)
    await t.runner.run_pass()
    assert "cooling down after a loss" in (await t.executions())[-1].reason
    assert await t.positions() == 1
    t.w.clock.current = START + timedelta(minutes=14, seconds=5)  # the cooldown is over
    await t.w.signal(t.provider_id, "BUY", at=t.w.clock.now())
    t.w.clock.current = START + timedelta(minutes=15, seconds=1)
    await t.runner.run_pass()
    assert await t.positions() == 2
