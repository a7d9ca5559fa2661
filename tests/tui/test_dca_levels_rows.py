"""The bot form edits a DCA bot's levels as rows (drop % and buy %): add a row, remove a row,
each row checked with a clear message at its cell; what is saved is the rows as a list."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from textual.widgets import Button, Input

from core.db.engine import Database
from core.db.models.bots import Bot
from tests.tui.auth_helpers import settle, type_into
from tests.tui.dash_helpers import signed_in, trader
from tui.screens.bot_form import BotFormScreen, FieldRow
from tui.screens.bots import BotsScreen
from tui.widgets.rows_field import RowsField


def _cells(form: BotFormScreen) -> list[list[str]]:
    rows = form.query_one("#cfg-levels", RowsField)
    return [[c.value for c in line.query(".cell").results(Input)] for line in rows.lines]


async def test_dca_levels_are_rows_added_removed_and_checked_one_by_one(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, BotFormScreen)
        levels = form.query_one("#cfg-levels", RowsField)  # rows, not a line of JSON
        assert _cells(form) == [["5", "50"], ["10", "100"]]
        assert [c.placeholder for c in levels.lines[0].query(".cell").results(Input)] == [
            "drop percent", "buy percent",
        ]  # fmt: skip

        # add a third level by its button, type into its cells
        add = levels.query_one(".add-row", Button)
        add.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert len(levels.lines) == 3
        assert app.focused is levels.lines[2].cell("drop_percent")  # ready to type
        await pilot.press(*"15")
        await pilot.press("tab")
        await pilot.press(*"abc")  # not a number
        await type_into(pilot, "#name", "Ladder")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BotFormScreen)  # nothing saved
        row = form.query_one("#row-cfg-levels", FieldRow)
        assert row.has_class("-invalid")
        error = str(row.query_one(".field-error").render())
        assert error == "Levels, row 3: buy percent must be a number."
        assert app.focused is levels.lines[2].cell("buy_percent")

        # remove the first row with its ✕; the rest move up
        levels.lines[0].query_one(".remove-row", Button).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert _cells(form) == [["10", "100"], ["15", "abc"]]
        levels.lines[1].cell("buy_percent").value = "200"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BotsScreen)
    async with db.session() as s:
        bot = await s.scalar(select(Bot).where(Bot.name == "Ladder"))
    assert bot is not None
    assert bot.config["levels"] == [
        {"drop_percent": "10", "buy_percent": "100"},
        {"drop_percent": "15", "buy_percent": "200"},
    ]


async def test_a_service_refusal_names_the_row(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """Rows each valid but out of order: the model's message lands on the levels field."""
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, BotFormScreen)
        levels = form.query_one("#cfg-levels", RowsField)
        levels.lines[1].cell("drop_percent").value = "3"  # below the first row's 5
        await type_into(pilot, "#name", "Backwards")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BotFormScreen)
        row = form.query_one("#row-cfg-levels", FieldRow)
        assert row.has_class("-invalid")
        error = str(row.query_one(".field-error").render())
        assert "drop" in error.lower() and "_" not in error
