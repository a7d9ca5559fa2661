"""The key footer: one widget draws the screen's keys (tui/widgets/footer.py), from the first
frame of a screen on, follows the focus, and works with the mouse as Textual's footer does."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from core.db.engine import Database
from tests.tui.auth_helpers import settle
from tests.tui.dash_helpers import signed_in, trader
from tui.screens.trades import TradesScreen
from tui.widgets.footer import KeyFooter


def descriptions(footer: KeyFooter) -> list[str]:
    return [key.description for key in footer.keys]


async def test_a_screens_first_frame_shows_its_keys_and_they_follow_the_focus(
    db: Database, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    paint = TradesScreen._compositor_refresh

    def first_paint(screen: TradesScreen) -> None:  # the footer as the first frame draws it
        paint(screen)
        if not drawn and screen.is_current:
            drawn.append(str(screen.query_one(KeyFooter).render()))

    monkeypatch.setattr(TradesScreen, "_compositor_refresh", first_paint)
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TradesScreen)
        assert drawn and "Help" in drawn[0] and "palette" in drawn[0]

        footer = screen.query_one(KeyFooter)
        assert "Leave field" not in descriptions(footer)
        screen.query_one("#f-symbol", Input).focus()
        await settle(pilot)
        assert "Leave field" in descriptions(footer)  # Esc leaves a text field
        assert "Leave field" in str(footer.render())
        screen.query_one("#trades").focus()
        await settle(pilot)
        assert "Leave field" not in descriptions(footer)
        screen.maximize(screen.query_one("#trades"))  # a maximized list keeps the keys shown
        await settle(pilot)
        assert footer in screen._compositor.visible_widgets


async def test_a_click_on_a_key_presses_it_and_hovering_lights_it_with_its_tooltip(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        footer = app.screen.query_one(KeyFooter)
        line = str(footer.render())
        x = line.index(" ? ") + 1
        plain = footer.render().get_style_at_offset(app.console, x)  # type: ignore[union-attr]
        await pilot.hover(KeyFooter, offset=(x, 0))
        await settle(pilot)
        assert footer.tooltip == "Every key, here and everywhere"
        lit = footer.render().get_style_at_offset(app.console, x)  # type: ignore[union-attr]
        assert lit.bgcolor != plain.bgcolor
        await pilot.click(KeyFooter, offset=(x, 0))
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"
