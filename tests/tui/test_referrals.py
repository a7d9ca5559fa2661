"""Pilot: the Referrals screen shows the user's code (made on first visit), the rule, and the
people who joined with it, masked — and only the user's own."""

from __future__ import annotations

from textual.widgets import Static

from core.db.engine import Database
from core.services import referrals
from tests.service_users import add_user
from tests.tui.screen_helpers import SMALL, ScreenApp, settle
from tui.screens.referrals import ReferralsScreen
from tui.widgets.table import KeyedTable


async def test_code_rule_and_referrals(db: Database) -> None:
    ann = await add_user(db, "ann@example.com")
    eve = await add_user(db, "eve@example.com")
    joined = await add_user(db, "cid@example.com")
    async with db.sessions.begin() as s:
        await referrals.link_referral(s, joined.user_id, await referrals.my_code(s, ann))
        code = await referrals.my_code(s, ann)
    app = ScreenApp(db.url, ann, ReferralsScreen)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert code in str(app.screen.query_one("#referral-code", Static).render())
        assert "20% of that payment" in str(app.screen.query_one("#referral-rule", Static).render())
        table = app.screen.query_one("#referral-table", KeyedTable)
        assert table.row_count == 1
        assert str(table.get_row_at(0)[0]) == "c•••@example.com"
        await pilot.press("c")
    app = ScreenApp(db.url, eve, ReferralsScreen)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#referral-table", KeyedTable).row_count == 0
        assert code not in str(app.screen.query_one("#referral-code", Static).render())
