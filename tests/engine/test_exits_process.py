"""A real ``blockbotx engine --exits-only`` process next to a cycling engine: it closes a breached
stop, leases nothing, isn't taken for a cycling engine, and stops cleanly on SIGTERM.

The cycling engine runs in this process on a market whose BTC price is pinned far above the
stop, so only the exits-only process (on the simulated market, which the test reads too) sees
the breach: the close can only be its own."""

from __future__ import annotations

import signal
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.brokers.paper import SlippageModel
from core.brokers.types import Side, new_client_order_id
from core.clock import SYSTEM_CLOCK
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.engine import EngineProcess
from core.db.models.trading import Position
from core.engine.exit_state import start_state
from core.engine.orders import market, submit
from core.engine.runner import EngineRunner
from core.engine.settings import EngineSettings
from core.engine.venues import Markets
from core.market.hub import MarketHubs, PriceHub
from core.market.simulated import SimulatedMarket
from core.services import bots as service
from core.services.bot_views import BotSpec
from core.strategies.registry import validate_risk_settings
from tests.engine.processes import slots_by_bot, spawn, wait_for
from tests.engine.support import PinnedMarket
from tests.service_users import add_user

pytestmark = pytest.mark.slow  # a real engine process

BTC = "BTC/USDT"


async def _bots(db: Database) -> tuple[str, list[str]]:
    """A holder bot (its position's stop is set below) and three cycling ETH bots."""
    actor = await add_user(db, "exits@example.com", plan="enterprise")
    specs = [
        BotSpec("holder", "signal", {"symbol": BTC, "timeframe": "1h"}, {"stop_loss_percent": "50"})
    ] + [
        BotSpec(f"cycler {i}", "signal", {"symbol": "ETH/USDT", "timeframe": "1m"})
        for i in range(3)
    ]
    ids = []
    async with db.sessions.begin() as s:
        for spec in specs:
            view = await service.create_bot(s, actor, spec)
            await service.start_bot(s, actor, view.id)
            ids.append(view.id)
    return ids[0], ids[1:]


async def _position(db: Database, holder: str) -> Position:
    async with db.session() as s:
        row = await s.scalar(select(Position).where(Position.bot_id == holder))
    assert row is not None
    return row


async def test_exits_only_process_closes_a_breached_stop_and_leases_nothing(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    real = (await SimulatedMarket(clock=SYSTEM_CLOCK).ticker(BTC)).last
    high = (real * 3).quantize(Decimal("0.01"))  # the cycling engine's BTC: its stop at 1.5x
    pinned = PinnedMarket(SimulatedMarket(clock=SYSTEM_CLOCK), {BTC: high})
    hubs = MarketHubs()
    hubs.add(PriceHub(pinned))
    markets = Markets(hubs=hubs, slippage=SlippageModel(impact=Decimal(0)))
    cycling = EngineRunner(
        db,
        settings=EngineSettings(
            cycle_seconds=1,
            price_poll_seconds=0.2,
            heartbeat_seconds=0.5,
            housekeeping_seconds=3600,
            deliver_notifications=False,
        ),
        markets=markets,
    )
    holder, cyclers = await _bots(db)
    async with db.sessions.begin() as s:
        bot = await s.get(Bot, holder)
        assert bot is not None
        venue = await cycling.ctx.venue(s, holder, bot.user_id, True)
        done = await submit(
            s,
            cycling.ctx.desk,
            venue,
            market(BTC, Side.BUY, Decimal("0.001"), new_client_order_id()),
        )
        position = await s.get(Position, done.fills[-1].position_id)
        assert position is not None
        start_state(position, validate_risk_settings({"stop_loss_percent": "50"}))
        await s.execute(update(Bot).where(Bot.id == holder).values(status="paused"))
    assert (await _position(db, holder)).stop_loss > real  # breached at the simulated price

    await cycling.start()
    exits = spawn(migrated_url, tmp_path / "exits.log", "--exits-only")
    try:

        async def cycled() -> bool:
            return set(cyclers) <= set(await slots_by_bot(db))

        await wait_for(cycled, 120, "the cycling engine to run its bots")

        async def closed() -> bool:
            return (await _position(db, holder)).status == "closed"

        await wait_for(closed, 120, "the exits-only process to close the breached stop")
        position = await _position(db, holder)
        assert position.close_reason == "STOP_LOSS"
        assert position.exit_price is not None and position.exit_price < high / 2
        async with db.session() as s:
            owners = set((await s.scalars(select(Bot.lease_owner).distinct())).all())
            registered = set((await s.scalars(select(EngineProcess.id))).all())
        assert owners <= {cycling.process_id, None}  # the exits-only process leased nothing
        assert registered == {cycling.process_id}  # and a dashboard won't take it for an engine
        exits.signal(signal.SIGTERM)
        code = exits.wait(60)
    finally:
        if exits.process.poll() is None:
            exits.process.kill()
        await cycling.stop()
    assert code == 0, exits.output()
    assert "running (exits only)" in exits.output()
    assert "Engine stopped." in exits.output()
