"""Layout and words of the everyday screens, as a person sees them at 120×40 and 80×24: what a
new account does next, overview boxes without stray marks, nav bar keys always named, the trade
filters reachable and unclipped, ``ETH`` finding ETH pairs, a notification opened in full, the
engine's counts adding up, the stop dialog with nothing to close, and focus that survives a
256-colour terminal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.color import ColorSystem
from sqlalchemy import text
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static

from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.engine import EngineProcess
from core.db.models.notifications import NotificationPriority, NotificationType
from core.notifications import notify
from core.services.bots import BotSpec, create_bot
from tests.tui.auth_helpers import open_screen, settle, wait_for
from tests.tui.dash_helpers import NOW, SMALL, WIDE, Seeded, signed_in, trader
from tests.tui.layout_helpers import cell_styles, screen_lines
from tui import navigation
from tui.modals.notification_detail import NotificationDetailModal
from tui.modals.stop_bot import StopBotModal
from tui.screens.bots import BotsScreen
from tui.screens.notifications import NotificationsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.trades import TradesScreen
from tui.widgets.table import KeyedTable

SIZES = pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
BARS = set("▁▂▃▄▅▆▇█▔")


def shown(app: App[Any]) -> str:
    return "\n".join(screen_lines(app))


# -- 1. a new account is told what to do next --------------------------------------------------


@SIZES
async def test_a_new_account_is_told_what_to_do_next(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=size) as (app, pilot):
        assert isinstance(app.screen, OverviewScreen)
        await wait_for(pilot, lambda: "No bots yet" in shown(app), what="the overview's hint")
        screen = shown(app)
        assert "Create a paper bot" in screen and "press 2 then n." in screen
        assert "No exchange connected" in screen and "press 7 then n." in screen
        await open_screen(pilot, "2", BotsScreen)
        await wait_for(pilot, lambda: "No bots yet" in shown(app), what="the bots screen's hint")
        screen = shown(app)
        assert "press n." in screen and "press 7 then n." in screen


async def test_the_hints_leave_once_there_is_a_bot(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with db.sessions.begin() as s:
        await create_bot(
            s, seeded.actor, BotSpec(name="First", type="dca"), clock=seeded.auth.clock
        )
    async with signed_in(migrated_url, tmp_path, seeded, size=WIDE) as (app, pilot):
        box = app.screen.query_one("#bots-box")
        await wait_for(pilot, lambda: box.border_title == "Active bots · 0", what="the bots")
        assert "No bots yet" not in shown(app) and "No exchange" not in shown(app)
        assert app.screen.query_one("#chart").display  # its chart is back in its place
        await open_screen(pilot, "2", BotsScreen)
        await wait_for(pilot, lambda: "First" in shown(app), what="the bot")
        assert "No bots yet" not in shown(app) and "No exchange" not in shown(app)


# -- 2. the overview's boxes -------------------------------------------------------------------


@SIZES
async def test_overview_boxes_hold_no_stray_marks(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The lists' boxes show rows only: no scroll bar inside a box (a block in the P&L
    column, a line across Latest trades), and every box edge runs straight down."""
    seeded = await trader(db)
    async with db.sessions.begin() as s:
        for i, name in enumerate(("One", "Two", "Three", "Four", "Five", "Six")):
            s.add(
                Bot(
                    id=f"bot{i}", user_id=seeded.actor.user_id, name=name, type="grid",
                    status="active", config={}, risk_settings={},
                    created_at=NOW - timedelta(days=1),
                )
            )  # fmt: skip
    async with signed_in(migrated_url, tmp_path, seeded, size=size) as (app, pilot):
        screen = app.screen
        trades = screen.query_one("#trades", KeyedTable)
        await wait_for(pilot, lambda: trades.row_count == 7, what="the latest trades")
        assert screen.query_one("#bots-box").border_title == "Active bots · 6"
        lines = screen_lines(app)
        for box in (screen.query_one("#bots-box"), screen.query_one("#trades-box")):
            r = box.region
            for y in range(r.y + 1, r.bottom - 1):
                row = lines[y]
                assert row[r.x] == "│" and row[r.right - 1] == "│", f"edge off on line {y}"
                inside = row[r.x + 1 : r.right - 1]
                assert not BARS & set(inside), f"stray mark in {box.id}: {inside!r}"
                assert "─" not in inside, f"a line across {box.id}: {inside!r}"


