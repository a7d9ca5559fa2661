"""The exit watcher's reload reads only what changed (``core/engine/exit_reload.py``), yet every
change another process makes is seen within ``watch_refresh_seconds``: a position opened or
closed elsewhere, a bot paused or stopped, a changed risk setting. Two runners share the
database as two engine processes would: ``other`` cycles the bots and closes positions,
``watcher`` only watches (``check_exits``, as the exits process does on every poll)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from core.db.models.trading import Position
from core.engine.exits import Watched
from core.engine.runner import EngineRunner
from core.engine.venues import PAPER_FEED
from core.services import bots as service
from core.services.bot_views import BotUpdate
from tests.engine.support import World, world

BTC = "BTC/USDT"
REFRESH = 2.0


@dataclass
class Two:
    w: World
    other: EngineRunner
    watcher: EngineRunner
    provider: str

    async def bot(self, name: str, stop: str = "2") -> str:
        return await self.w.bot(
            "signal",
            {"symbol": BTC, "timeframe": "1m", "source": "provider", "provider_id": self.provider},
            {"max_position_size": "1000", "stop_loss_percent": stop},
            name=name,
        )

    async def buy(self) -> None:
        """The provider says BUY; ``other`` cycles its bots (they enter at 100)."""
        self.w.pin(BTC, "100")
        await self.w.signal(self.provider, "BUY", at=self.w.clock.now())
        self.w.clock.advance(seconds=60)  # the candle closed: its signals are acted on
        await self.other.run_pass()

    async def refreshed(self) -> int:
        """One refresh period later, the watcher's next poll (which reloads first)."""
        self.w.clock.advance(seconds=REFRESH)
        await self.watcher.check_exits()
        return self.watcher.watcher.reloaded_rows

    def stops(self) -> dict[str, Decimal | None]:
        """Each watched bot's band: its lower edge (the stop)."""
        return {w.bot_id: w.lower for w in self._bands()}

    def targets(self) -> dict[str, Decimal | None]:
        """Each watched bot's band: its upper edge (the take-profit, if any)."""
        return {w.bot_id: w.upper for w in self._bands()}

    def _bands(self) -> list[Watched]:
        return list(self.watcher.watcher.by_symbol.get((PAPER_FEED, BTC), {}).values())


async def two(db) -> Two:  # type: ignore[no-untyped-def]
    w = await world(db, watch_refresh_seconds=REFRESH)
    provider = await w.provider()
    return Two(w, w.runner(), w.runner(), provider)


async def open_positions(w: World, bot_id: str) -> list[Position]:
    async with w.db.session() as s:
        rows = await s.scalars(
            select(Position).where(Position.bot_id == bot_id, Position.status == "open")
        )
        return list(rows)


async def test_a_position_another_process_opens_is_watched_and_closed_within_the_period(
    db,  # type: ignore[no-untyped-def]
) -> None:
    t = await two(db)
    bot = await t.bot("holder")
    await t.watcher.check_exits()  # nothing open yet
    assert t.stops() == {}
    await t.buy()
    assert len(await open_positions(t.w, bot)) == 1
    assert await t.refreshed() == 1  # the new position, and only it
    assert t.stops() == {bot: Decimal("98")}
    t.w.pin(BTC, "97")
    t.w.clock.advance(seconds=1)
    await t.watcher.check_exits()  # the watcher, not the process that opened it, closes it
    assert await open_positions(t.w, bot) == []
    assert t.watcher.watcher.exits == 1


async def test_a_reload_with_nothing_changed_reads_no_row_and_marks_are_no_change(
    db,  # type: ignore[no-untyped-def]
) -> None:
    t = await two(db)
    bots = [await t.bot(f"holder {i}") for i in range(3)]
    await t.buy()
    assert await t.refreshed() == 3
    before = t.stops()
    assert await t.refreshed() == 0
    assert await t.other.mark_positions() == 3  # every engine revalues them every few seconds
    assert await t.refreshed() == 0  # the price and P&L columns are no part of a band
    assert t.stops() == before and set(before) == set(bots)


