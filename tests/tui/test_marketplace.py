"""Pilot: the marketplace deploy flow by keyboard — a template customised in the form and
confirmed becomes a bot; a free strategy is bought and deployed; a bad value is refused in
the form without creating anything."""

from __future__ import annotations

from sqlalchemy import func, select
from textual.widgets import Input

from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.templates import TemplateDeployment
from core.services import marketplace, templates
from tests.service_users import add_user
from tests.tui.screen_helpers import WIDE, ScreenApp, settle
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.screens.marketplace import MarketplaceScreen
from tui.widgets.table import KeyedTable


async def bots(db: Database) -> dict[str, Bot]:
    async with db.session() as s:
        return {b.name: b for b in await s.scalars(select(Bot))}


async def type_into(pilot, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    field = pilot.app.screen.query_one(selector, Input)
    field.value = text


async def test_deploy_a_template_with_customisation(db: Database) -> None:
    async with db.sessions.begin() as s:
        await templates.seed_system_templates(s)
    ann = await add_user(db, "ann@example.com")
    app = ScreenApp(db.url, ann, MarketplaceScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MarketplaceScreen)
        table = screen.query_one("#template-table", KeyedTable)
        names = [screen._templates[k.value].name for k in table.rows]  # featured first
        assert names.index("ETH range grid") < names.index("AI trend predictor")
        table.move_cursor(row=names.index("ETH range grid"))
        await pilot.press("d")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.query_one("#field-cfg_grid_count", Input).value == "16"
        # A bad value is refused in the form; nothing is created.
        await type_into(pilot, "#field-cfg_upper_price", "100")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "upper_price" in str(form.query_one("#form-error").render())
        await type_into(pilot, "#field-cfg_upper_price", "3600")
        await type_into(pilot, "#field-name", "My grid")
        await type_into(pilot, "#field-cfg_grid_count", "8")
        await type_into(pilot, "#field-risk_stop_loss_percent", "12")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert await bots(db) == {}  # nothing until confirmed
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MarketplaceScreen)
    made = await bots(db)
    assert list(made) == ["My grid"]
    bot = made["My grid"]
    assert (bot.type, bot.user_id, bot.paper_trading) == ("grid", ann.user_id, True)
    assert bot.config["grid_count"] == 8 and bot.config["symbol"] == "ETH/USDT"
    assert bot.risk_settings == {"stop_loss_percent": "12"}
    async with db.session() as s:
        (deployment,) = await s.scalars(select(TemplateDeployment))
        assert deployment.customization["config"] == {"grid_count": "8"}


async def test_buy_a_free_strategy_then_deploy_it(db: Database) -> None:
    ann = await add_user(db, "ann@example.com")
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        await marketplace.publish_strategy(
            s, ann, name="RSI dip buyer", description="Buys RSI dips", price="0",
            type="trading_strategy", config={"strategy": "rsi_reversal", "params": {}},
        )  # fmt: skip
    app = ScreenApp(db.url, bob, MarketplaceScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("t")  # the strategies tab
        await settle(pilot)
        await pilot.press("d")  # not bought yet: refused with a hint
        await settle(pilot)
        assert isinstance(app.screen, MarketplaceScreen)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        await type_into(pilot, "#field-cfg_symbol", "SOL/USDT")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    (bot,) = (await bots(db)).values()
    assert bot.name == "RSI dip buyer" and bot.user_id == bob.user_id and bot.type == "signal"
    assert bot.config["symbol"] == "SOL/USDT" and bot.config["indicator"]["name"] == "rsi_reversal"
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Bot)) == 1
