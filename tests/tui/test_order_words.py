"""The order screen's review and result in words and rounded figures with their currency:
``Available 10,031.61 USDT`` (not ``10,031.60936``), ``Bought 0.01 BTC at 65,012.50 USDT.``
(not ``filled, filled 0.01``)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import Static

from core.db.engine import Database
from tests.tui.auth_helpers import settle, type_into
from tests.tui.dash_helpers import signed_in, trader
from tui.modals.confirm import ConfirmModal
from tui.screens.order import OrderScreen


async def test_the_review_and_the_result_read_as_figures_with_currency(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db)  # days of manual trading: fees leave a balance with many decimals
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        await type_into(pilot, "#quantity", "0.01")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        text = str(app.screen.query_one(".dialog-text", Static).render())
        available = re.search(r"Available\s+(\S+) (\S+)", text)
        assert available is not None, text
        assert re.fullmatch(r"[\d,]+\.\d\d", available[1]) and available[2] == "USDT", text
        assert re.search(r"Total cost\s+[\d,]+\.\d\d USDT", text), text
        assert re.search(r"Expected price\s+[\d,]+\.\d+ USDT", text), text
        await pilot.press("y")
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any(re.fullmatch(r"Bought 0\.01 BTC at [\d,]+\.\d\d USDT\.", m) for m in said), said
        assert not any("filled, filled" in m for m in said), said
