"""The fee tier in the dashboard (issue 12 item 2): on the exchanges screen a trader lists their
fee tiers, sets one per exchange in a dialog with its taker and maker fields (each refusal in
plain words, the field marked, what was typed kept) and clears it. Typed key by key into every
field, at 120×40 and 80×24, against real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from core.db.engine import Database
from core.services import fee_tiers
from tests.tui.auth_helpers import open_screen, settle, type_into, wait_for
from tests.tui.dash_helpers import signed_in, trader
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.screens.exchanges import ExchangesScreen
from tui.widgets.table import KeyedTable


async def tiers(db: Database, actor) -> list[tuple[str, Decimal, Decimal | None]]:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return [
            (t.exchange, t.taker_percent, t.maker_percent)
            for t in await fee_tiers.list_fee_tiers(s, actor)
        ]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_set_refuse_and_clear_a_fee_tier_typing_into_every_field(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=size) as (app, pilot):
        screen = await open_screen(pilot, "7", ExchangesScreen)
        hint = screen.query_one("#fee-hint", Static)
        await wait_for(pilot, lambda: "No fee tiers" in str(hint.render()), what="empty hint")

        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FormModal), what="fee dialog")
        modal = app.screen
        error = modal.query_one("#form-error", Static)

        async def refused(words: str, field: str) -> None:
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: words in str(error.render()), what=words)
            assert app.screen is modal, "a refusal keeps the dialog"
            assert modal.query_one(f"#field-{field}").has_class("-invalid-field"), field
            assert await tiers(db, seeded.actor) == []

        await type_into(pilot, "#field-exchange", "nowhere", keys=True)
        await type_into(pilot, "#field-taker_fee", "0.02", keys=True)
        await refused("'nowhere' is not an exchange", "exchange")
        await type_into(pilot, "#field-exchange", "Binance", keys=True)
        await type_into(pilot, "#field-taker_fee", "", keys=True)
        await refused("Enter the taker fee in percent", "taker_fee")
        await type_into(pilot, "#field-taker_fee", "7", keys=True)
        await refused("The taker fee must be between 0 and 5 %", "taker_fee")
        await type_into(pilot, "#field-taker_fee", "0.02", keys=True)
        await type_into(pilot, "#field-maker_fee", "a lot", keys=True)
        await refused("The maker fee must be a number of percent", "maker_fee")
        # Everything typed is still there after the refusals.
        assert modal.query_one("#field-exchange", Input).value == "Binance"
        assert modal.query_one("#field-taker_fee", Input).value == "0.02"
        await type_into(pilot, "#field-maker_fee", "0.01", keys=True)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
        assert await tiers(db, seeded.actor) == [("binance", Decimal("0.02"), Decimal("0.01"))]

        table = screen.query_one("#fee-tiers", KeyedTable)
        await wait_for(pilot, lambda: table.keys == ["binance"], what="the tier's row")
        assert [str(c) for c in table.get_row("binance")][:3] == ["binance", "0.02 %", "0.01 %"]
        assert "f sets one, x clears it" in str(hint.render())

        # From the tier's row the dialog starts on its figures; an empty maker fee keeps the
        # market's.
        table.focus()
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FormModal), what="fee dialog")
        modal = app.screen
        assert modal.query_one("#field-exchange", Input).value == "binance"
        assert modal.query_one("#field-taker_fee", Input).value == "0.02"
        await type_into(pilot, "#field-taker_fee", "0.04", keys=True)
        await type_into(pilot, "#field-maker_fee", "", keys=True)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
        assert await tiers(db, seeded.actor) == [("binance", Decimal("0.04"), None)]
        await wait_for(
            pilot,
            lambda: [str(c) for c in table.get_row("binance")][1:3] == ["0.04 %", "the market's"],
            what="the changed row",
        )

        table.focus()
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: table.keys == [], what="the row gone")
        assert await tiers(db, seeded.actor) == []
        await wait_for(pilot, lambda: "No fee tiers" in str(hint.render()), what="empty hint")
        await settle(pilot)
