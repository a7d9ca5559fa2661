"""Batched exits (``core.engine.exit_batch``): the positions one tick breaches, closed together.

- The same positions at the same tick, closed one by one (``apply_exit``) and together
  (``close_together``), write the same rows: positions, balances, orders, trades, executions,
  notifications, bots (every column but the ids the database draws at random and the database's
  own ``now()``).
- Two engines that see the same tick close each position once.
- A batch costs two statements (rows in, changes out), however many positions it closes.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect, select

from core.brokers.types import OrderRequest, OrderStatus, OrderType, Side
from core.db.models.bots import Bot, BotBalance, Execution
from core.db.models.notifications import Notification
from core.db.models.trading import Order, Position, Trade
from core.engine.exit_batch import close_together
from core.engine.exits import apply_exit
from core.engine.orders import submit
from core.engine.runner import EngineRunner
from core.engine.venues import PAPER_FEED
from tests.engine.support import START, World, world

BTC = "BTC/USDT"

RISKS: list[dict[str, Any]] = [
    {"stop_loss_percent": "2"},  # closes at 98
    {"stop_loss_percent": "1"},  # closes at 98 too (its stop is 99)
    {"stop_loss_percent": "2", "max_daily_loss": "5"},  # closes and pauses its bot
    {"trailing_stop": {"activation_percent": "5", "distance_percent": "1"}},  # not breached
    {"stop_loss_percent": "3"},  # not breached at 98
    {"stop_loss_percent": "2", "take_profit_percent": "4"},  # closes at 98
]


async def entered(db: Any, risks: list[dict[str, Any]]) -> tuple[World, list[str]]:
    """A bot per risk setting, each following one provider that says BUY at 100."""
    w = await world(db)
    provider = await w.provider()
    ids = [
        await w.bot(
            "signal",
            {"symbol": BTC, "timeframe": "1m", "source": "provider", "provider_id": provider},
            {"max_position_size": "1000", **risk},
            name=f"bot {i}",
        )
        for i, risk in enumerate(risks)
    ]
    w.pin(BTC, "100")
    await w.signal(provider, "BUY", at=START + timedelta(seconds=5))
    w.clock.advance(seconds=60)
    runner = w.runner()
    await runner.run_pass()
    async with db.session() as s:
        opened = (await s.scalars(select(Position).where(Position.status == "open"))).all()
    assert len(opened) == len(risks)
    return w, ids


async def breached(w: World, runner: EngineRunner, price: str, *, again: bool = False) -> list:
    if not again:
        w.clock.advance(seconds=5)
    w.pin(BTC, price)
    async with w.db.sessions() as s:
        await runner.watcher.load(s)
    ticker = await w.markets.paper_hub().ticker(BTC)
    return runner.watcher.breaches(PAPER_FEED, {BTC: ticker}, w.clock.now())


def _rows(objects: list[Any], drop: set[str], orders: dict[str, str]) -> list[str]:
    out = []
    for obj in objects:
        row = {}
        for attr in inspect(obj).mapper.column_attrs:
            name = attr.columns[0].name
            if name in drop:
                continue
            value = getattr(obj, attr.key)
            if name == "order_id" and value is not None:
                value = orders[value]  # an order's random id → its client order id (stable)
            row[name] = value
        out.append(repr(sorted(row.items())))
    return sorted(out)


async def snapshot(s: Any) -> dict[str, list[str]]:
    orders = (await s.scalars(select(Order).execution_options(populate_existing=True))).all()
    by_id = {o.id: o.client_order_id for o in orders}

    async def every(model: type) -> list[Any]:
        return list(
            (await s.scalars(select(model).execution_options(populate_existing=True))).all()
        )

    return {
        "positions": _rows(await every(Position), {"updated_at"}, by_id),
        "balances": _rows(await every(BotBalance), {"id", "updated_at"}, by_id),
        "orders": _rows(orders, {"id"}, by_id),
        "trades": _rows(await every(Trade), {"id"}, by_id),
        "executions": _rows(await every(Execution), {"id"}, by_id),
        # (updated_at: the database's now(), set on insert)
        "notifications": _rows(await every(Notification), {"id", "updated_at"}, by_id),
        "bots": _rows(await every(Bot), set(), by_id),
    }


def differences(a: dict[str, list[str]], b: dict[str, list[str]], table: str) -> str:
    only_a = set(a[table]) - set(b[table])
    only_b = set(b[table]) - set(a[table])
    parts = []
    for x, y in zip(sorted(only_a), sorted(only_b), strict=False):
        xs, ys = set(x[2:-2].split("), (")), set(y[2:-2].split("), ("))
        parts.append(f"together {sorted(xs - ys)} one by one {sorted(ys - xs)}")
    return f"{table}: " + "; ".join(parts)


async def one_by_one_first(
    db: Any, risks: list[dict[str, Any]], price: str, breaches: int
) -> tuple[World, dict[str, list[str]], EngineRunner, list]:
    """Positions entered with ``risks``; the rows the one-by-one path writes for those ``price``
    breaches (rolled back); then a fresh runner (nothing cached) and its breaches at ``price``."""
    w, _ids = await entered(db, risks)
    runner = w.runner()
    found = await breached(w, runner, price)
    assert len(found) == breaches
    now = w.clock.now()
    async with w.db.sessions() as s, s.begin():
        for watched, ticker in found:
            assert await apply_exit(runner.ctx, s, watched.position_id, ticker.last, now)
        rows = await snapshot(s)
        await s.rollback()
    runner = w.runner()
    return w, rows, runner, await breached(w, runner, price, again=True)


async def test_batched_exits_write_what_one_by_one_exits_write(db) -> None:  # type: ignore[no-untyped-def]
    # the two wider stops and the trailing stop stay inside their bands
    w, one_by_one, runner, found = await one_by_one_first(db, RISKS, "98.00", 4)
    now = w.clock.now()
    async with db.sessions() as s, s.begin():
        batch = await close_together(runner.ctx, s, found, now)
        together = await snapshot(s)
        await s.rollback()

    assert (len(batch.done), batch.gone, batch.one_by_one) == (4, [], [])
    sells = [t for t in together["trades"] if "'SELL'" in t]
    assert len(sells) == 4
    assert sum("'paused'" in b for b in together["bots"]) == 1  # the daily loss limit
    for table in one_by_one:
        assert together[table] == one_by_one[table], differences(together, one_by_one, table)


async def test_partial_take_profit_levels_match_one_by_one(db) -> None:  # type: ignore[no-untyped-def]
    risks = [
        {
            "stop_loss_percent": "2",
            "moon_bag_percent": "20",
            "take_profit_levels": [
                {"gain_percent": "2", "sell_percent": "50"},
                {"gain_percent": "4", "sell_percent": "30"},
            ],
        },
        {"take_profit_percent": "3"},
        {"trailing_stop": {"activation_percent": "1", "distance_percent": "2"}},  # ratchets only
    ]
    w, _ids = await entered(db, risks)
    runner = w.runner()
    found = await breached(w, runner, "104.00")
    now = w.clock.now()
    async with db.sessions() as s, s.begin():
        for watched, ticker in found:
            await apply_exit(runner.ctx, s, watched.position_id, ticker.last, now)
        one_by_one = await snapshot(s)
        await s.rollback()
    runner = w.runner()
    found = await breached(w, runner, "104.00", again=True)
    async with db.sessions() as s, s.begin():
        await close_together(runner.ctx, s, found, now)
        together = await snapshot(s)
        await s.rollback()
    assert sum("'closed'" in p for p in together["positions"]) == 1
    assert sum("'TAKE_PROFIT_HIT'" in n for n in together["notifications"]) >= 3
    for table in one_by_one:
        assert together[table] == one_by_one[table], differences(together, one_by_one, table)


async def test_two_engines_on_the_same_tick_close_each_position_once(db) -> None:  # type: ignore[no-untyped-def]
    risks = [{"stop_loss_percent": "2"}] * 6
    w, _ids = await entered(db, risks)
    first, second = w.runner(), w.runner()
    w.clock.advance(seconds=5)
    w.pin(BTC, "97")
    for runner in (first, second):
        async with db.sessions() as s:
            await runner.watcher.load(s)
    ticker = await w.markets.paper_hub().ticker(BTC)
    now = w.clock.now()
    await asyncio.gather(
        *(
            r.watcher.handle_all(r.watcher.breaches(PAPER_FEED, {BTC: ticker}, now), now)
            for r in (first, second)
        )
    )
    assert first.watcher.exits + second.watcher.exits == 6
    async with db.session() as s:
        sells = (await s.scalars(select(Trade.position_id).where(Trade.side == "SELL"))).all()
        executions = (
            await s.scalars(
                select(Execution.execution_id).where(Execution.execution_id.contains("-exit-"))
            )
        ).all()
        still_open = (await s.scalars(select(Position.id).where(Position.status == "open"))).all()
    assert len(sells) == len(set(sells)) == 6
    assert len(executions) == 6 and still_open == []


def counting(db: Any) -> tuple[list[str], Any]:
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    return seen, before


async def test_a_batch_costs_a_few_statements_however_many_it_closes(db) -> None:  # type: ignore[no-untyped-def]
    w, _ids = await entered(db, [{"stop_loss_percent": "2"}] * 8)
    runner = w.runner()
    found = await breached(w, runner, "97")
    now = w.clock.now()
    async with db.sessions() as s:  # venues and pairs are cached by the cycles in an engine
        for watched, _t in found:
            venue = await runner.ctx.venue(s, watched.bot_id, w.actor.user_id, True)
            await venue.pair(s, BTC)
    seen, listener = counting(db)
    try:
        async with db.sessions() as s, s.begin():
            for watched, ticker in found[:1]:
                await apply_exit(runner.ctx, s, watched.position_id, ticker.last, now)
            single = len(seen)
            await s.rollback()
        seen.clear()
        async with db.sessions() as s, s.begin():
            batch = await close_together(runner.ctx, s, found, now)
            together = len(seen)
            await s.rollback()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
    assert len(batch.done) == 8
    assert together == 2, seen  # the rows, locked; everything written
    assert together < single * 8 / 10
    print(f"one exit alone: {single} statements; 8 exits together: {together}")


async def test_a_batch_cancels_the_resting_orders_of_a_position_it_closes(db) -> None:  # type: ignore[no-untyped-def]
    """A resting stop order on the pair of a position the batch closes is cancelled as an
    orphan, with the row the one-by-one path writes."""
    w, ids = await entered(db, [{"stop_loss_percent": "2"}])
    runner = w.runner()
    async with db.sessions.begin() as s:
        bot = await s.get(Bot, ids[0])
        assert bot is not None
        venue = await runner.ctx.venue(s, ids[0], bot.user_id, True)
        resting = await submit(
            s,
            runner.ctx.desk,
            venue,
            OrderRequest(
                BTC, Side.SELL, OrderType.STOP_LOSS, Decimal("0.0001"), stop_price=Decimal("50")
            ),
        )
    assert resting.status is OrderStatus.OPEN
    found = await breached(w, runner, "98.00")
    now = w.clock.now()
    async with w.db.sessions() as s, s.begin():
        (watched, ticker) = found[0]
        assert await apply_exit(runner.ctx, s, watched.position_id, ticker.last, now)
        one_by_one = await snapshot(s)
        await s.rollback()
    runner = w.runner()
    found = await breached(w, runner, "98.00", again=True)
    async with db.sessions() as s, s.begin():
        batch = await close_together(runner.ctx, s, found, now)
        together = await snapshot(s)
        await s.rollback()
    assert len(batch.done) == 1 and batch.one_by_one == []
    assert any("Cancelled: the position was closed." in o for o in together["orders"])
    for table in one_by_one:
        assert together[table] == one_by_one[table], differences(together, one_by_one, table)
