"""Shared set-up for the engine tests: a frozen clock, the simulated market (with prices a test
can pin), users, bots started through the service, and an engine runner to drive cycles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from core.brokers.paper import SlippageModel
from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Execution
from core.db.models.signals import Signal, SignalProvider
from core.engine.runner import EngineRunner
from core.engine.settings import EngineSettings
from core.engine.venues import Markets
from core.market.hub import MarketHubs, PriceHub
from core.market.simulated import SimulatedMarket
from core.market.types import Candle, MarketInfo, Ticker, Timeframe
from core.services import bots as service
from core.services.actor import Actor
from core.services.bot_views import BotSpec
from tests.service_users import add_user

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SEED = 7


@dataclass
class PinnedMarket:
    """The simulated market, except for the symbols whose price a test pins (bid = ask = last)."""

    base: SimulatedMarket
    pinned: dict[str, Decimal] = field(default_factory=dict)
    name: str = "simulated"
    api_url: str = "simulated://local"

    async def markets(self) -> list[MarketInfo]:
        return await self.base.markets()

    async def ticker(self, symbol: str) -> Ticker:
        ticker = await self.base.ticker(symbol)
        price = self.pinned.get(symbol)
        if price is None:
            return ticker
        return replace(ticker, last=price, bid=price, ask=price)

    async def tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        return {s: await self.ticker(s) for s in symbols}

    async def ohlcv(
        self, symbol: str, timeframe: Timeframe, *, since=None, limit: int = 100
    ) -> list[Candle]:  # type: ignore[no-untyped-def]
        return await self.base.ohlcv(symbol, timeframe, since=since, limit=limit)

    async def close(self) -> None:
        return None


@dataclass
class World:
    db: Database
    clock: FrozenClock
    actor: Actor
    market: PinnedMarket
    markets: Markets
    settings: EngineSettings

    def runner(self, **overrides: Any) -> EngineRunner:
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        return EngineRunner(self.db, settings=settings, markets=self.markets, clock=self.clock)

    def pin(self, symbol: str, price: str | Decimal) -> None:
        self.market.pinned[symbol] = Decimal(price)

    async def bot(
        self, bot_type: str, config: dict[str, Any], risk: dict[str, Any] | None = None, **spec: Any
    ) -> str:
        async with self.db.sessions.begin() as s:
            view = await service.create_bot(
                s,
                self.actor,
                BotSpec(
                    name=spec.pop("name", bot_type),
                    type=bot_type,
                    config=config,
                    risk_settings=risk or {},
                    **spec,
                ),
                clock=self.clock,
            )
            await service.start_bot(s, self.actor, view.id, clock=self.clock)
        return view.id

    async def provider(self) -> str:
        async with self.db.sessions.begin() as s:
            row = SignalProvider(
                user_id=self.actor.user_id, name="Alerts", type="webhook", config={}
            )
            s.add(row)
            await s.flush()
            return row.id

    async def signal(
        self,
        provider_id: str,
        action: str,
        *,
        at: datetime,
        symbol: str = "BTC/USDT",
        confidence: str | None = "80",
        reason: str = "test signal",
    ) -> str:
        async with self.db.sessions.begin() as s:
            row = Signal(
                provider_id=provider_id,
                symbol=symbol,
                action=action,
                confidence=None if confidence is None else Decimal(confidence),
                reason=reason,
                processed=False,
                created_at=at,
            )
            s.add(row)
            await s.flush()
            return row.id

    async def step(self, runner: EngineRunner, seconds: float = 10) -> None:
        """One scheduler pass and one exit check at the current time, then time moves on."""
        await runner.run_pass()
        await runner.check_exits()
        self.clock.advance(seconds=seconds)


async def world(db: Database, *, email: str = "trader@example.com", **settings: Any) -> World:
    clock = FrozenClock(START)
    market = PinnedMarket(SimulatedMarket(seed=SEED, clock=clock))
    hubs = MarketHubs()
    hubs.add(PriceHub(market, clock=clock, max_age=timedelta(0)))
    markets = Markets(hubs=hubs, clock=clock, slippage=SlippageModel(impact=Decimal(0)))
    actor = await add_user(db, email, plan="enterprise")  # no plan limit on bots or live trading
    defaults = {"cycle_seconds": 10, "deliver_notifications": False, "max_failures": 3}
    return World(db, clock, actor, market, markets, EngineSettings(**(defaults | settings)))


async def executions(db: Database, bot_id: str) -> list[Execution]:
    async with db.session() as s:
        return list(
            await s.scalars(
                select(Execution)
                .where(Execution.bot_id == bot_id)
                .order_by(Execution.timestamp, Execution.id)
            )
        )


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)
