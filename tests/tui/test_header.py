"""The header (tui/widgets/header.py): one widget, titled from its first frame, following the
signed-in user; its icon opens the command palette, a click elsewhere makes it tall."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette

from core.db.engine import Database
from tests.tui.auth_helpers import settle, wait_for
from tests.tui.dash_helpers import signed_in, trader
from tui.widgets.header import AppHeader


def line(header: AppHeader) -> str:
    return header.render_line(header.size.height // 2).text


async def test_the_header_follows_the_title_and_its_icon_opens_the_palette(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        header = app.screen.query_one(AppHeader)
        assert "BlockbotX — trader@example.com" in line(header)
        app.sub_title = "someone else"
        await settle(pilot)
        assert line(header).strip().endswith("BlockbotX — someone else")
        assert len(line(header)) == 120

        await pilot.click(AppHeader, offset=(60, 0))  # not the icon: tall, the title in the middle
        await wait_for(pilot, lambda: header.size.height == 3)
        assert "someone else" in line(header) and not header.render_line(0).text.strip()
        await pilot.hover(AppHeader, offset=(1, 1))  # (its tooltip could cover a click elsewhere)
        assert header.tooltip == "Open the command palette"
        await pilot.click(AppHeader, offset=(1, 1))
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
