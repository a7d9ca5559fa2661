"""The Overview's analytics box: the period's figures from the analytics cache, following the
chart's period keys."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from textual.geometry import Spacing
from textual.widgets import Static

from core.db.engine import Database
from core.services import analytics
from core.services.bots import BotSpec, create_bot
from tests.tui.auth_helpers import open_screen, wait_for
from tests.tui.dash_helpers import NOW, bulk_trades, signed_in, trader
from tui import format as fmt
from tui.screens.bots import BotsScreen
from tui.screens.defi import DeFiScreen
from tui.screens.notifications import NotificationsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.support import SupportScreen
from tui.screens.trades import TradesScreen


async def test_analytics_follow_the_period(db: Database, migrated_url: str, tmp_path: Path) -> None:
    seeded = await trader(db)
    await bulk_trades(db, seeded.actor.user_id, 3 * 24 * 60)  # three days, one a minute
    async with db.session() as s:
        day = await analytics.compute(s, seeded.actor.user_id, "trading", "24h", NOW)
        week = await analytics.compute(s, seeded.actor.user_id, "trading", "7d", NOW)
    assert day["trades"] < week["trades"]
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        assert isinstance(app.screen, OverviewScreen)
        box = app.screen.query_one("#period", Static)

        def shown() -> str:
            return str(box.render())

        await wait_for(pilot, lambda: f"{day['trades']} trades" in shown(), what="24h figures")
        assert box.border_title == "Analytics · 24h"
        assert f"net {fmt.money(Decimal(day['net_pnl']), sign=True)}" in shown()
        await pilot.press("w")
        await wait_for(pilot, lambda: f"{week['trades']} trades" in shown(), what="7d figures")
        assert box.border_title == "Analytics · 7d"
        assert f"volume {fmt.money(Decimal(week['volume']))}" in shown()


async def test_funding_a_bot_leaves_the_return_unchanged(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """A new bot's 10,000 starting cash is a cash flow: the overview's time-weighted return and
    its gain stay what they were, while the portfolio value grows by 10,000."""
    seeded = await trader(db)
    async with db.session() as s:
        before = await analytics.compute(s, seeded.actor.user_id, "portfolio", "24h", NOW)
    async with db.sessions.begin() as s:
        await create_bot(
            s,
            seeded.actor,
            BotSpec(name="Funded", type="dca", initial_balance=Decimal(10000)),
            clock=seeded.auth.clock,
        )
    expected = (
        f"Time-weighted return {fmt.percent(Decimal(before['change_percent']))}"
        f" ({fmt.money(Decimal(before['change']), sign=True)})"
    )
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        box = app.screen.query_one("#period", Static)
        await wait_for(pilot, lambda: "trades" in str(box.render()), what="the analytics")
        assert expected in str(box.render())
    async with db.session() as s:
        after = await analytics.compute(s, seeded.actor.user_id, "portfolio", "24h", NOW)
    assert Decimal(after["value"]) == Decimal(before["value"]) + 10000
    assert Decimal(after["net_flows"]) == 10000


async def test_the_cards_keep_their_look_after_other_screens_css_is_loaded(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """Inbox, Support, DeFi, Trades and Bots style their own ``#status``, ``#trades`` and
    ``#next-steps``; once visited, their CSS stays in the app: the overview's must still win."""
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(80, 24)) as (_app, pilot):
        for key, kind in (
            ("9", NotificationsScreen),
            ("0", SupportScreen),
            ("8", DeFiScreen),
            ("4", TradesScreen),
            ("2", BotsScreen),
        ):
            await open_screen(pilot, key, kind)
        screen = await open_screen(pilot, "1", OverviewScreen)
        cards = [screen.query_one(f"#{card}") for card in ("portfolio", "today", "status")]
        assert [card.region.height for card in cards] == [6, 6, 6]
        assert cards[0].region.right == cards[1].region.x
        assert cards[1].region.right == cards[2].region.x
        assert cards[2].region.right == 80
        assert screen.query_one("#trades").styles.border_bottom[0] in ("", "none")
        assert screen.query_one("#next-steps").styles.margin == Spacing(0, 0, 0, 0)
