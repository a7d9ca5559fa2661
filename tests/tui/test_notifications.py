"""Notifications inbox and preferences, driven with Pilot against the real database; toasts of
live notification events; snapshots at 120×40 and 80×24."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from textual.widgets import Checkbox, Input, Select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.notifications import (
    Notification,
    NotificationChannel,
    NotificationPreference,
)
from core.db.models.notifications import NotificationPriority as P
from core.db.models.notifications import NotificationType as T
from core.notifications import notify
from core.services.actor import Actor
from tests.service_users import add_user
from tests.tui.auth_helpers import wait_for
from tests.tui.screen_helpers import NOW, SMALL, WIDE, ScreenApp, no_blink, seed, settle
from tui.screens.notification_prefs import NotificationPrefsScreen
from tui.screens.notifications import NotificationsScreen, start_toasts

SAMPLES = [
    (T.BOT_STARTED, P.NORMAL, "Grid BTC/USDT started", "Your grid bot is trading 10 levels."),
    (T.STOP_LOSS_HIT, P.HIGH, "Stop-loss hit on ETH/USDT", "Closed 0.5 ETH at 2,910.20 (−3.1 %)."),
    (T.TICKET_MESSAGE, P.NORMAL, "Support replied: API keys", "Thanks, the key is revoked."),
    (T.LOGIN_NEW_DEVICE, P.HIGH, "New sign-in from laptop", "tmux on laptop, 198.51.100.7."),
    (T.DAILY_REPORT, P.LOW, "Daily report", "3 bots, 14 trades, +41.20 USDT today."),
]


async def _fill(db: Database) -> Actor:
    me = await add_user(db, "ann@example.com", id="ann0000000000000000000001")
    clock = FrozenClock(NOW - timedelta(hours=6))
    for type_, priority, title, message in SAMPLES:
        clock.advance(minutes=50)
        async with db.sessions.begin() as s:
            await notify(s, user_id=me.user_id, type=type_, priority=priority, title=title,
                         message=message, clock=clock)  # fmt: skip
    async with db.sessions.begin() as s:  # the oldest one was read already
        first = await s.scalar(select(Notification).order_by(Notification.created_at).limit(1))
        assert first is not None
        first.read = True
    return me


def _rows(app: ScreenApp) -> list[str]:
    table = app.screen.query_one("#inbox")
    return [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]


async def test_mark_read_filter_and_live_arrival(db: Database, migrated_url: str) -> None:
    me = await _fill(db)
    app = ScreenApp(migrated_url, me, NotificationsScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        # unread first (newest first), the read one last
        assert _rows(app) == [
            "Daily report", "New sign-in from laptop", "Support replied: API keys",
            "Stop-loss hit on ETH/USDT", "Grid BTC/USDT started",
        ]  # fmt: skip
        assert "4 unread" in str(app.screen.query_one("#counts").render())
        await pilot.press("m")  # the selected (top) one
        await settle(pilot)
        async with db.session() as s:
            read = await s.scalar(
                select(Notification.read).where(
                    Notification.title == "Daily report",
                    Notification.channel == NotificationChannel.IN_APP,
                )
            )
        assert read is True
        assert "3 unread" in str(app.screen.query_one("#counts").render())

        app.screen.query_one("#priority-filter", Select).value = "HIGH"
        await settle(pilot)
        assert _rows(app) == ["New sign-in from laptop", "Stop-loss hit on ETH/USDT"]
        app.screen.query_one("#priority-filter", Select).clear()
        await pilot.press("u")  # unread only
        await settle(pilot)
        assert len(_rows(app)) == 3

        async with db.sessions.begin() as s:  # another process notifies: the list follows
            await notify(s, user_id=me.user_id, type=T.BOT_ERROR, priority=P.CRITICAL,
                         title="Bot DCA ETH stopped on an error", message="Exchange refused the order.")  # fmt: skip
        await wait_for(
            pilot, lambda: _rows(app)[:1] == ["Bot DCA ETH stopped on an error"], what="the row"
        )

        await pilot.press("A")  # all read
        await settle(pilot)
        assert _rows(app) == []
        async with db.session() as s:
            unread = await s.scalars(select(Notification).where(Notification.read.is_(False)))
            assert list(unread) == []


async def test_new_notifications_toast_anywhere(db: Database, migrated_url: str) -> None:
    me = await add_user(db, "ann@example.com")
    app = ScreenApp(migrated_url, me, NotificationPrefsScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        worker = start_toasts(app, me.user_id)
        await pilot.pause()
        async with db.sessions.begin() as s:
            await notify(s, user_id=me.user_id, type=T.STOP_LOSS_HIT, priority=P.HIGH,
                         title="Stop-loss hit on SOL/USDT", message="Closed.")  # fmt: skip
        toast = ("Stop loss hit", "Stop-loss hit on SOL/USDT", "warning")
        await wait_for(
            pilot,
            lambda: toast in [(n.title, n.message, n.severity) for n in app._notifications],
            what="the toast",
        )
        worker.cancel()


async def test_preferences_refuse_bad_input_and_save_good(db: Database, migrated_url: str) -> None:
    me = await add_user(db, "ann@example.com")
    app = ScreenApp(migrated_url, me, NotificationPrefsScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#p-in_app_trades", Checkbox).value = False
        screen.query_one("#telegram-chat", Input).value = "not a chat id"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("numeric chat id" in n.message for n in app._notifications)
        async with db.session() as s:
            assert await s.scalar(select(NotificationPreference)) is None  # nothing saved

        screen.query_one("#telegram-chat", Input).value = "123456789"
        screen.query_one("#p-quiet_hours_enabled", Checkbox).value = True
        screen.query_one("#quiet-start", Select).value = 22
        screen.query_one("#quiet-end", Select).value = 7
        screen.query_one("#digest-frequency", Select).value = "daily"
        await pilot.press("ctrl+s")
        await settle(pilot)
        async with db.session() as s:
            row = await s.scalar(select(NotificationPreference))
        assert row is not None
        assert (row.in_app_trades, row.telegram_chat_id, row.quiet_hours_start,
                row.quiet_hours_end, row.digest_frequency) == (False, "123456789", 22, 7, "daily")  # fmt: skip
        assert any("saved" in n.message for n in app._notifications)


def _snap_app(url: str) -> ScreenApp:
    return ScreenApp(url, seed(url, _fill), NotificationsScreen)


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    no_blink(pilot.app)


def test_inbox_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_snap_app(migrated_url), terminal_size=WIDE, run_before=_ready)


def test_inbox_snapshot_small(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_snap_app(migrated_url), terminal_size=SMALL, run_before=_ready)


def test_preferences_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    me = seed(migrated_url, lambda d: add_user(d, "ann@example.com"))
    app = ScreenApp(migrated_url, me, NotificationPrefsScreen)
    assert snap_compare(app, terminal_size=WIDE, run_before=_ready)


async def test_types_say_what_happened(db: Database, migrated_url: str) -> None:
    """Pausing says paused and resuming resumed (their types are BOT_STOPPED and BOT_STARTED);
    TWO_FA_ENABLED reads as words."""
    from core.services.bots import BotSpec, create_bot, pause_bot, resume_bot, start_bot

    me = await add_user(db, "words@example.com")
    clock = FrozenClock(NOW - timedelta(hours=1))
    async with db.sessions.begin() as s:
        bot = await create_bot(s, me, BotSpec(name="Ladder", type="dca"), clock=clock)
    for step in (start_bot, pause_bot, resume_bot):
        clock.advance(minutes=1)
        async with db.sessions.begin() as s:
            await step(s, me, bot.id, clock=clock)
    clock.advance(minutes=1)
    async with db.sessions.begin() as s:
        await notify(s, user_id=me.user_id, type=T.TWO_FA_ENABLED, title="2FA is on",
                     message="Two-factor authentication is on.", clock=clock)  # fmt: skip
    app = ScreenApp(migrated_url, me, NotificationsScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#inbox")
        kinds = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
    assert kinds[:4] == [
        "Two-factor authentication enabled", "Bot resumed", "Bot paused", "Bot started",
    ]  # fmt: skip
