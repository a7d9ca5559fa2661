"""The new-bot form shows its first screenful first (issue 15: first visit): the settings below
it, the risk settings, an error line and the live bots' exchange row are made a moment later or
when needed, and then every field takes input and saves, at 120×40 and 80×24."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Checkbox, Select

from core.db.engine import Database
from core.db.models.billing import Subscription
from core.db.models.bots import Bot, BotWallet
from core.services import exchanges
from tests.tui.auth_helpers import settle, type_into, wait_for
from tests.tui.dash_helpers import NOW, SMALL, WIDE, dashboard, trader
from tui.screens.bot_form import BotFormScreen, FieldRow, first_rows
from tui.screens.bots import BotsScreen

SIZES = pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])


def _rows(form: BotFormScreen, prefix: str) -> list[str]:
    return [r.field.key for r in form.query(FieldRow).results(FieldRow) if r.prefix == prefix]


async def _open_form(pilot: Pilot[None], app: App[None]) -> BotFormScreen:
    """From the overview to the new-bot form (Bots, then n)."""
    await settle(pilot)
    await pilot.press("2")
    await wait_for(pilot, lambda: isinstance(app.screen, BotsScreen), what="bots")
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, BotFormScreen), what="the form")
    form = app.screen
    assert isinstance(form, BotFormScreen)
    return form


@SIZES
async def test_the_rest_of_the_form_follows_and_every_field_takes_input(
    db: Database, migrated_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    seeded = await trader(db, history=False)
    app = dashboard(migrated_url, tmp_path, seeded)
    async with app.run_test(size=size) as pilot:
        form = await _open_form(pilot, app)
        await wait_for(pilot, lambda: form.laid, what="the rest of the form")
        # Every row in its place, the first screenful's and the rest; no error line, no
        # exchange row (a new bot starts on paper).
        assert _rows(form, "cfg") == [
            "symbol", "timeframe", "quote_amount", "interval_minutes",  # the first screenful
            "levels", "max_buys", "cooldown_minutes", "take_profit_percent",
        ]  # fmt: skip
        assert len(_rows(form, "risk")) == 13 and form.query("#form-buttons #save")
        # The rows on the first frame are those the first screenful shows: the next one laid
        # after it starts below the screen's last line of the form.
        shown = first_rows(size[1], editing=False)
        assert shown == (4 if size == WIDE else 0)
        rows = list(form.query_one("#cfg-fields").query(FieldRow).results(FieldRow))
        bottom = form.query_one("#form").region.bottom
        assert all(r.region.y < bottom for r in rows[:shown])
        assert rows[shown].region.y >= bottom
        assert not form.query(".field-row .field-error") and not form.query("#row-connection")
        # The last row laid takes keys; a wrong value gets an error line at its field.
        await type_into(pilot, "#risk-cooldown_after_loss_minutes", "15", keys=True)
        await type_into(pilot, "#cfg-max_buys", "many")
        await type_into(pilot, "#name", "Late rows")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        row = form.query_one("#row-cfg-max_buys", FieldRow)
        assert row.has_class("-invalid") and row.query(".field-error.-shown")
        await type_into(pilot, "#cfg-max_buys", "4")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, BotsScreen), what="saved")
        async with db.session() as s:
            bot = await s.scalar(select(Bot).where(Bot.name == "Late rows"))
        assert bot is not None and bot.config["max_buys"] == 4
        assert bot.risk_settings["cooldown_after_loss_minutes"] == 15


async def test_a_live_bot_chooses_its_connection_on_the_row_made_for_it(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with db.sessions.begin() as session:  # live trading is a paid plan's
        session.add(
            Subscription(
                user_id=seeded.actor.user_id, plan="basic", status="active",
                billing_cycle="yearly", amount=Decimal(0), started_at=NOW - timedelta(days=30),
                expires_at=NOW + timedelta(days=365), is_complimentary=True, grant_reason="test",
            )
        )  # fmt: skip
    connection = await exchanges.add_connection(
        db, seeded.actor, exchange="binance", api_key="AbCdEfGh12345678",
        secret="s3cr3t-s3cr3t-s3cr3t", testnet=True, permissions=("read", "trade"),
    )  # fmt: skip
    app = dashboard(migrated_url, tmp_path, seeded)
    async with app.run_test(size=WIDE) as pilot:
        form = await _open_form(pilot, app)
        await settle(pilot)
        form.query_one("#paper", Checkbox).value = False
        await settle(pilot)
        choice = form.query_one("#connection", Select)
        assert [v for _, v in choice._options if v is not Select.NULL] == [connection.id]
        choice.value = connection.id
        await type_into(pilot, "#name", "Live one")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, BotsScreen), what="saved")
        async with db.session() as s:
            wallets = (
                await s.scalars(
                    select(BotWallet.exchange_connection_id)
                    .join(Bot, Bot.id == BotWallet.bot_id)
                    .where(Bot.name == "Live one")
                )
            ).all()
        assert connection.id in wallets
