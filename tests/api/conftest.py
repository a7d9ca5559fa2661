"""The REST API over real HTTP: uvicorn on a free port in the test's event loop, the real
database, users with API keys created through the Security screen's service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import update

from core.api.context import ApiContext
from core.api.ratelimit import RateLimiter
from core.api.server import bind, serve
from core.backtest.datasets import save_dataset
from core.clock import SYSTEM_CLOCK
from core.db.engine import Database
from core.db.models.users import ApiKey
from core.engine.venues import Markets
from core.services import api_keys, backtests, notifications, signals, trading
from core.services.actor import Actor
from core.services.backtests import BacktestRequest
from tests.service_users import add_user
from tests.strategies.helpers import random_walk

ALL_SCOPES = ("read", "bots", "trade", "signals")


@dataclass
class Api:
    base: str
    ctx: ApiContext

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.base + "/api/v1", headers=headers, timeout=60)


async def start_api(db: Database, limiter: RateLimiter | None = None) -> AsyncIterator[Api]:
    ctx = ApiContext(db, Markets.simulated(), limiter=limiter or RateLimiter(rate=1e6, burst=10**6))
    sock = bind("127.0.0.1", 0)
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(ctx, sock, stop=stop, on_ready=ready.set_result, grace=10))
    try:
        base = await asyncio.wait_for(ready, 60)
        yield Api(base, ctx)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    async for running in start_api(db):
        yield running


async def key_for(
    db: Database, actor: Actor, *scopes: str, name: str | None = None, expired: bool = False
) -> str:
    created = await api_keys.create_api_key(
        db, actor, name or f"{'-'.join(scopes)}{'-old' if expired else ''}", list(scopes), 1
    )
    if expired:
        async with db.sessions.begin() as s:
            await s.execute(
                update(ApiKey)
                .where(ApiKey.id == created.info.id)
                .values(expires_at=SYSTEM_CLOCK.now() - timedelta(minutes=1))
            )
    return created.key


@dataclass
class World:
    """One user's objects: a bot, a manual paper position, a resting order, a notification,
    a stored backtest (on a shared dataset), a webhook signal provider."""

    actor: Actor
    bot_id: str
    position_id: str
    order_id: str
    notification_id: str
    backtest_id: str
    dataset_id: str
    provider_id: str


async def dataset(db: Database) -> str:
    async with db.session() as s:
        info = await save_dataset(s, "BTC/USDT", "1h", random_walk(300, seed=3))
        await s.commit()
    return info.id


async def world(db: Database, email: str, dataset_id: str) -> World:
    from core.services import bots
    from core.services.bot_views import BotSpec

    actor = await add_user(db, email, timezone="Europe/Paris")
    ctx = trading.TradingContext.simulated(seed=5)
    try:
        async with db.sessions.begin() as s:
            bot = await bots.create_bot(
                s,
                actor,
                BotSpec(
                    name="Trend",
                    type="signal",
                    config={
                        "symbol": "BTC/USDT",
                        "timeframe": "1h",
                        "indicator": {"name": "sma_cross", "fast": 5, "slow": 12},
                    },
                    risk_settings={"stop_loss_percent": 2},
                ),
            )
        bought = await trading.place_order(
            db, actor, symbol="BTC/USDT", side="buy", quantity="0.01", ctx=ctx
        )
        resting = await trading.place_order(
            db,
            actor,
            symbol="ETH/USDT",
            side="buy",
            quantity="0.1",
            type="limit",
            price="1",
            ctx=ctx,
        )
    finally:
        await ctx.hubs.close()
    positions = await trading.list_positions(db, actor)
    (position,) = [p for p in positions.items if p.symbol == bought.symbol]
    async with db.session() as s:
        note = (await notifications.list_notifications(s, actor))[0]
        run = await backtests.run_backtest(
            s,
            actor,
            BacktestRequest(
                cash=Decimal(1000), fee=Decimal("0.001"), dataset_id=dataset_id, bot_id=bot.id
            ),
        )
    assert run.backtest_id is not None
    provider = await signals.create_provider(db, actor, name="desk", type="webhook")
    return World(
        actor,
        bot.id,
        position.id,
        resting.id,
        note.id,
        run.backtest_id,
        dataset_id,
        provider.info.id,
    )


@pytest.fixture
async def worlds(db: Database) -> tuple[World, World]:
    shared = await dataset(db)
    return await world(db, "alice@example.com", shared), await world(db, "bob@example.com", shared)
