"""The bot form and the Backtests screen build a strategy's fields from the parameters it
declares: a built-in's, and those of a strategy installed in a strategies directory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from textual.widgets import Input, Select

from core.backtest.sources import simulated_candles
from core.db.engine import Database
from core.db.models.bots import Bot
from core.services import backtests
from tests.strategies.installed import Installer, docs_example, installed
from tests.tui.auth_helpers import settle, type_into, wait_for
from tests.tui.dash_helpers import NOW, signed_in, trader
from tui.screens.backtest_report import BacktestReportScreen
from tui.screens.backtests import BacktestsScreen
from tui.screens.bot_form import BotFormScreen
from tui.screens.bots import BotsScreen
from tui.widgets.table import KeyedTable

__all__ = ["installed"]


async def test_signal_bot_fields_follow_the_chosen_strategy(
    db: Database, migrated_url: str, tmp_path: Path, installed: Installer
) -> None:
    installed.add("donchian.py", docs_example())
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, BotFormScreen)
        form.query_one("#type", Select).value = "signal"
        # the form lays the signal bot's fields out in a message handler, not a worker
        await wait_for(pilot, lambda: bool(form.query("#ind-fast")), what="the signal fields")
        choice = form.query_one("#ind-name", Select)
        assert choice.value == "sma_cross"
        assert form.query_one("#ind-fast", Input).placeholder == "default: 10"
        assert not form.query("#cfg-indicator")  # no JSON line for the strategy any more

        choice.value = "donchian_breakout"
        await wait_for(pilot, lambda: not form.query("#ind-fast"), what="the strategy's fields")
        assert form.query_one("#ind-entry", Input).placeholder == "default: 20"
        assert "Candles in the entry channel." in str(
            form.query_one("#row-ind-entry").query(".field-help").first().render()
        )

        await type_into(pilot, "#name", "Breakouts")
        await type_into(pilot, "#ind-entry", "1")  # below its declared minimum of 2
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BotFormScreen)
        assert form.query_one("#row-ind-entry").has_class("-invalid")
        await type_into(pilot, "#ind-entry", "30")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BotsScreen)
    async with db.session() as s:
        bot = await s.scalar(select(Bot).where(Bot.name == "Breakouts"))
    assert bot is not None
    assert bot.config["indicator"] == {"name": "donchian_breakout", "entry": 30, "exit": 10}


async def test_the_backtests_screen_runs_an_installed_strategy_with_its_declared_parameters(
    db: Database, migrated_url: str, tmp_path: Path, installed: Installer
) -> None:
    installed.add("donchian.py", docs_example())
    seeded = await trader(db, history=False)
    candles = simulated_candles("ETH/USDT", "1h", NOW - timedelta(days=60), NOW)
    async with db.session() as s:
        dataset = await backtests.import_dataset(s, seeded.actor, "ETH/USDT", "1h", candles)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BacktestsScreen)
        screen.query_one("#strategy", Select).value = "donchian_breakout"
        await settle(pilot)
        entry = screen.query_one("#param-entry", Input)
        assert entry.placeholder == "default: 20"
        assert screen.query_one("#param-exit", Input).placeholder == "default: 10"
        assert "entry: Candles in the entry channel. A whole number from 2 to 500" in str(
            entry.tooltip
        )
        screen.query_one("#dataset", Select).value = dataset.id
        await type_into(pilot, "#param-entry", "15")
        await type_into(pilot, "#param-exit", "5")
        await pilot.press("ctrl+r")
        await settle(pilot)
        report = app.screen
        assert isinstance(report, BacktestReportScreen)
        assert report.query_one("#trade-list", KeyedTable).row_count > 0
