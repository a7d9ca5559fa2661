"""Words a trader reads: a daily-loss pause says ``Bot paused`` in the inbox (not ``Bot
stopped``), the type filter says ``Two-factor authentication enabled`` (not ``Two fa
enabled``)."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.notifications import NotificationPriority as P
from core.db.models.notifications import NotificationType as T
from core.notifications import notify
from tests.service_users import add_user
from tests.tui.screen_helpers import NOW, WIDE, ScreenApp, settle
from tui.screens.notifications import NotificationsScreen


async def test_the_inbox_says_paused_resumed_and_two_factor_in_words(
    db: Database, migrated_url: str
) -> None:
    me = await add_user(db, "ann@example.com", id="ann0000000000000000000001")
    clock = FrozenClock(NOW - timedelta(hours=2))
    sent = [
        (T.BOT_STOPPED, "Bot paused: Grid reached its daily loss limit", "daily_loss_limit"),
        (T.BOT_STARTED, "Bot resumed: Grid", "resumed"),
        (T.TWO_FA_ENABLED, "Two-factor authentication is on", None),
    ]
    for type_, title, action in sent:
        clock.advance(minutes=10)
        async with db.sessions.begin() as s:
            await notify(s, user_id=me.user_id, type=type_, priority=P.NORMAL, title=title,
                         message=title, metadata={"action": action} if action else None,
                         clock=clock)  # fmt: skip
    app = ScreenApp(migrated_url, me, NotificationsScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#inbox")
        rows = [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert any("Bot paused" in r and "daily loss" in r for r in rows), rows
        assert any("Bot resumed" in r for r in rows), rows
        assert any("Two-factor authentication enabled" in r for r in rows), rows
        assert not any("Bot stopped" in r or "Two fa" in r for r in rows), rows
        options = app.screen.query_one("#type-filter", Select)
        labels = [str(label) for label, _ in options._options]
        assert "Two-factor authentication enabled" in labels
        assert not any("Two fa" in label for label in labels)
