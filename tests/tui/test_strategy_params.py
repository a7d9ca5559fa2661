"""Fields from a strategy's declared parameters (tui.widgets.strategy_params) at 120×40 and
80×24: the marketplace's deploy dialog shows one field per parameter of a signal template's
strategy, refuses a value out of range naming the parameter and its range, and deploys the
typed values; the Backtests screen does the same before running."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import Input, Select, Static

from core.backtest.sources import simulated_candles
from core.db.engine import Database
from core.db.models.bots import Bot
from core.services import backtests, templates
from tests.service_users import add_user
from tests.tui.auth_helpers import type_into
from tests.tui.dash_helpers import NOW, signed_in, trader
from tests.tui.screen_helpers import SMALL, WIDE, ScreenApp, settle
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.screens.backtest_report import BacktestReportScreen
from tui.screens.backtests import BacktestsScreen
from tui.screens.marketplace import MarketplaceScreen
from tui.widgets.table import KeyedTable

SIZES = pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])


def _text(widget: Static) -> str:
    return str(widget.render())


@SIZES
async def test_deploying_a_signal_template_edits_its_strategy_parameters(
    db: Database, size: tuple[int, int]
) -> None:
    async with db.sessions.begin() as s:
        await templates.seed_system_templates(s)
    ann = await add_user(db, "ann@example.com")
    app = ScreenApp(db.url, ann, MarketplaceScreen)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MarketplaceScreen)
        table = screen.query_one("#template-table", KeyedTable)
        names = [screen._templates[k.value].name for k in table.rows]
        table.move_cursor(row=names.index("RSI reversal signals"))
        await pilot.press("d")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.query_one("#field-param_period", Input).value == "14"
        assert form.query_one("#field-param_oversold", Input).value == "30"
        assert form.query_one("#field-param_overbought", Input).value == "70"
        form.query_one("#field-param_period", Input).focus()
        await settle(pilot)
        assert "RSI period, in candles. A whole number from 2 to 1000; default 14." in str(
            form.query_one("#form-help").render()
        )
        await type_into(pilot, "#field-param_period", "1")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "period must be a whole number from 2 to 1000; 1 is not." in _text(
            form.query_one("#form-error", Static)
        )
        await type_into(pilot, "#field-param_period", "21")
        await type_into(pilot, "#field-param_oversold", "25")
        await type_into(pilot, "#field-name", "RSI 21")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MarketplaceScreen)
    async with db.session() as s:
        bot = await s.scalar(select(Bot).where(Bot.name == "RSI 21"))
    assert bot is not None
    assert bot.config["indicator"] == {
        "name": "rsi_reversal",
        "period": 21,
        "oversold": 25.0,
        "overbought": 70.0,
    }


@SIZES
async def test_the_backtests_screen_has_a_field_per_parameter(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    seeded = await trader(db, history=False)
    candles = simulated_candles("ETH/USDT", "1h", NOW - timedelta(days=60), NOW)
    async with db.session() as s:
        dataset = await backtests.import_dataset(s, seeded.actor, "ETH/USDT", "1h", candles)
    async with signed_in(migrated_url, tmp_path, seeded, size=size) as (app, pilot):
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BacktestsScreen)
        assert not screen.query("#params Input")  # the bot's own settings: no fields
        screen.query_one("#strategy", Select).value = "rsi_reversal"
        await settle(pilot)
        fields = [w.id for w in screen.query("#params Input").results(Input)]
        assert fields == ["param-period", "param-oversold", "param-overbought"]
        assert screen.query_one("#param-period", Input).placeholder == "default: 14"
        screen.query_one("#param-oversold", Input).focus()
        await settle(pilot)
        assert _text(screen.query_one("#params .param-help", Static)) == (
            "oversold: RSI level counted as oversold. A number more than 0 and less than 100; "
            "default 30."
        )
        for field in ("param-period", "param-oversold"):
            region = screen.query_one(f"#{field}").region
            assert region.width >= 8 and region.right <= size[0], (field, region)
        screen.query_one("#dataset", Select).value = dataset.id
        await type_into(pilot, "#param-oversold", "100")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen is screen
        message = "oversold must be a number more than 0 and less than 100; 100 is not."
        assert message in _text(screen.query_one("#run-status", Static))
        assert screen.query_one("#param-oversold", Input).has_focus
        assert _text(screen.query_one("#params .param-help", Static)) == message
        await type_into(pilot, "#param-oversold", "35")
        await type_into(pilot, "#param-period", "10")
        await pilot.press("ctrl+r")
        await settle(pilot)
        report = app.screen
        assert isinstance(report, BacktestReportScreen)
        assert report.query_one("#trade-list").row_count > 0  # type: ignore[attr-defined]
