"""notify(): one row per routed channel, in the caller's transaction, pushed live on commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database, connect_raw
from core.db.models.notifications import Notification, NotificationPreference, NotificationType
from core.db.models.notifications import NotificationChannel as C
from core.db.models.notifications import NotificationPriority as P
from core.errors import InvalidInput, NotFound
from core.events import CHANNEL, Event
from core.notifications import notify
from tests.service_users import add_user


async def rows(db: Database, user_id: str) -> dict[C, Notification]:
    async with db.session() as s:
        found = (await s.scalars(select(Notification).where(Notification.user_id == user_id))).all()
    return {r.channel: r for r in found}


async def test_default_routing_writes_in_app_delivered_and_email_queued(db: Database) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        ids = await notify(
            s,
            user_id=bob.user_id,
            type=NotificationType.BOT_ERROR,
            title="Grid bot stopped",
            message="Exchange rejected the order",
            priority=P.HIGH,
            metadata={"bot_id": "b1"},
            clock=clock,
        )
    got = await rows(db, bob.user_id)
    assert set(got) == {C.IN_APP, C.EMAIL} and len(ids) == 2
    assert got[C.IN_APP].delivered and got[C.IN_APP].delivered_at == clock.now()
    assert got[C.IN_APP].metadata_ == {"bot_id": "b1"}
    assert not got[C.EMAIL].delivered and got[C.EMAIL].next_attempt_at == clock.now()


async def test_rolled_back_caller_leaves_no_notification(db: Database) -> None:
    bob = await add_user(db, "bob@example.com")
    with pytest.raises(RuntimeError):
        async with db.sessions.begin() as s:
            await notify(
                s, user_id=bob.user_id, type=NotificationType.BOT_STARTED, title="t", message="m"
            )
            raise RuntimeError("the change being reported failed")
    assert await rows(db, bob.user_id) == {}


async def test_bad_input_is_refused(db: Database) -> None:
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        with pytest.raises(InvalidInput, match="title"):
            await notify(
                s, user_id=bob.user_id, type=NotificationType.BOT_STARTED, title=" ", message="m"
            )
        with pytest.raises(InvalidInput, match="type"):
            await notify(s, user_id=bob.user_id, type="BOT_EXPLODED", title="t", message="m")  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            await notify(
                s, user_id="nobody", type=NotificationType.BOT_STARTED, title="t", message="m"
            )
    assert await rows(db, bob.user_id) == {}


async def test_in_app_is_pushed_live_on_commit(db: Database) -> None:
    bob = await add_user(db, "bob@example.com")
    conn = await connect_raw(db.url)
    heard: asyncio.Queue[str] = asyncio.Queue()
    await conn.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[3]))
    try:
        async with db.sessions.begin() as s:
            ids = await notify(
                s,
                user_id=bob.user_id,
                type=NotificationType.TRADE_EXECUTED,
                title="Bought 0.1 BTC",
                message="at 50000",
            )
            await asyncio.sleep(0.05)
            assert heard.empty()  # nothing is announced before the commit
        event = Event.from_json(await asyncio.wait_for(heard.get(), 30))
    finally:
        await conn.close()
    assert (event.kind, event.user_id) == ("notification", bob.user_id)
    assert event.data == {
        "id": ids[0],
        "type": "TRADE_EXECUTED",
        "priority": "NORMAL",
        "title": "Bought 0.1 BTC",
    }


async def test_quiet_hours_hold_email_but_critical_goes_through(db: Database) -> None:
    # 23:30 in Berlin (UTC+1 in January), quiet 22 → 7
    clock = FrozenClock(datetime(2026, 1, 15, 22, 30, tzinfo=UTC))
    ann = await add_user(db, "ann@example.com", timezone="Europe/Berlin")
    async with db.sessions.begin() as s:
        s.add(
            NotificationPreference(
                user_id=ann.user_id,
                quiet_hours_enabled=True,
                quiet_hours_start=22,
                quiet_hours_end=7,
            )
        )
    async with db.sessions.begin() as s:
        await notify(
            s,
            user_id=ann.user_id,
            type=NotificationType.BOT_STOPPED,
            title="calm",
            message="m",
            clock=clock,
        )
    held = await rows(db, ann.user_id)
    assert held[C.EMAIL].scheduled_for == datetime(2026, 1, 16, 6, 0, tzinfo=UTC)  # 07:00 Berlin
    assert held[C.EMAIL].next_attempt_at == datetime(2026, 1, 16, 6, 0, tzinfo=UTC)
    assert held[C.IN_APP].delivered  # the inbox is not held

    bob = await add_user(db, "bob@example.com", timezone="Europe/Berlin")
    async with db.sessions.begin() as s:
        s.add(
            NotificationPreference(
                user_id=bob.user_id,
                quiet_hours_enabled=True,
                quiet_hours_start=22,
                quiet_hours_end=7,
            )
        )
    async with db.sessions.begin() as s:
        await notify(
            s,
            user_id=bob.user_id,
            type=NotificationType.BOT_ERROR,
            title="loud",
            message="m",
            priority=P.CRITICAL,
            clock=clock,
        )
    urgent = await rows(db, bob.user_id)
    assert urgent[C.EMAIL].scheduled_for is None
    assert urgent[C.EMAIL].next_attempt_at == clock.now()


async def test_scheduled_for_holds_every_channel(db: Database) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com")
    at = clock.now() + timedelta(hours=3)
    async with db.sessions.begin() as s:
        await notify(
            s,
            user_id=bob.user_id,
            type=NotificationType.DAILY_REPORT,
            title="Report",
            message="m",
            scheduled_for=at,
            clock=clock,
        )
    got = await rows(db, bob.user_id)
    assert got[C.IN_APP].scheduled_for == at and not got[C.IN_APP].delivered
    assert got[C.EMAIL].next_attempt_at == at
    async with db.sessions.begin() as s:
        with pytest.raises(InvalidInput, match="time zone"):
            await notify(
                s,
                user_id=bob.user_id,
                type=NotificationType.DAILY_REPORT,
                title="R",
                message="m",
                scheduled_for=datetime(2026, 1, 1),
                clock=clock,
            )


async def test_push_and_sms_are_stored_undeliverable(db: Database) -> None:
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        s.add(NotificationPreference(user_id=bob.user_id, push_enabled=True, sms_enabled=True))
    async with db.sessions.begin() as s:
        await notify(
            s,
            user_id=bob.user_id,
            type=NotificationType.ACCOUNT_LOCKED,
            title="Locked",
            message="m",
        )
    got = await rows(db, bob.user_id)
    for channel in (C.PUSH, C.SMS):
        assert not got[channel].delivered
        assert got[channel].next_attempt_at is None
        assert (
            "no" in got[channel].failure_reason
            and "provider is configured" in got[channel].failure_reason
        )
