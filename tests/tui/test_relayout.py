"""A screen is laid out once per size: Textual answered the screen's own ``Resize`` (sent by
its first layout, and again when its content grew) with a whole new layout at the size just
laid out, two more on a first visit (``tui.relayout``). A real resize still lays it out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual._compositor import Compositor
from textual.geometry import Size
from textual.widgets import Input

from core.db.engine import Database
from tests.tui.auth_helpers import open_screen, settle
from tests.tui.dash_helpers import dashboard, trader
from tui.screens.bot_form import BotFormScreen
from tui.screens.bots import BotsScreen


@asynccontextmanager
async def new_bot_form(
    db: Database, url: str, tmp_path: Path, size: tuple[int, int]
) -> AsyncIterator[tuple[Any, BotFormScreen]]:
    """A trader's dashboard at ``size`` with the new-bot form open (from the bots screen)."""
    app = dashboard(url, tmp_path, await trader(db, history=False))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await open_screen(pilot, "2", BotsScreen)
        yield pilot, await open_screen(pilot, "n", BotFormScreen)


async def test_a_resize_to_the_laid_out_size_lays_nothing_out_again(
    db: Database, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with new_bot_form(db, migrated_url, tmp_path, (120, 40)) as (pilot, form):
        layouts: list[tuple[Any, Size]] = []
        real_reflow = Compositor.reflow

        def counting_reflow(compositor: Compositor, parent: Any, size: Size) -> Any:
            layouts.append((parent, size))
            return real_reflow(compositor, parent, size)

        monkeypatch.setattr(Compositor, "reflow", counting_reflow)
        # What the form's first layout sends it (its region, virtual and container size).
        form.post_message(events.Resize(Size(120, 40), Size(120, 40), Size(120, 40)))
        await settle(pilot)
        assert [p for p, _ in layouts if p is form] == []

        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert (form, Size(100, 30)) in layouts
        assert form.query_one("#name").region.width == form.query_one("#description").region.width
        assert 0 < form.query_one("#name").region.right <= 100


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_every_field_of_the_new_bot_form_takes_typing(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The risk settings are laid after the form's first frame: they take input as the rest."""
    async with new_bot_form(db, migrated_url, tmp_path, size) as (pilot, form):
        fields = list(form.query(Input).results(Input))
        assert form.query("#risk-stop_loss_percent") and form.query("#cfg-symbol")
        for field in fields:
            field.focus()
            field.value = ""
            await pilot.press("7")
            assert field.value == "7", field.id or field.name
            assert form.focused is field and field.region.height == 1
