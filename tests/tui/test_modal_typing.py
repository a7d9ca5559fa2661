"""Every text field of every dialog takes what is typed, reached by keyboard alone, at 120×40
and 80×24: the support ticket through the real dashboard (it could not be opened: the fields
showed no input), and each dialog that has text fields in a small app of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.app import App
from textual.widgets import TextArea

from core.db.engine import Database
from core.db.models.support import SupportTicket, TicketMessage
from tests.tui.auth_helpers import settle, wait_for
from tests.tui.dash_helpers import SMALL, WIDE, signed_in, trader
from tui.modals.form import Field, FormModal
from tui.modals.two_factor_code import TwoFactorCodeModal
from tui.screens.support import new_ticket_fields

SIZES = [pytest.param(WIDE, id="120x40"), pytest.param(SMALL, id="80x24")]


@pytest.mark.parametrize("size", SIZES)
async def test_a_support_ticket_is_typed_and_opened(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=size) as (app, pilot):
        await pilot.press("0")
        await settle(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormModal), what="the form")
        await settle(pilot)
        await pilot.press(*"Bot stopped")
        await pilot.press("tab", "tab", "tab")  # category, priority, message
        await pilot.press(*"It went to error at 3am")
        message = app.screen.query_one("#field-message", TextArea)
        assert message.text == "It went to error at 3am"
        assert message.region.height > 1  # what is typed can be read
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormModal), what="opened")
    async with db.session() as s:
        subject = await s.scalar(select(SupportTicket.subject))
        body = await s.scalar(select(TicketMessage.content))
    assert (subject, body) == ("Bot stopped", "It went to error at 3am")


class DialogApp(App[None]):
    def __init__(self, dialog: Any) -> None:
        super().__init__()
        self.dialog = dialog

    def on_mount(self) -> None:
        self.push_screen(self.dialog)


async def _noop_submit(values: dict[str, Any]) -> dict[str, Any]:
    return values


def _dialogs() -> list[Any]:
    every_kind = [
        Field("name", "Name", max_length=40),
        Field("secret", "Secret", "secret"),
        Field("side", "Side", "select", "buy", [("Buy", "buy"), ("Sell", "sell")]),
        Field("note", "Note", "area"),
        Field("reason", "Reason"),
        Field("agree", "Agree", "check"),
    ]
    block = [Field("ip_address", "Address", max_length=45), Field("reason", "Reason")]
    return [
        FormModal("New support ticket", new_ticket_fields(), _noop_submit, intro="Intro."),
        FormModal("Every kind", every_kind, _noop_submit),
        FormModal("Block an address", block, _noop_submit),
        TwoFactorCodeModal("Enter the code"),
    ]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("which", range(4), ids=["ticket", "every-kind", "block", "2fa"])
async def test_every_text_field_of_a_dialog_takes_keys(size: tuple[int, int], which: int) -> None:
    app = DialogApp(_dialogs()[which])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        fields = list(app.screen.query("Input, TextArea"))
        assert fields and app.focused is fields[0]  # the first key typed lands in a field
        for n, _ in enumerate(fields):
            # Walk by Tab from the first control to each text field, then type.
            for _ in range(100):
                if app.focused in fields and fields.index(app.focused) == n:
                    break
                await pilot.press("tab")
            assert app.focused is fields[n], f"field {n} unreachable by Tab"
            await pilot.press(*f"v{n}")
            field = fields[n]
            value = field.text if isinstance(field, TextArea) else field.value
            assert value.endswith(f"v{n}"), (field.id, value)
            assert field.region.width >= 10  # on screen, wide enough to read
            assert field.region.height >= (3 if isinstance(field, TextArea) else 1)
