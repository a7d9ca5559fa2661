"""The order screen leaves the keyboard to navigation until a field is entered, and the
add-exchange dialog keeps what was typed on a refusal, masks the secret as it is typed, offers
every exchange with a search and asks for that exchange's keys; the connections list says
testnet or real, and a test that gets no answer says so in time without marking the connection
used. Real PostgreSQL, the simulated market and a local fake Binance that checks signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import Checkbox, Input, OptionList, Select, Static

from core.db.engine import Database
from core.db.models.bots import Bot, BotWallet
from core.engine.venues import Markets
from core.market.hub import MarketHubs, PriceHub
from core.market.simulated import SimulatedMarket
from core.services import exchanges
from tests.fake_exchange import Failure, FakeBinance, exchange_factory
from tests.tui.auth_helpers import settle, type_into, wait_for
from tests.tui.dash_helpers import signed_in, trader
from tui.modals.add_connection import AddConnectionModal
from tui.screens.bot_form import BotFormScreen
from tui.screens.bots import BotsScreen
from tui.screens.exchanges import ExchangesScreen
from tui.screens.order import OrderScreen
from tui.widgets.table import KeyedTable

KEY, SECRET = "AbCdEfGh12345678", "s3cr3t-s3cr3t-s3cr3t"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance(hang_seconds=30) as server:
        server.add_account(KEY, SECRET, USDT=5000)
        yield server


def markets(fake: FakeBinance, clock) -> Markets:  # type: ignore[no-untyped-def]
    hubs = MarketHubs()
    hubs.add(PriceHub(SimulatedMarket(clock=clock), clock=clock))
    return Markets(hubs=hubs, exchanges=exchange_factory(fake, timeout_ms=60_000), clock=clock)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_order_screen_takes_no_navigation_key_as_input(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=size) as (app, pilot):
        await pilot.press("5")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderScreen), what="order screen")
        order = app.screen
        await pilot.press("5")  # pressed again, as a user does when the first seemed slow
        await settle(pilot)
        assert app.screen is order and order.query_one("#quantity", Input).value == ""
        assert not isinstance(app.focused, Input)
        # The venue offers paper on the simulated market and on every exchange's real prices.
        venues = [str(v) for _, v in order.query_one("#venue", Select)._options]
        assert venues[:2] == ["paper:simulated", "paper:alpaca"] and "paper:kraken" in venues
        # Entering a field is a choice: then digits are typed, and Esc gives the keys back.
        await type_into(pilot, "#quantity", "0.5", keys=True)
        assert order.query_one("#quantity", Input).value == "0.5"
        await pilot.press("escape", "7")
        await wait_for(pilot, lambda: isinstance(app.screen, ExchangesScreen), what="exchanges")


async def test_add_an_exchange_keeps_the_form_on_a_refusal(
    db: Database, migrated_url: str, tmp_path: Path, fake: FakeBinance
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(
        migrated_url, tmp_path, seeded, markets=markets(fake, seeded.auth.clock), size=(120, 40)
    ) as (app, pilot):
        await pilot.press("7")
        await wait_for(pilot, lambda: isinstance(app.screen, ExchangesScreen), what="exchanges")
        screen = app.screen
        hint = screen.query_one("#test-result", Static)
        assert "No connections yet" in str(hint.render())
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, AddConnectionModal), what="dialog")
        modal = app.screen
        assert isinstance(modal, AddConnectionModal)

        # The search: Kraken signs in with a key and a secret, and has no testnet.
        await type_into(pilot, "#exchange-search", "krak", keys=True)
        found = modal.query_one("#exchange-list", OptionList)
        assert [found.get_option_at_index(i).id for i in range(found.option_count)] == ["kraken"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert modal.chosen.id == "kraken"
        assert not modal.query_one("#passphrase", Input).display
        assert modal.query_one("#testnet", Checkbox).disabled
        # OKX needs its passphrase too.
        await type_into(pilot, "#exchange-search", "okx", keys=True)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert modal.chosen.id == "okx" and modal.query_one("#passphrase", Input).display
        await type_into(pilot, "#exchange-search", "binance", keys=True)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert modal.chosen.id == "binance"

        # The secret shows a mask as it is typed, like the key.
        await type_into(pilot, "#api-key", "short", keys=True)
        await type_into(pilot, "#api-secret", SECRET, keys=True)
        for field in ("#api-key", "#api-secret"):
            shown = modal.query_one(field, Input)
            assert "•••••" in shown.render_line(0).text, field

        # A refusal: the dialog stays, says why, and keeps everything typed.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is modal
        assert "API key must be 8 to 512" in str(modal.query_one("#add-error", Static).render())
        assert modal.query_one("#api-key", Input).value == "short"
        assert modal.query_one("#api-secret", Input).value == SECRET
        assert await exchanges.list_connections(db, seeded.actor) == []

        await type_into(pilot, "#api-key", KEY)
        modal.query_one("#testnet", Checkbox).value = True
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
        table = screen.query_one("#connections", KeyedTable)
        await wait_for(pilot, lambda: len(table.keys) == 1, what="the new row")
        [connection_id] = table.keys
        row = [str(c) for c in table.get_row(connection_id)]
        assert row[:2] == ["Binance testnet", "testnet"] and row[-2] == "never"
        assert "No connections yet" not in str(hint.render())


async def test_a_connection_test_without_an_answer_says_so_in_time(
    db: Database, migrated_url: str, tmp_path: Path, fake: FakeBinance
) -> None:
    seeded = await trader(db, history=False)
    connection = await exchanges.add_connection(
        db, seeded.actor, exchange="binance", api_key=KEY, secret=SECRET, testnet=True
    )
    async with signed_in(
        migrated_url, tmp_path, seeded, markets=markets(fake, seeded.auth.clock), size=(120, 40)
    ) as (app, pilot):
        await pilot.press("7")
        await wait_for(pilot, lambda: isinstance(app.screen, ExchangesScreen), what="exchanges")
        screen = app.screen
        assert isinstance(screen, ExchangesScreen)
        screen.test_timeout = 1.0  # the screen's own limit is 10 s; the fake never answers
        fake.fail(Failure.TIMEOUT, times=10)
        out = screen.query_one("#test-result", Static)
        await pilot.press("t")
        progress = "Testing Binance testnet: signing in and reading the balances (at most 1 s)"
        await wait_for(pilot, lambda: progress in str(out.render()), what="progress")
        await wait_for(pilot, lambda: "did not answer" in str(out.render()), what="time-out")
        assert "Binance testnet did not answer within 1 s" in str(out.render())
        table = screen.query_one("#connections", KeyedTable)
        assert str(table.get_row(connection.id)[-2]) == "never"
        assert (await exchanges.get_connection(db, seeded.actor, connection.id)).last_used is None

        # With an answer: connected, and only now marked used.
        fake.clear_failures()
        await pilot.press("t")
        await wait_for(pilot, lambda: "Connected to" in str(out.render()), what="connected")
        assert (await exchanges.get_connection(db, seeded.actor, connection.id)).last_used


async def test_a_paper_bot_chooses_an_exchanges_real_prices(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, BotsScreen), what="bots")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, BotFormScreen), what="the form")
        form = app.screen
        market = form.query_one("#market", Select)
        assert market.value == "simulated" and form.query_one("#row-market").display
        await type_into(pilot, "#name", "Kraken dips")
        await type_into(pilot, "#cfg-symbol", "BTC/EUR")  # not on the simulated market
        market.value = "kraken"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, BotsScreen), what="saved")
        async with db.session() as s:
            wallet = await s.scalar(
                select(BotWallet)
                .join(Bot, Bot.id == BotWallet.bot_id)
                .where(Bot.name == "Kraken dips", BotWallet.wallet_type == "simulation")
            )
        assert wallet is not None and wallet.paper_market == "kraken"
        # Off paper, the choice of prices gives way to the exchange connection.
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, BotFormScreen), what="the form")
        app.screen.query_one("#paper", Checkbox).value = False
        await settle(pilot)
        assert not app.screen.query_one("#row-market").display
        assert app.screen.query_one("#row-connection").display
