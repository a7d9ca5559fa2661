"""Seeded, signed-in dashboards for Pilot and snapshot tests.

Data is made through the same services the app uses — manual paper orders on the simulated
market at chosen moments of a frozen clock, portfolio snapshots along the way — so the figures
on screen are the ledger's own. The app gets a frozen clock at ``NOW`` and a remembered session,
so it opens signed in on the overview, identically on every run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text, update
from textual.pilot import Pilot
from textual.widgets import Input

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.users import User
from core.ledger.book import Ledger
from core.services import accounts, trading
from core.services.actor import Actor
from core.services.authconfig import AuthConfig
from tests.saved_rows import seeded_once
from tests.tui.auth_helpers import DEVICE, PASSWORD, make_app, make_auth, settle
from tui.app import BlockbotXApp

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WIDE = (120, 40)
SMALL = (80, 24)


@dataclass
class Seeded:
    auth: AuthConfig
    actor: Actor
    refresh_token: str
    extra: dict[str, Any]


async def seed_user(
    db: Database, auth: AuthConfig, email: str = "trader@example.com", *, role: str | None = None
) -> tuple[Actor, str]:
    """Register and sign in; returns the actor and a refresh token to resume with."""
    await accounts.register(db, email=email, password=PASSWORD, device=DEVICE, auth=auth)
    if role is not None:
        async with db.sessions.begin() as session:
            await session.execute(update(User).where(User.email == email).values(role=role))
    step = await accounts.login(db, email=email, password=PASSWORD, device=DEVICE, auth=auth)
    return step.session.actor, step.session.refresh_token


async def seed_manual_trading(db: Database, actor: Actor, clock: FrozenClock) -> None:
    """Three days of manual paper trading ending at ``NOW``: round trips with P&L, two positions
    left open, and the positions marked and the portfolio snapshotted every hour."""
    ctx = trading.TradingContext.simulated(clock=clock)
    start = clock.current
    plan = [
        (timedelta(hours=2), "BTC/USDT", "buy", "0.05"),
        (timedelta(hours=9), "ETH/USDT", "buy", "1.2"),
        (timedelta(hours=20), "BTC/USDT", "sell", "0.05"),
        (timedelta(hours=30), "SOL/USDT", "buy", "15"),
        (timedelta(hours=41), "ETH/USDT", "sell", "1.2"),
        (timedelta(hours=50), "BNB/USDT", "buy", "2"),
        (timedelta(hours=66), "ETH/USDT", "buy", "0.8"),
    ]
    step = timedelta(hours=1)
    moment = start + plan[0][0]  # the wallet exists from the first order on

    async def snapshot() -> None:  # mark to market as the engine would, then record the value
        market = ctx.hub("simulated").feed
        symbols = [s.symbol for s in market.symbols]
        prices = {s: t.last for s, t in (await market.tickers(symbols)).items()}
        async with db.sessions.begin() as session:
            await Ledger(clock=clock).mark_to_market(session, prices)
        await trading.snapshot_portfolio(db, actor, ctx=ctx)

    for offset, symbol, side, quantity in plan:
        while moment + step <= start + offset:
            moment += step
            clock.current = moment
            await snapshot()
        clock.current = start + offset
        await trading.place_order(db, actor, symbol=symbol, side=side, quantity=quantity, ctx=ctx)
    while moment + step <= NOW:
        moment += step
        clock.current = moment
        await snapshot()
    clock.current = NOW
    await ctx.hubs.close()


def run_seed(url: str, fill: Callable[[Database], Awaitable[Any]]) -> Any:
    """Seed before a snapshot test's app starts (in a loop of its own)."""

    async def go() -> Any:
        database = Database(url)
        try:
            return await fill(database)
        finally:
            await database.dispose()

    return asyncio.run(go())


async def trader(db: Database, *, history: bool = True) -> Seeded:
    """A signed-in trader at ``NOW`` (with ``history``, three days of manual trading: seeded
    once per worker, its rows put back for the tests after; tests/saved_rows.py)."""
    clock = FrozenClock(NOW - timedelta(days=3))

    async def seed() -> tuple[Actor, str]:
        actor, token = await seed_user(db, make_auth(clock))
        if history:
            await seed_manual_trading(db, actor, clock)
        return actor, token

    if history:
        actor, token = await seeded_once(db, "trader", seed)
    else:
        actor, token = await seed()
    return Seeded(make_auth(FrozenClock(NOW)), replace(actor), token, {})


def dashboard(url: str, tmp: Path, seeded: Seeded, **kwargs: Any) -> BlockbotXApp:
    """The app, resuming the seeded user's session at ``NOW`` (no LISTEN connection)."""
    app = make_app(url, tmp, seeded.auth, listen=False, **kwargs)
    app.remembered.save(seeded.refresh_token)
    return app


@asynccontextmanager
async def signed_in(
    url: str, tmp: Path, seeded: Seeded, *, size: tuple[int, int] = WIDE, **kwargs: Any
) -> AsyncIterator[tuple[BlockbotXApp, Pilot]]:
    """The seeded user's dashboard running at ``size``, settled on its first screen."""
    app = dashboard(url, tmp, seeded, **kwargs)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield app, pilot


def no_blink(app: BlockbotXApp) -> None:
    for field in app.screen.query(Input):
        field.cursor_blink = False


async def bulk_trades(db: Database, user_id: str, count: int, *, end: datetime = NOW) -> None:
    """``count`` filled paper trades of ``user_id``, one a minute back from ``end``, in one
    ``INSERT ... SELECT generate_series`` (a million take seconds, not hours): four symbols,
    buys and sells alternating, the sells with a P&L between -20 and +20."""
    async with db.sessions.begin() as session:
        await session.execute(
            text(
                "INSERT INTO trades (id, user_id, symbol, side, type, price, quantity,"
                " executed_price, fee, fee_currency, total, profit_loss, balance, status,"
                " is_paper_trade, executed_at)"
                " SELECT left(:user_id, 8) || lpad(g::text, 17, '0'), :user_id,"
                " (ARRAY['BTC/USDT','ETH/USDT','SOL/USDT','BNB/USDT'])[1 + g % 4],"
                " CASE WHEN g % 2 = 0 THEN 'BUY' ELSE 'SELL' END, 'MARKET',"
                " 100 + g % 1000, 1 + g % 7, 100 + g % 1000, 0.1, 'USDT',"
                " (100 + g % 1000) * (1 + g % 7),"
                " CASE WHEN g % 2 = 1 THEN (g % 41 - 20)::numeric END, 0, 'FILLED', true,"
                " CAST(:end AS timestamptz) - g * interval '1 minute'"
                " FROM generate_series(1, :count) AS g"
            ),
            {"user_id": user_id, "count": count, "end": end},
        )
        await session.execute(text("ANALYZE trades"))
