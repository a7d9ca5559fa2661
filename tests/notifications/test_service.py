"""The inbox and preferences services: ownership, admin-only access, validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.notifications import NotificationPreference, NotificationType
from core.db.models.notifications import NotificationPriority as P
from core.errors import Forbidden, InvalidInput, NotFound
from core.notifications import notify
from core.notifications.preferences import DEFAULTS, Preferences
from core.security.vault import get_vault
from core.services import notifications as svc
from core.services.actor import Actor, Role
from tests.service_users import add_user

T = NotificationType


async def seed_inbox(db: Database, actor: Actor, clock: FrozenClock) -> None:
    for type_, priority, title in (
        (T.BOT_STARTED, P.LOW, "started"),
        (T.TRADE_EXECUTED, P.NORMAL, "bought"),
        (T.BOT_ERROR, P.CRITICAL, "crashed"),
        (T.TICKET_MESSAGE, P.NORMAL, "reply"),
    ):
        clock.advance(minutes=1)
        async with db.sessions.begin() as s:
            await notify(
                s,
                user_id=actor.user_id,
                type=type_,
                title=title,
                message="m",
                priority=priority,
                clock=clock,
            )


async def test_inbox_unread_first_filters_and_marking(db: Database) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com")
    eve = await add_user(db, "eve@example.com")
    await seed_inbox(db, bob, clock)
    await seed_inbox(db, eve, clock)
    async with db.sessions.begin() as s:
        inbox = await svc.list_notifications(s, bob)
        assert [n.title for n in inbox] == ["reply", "crashed", "bought", "started"]
        assert all(n.channel == "IN_APP" for n in inbox)
        await svc.mark_read(s, bob, inbox[0].id)
        assert [n.title for n in await svc.list_notifications(s, bob)] == [
            "crashed",
            "bought",
            "started",
            "reply",
        ]
        assert await svc.unread_count(s, bob) == 3
        only = await svc.list_notifications(s, bob, types=["BOT_ERROR", T.BOT_STARTED])
        assert {n.title for n in only} == {"crashed", "started"}
        assert [n.title for n in await svc.list_notifications(s, bob, priorities=[P.CRITICAL])] == [
            "crashed"
        ]
        assert [
            n.title
            for n in await svc.list_notifications(s, bob, unread_only=True, limit=1, offset=1)
        ] == ["bought"]
        assert await svc.mark_all_read(s, bob) >= 3
        assert await svc.unread_count(s, bob) == 0
        assert await svc.unread_count(s, eve) == 4  # untouched


async def test_another_users_notification_is_not_found(db: Database) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com")
    eve = await add_user(db, "eve@example.com")
    await seed_inbox(db, eve, clock)
    async with db.sessions.begin() as s:
        theirs = (await svc.list_notifications(s, eve))[0]
        assert await svc.list_notifications(s, bob) == []
        with pytest.raises(NotFound):
            await svc.mark_read(s, bob, theirs.id)
        assert all(d.channel != "IN_APP" for d in await svc.delivery_status(s, eve))
        assert await svc.delivery_status(s, bob) == []


async def test_failed_deliveries_are_for_admins_only(db: Database) -> None:
    bob = await add_user(db, "bob@example.com")
    admin = await add_user(db, "admin@example.com", role=Role.ADMIN)
    async with db.sessions.begin() as s:
        s.add(NotificationPreference(user_id=bob.user_id, sms_enabled=True))
    async with db.sessions.begin() as s:
        await notify(s, user_id=bob.user_id, type=T.ACCOUNT_LOCKED, title="Locked", message="m")
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden):
            await svc.list_failed_deliveries(s, bob)
        (failed,) = await svc.list_failed_deliveries(s, admin)
        assert failed.channel == "SMS" and "SMS provider" in failed.failure_reason


async def test_bad_listing_arguments(db: Database) -> None:
    bob = await add_user(db, "bob@example.com")
    async with db.session() as s:
        with pytest.raises(InvalidInput, match="limit"):
            await svc.list_notifications(s, bob, limit=0)
        with pytest.raises(InvalidInput, match="type"):
            await svc.list_notifications(s, bob, types=["NOPE"])


async def test_preferences_defaults_update_and_webhook_secrecy(db: Database) -> None:
    bob = await add_user(db, "bob@example.com", plan="pro")
    eve = await add_user(db, "eve@example.com", plan="pro")
    url = "https://discord.com/api/webhooks/123/very-secret-token"
    async with db.sessions.begin() as s:
        shown = await svc.get_preferences(s, bob)
        assert shown.email_enabled and not shown.telegram_enabled and not shown.discord_webhook_set
        shown = await svc.update_preferences(
            s, bob, {"discord_webhook_url": url, "discord_enabled": True, "email_trades": False}
        )
        assert shown.discord_webhook_set and not shown.email_trades
        assert url not in shown.model_dump_json()
    async with db.session() as s:
        row = await s.scalar(
            select(NotificationPreference).where(NotificationPreference.user_id == bob.user_id)
        )
        assert (
            row.discord_webhook_url.startswith("v1:")
            and "very-secret-token" not in row.discord_webhook_url
        )
        assert (
            get_vault().decrypt(
                row.discord_webhook_url,
                table="notification_preferences",
                owner_id=bob.user_id,
                field="discord_webhook_url",
            )
            == url
        )
        # eve's preferences are her own
        assert not (await svc.get_preferences(s, eve)).discord_webhook_set
    async with db.sessions.begin() as s:
        cleared = await svc.update_preferences(
            s, bob, {"discord_enabled": False, "discord_webhook_url": ""}
        )
        assert not cleared.discord_webhook_set


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"telegram_enabled": True}, "Telegram chat id"),
        ({"telegram_chat_id": "not a chat"}, "(?i)telegram chat id"),
        ({"discord_webhook_url": "https://evil.example/api/webhooks/1/x"}, "Discord webhook URL"),
        ({"discord_webhook_url": "http://discord.com/api/webhooks/1/x"}, "Discord webhook URL"),
        ({"discord_enabled": True}, "Discord webhook URL"),
        ({"digest_frequency": "weekly"}, "realtime, hourly, daily"),
        ({"quiet_hours_enabled": True}, "start and an end"),
        ({"quiet_hours_enabled": True, "quiet_hours_start": 5, "quiet_hours_end": 5}, "same hour"),
        ({"quiet_hours_start": 24}, "(?i)quiet hours start"),
        ({"email_enabled": None}, "can't be empty"),
        ({"in_app_security": False}, "unknown setting"),
    ],
)
async def test_bad_preferences_are_refused_and_change_nothing(
    db: Database, change: dict, message: str
) -> None:
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        with pytest.raises(InvalidInput, match=message):
            await svc.update_preferences(s, bob, change)
        assert await svc.get_preferences(s, bob) == svc.PreferencesView(
            **{k: v for k, v in DEFAULTS.items() if k != "discord_webhook_url"},
            discord_webhook_set=False,
        )
        assert await s.scalar(select(NotificationPreference)) is None


def test_update_model_covers_every_preference_column() -> None:
    assert set(svc.PreferencesUpdate.model_fields) == set(DEFAULTS)


@settings(max_examples=60, deadline=None)
@given(start=st.integers(-3, 26), end=st.integers(-3, 26), enabled=st.booleans())
def test_quiet_hours_validation(start: int, end: int, enabled: bool) -> None:
    change = {"quiet_hours_enabled": enabled, "quiet_hours_start": start, "quiet_hours_end": end}
    in_range = 0 <= start <= 23 and 0 <= end <= 23
    if in_range and (start != end or not enabled):
        merged = svc.merge_preferences(Preferences.defaults(), change, owner_id="u")
        assert (merged.quiet_hours_start, merged.quiet_hours_end) == (start, end)
    else:
        with pytest.raises(InvalidInput, match=r"(?i)quiet hours|same hour"):
            svc.merge_preferences(Preferences.defaults(), change, owner_id="u")
