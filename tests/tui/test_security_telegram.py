"""Pilot: the Security screen's Telegram tab makes a one-time pairing code (shown once), shows
the paired chat, and unpairs it."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TabbedContent

from core.clock import FrozenClock
from core.db.engine import Database
from core.services import telegram_links
from tests.tui.auth_helpers import palette_hits, screen_text, settle, wait_for
from tests.tui.test_auth_security import signed_in_app
from tui.modals.confirm import ConfirmModal
from tui.modals.show_once import ShowOnceModal
from tui.screens.security import SecurityScreen


async def test_telegram_tab_pairs_and_unpairs(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    clock = FrozenClock()
    app, _auth, _there = await signed_in_app(db, migrated_url, tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")  # the palette leads to the tab too
        await pilot.press(*"telegram: pair")
        await wait_for(
            pilot,
            lambda: any("Telegram: pair a chat" in h for h in palette_hits(app)),
            what="the command in the palette",
        )
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SecurityScreen)
        assert app.screen.query_one(TabbedContent).active == "telegram"
        assert "No Telegram chat is paired." in screen_text(app)
        await pilot.click("#telegram-code")
        await settle(pilot)
        assert isinstance(app.screen, ShowOnceModal)
        shown = str(app.screen.query_one("#secret").render()).strip()
        assert shown.startswith("/start ") and len(shown) == len("/start ") + 8
        await pilot.press("enter")
        await settle(pilot)
        assert "A code is waiting until" in screen_text(app) and shown not in screen_text(app)

        await telegram_links.pair_chat(db, 777001, shown.split()[1], clock=clock)
        await pilot.press("7")
        await settle(pilot)
        assert "Paired with Telegram chat 777001" in screen_text(app)
        await pilot.click("#telegram-unpair")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert "No Telegram chat is paired." in screen_text(app)
        assert not (await telegram_links.link_state(db, app.actor, clock=clock)).paired
