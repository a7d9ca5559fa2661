"""``blockbotx demo``: a demo account with a paper bot of every type on the simulated market, a
couple of days of history, DeFi wallets, notifications and a support ticket — then the bots keep
running in the dashboard (its in-process engine) or in ``blockbotx engine``.

The history is not invented: the real engine runs the bots over the last ``--days`` of the
deterministic simulated market on a clock that steps through them (cycles, exits, wallet and
portfolio snapshots each hour, performance every few), so every trade, position and figure is
what the bots would have done. It ends at the present, where the live engine carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import click
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from core.db.engine import Database
from core.market.simulated import SimulatedMarket
from tui.cli.output import out
from tui.cli.runtime import console, fail, run_with_db, setup_logging

STEP = timedelta(minutes=15)  # one pass per 15-minute candle; each costs tens of round trips
HOUSEKEEPING_HOURS = 6  # performance snapshots, reports and tidying (only the latest is shown)
WATCH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example address
UNISWAP_USDC_WETH = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"


def demo_bots(prices: dict[str, Decimal]) -> list[dict[str, Any]]:
    """One paper bot of every type, sized for a 10,000 USDT wallet each."""
    bnb = prices["BNB/USDT"]
    return [
        {"name": "BTC ladder", "type": "dca", "description": "Buys BTC every 4 hours and on dips, sells 2% over the average.",
         "config": {"symbol": "BTC/USDT", "timeframe": "1h", "quote_amount": "250", "interval_minutes": 240,
                    "take_profit_percent": "2"},
         "risk_settings": {"stop_loss_percent": "10", "max_open_positions": 1}},
        {"name": "ETH trend", "type": "signal", "description": "SMA 5/20 cross on 15-minute candles.",
         "config": {"symbol": "ETH/USDT", "timeframe": "15m",
                    "indicator": {"name": "sma_cross", "fast": 5, "slow": 20}},
         "risk_settings": {"stop_loss_percent": "1.5", "take_profit_percent": "2.5",
                           "max_position_size": "2000"}},
        {"name": "SOL model", "type": "ai", "description": "Logistic model of the next hour, on 15-minute candles.",
         "config": {"symbol": "SOL/USDT", "timeframe": "15m", "train_window": 400, "min_train": 150,
                    "buy_threshold": 0.52, "sell_threshold": 0.48},
         "risk_settings": {"stop_loss_percent": "3", "take_profit_percent": "4",
                           "max_position_size": "2000", "trailing_stop": {"distance_percent": "2"}}},
        {"name": "BNB grid", "type": "grid", "description": "Ten levels 1.5% either side of the start.",
         "config": {"symbol": "BNB/USDT", "lower_price": str((bnb * Decimal("0.985")).quantize(Decimal("0.01"))),
                    "upper_price": str((bnb * Decimal("1.015")).quantize(Decimal("0.01"))),
                    "grid_count": 10, "quote_per_grid": "200"},
         "risk_settings": {}},
        {"name": "BTC spread", "type": "arbitrage",
         "description": "Against a smaller market whose price wanders around this one's.",
         "config": {"symbol": "BTC/USDT", "simulated_offset_percent": "0", "simulated_spread_percent": "0.15",
                    "threshold_percent": "0.05", "trade_amount": "100"},
         "risk_settings": {}},
        {"name": "Meme radar", "type": "pump_screener", "description": "Small caps rising fast on volume.",
         "config": {"symbols": ["PEPE/USDT", "WIF/USDT", "BONK/USDT"], "timeframe": "15m", "window": 4,
                    "price_change_percent": "2", "volume_change_percent": "50", "enter": True,
                    "entry_amount": "150", "stop_loss_percent": "3"},
         "risk_settings": {"take_profit_percent": "6", "max_open_positions": 3}},
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoAccount:
    email: str
    password: str
    role: str
    bots: int
    trades: int


async def build_demo(
    db: Database,
    *,
    email: str,
    password: str,
    days: float,
    clock: Any = None,
    progress: Any = None,
) -> DemoAccount:
    """Everything the demo needs, through the services and the real engine; the clock (frozen,
    stepped by the caller's ``days``) ends at ``clock.now()`` at the time of the call."""
    from sqlalchemy import func, select

    from core.clock import SYSTEM_CLOCK, FrozenClock
    from core.db.models.trading import Trade
    from core.db.models.users import User
    from core.engine import housekeeping
    from core.engine.runner import EngineRunner
    from core.engine.settings import EngineSettings
    from core.engine.venues import Markets
    from core.services import accounts, bots, plans, support, trading
    from core.services.actor import Actor, Role
    from core.services.bot_views import BotSpec

    end = (clock or SYSTEM_CLOCK).now()
    sim = FrozenClock(end - timedelta(days=days))
    markets = Markets.simulated(clock=sim)
    async with _commits_not_awaiting_the_disk(db):
        try:
            async with db.session() as session:
                first = not await session.scalar(select(func.count()).select_from(User))
            role = Role.SUPERADMIN if first else Role.USER
            from core.services.actor import SYSTEM

            account = await accounts.create_account(
                db, SYSTEM, email=email, password=password, role=role
            )
            actor = Actor(user_id=account.id, role=role)
            await _grant_pro(db, actor, first, plans, sim)

            hub = markets.paper_hub()
            assert isinstance(hub.feed, SimulatedMarket)  # the paper hub is the simulated market
            symbols = [s.symbol for s in hub.feed.symbols]
            prices = {s: t.last for s, t in (await hub.feed.tickers(symbols)).items()}
            bot_ids = []
            async with db.sessions.begin() as session:
                for spec in demo_bots(prices):
                    view = await bots.create_bot(session, actor, BotSpec(**spec), clock=sim)
                    await bots.start_bot(session, actor, view.id, clock=sim)
                    bot_ids.append(view.id)

            ctx = trading.TradingContext(hubs=markets.hubs, clock=sim)
            await trading.place_order(
                db, actor, symbol="ETH/USDT", side="buy", quantity="0.5", ctx=ctx
            )
            runner = EngineRunner(
                db,
                settings=EngineSettings(
                    cycle_seconds=STEP.total_seconds(), deliver_notifications=False
                ),
                markets=markets,
                clock=sim,
            )
            steps = int(timedelta(days=days) / STEP)
            last_hour = None
            for i in range(steps + 1):
                await runner.run_pass()
                await runner.check_exits()
                hour = sim.now().replace(minute=0, second=0, microsecond=0)
                if hour != last_hour:  # hourly: marks, wallet and portfolio snapshots
                    await runner.mark_positions()
                    async with db.sessions.begin() as session:
                        await housekeeping.wallet_snapshots(session, sim.now())
                    if last_hour is None or hour.hour % HOUSEKEEPING_HOURS == 0:
                        await runner.housekeeping_once(wallets=False)  # performance, reports...
                    last_hour = hour
                if progress is not None:
                    progress(i, steps)
                if i < steps:
                    sim.advance(STEP)
            await runner.mark_positions()
            await runner.housekeeping_once(wallets=False)  # the bots' performance as of now
            await trading.snapshot_portfolio(db, actor, ctx=ctx)
            await _after_history(db, actor, bot_ids, markets, sim)
            async with db.session() as session:
                trades = await session.scalar(
                    select(func.count()).select_from(Trade).where(Trade.user_id == actor.user_id)
                )
            async with db.sessions.begin() as session:
                await support.open_ticket(
                    session, actor, subject="How do stop-losses work for paper bots?",
                    category="general", priority="normal", clock=sim,
                    message="My ETH trend bot closed a position by stop-loss. Is the stop checked on "
                    "every price update or only when the bot runs its cycle?",
                )  # fmt: skip
            return DemoAccount(email, password, role.value, len(bot_ids), int(trades or 0))
        finally:
            await markets.hubs.close()


@asynccontextmanager
async def _commits_not_awaiting_the_disk(db: Database) -> AsyncIterator[None]:
    """The demo's thousands of small commits without waiting for each to reach the disk
    (``synchronous_commit = off`` on the connections of the build only): a crash can lose the
    last fraction of a second of them but never corrupts the database — and a half-built demo
    is made again anyway. The pool is emptied before and after, so the setting stays here."""
    from sqlalchemy import event

    def no_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(lambda conn: conn.execute("SET synchronous_commit TO off"))

    await db.dispose()
    event.listen(db.engine.sync_engine, "connect", no_wait)
    try:
        yield
    finally:
        event.remove(db.engine.sync_engine, "connect", no_wait)
        await db.dispose()


async def _grant_pro(db: Database, actor: Any, first: bool, plans: Any, clock: Any) -> None:
    """Six running bots need the Pro plan: granted by the account itself when it is the first
    (superadmin) one, else by the installation's first superadmin (audited either way)."""
    from sqlalchemy import select

    from core.db.models.users import User
    from core.services.actor import Actor, Role

    granter = actor
    if not first:
        async with db.session() as session:
            admin_id = await session.scalar(
                select(User.id)
                .where(User.role == Role.SUPERADMIN.value, User.status == "active")
                .order_by(User.created_at)
                .limit(1)
            )
        if admin_id is None:
            fail("No active superadmin to grant the demo account its plan.")
        granter = Actor(user_id=admin_id, role=Role.SUPERADMIN)
    async with db.sessions.begin() as session:
        await plans.grant_complimentary(
            session, granter, actor.user_id, "pro", days=365,
            reason="demo account (blockbotx demo)", clock=clock,
        )  # fmt: skip


async def _after_history(
    db: Database, actor: Any, bot_ids: list[str], markets: Any, clock: Any
) -> None:
    """A backtest of the signal bot on a stored dataset, and DeFi wallets with positions."""
    from core.backtest.sources import simulated_candles
    from core.seed.defi import WETH
    from core.services import backtests, defi
    from core.services.actor import SYSTEM
    from core.services.backtests import BacktestRequest

    now = clock.now()
    candles = simulated_candles(
        "ETH/USDT", "15m", now - timedelta(days=30), now - timedelta(days=2)
    )
    async with db.session() as session:
        dataset = await backtests.import_dataset(session, SYSTEM, "ETH/USDT", "15m", candles)
        await backtests.run_backtest(
            session, actor,
            BacktestRequest(cash=Decimal(10000), fee=Decimal("0.001"), dataset_id=dataset.id,
                            bot_id=bot_ids[1]),
        )  # fmt: skip
    eth = (await markets.paper_hub().ticker("ETH/USDT")).last
    prices = {"WETH": eth, "ETH": eth, "STETH": eth, "USDC": Decimal(1)}
    async with db.sessions.begin() as session:
        wallet = await defi.add_wallet(
            session, actor, address=WATCH_ADDRESS, chain="ethereum", name="Main (watch-only)"
        )
        await defi.open_staking(
            session, actor, wallet.id, protocol="Lido", token_address=WETH,
            token_symbol="stETH", amount_="1.5", apy="3.2", prices=prices, clock=clock,
        )  # fmt: skip
        await defi.open_liquidity(
            session, actor, wallet.id, protocol="uniswap-v2", pool_address=UNISWAP_USDC_WETH,
            lp_token_address=UNISWAP_USDC_WETH, lp_token_amount="0.02", token0_symbol="USDC",
            token1_symbol="WETH", token0_amount=str((eth * 2).quantize(Decimal("0.01"))),
            token1_amount="2", prices=prices, clock=clock,
        )  # fmt: skip
        await defi.add_wallet(
            session, actor, address=WATCH_ADDRESS, chain="polygon", name="Polygon"
        )


# What the demo runs, imported while the database starts (ccxt alone is over a second).
ENGINE_MODULES = (
    "core.engine.runner", "core.engine.housekeeping", "core.services.accounts",
    "core.services.bots", "core.services.plans", "core.services.support", "core.services.trading",
    "core.services.backtests", "core.services.defi", "core.backtest.sources", "core.seed",
    "core.db.migrate",
)  # fmt: skip


MIGRATION_MODULES = (
    "core.db.migrate", "core.db.models", "migrations", "alembic.command", "alembic.config",
    "alembic.script", "alembic.runtime.migration", "alembic.context", "alembic.op",
    "sqlalchemy.dialects.postgresql",
)  # fmt: skip


def _start_the_database_while_loading_the_engine() -> None:
    """The embedded PostgreSQL's start (initdb on a first run, start-up, CREATE DATABASE) and
    its migrations — mostly waiting for other processes — run in a thread while the engine's
    modules load here. With ``DATABASE_URL`` there is nothing to start; whatever fails in the
    thread is tried again, and said, by ``run_with_db`` (which finds the schema up to date)."""
    import importlib

    from core.config import ConfigError, get_settings

    try:
        embedded_server = not get_settings().database_url
    except ConfigError:
        embedded_server = False  # run_with_db says what is wrong with the settings
    thread = None
    if embedded_server:
        # What the migrations import, loaded here first: the thread then imports nothing the
        # engine's modules import at the same time.
        for name in MIGRATION_MODULES:
            importlib.import_module(name)
        from core.db import embedded, migrate

        async def migrated(url: str) -> None:
            db = Database(url)
            try:
                await migrate.upgrade(db)
            finally:
                await db.dispose()

        def start() -> None:
            with contextlib.suppress(Exception):
                asyncio.run(migrated(embedded.ensure_database()))

        thread = threading.Thread(target=start, name="demo-database", daemon=True)
        thread.start()
    for name in ENGINE_MODULES:
        importlib.import_module(name)
    if thread is not None:
        thread.join()
        embedded._release_on_signals()  # signal handlers go on the main thread only


@click.command("demo")
@click.option(
    "--email", default="demo@blockbotx.local", show_default=True, help="The demo account's email."
)
@click.option("--days", default=1.0, show_default=True, type=click.FloatRange(0.1, 14),
              help="Days of history the bots trade through before now.")  # fmt: skip
def demo(email: str, days: float) -> None:
    """Create a demo account with paper bots of every type (and some history) on the
    simulated market; its password is printed once."""
    from core.errors import ServiceError

    started = time.perf_counter()  # the figure printed counts the database's start too
    setup_logging()
    password = "-".join(secrets.token_hex(3) for _ in range(4))
    with console.status("Starting the database…", spinner="dots"):
        _start_the_database_while_loading_the_engine()

    async def _go(db: Database) -> DemoAccount:
        with Progress(
            TextColumn("Trading through the last {task.fields[days]:g} days"),
            BarColumn(),
            TaskProgressColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("history", total=None, days=days)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            try:
                return await build_demo(db, email=email, password=password, days=days,
                                        progress=progress)  # fmt: skip
            except ServiceError as exc:
                fail(f"{exc} (an account {email} may exist already: pass --email)")
        raise AssertionError("unreachable")

    account = run_with_db(_go)
    out.print(  # on stdout: the credentials are the result
        f"[green]Demo ready[/] in {time.perf_counter() - started:.0f} s: {account.bots} paper bots "
        f"running, {account.trades} trades so far.\n"
        f"  email     [b]{account.email}[/]\n"
        f"  password  [b]{account.password}[/]   (shown once)\n"
        + (
            "  (the first account here, so it is the superadmin)\n"
            if account.role == "superadmin"
            else ""
        )
        + "Now run [b]blockbotx[/] and sign in: the dashboard keeps the bots running."
    )