async def test_a_position_closed_elsewhere_leaves_the_bands_within_the_period(
    db,  # type: ignore[no-untyped-def]
) -> None:
    t = await two(db)
    kept, closed = await t.bot("kept", stop="5"), await t.bot("closed", stop="2")
    await t.buy()
    await t.refreshed()
    assert set(t.stops()) == {kept, closed}
    t.w.pin(BTC, "97")  # under the 2 % stop only
    await t.other.check_exits()  # the other process closes it
    assert await open_positions(t.w, closed) == []
    assert await t.refreshed() == 0  # gone: nothing to read, only dropped
    assert t.stops() == {kept: Decimal("95")}
    assert closed not in t.watcher.watcher.by_bot


async def test_a_paused_bot_stays_watched_and_a_stopped_one_is_dropped(
    db,  # type: ignore[no-untyped-def]
) -> None:
    t = await two(db)
    paused, stopped = await t.bot("paused"), await t.bot("stopped")
    await t.buy()
    await t.refreshed()
    async with t.w.db.sessions.begin() as s:
        await service.pause_bot(s, t.w.actor, paused, clock=t.w.clock)
    assert await t.refreshed() == 1  # the bot row changed; its position is read again
    assert set(t.stops()) == {paused, stopped}  # the exit rules keep protecting it
    async with t.w.db.sessions.begin() as s:
        await service.stop_bot(s, t.w.actor, stopped, clock=t.w.clock)
    await t.refreshed()
    assert set(t.stops()) == {paused}
    assert len(await open_positions(t.w, stopped)) == 1  # left open, no longer guarded
    t.w.pin(BTC, "97")
    t.w.clock.advance(seconds=1)
    await t.watcher.check_exits()
    assert await open_positions(t.w, paused) == []
    assert len(await open_positions(t.w, stopped)) == 1


async def test_a_new_take_profit_is_watched_within_the_period(
    db,  # type: ignore[no-untyped-def]
) -> None:
    t = await two(db)
    bot = await t.bot("holder", stop="2")
    await t.buy()
    await t.refreshed()
    assert t.targets() == {bot: None}
    t.w.clock.advance(seconds=1)  # a new updated_at
    async with t.w.db.sessions.begin() as s:
        await service.update_bot(
            s,
            t.w.actor,
            bot,
            BotUpdate(
                risk_settings={
                    "max_position_size": "1000",
                    "stop_loss_percent": "2",
                    "take_profit_percent": "5",
                }
            ),
            clock=t.w.clock,
        )
    assert await t.refreshed() == 1
    assert t.targets() == {bot: Decimal("105")}
    t.w.pin(BTC, "106")
    t.w.clock.advance(seconds=1)
    await t.watcher.check_exits()
    assert await open_positions(t.w, bot) == []
    async with t.w.db.session() as s:
        reason = await s.scalar(select(Position.close_reason).where(Position.bot_id == bot))
    assert reason == "TAKE_PROFIT"


async def test_every_position_is_read_afresh_every_full_reload_period(
    db,  # type: ignore[no-untyped-def]
) -> None:
    t = await two(db)
    for i in range(2):
        await t.bot(f"holder {i}")
    await t.buy()
    assert await t.refreshed() == 2
    assert await t.refreshed() == 0
    full = t.watcher.settings.watch_full_reload_seconds
    t.w.clock.advance(seconds=full)
    assert await t.refreshed() == 2
    assert await t.refreshed() == 0


async def test_a_position_skipped_as_another_process_had_it_is_read_again(
    db,  # type: ignore[no-untyped-def]
) -> None:
    t = await two(db)
    bot = await t.bot("holder")
    await t.buy()
    await t.refreshed()
    (band,) = t.watcher.watcher.by_symbol[(PAPER_FEED, BTC)].values()
    t.watcher.watcher.drop(band)  # what a batch does when another process holds the position
    assert t.stops() == {}
    assert await t.refreshed() == 1  # still open: read again and watched again
    assert t.stops() == {bot: Decimal("98")}
