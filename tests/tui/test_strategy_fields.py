"""The bot form builds a signal bot's strategy fields from the parameters the strategy declares:
a built-in's, and those of a strategy installed in a strategies directory."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from textual.widgets import Input, Select

from core.db.engine import Database
from core.db.models.bots import Bot
from tests.strategies.installed import Installer, docs_example, installed
from tests.tui.auth_helpers import settle, type_into
from tests.tui.dash_helpers import dashboard, trader
from tui.screens.bot_form import BotFormScreen
from tui.screens.bots import BotsScreen

__all__ = ["installed"]


async def test_signal_bot_fields_follow_the_chosen_strategy(
    db: Database, migrated_url: str, tmp_path: Path, installed: Installer
) -> None:
    installed.add("donchian.py", docs_example())
    seeded = await trader(db, history=False)
    app = dashboard(migrated_url, tmp_path, seeded)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, BotFormScreen)
        form.query_one("#type", Select).value = "signal"
        await settle(pilot)
        choice = form.query_one("#ind-name", Select)
        assert choice.value == "sma_cross"
        assert form.query_one("#ind-fast", Input).placeholder == "default: 10"
        assert not form.query("#cfg-indicator")  # no JSON line for the strategy any more

        choice.value = "donchian_breakout"
        await settle(pilot)
        assert not form.query("#ind-fast")
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
