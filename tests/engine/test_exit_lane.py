"""The exit lane (``core.engine.exit_lane``): batched exits on a thread of their own.

- The lane closes breached stops while the main event loop is blocked (it never runs between
  the hand-over and the commit), and writes the rows the one-by-one path writes.
- A started engine closes a breached stop through its lane, and stopping it ends the thread.
- What the lane can't reach from its thread (a venue the main loop never opened and whose price
  hub doesn't exist) comes back for the one-by-one path.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select

from core.db.models.trading import Position
from core.engine.exit_lane import ExitLane
from core.engine.venues import Markets
from core.market.hub import MarketHubs
from tests.engine.test_exit_batch import (
    breached,
    differences,
    entered,
    one_by_one_first,
    snapshot,
)
from tests.waiting import wait_until

STOPS: list[dict[str, Any]] = [
    {"stop_loss_percent": "2"},
    {"stop_loss_percent": "1", "take_profit_percent": "4"},
    {"stop_loss_percent": "2", "max_daily_loss": "5"},  # closes and pauses its bot
    {"stop_loss_percent": "3"},  # not breached at 98
]


async def test_the_lane_closes_stops_while_the_main_loop_is_blocked(db) -> None:  # type: ignore[no-untyped-def]
    w, one_by_one, runner, found = await one_by_one_first(db, STOPS, "98.00", 3)
    now = w.clock.now()
    lane = ExitLane(runner.ctx)
    await lane.start()
    try:
        handed = lane.submit(found, now)
        # This thread runs the main event loop: it is blocked here until the lane has committed.
        batch = handed.result(timeout=180)
    finally:
        await lane.stop()
    assert lane.loop is None and not lane.running

    assert (len(batch.done), batch.gone, batch.one_by_one) == (3, [], [])
    assert batch.committed is not None
    async with db.session() as s:
        together = await snapshot(s)
    for table in one_by_one:
        assert together[table] == one_by_one[table], differences(together, one_by_one, table)


async def test_a_started_engine_closes_stops_through_its_lane(db) -> None:  # type: ignore[no-untyped-def]
    w, _ids = await entered(db, STOPS[:1])
    runner = w.runner(price_poll_seconds=0.05, exit_lane=True)
    await runner.start()
    try:
        lane = runner.watcher.lane
        assert lane is not None and lane.running
        w.clock.advance(seconds=5)
        w.pin("BTC/USDT", "97")
        await wait_until(lambda: runner.watcher.exits == 1, what="the stop-loss close")
        assert runner.watcher.batches == 1 and len(runner.watcher.latencies_ms) == 1
    finally:
        await runner.stop()
    assert runner.watcher.lane is None and not lane.running
    assert not any(t.name == "engine-exit-lane" for t in threading.enumerate())
    async with db.session() as s:
        position = await s.scalar(select(Position))
    assert position is not None and position.close_reason == "STOP_LOSS"


async def test_what_the_lane_cannot_reach_goes_back_to_the_main_loop(db) -> None:  # type: ignore[no-untyped-def]
    w, _ids = await entered(db, STOPS[:1])
    runner = w.runner()
    found = await breached(w, runner, "97")
    # A context whose venues were never opened, on markets without the simulated hub: the lane
    # must not create a hub (or its stream) on its own thread.
    bare = w.runner()
    bare.ctx.markets = Markets(hubs=MarketHubs(), clock=w.clock)
    lane = ExitLane(bare.ctx)
    await lane.start()
    try:
        batch = await lane.close(found, w.clock.now())
    finally:
        await lane.stop()
    assert batch.done == [] and [w for w, _t in batch.one_by_one] == [found[0][0]]
    async with db.session() as s:
        assert (await s.scalar(select(Position.status))) == "open"
