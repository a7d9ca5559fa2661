"""A trader's first session, by keyboard: sign in with 2FA, create a bot with the form, start
it, watch its position open (the engine's cycle) and close by stop-loss (a price update) live on
the positions screen, then stop and delete the bot. The engine runs in the test, on the app's own
markets, so its events reach the screens exactly as in-process."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from core.clock import FrozenClock
from core.db.engine import Database
from core.engine.runner import EngineRunner
from core.engine.settings import EngineSettings
from core.security import totp
from core.services import accounts, bots, twofactor
from tests.engine.support import world
from tests.tui.auth_helpers import (
    DEVICE,
    FIXED_SECRET,
    PASSWORD,
    make_app,
    make_auth,
    settle,
    type_into,
    wait_for,
)
from tui.modals.confirm import ConfirmModal
from tui.modals.stop_bot import StopBotModal
from tui.modals.two_factor_code import TwoFactorCodeModal
from tui.screens.bot_detail import BotDetailScreen
from tui.screens.bot_form import BotFormScreen
from tui.screens.bots import BotsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.positions import PositionsScreen
from tui.widgets.table import KeyedTable

BTC = "BTC/USDT"


async def test_sign_in_create_start_watch_stop_loss_stop_delete(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    w = await world(db, email="unused@example.com")  # the engine tests' pinned market and clock
    clock: FrozenClock = w.clock
    auth = make_auth(clock)
    await accounts.register(
        db, email="ann@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    me = (await accounts.login(db, email="ann@example.com", password=PASSWORD, device=DEVICE,
                               auth=auth)).session  # fmt: skip
    await twofactor.begin_enrolment(db, me.actor, auth)
    await twofactor.confirm_enrolment(
        db, me.actor, totp.code_at(FIXED_SECRET, totp.time_step(clock.now())), auth
    )
    clock.advance(seconds=30)
    w.pin(BTC, "100")
    app = make_app(migrated_url, tmp_path, auth, markets=w.markets, listen=False)
    runner = EngineRunner(db, markets=w.markets, clock=clock,
                          settings=EngineSettings(cycle_seconds=10, deliver_notifications=False))  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        # Sign in with the password, then the authenticator's code.
        await settle(pilot)
        await type_into(pilot, "#email", "ann@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TwoFactorCodeModal)
        await type_into(pilot, "#code", totp.code_at(FIXED_SECRET, totp.time_step(clock.now())))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)

        # A DCA bot from the form: defaults, plus a 2% stop-loss.
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, BotsScreen)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, BotFormScreen)
        assert form.query_one("#cfg-quote_amount", Input).value == "100"  # the model's default
        await type_into(pilot, "#name", "Dip buyer")
        await type_into(pilot, "#risk-stop_loss_percent", "150")  # out of range: marked, not saved
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BotFormScreen)
        assert form.query_one("#row-risk-stop_loss_percent").has_class("-invalid")
        await type_into(pilot, "#risk-stop_loss_percent", "2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BotsScreen)
        table = screen.query_one("#bots", KeyedTable)
        [bot_id] = table.keys
        assert "stopped" in str(table.get_row(bot_id)[2])

        # Start it (asked first).
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert "active" in str(table.get_row(bot_id)[2])
        # the summary counts active bots; whether anything runs them is the engine's to say
        summary = str(screen.query_one("#summary").render())
        assert "1 bot · 1 active" in summary and "running" not in summary

        # Its first cycle buys; the positions screen shows the position.
        await pilot.press("3")
        await settle(pilot)
        positions = app.screen
        assert isinstance(positions, PositionsScreen)
        clock.advance(seconds=10)
        await runner.run_pass()
        open_table = positions.query_one("#open-table", KeyedTable)
        # The engine's event arrives and the screen reloads.
        await wait_for(pilot, lambda: len(open_table.keys) == 1, what="the opened position")
        [position_id] = open_table.keys
        assert open_table.get_row(position_id)[1] == "Dip buyer"
        assert str(open_table.get_cell(position_id, "stop")) == "98.0000"  # 2% under the entry

        # The price falls through the stop: the exit watcher sells, the board follows live.
        clock.advance(seconds=5)
        w.pin(BTC, "97.50")
        await runner.check_exits()
        await wait_for(pilot, lambda: open_table.keys == [], what="the stop-loss exit")
        await pilot.press("x")
        await settle(pilot)
        closed = positions.query_one("#closed-table", KeyedTable)
        assert [str(closed.get_row(k)[8]) for k in closed.keys] == ["stop loss"]

        # The bot's page: its executions; stop it, then delete it.
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, BotDetailScreen)
        assert detail.query_one("#executions", KeyedTable).row_count >= 2  # the buy and the exit
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, StopBotModal)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BotsScreen)
        # Events are coalesced: at most one refresh a second.
        bots_table = app.screen.query_one("#bots", KeyedTable)
        await wait_for(pilot, lambda: bots_table.keys == [], what="the deleted bot gone")
    async with db.session() as s:
        assert await bots.list_bots(s, me.actor) == []