# -- 3. the nav bar ----------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 100, 120, 140])
async def test_nav_bar_never_shows_a_key_without_its_name(
    db: Database, migrated_url: str, tmp_path: Path, width: int
) -> None:
    seeded = await trader(db, history=False)  # the first account: a superadmin, every screen
    async with signed_in(migrated_url, tmp_path, seeded, size=(width, 30)) as (app, _):
        bar = screen_lines(app)[-2].split()
        names = {d.key: {d.title.split()[0], d.label.split()[0]} for d in navigation.SCREENS}
        keys = [i for i, word in enumerate(bar) if word in names]
        assert len(keys) >= 8, bar  # the everyday screens are there
        for i in keys:
            assert i + 1 < len(bar) and bar[i + 1] in names[bar[i]], f"bare key {bar[i]}: {bar}"
        if len(keys) < len(navigation.allowed(app.actor)):
            assert bar[-1] == "…"  # says there are more (all in ? and the palette)


# -- 4 and 6. the trade filters at 80×24 and 120×40 --------------------------------------------


@SIZES
async def test_trade_filters_are_reachable_and_unclipped(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    seeded = await trader(db)
    async with signed_in(migrated_url, tmp_path, seeded, size=size) as (app, pilot):
        screen = await open_screen(pilot, "4", TradesScreen)
        lines = screen_lines(app)
        assert any("from YYYY-MM-DD" in line for line in lines), "the from date is clipped"
        assert any("to YYYY-MM-DD" in line for line in lines), "the to date is clipped"
        await pilot.press("slash")
        fields = list(screen.query("#filters > *").results(Widget))
        seen = []
        for _ in fields:
            focused = app.focused
            assert focused is not None and focused in fields, f"Tab left the filters: {focused}"
            seen.append(focused.id)
            r = focused.region
            assert r.width >= 12 and r.height == 1, f"{focused.id} squeezed: {r}"
            assert r.right <= size[0] and r.bottom <= size[1] - 2, f"{focused.id} off screen"
            words = (
                str(focused.placeholder)
                if isinstance(focused, Input)
                else str(focused.query_one("SelectCurrent #label", Static).render())
            )
            assert words in screen_lines(app)[r.y], f"{focused.id} clipped"
            await pilot.press("tab")
        assert seen[:3] == ["f-symbol", "f-bot", "f-side"] and len(set(seen)) == len(fields)


# -- 5. the symbol filter finds ETH pairs ------------------------------------------------------


async def test_symbol_filter_finds_every_eth_pair(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db)
    async with db.sessions.begin() as s:  # an ETH/BTC trade besides the ETH/USDT ones
        await s.execute(
            text(
                "INSERT INTO trades (id, user_id, symbol, side, type, price, quantity,"
                " executed_price, fee, fee_currency, total, balance, status, is_paper_trade,"
                " executed_at) VALUES ('ethbtc0000000000000000001', :user, 'ETH/BTC', 'BUY',"
                " 'MARKET', 0.05, 1, 0.05, 0, 'BTC', 0.05, 0, 'FILLED', true, :at)"
            ),
            {"user": seeded.actor.user_id, "at": NOW - timedelta(hours=1)},
        )
    async with signed_in(migrated_url, tmp_path, seeded, size=WIDE) as (_, pilot):
        screen = await open_screen(pilot, "4", TradesScreen)
        table = screen.query_one("#trades", KeyedTable)

        def symbols() -> set[str]:
            return {str(table.get_row(k)[1]) for k in table.keys}

        assert symbols() == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "ETH/BTC"}
        await pilot.press("slash", *"ETH")
        await wait_for(pilot, lambda: symbols() == {"ETH/USDT", "ETH/BTC"}, what="ETH pairs")
        await pilot.press("backspace", "backspace", "backspace", *"eth/usdt")
        await wait_for(pilot, lambda: symbols() == {"ETH/USDT"}, what="one pair, any case")


# -- 7. a notification in full ----------------------------------------------------------------


