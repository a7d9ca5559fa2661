"""Exchanges, manual orders and backtests by keyboard, against real PostgreSQL, the simulated
market and a local stand-in for Binance (signed requests checked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static

from core.backtest.sources import simulated_candles
from core.db.engine import Database
from core.engine.venues import Markets
from core.market.hub import MarketHubs, PriceHub
from core.market.simulated import SimulatedMarket
from core.services import backtests, bots, exchanges, plans, trading
from core.services.actor import SYSTEM
from core.services.bot_views import BotSpec
from tests.fake_exchange import FakeBinance, exchange_factory
from tests.tui.auth_helpers import settle, type_into
from tests.tui.dash_helpers import NOW, signed_in, trader
from tui.modals.add_connection import AddConnectionModal
from tui.modals.confirm import ConfirmModal
from tui.screens.backtest_report import BacktestReportScreen
from tui.screens.backtests import BacktestsScreen
from tui.screens.exchanges import ExchangesScreen
from tui.screens.order import OrderScreen
from tui.widgets.table import KeyedTable

KEY, SECRET = "AbCdEfGh12345678", "s3cr3t-s3cr3t-s3cr3t"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as server:
        server.add_account(KEY, SECRET, USDT=5000, BTC="0.5")
        yield server


async def test_connect_an_exchange_and_trade_paper_and_live(
    db: Database, migrated_url: str, tmp_path: Path, fake: FakeBinance
) -> None:
    seeded = await trader(db, history=False)
    async with db.sessions.begin() as s:  # the first account (superadmin) gives itself Pro
        await plans.grant_complimentary(s, seeded.actor, seeded.actor.user_id, "pro", days=30,
                                        reason="live trading test", clock=seeded.auth.clock)  # fmt: skip
    clock = seeded.auth.clock
    hubs = MarketHubs()
    hubs.add(PriceHub(SimulatedMarket(clock=clock), clock=clock))
    markets = Markets(hubs=hubs, exchanges=exchange_factory(fake), clock=clock)
    async with signed_in(migrated_url, tmp_path, seeded, markets=markets, size=(120, 40)) as (
        app,
        pilot,
    ):
        await pilot.press("7")
        await settle(pilot)
        assert isinstance(app.screen, ExchangesScreen)

        # Add Binance (testnet) with keys typed into masked fields.
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, AddConnectionModal)
        assert (
            modal.query_one("#api-key", Input).password
            and modal.query_one("#api-secret", Input).password
        )
        await type_into(pilot, "#api-key", KEY)
        await type_into(pilot, "#api-secret", SECRET)
        modal.query_one("#testnet").value = True  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#connections", KeyedTable)
        [connection_id] = table.keys
        shown = [str(c) for c in table.get_row(connection_id)]
        assert "AbCd••••••••" in shown and KEY not in " ".join(shown)

        # Test it: signed in to the stand-in, balances read.
        await pilot.press("t")
        await settle(pilot)
        result = str(screen.query_one("#test-result", Static).render())
        assert "Connected to Binance testnet" in result and "5,000 USDT" in result

        # A paper order first: estimated, confirmed, filled at the simulated price.
        await pilot.press("5")
        await settle(pilot)
        order = app.screen
        assert isinstance(order, OrderScreen)
        await type_into(pilot, "#quantity", "abc")
        await pilot.press("enter")
        await settle(pilot)
        assert "not a number" in str(order.query_one("#order-error", Static).render())
        await type_into(pilot, "#quantity", "0.01")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        text = str(app.screen.query_one(".dialog-text", Static).render())
        assert (
            "BUY 0.01 BTC/USDT · market · Paper" in text and "Fee" in text and "Total cost" in text
        )
        await pilot.press("y")
        await settle(pilot)
        paper = (await trading.list_orders(db, seeded.actor)).items
        assert [(o.status, o.is_paper, o.filled) for o in paper] == [
            ("filled", True, Decimal("0.01"))
        ]

        # Then on the exchange: the venue chosen, the same review, a live fill.
        order.query_one("#venue", Select).value = connection_id
        await type_into(pilot, "#quantity", "0.001")
        await pilot.press("enter")
        await settle(pilot)
        assert "Binance testnet" in str(app.screen.query_one(".dialog-text", Static).render())
        await pilot.press("y")
        await settle(pilot)
        live = [o for o in (await trading.list_orders(db, seeded.actor)).items if not o.is_paper]
        assert [(o.status, o.filled) for o in live] == [("filled", Decimal("0.001"))]
        assert len(order.query_one("#orders", KeyedTable).keys) == 2

        # Esc leaves the quantity field: keys are keys again.
        await pilot.press("escape", "7")
        await settle(pilot)
        # Testnet to the real exchange: asked first, refused while the live buy is held there.
        await pilot.press("T")
        await settle(pilot)
        assert "the REAL exchange" in str(app.screen.query_one(".dialog-text", Static).render())
        await pilot.press("y")
        await settle(pilot)
        assert any("close them before switching" in n.message for n in app._notifications)
        assert str(table.get_row(connection_id)[0]) == "Binance testnet"
        opened = (await trading.list_positions(db, seeded.actor, status="open")).items
        [held] = [p for p in opened if not p.is_paper]
        # Sold: the buy's fee taken in BTC leaves dust below the step, and the sale closes it.
        await trading.close_position(db, seeded.actor, held.id, ctx=app.trading)
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert str(table.get_row(connection_id)[0]) == "Binance"
        await pilot.press("T")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert str(table.get_row(connection_id)[0]) == "Binance testnet"

        # Disable, then remove (asked first).
        await pilot.press("space")
        await settle(pilot)
        assert "disabled" in [str(c) for c in table.get_row(connection_id)]
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert table.keys == [] and await exchanges.list_connections(db, seeded.actor) == []


async def test_backtest_a_bot_over_a_dataset_range(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with db.sessions.begin() as s:
        bot = await bots.create_bot(s, seeded.actor, BotSpec(
            name="Trend", type="signal",
            config={"symbol": "ETH/USDT", "timeframe": "1h", "indicator": {"name": "sma_cross", "fast": 5, "slow": 20}},
        ), clock=seeded.auth.clock)  # fmt: skip
    candles = simulated_candles("ETH/USDT", "1h", NOW - timedelta(days=60), NOW)
    async with db.session() as s:
        dataset = await backtests.import_dataset(s, SYSTEM, "ETH/USDT", "1h", candles)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BacktestsScreen)
        screen.query_one("#bot", Select).value = bot.id
        screen.query_one("#dataset", Select).value = dataset.id
        await type_into(pilot, "#start", (NOW - timedelta(days=30)).strftime("%Y-%m-%d"))
        await pilot.press("ctrl+r")
        await settle(pilot)
        report = app.screen
        assert isinstance(report, BacktestReportScreen)
        trades = report.query_one("#trade-list", KeyedTable)
        async with db.session() as s:
            stored = await backtests.list_backtests(s, seeded.actor, bot_id=bot.id)
        assert len(stored) == 1 and stored[0].trades == trades.row_count > 0
        run = str(report.query_one("#run", Static).render())
        assert "732 candles" in run and "2025-12-02 00:00 →" in run  # from the chosen day on
        await pilot.press("escape")
        await settle(pilot)
        history = screen.query_one("#history", KeyedTable)
        assert history.keys == [stored[0].id]
        assert str(history.get_row(stored[0].id)[1]) == "Trend"

        # Bad input is said where it happened and runs nothing.
        await type_into(pilot, "#cash", "lots")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "Cash must be a number" in str(screen.query_one("#run-status", Static).render())
