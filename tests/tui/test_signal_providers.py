"""Pilot: the signal providers screen, reached from the Bots screen, lists the user's own
providers with their public addresses and the TradingView alert message; a new provider or a
renewed key shows its secret URL once; bad input changes nothing."""

from __future__ import annotations

from textual.widgets import Input, Static

from core.db.engine import Database
from core.services import signals
from core.signals.ingest import load_source
from core.signals.tradingview import MESSAGE_TEMPLATE
from tests.service_users import add_user
from tests.tui.screen_helpers import WIDE, ScreenApp, settle
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.modals.show_once import ShowOnceModal
from tui.screens.bots import BotsScreen
from tui.screens.signal_providers import SignalProvidersScreen
from tui.widgets.table import KeyedTable


async def _token(db: Database, provider_id: str) -> str | None:
    async with db.session() as s:
        source = await load_source(s, provider_id)
    return None if source is None else source.key


async def test_providers_screen_shows_addresses_and_makes_providers(db: Database) -> None:
    ann = await add_user(db, "ann@example.com")
    eve = await add_user(db, "eve@example.com")
    mine = await signals.create_provider(db, ann, name="TV BTC", type="tradingview")
    await signals.create_provider(db, eve, name="Eve's", type="tradingview")
    app = ScreenApp(db.url, ann, BotsScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("S")  # from the Bots screen
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SignalProvidersScreen)
        table = screen.query_one(KeyedTable)
        assert table.row_count == 1  # never another user's
        assert str(table.get_row_at(0)[3]).endswith(f"/tv/{mine.info.id}/<token>")
        shown = str(screen.query_one("#provider-detail", Static).render())
        assert MESSAGE_TEMPLATE in shown and (mine.key or "?") not in shown

        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        await pilot.press("ctrl+s")  # no name: refused, nothing made
        await settle(pilot)
        assert "Give the provider a name" in str(form.query_one("#form-error").render())
        assert len(await signals.list_providers(db, ann)) == 1
        form.query_one("#field-name", Input).value = "TV ETH"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ShowOnceModal)
        url = str(app.screen.query_one("#secret").render()).strip()
        assert MESSAGE_TEMPLATE in str(app.screen.query_one(".dialog-text").render())
        await pilot.press("enter")
        await settle(pilot)
        made = {p.name: p for p in await signals.list_providers(db, ann)}
        token = await _token(db, made["TV ETH"].id)
        assert url.endswith(f"/tv/{made['TV ETH'].id}/{token}")
        assert screen.query_one(KeyedTable).row_count == 2

        screen.query_one(KeyedTable).move_cursor(row=1)  # names sort: "TV BTC", then "TV ETH"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ShowOnceModal)
        renewed = str(app.screen.query_one("#secret").render()).strip()
        new_token = await _token(db, made["TV ETH"].id)
        assert new_token != token and renewed.endswith(f"/{new_token}")
        await pilot.press("enter")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BotsScreen)
