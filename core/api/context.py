"""What the API's routes share: the database, the markets trading uses, the clock, the limiter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from core.api.ratelimit import RateLimiter
from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.engine.venues import Markets
from core.services.authconfig import AuthConfig
from core.services.trading import TradingContext


@dataclass
class ApiContext:
    db: Database
    markets: Markets
    clock: Clock = SYSTEM_CLOCK
    limiter: RateLimiter = field(default_factory=RateLimiter)
    trading: TradingContext = field(init=False)

    def __post_init__(self) -> None:
        self.trading = TradingContext(
            hubs=self.markets.hubs, exchanges=self.markets.exchanges, clock=self.clock
        )

    @property
    def auth(self) -> AuthConfig:
        return AuthConfig(clock=self.clock)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """For the services that work in the caller's transaction (bots, notifications...)."""
        async with self.db.sessions.begin() as session:
            yield session


def api_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.api
    return ctx