async def test_enter_opens_a_notification_in_full_and_marks_it_read(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    message = "Closed 0.5 ETH at 2,910.20 (−3.1 %). " + "The stop was 3 % under the entry. " * 6
    async with db.sessions.begin() as s:
        await notify(
            s,
            user_id=seeded.actor.user_id,
            type=NotificationType.STOP_LOSS_HIT,
            priority=NotificationPriority.HIGH,
            title="Stop-loss hit on ETH/USDT",
            message=message,
            clock=seeded.auth.clock,
        )
    async with signed_in(migrated_url, tmp_path, seeded, size=SMALL) as (app, pilot):
        screen = await open_screen(pilot, "9", NotificationsScreen)
        assert "1 unread" in shown(app)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NotificationDetailModal), what="the detail"
        )
        modal = app.screen
        body = str(modal.query_one("#notification-message", Static).render())
        assert " ".join(body.split()) == " ".join(message.split())  # the whole text
        meta = str(modal.query_one("#notification-meta", Static).render())
        assert "Stop loss hit" in meta and "High priority" in meta and "2026-01-01" in meta
        assert "Stop-loss hit on ETH/USDT" in shown(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back in the inbox")
        await wait_for(pilot, lambda: "0 unread" in shown(app), what="marked read")


# -- 8. the engine's counts --------------------------------------------------------------------


async def test_engine_process_counts_add_up_to_the_header(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """A process's heartbeat said 2 bots a moment ago; the bots' leases say 1 now. The column
    and the header count the same thing, from the same moment, under the same words."""
    seeded = await trader(db, history=False)
    async with db.sessions.begin() as s:
        s.add(
            EngineProcess(
                id="p1", host="trader-01", pid=4242, version="0.1.0",
                started_at=NOW - timedelta(hours=1), heartbeat_at=NOW - timedelta(seconds=1),
                bots_leased=2,
            )
        )  # fmt: skip
        for i in range(7):
            s.add(
                Bot(
                    id=f"bot{i}", user_id=seeded.actor.user_id, name=f"Bot {i}", type="grid",
                    status="active", config={}, risk_settings={},
                    created_at=NOW - timedelta(days=1), started_at=NOW - timedelta(hours=1),
                    last_execution_at=NOW - timedelta(seconds=30),
                    lease_owner="p1" if i == 0 else None,
                    lease_until=NOW + timedelta(seconds=10) if i == 0 else None,
                )
            )  # fmt: skip
    async with signed_in(migrated_url, tmp_path, seeded, size=WIDE) as (app, pilot):
        await pilot.press("f5")
        await wait_for(pilot, lambda: "in cycle now" in shown(app), what="the engine screen")
        summary = str(app.screen.query_one("#engine-summary", Static).render())
        assert "7 active bots, 1 in cycle now" in summary
        table = app.screen.query_one("#processes", KeyedTable)
        labels = [str(c.label) for c in table.ordered_columns]
        assert "In cycle" in labels and "Bots" not in labels
        column = labels.index("In cycle")
        assert [str(table.get_row_at(i)[column]).strip() for i in range(table.row_count)] == ["1"]


# -- 9. the stop dialog ------------------------------------------------------------------------


class _Dialog(App[None]):
    def __init__(self, open_positions: int) -> None:
        super().__init__()
        self.open_positions = open_positions
        self.answer: object = "unanswered"

    def compose(self) -> ComposeResult:
        yield Static("bots")

    def on_mount(self) -> None:
        def done(answer: bool | None) -> None:
            self.answer = answer

        self.push_screen(StopBotModal("Grid BTC", self.open_positions), done)


async def test_stop_dialog_offers_no_close_for_a_bot_holding_nothing() -> None:
    app = _Dialog(0)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        screen = shown(app)
        assert "Stop Grid BTC?" in screen and "It holds no open positions." in screen
        assert not app.screen.query(Checkbox)
        assert "Close" not in screen and "position at market" not in screen
        await pilot.press("c", "y")  # c does nothing; y stops without closing
        await pilot.pause()
        assert app.answer is False


async def test_stop_dialog_offers_to_close_open_positions() -> None:
    app = _Dialog(2)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert "Close its 2 open positions at market (c)" in shown(app)
        assert "c Close positions" in shown(app)
        await pilot.press("c", "y")
        await pilot.pause()
        assert app.answer is True


# -- 10. focus in 256 colours ------------------------------------------------------------------


def _differs(before: list[tuple[str, str]], after: list[tuple[str, str]]) -> float:
    """The share of cells whose background changed."""
    return sum(b[1] != a[1] for b, a in zip(before, after, strict=True)) / len(before)


async def _focus_shows(app: App[Any], pilot, field: Widget) -> float:  # type: ignore[no-untyped-def]
    app.screen.set_focus(None)
    await pilot.pause()
    before = cell_styles(app, field, ColorSystem.EIGHT_BIT)
    field.focus()
    await pilot.pause()
    assert app.focused is field
    return _differs(before, cell_styles(app, field, ColorSystem.EIGHT_BIT))


async def test_the_focused_field_shows_in_256_colours(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """A terminal without truecolor (``COLORTERM`` unset, TERM=xterm-256color) gets every
    colour rounded to its 256-colour palette by the app's console: a focused field's
    background must still differ from an unfocused one's over the whole field, not only at
    the cursor."""
    seeded: Seeded = await trader(db)
    async with signed_in(migrated_url, tmp_path, seeded, size=WIDE) as (app, pilot):
        screen = await open_screen(pilot, "4", TradesScreen)
        for field in screen.query("#filters > *").results(Widget):
            assert await _focus_shows(app, pilot, field) >= 0.9, field.id
        screen = await open_screen(pilot, "9", NotificationsScreen)
        for select in screen.query(Select).results(Select):
            assert await _focus_shows(app, pilot, select) >= 0.9, select.id
        screen = await open_screen(pilot, "2", BotsScreen)
        await pilot.press("slash", "x", "enter")  # a filter kept open, focus back on the list
        await settle(pilot)
        bar = screen.query_one("#filter", Input)
        assert bar.display and app.focused is not bar
        assert await _focus_shows(app, pilot, bar) >= 0.9
