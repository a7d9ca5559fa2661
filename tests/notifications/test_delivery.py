"""The delivery worker against a real SMTP server and a local Telegram/Discord stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.clock import FrozenClock
from core.config import Settings
from core.db.engine import Database
from core.db.models.notifications import Notification, NotificationType
from core.db.models.notifications import NotificationChannel as C
from core.db.models.notifications import NotificationPriority as P
from core.notifications import deliver_due, notify
from core.notifications.delivery import MAX_ATTEMPTS, backoff
from core.services import notifications as svc
from core.services.actor import Actor
from tests.notifications.servers import ChatApi, MailSink
from tests.service_users import add_user


async def channel_rows(db: Database, user_id: str, channel: C) -> list[Notification]:
    async with db.session() as s:
        return list(
            (
                await s.scalars(
                    select(Notification)
                    .where(Notification.user_id == user_id, Notification.channel == channel)
                    .order_by(Notification.created_at, Notification.title)
                )
            ).all()
        )


async def everywhere(db: Database, actor: Actor, base: str, **extra: object) -> None:
    async with db.sessions.begin() as s:
        await svc.update_preferences(
            s,
            actor,
            {
                "telegram_enabled": True,
                "telegram_chat_id": "987654321",
                "discord_enabled": True,
                "discord_webhook_url": f"{base}/api/webhooks/111/hook-secret",
                **extra,
            },
        )


async def say(db: Database, actor: Actor, clock: FrozenClock, title: str, **kw: object) -> None:
    async with db.sessions.begin() as s:
        await notify(
            s,
            user_id=actor.user_id,
            type=kw.pop("type", NotificationType.BOT_ERROR),  # type: ignore[arg-type]
            title=title,
            message=f"{title}: details",
            clock=clock,
            **kw,  # type: ignore[arg-type]
        )


async def test_email_telegram_and_discord_receive_the_notification(
    db: Database,
    settings: Settings,
    smtp: tuple[int, MailSink],
    chat_api: tuple[ChatApi, str],
) -> None:
    clock = FrozenClock()
    api, base = chat_api
    bob = await add_user(db, "bob@example.com", plan="pro")
    await everywhere(db, bob, base)
    await say(db, bob, clock, "Grid bot stopped", priority=P.HIGH)

    report = await deliver_due(db, clock, settings=settings)
    assert (report.delivered, report.messages, report.failed) == (3, 3, 0)

    mail = smtp[1].messages
    assert len(mail) == 1
    assert mail[0]["To"] == "bob@example.com"
    assert mail[0]["From"] == "BlockbotX <alerts@blockbotx.test>"
    assert mail[0]["Subject"] == "BlockbotX: Grid bot stopped"
    assert "Grid bot stopped: details" in mail[0].get_content()
    assert smtp[1].envelopes[0].rcpt_tos == ["bob@example.com"]

    assert api.telegram == [
        {
            "chat_id": "987654321",
            "text": "BlockbotX: Grid bot stopped\n\nGrid bot stopped: details",
            "disable_web_page_preview": True,
        }
    ]
    assert api.discord == [
        {
            "path": "/api/webhooks/111/hook-secret",
            "username": "BlockbotX",
            "content": "BlockbotX: Grid bot stopped\n\nGrid bot stopped: details",
            "allowed_mentions": {"parse": []},
        }
    ]
    for channel in (C.EMAIL, C.TELEGRAM, C.DISCORD):
        (row,) = await channel_rows(db, bob.user_id, channel)
        assert row.delivered and row.delivered_at == clock.now()
        assert row.attempts == 1 and row.failure_reason is None and row.next_attempt_at is None

    # a second pass finds nothing left to send
    assert await deliver_due(db, clock, settings=settings) == type(report)()
    assert len(mail) == 1 and len(api.telegram) == 1


async def test_digest_batches_into_one_message_per_channel(
    db: Database, settings: Settings, smtp: tuple[int, MailSink], chat_api: tuple[ChatApi, str]
) -> None:
    clock = FrozenClock(datetime(2026, 1, 15, 10, 5, tzinfo=UTC))
    api, base = chat_api
    bob = await add_user(db, "bob@example.com", timezone="UTC", plan="pro")
    await everywhere(db, bob, base, digest_mode=True, digest_frequency="hourly")
    for minute, title in ((5, "first"), (20, "second"), (40, "third")):
        clock.current = clock.current.replace(minute=minute)
        await say(db, bob, clock, title, priority=P.NORMAL)
    clock.current = clock.current.replace(minute=59)
    assert (await deliver_due(db, clock, settings=settings)).messages == 0
    assert smtp[1].messages == [] and api.telegram == [] and api.discord == []

    clock.current = datetime(2026, 1, 15, 11, 0, tzinfo=UTC)
    report = await deliver_due(db, clock, settings=settings)
    assert (report.messages, report.delivered) == (3, 9)
    (mail,) = smtp[1].messages
    assert mail["Subject"] == "BlockbotX digest: 3 notifications"
    body = mail.get_content()
    assert body.index("first") < body.index("second") < body.index("third")
    assert len(api.telegram) == 1 and len(api.discord) == 1
    assert "third: details" in api.telegram[0]["text"]
    assert api.discord[0]["content"].startswith("BlockbotX digest: 3 notifications")


async def test_critical_skips_the_digest(
    db: Database, settings: Settings, smtp: tuple[int, MailSink]
) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        await svc.update_preferences(s, bob, {"digest_mode": True, "digest_frequency": "daily"})
    await say(db, bob, clock, "Liquidation risk", priority=P.CRITICAL)
    await say(db, bob, clock, "Daily stuff", priority=P.LOW)
    report = await deliver_due(db, clock, settings=settings)
    assert report.messages == 1
    assert smtp[1].messages[0]["Subject"] == "BlockbotX: Liquidation risk"


async def test_quiet_hours_defer_at_delivery_time(
    db: Database, settings: Settings, smtp: tuple[int, MailSink]
) -> None:
    """A row queued before quiet hours began waits for their end instead of waking the user."""
    clock = FrozenClock(datetime(2026, 1, 15, 21, 0, tzinfo=UTC))
    bob = await add_user(db, "bob@example.com", timezone="UTC")
    await say(db, bob, clock, "queued before")
    async with db.sessions.begin() as s:
        await svc.update_preferences(
            s, bob, {"quiet_hours_enabled": True, "quiet_hours_start": 20, "quiet_hours_end": 6}
        )
    report = await deliver_due(db, clock, settings=settings)
    assert (report.deferred, report.messages) == (1, 0)
    (row,) = await channel_rows(db, bob.user_id, C.EMAIL)
    assert row.attempts == 0 and row.next_attempt_at == datetime(2026, 1, 16, 6, 0, tzinfo=UTC)
    clock.current = datetime(2026, 1, 16, 6, 0, tzinfo=UTC)
    assert (await deliver_due(db, clock, settings=settings)).messages == 1
    assert len(smtp[1].messages) == 1


async def test_failing_channel_is_retried_with_backoff_and_recorded(
    db: Database, settings: Settings, chat_api: tuple[ChatApi, str]
) -> None:
    clock = FrozenClock()
    api, base = chat_api
    bob = await add_user(db, "bob@example.com", plan="pro")
    await everywhere(db, bob, base, discord_enabled=False, email_enabled=False)
    await say(db, bob, clock, "Stop-loss hit", type=NotificationType.STOP_LOSS_HIT)
    api.fail_next = [502, 429]

    first = await deliver_due(db, clock, settings=settings)
    assert (first.retrying, first.delivered) == (1, 0)
    (row,) = await channel_rows(db, bob.user_id, C.TELEGRAM)
    assert row.attempts == 1 and not row.delivered
    assert row.failure_reason == "Attempt 1 failed: Telegram answered HTTP 502: Service Unavailable"
    assert row.next_attempt_at == clock.now() + backoff(1)
    assert "TEST-TOKEN" not in row.failure_reason

    # not due yet: nothing happens
    clock.advance(seconds=10)
    assert (await deliver_due(db, clock, settings=settings)).retrying == 0
    clock.advance(backoff(1))
    second = await deliver_due(db, clock, settings=settings)
    assert second.retrying == 1
    (row,) = await channel_rows(db, bob.user_id, C.TELEGRAM)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + backoff(2)
    assert "HTTP 429" in row.failure_reason

    clock.advance(backoff(2))
    third = await deliver_due(db, clock, settings=settings)
    assert third.delivered == 1
    (row,) = await channel_rows(db, bob.user_id, C.TELEGRAM)
    assert row.delivered and row.attempts == 3 and row.failure_reason is None
    assert len(api.telegram) == 1


async def test_channel_down_never_blocks_and_gives_up_after_max_attempts(
    db: Database, settings: Settings
) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com")
    dead = settings.model_copy(update={"smtp_port": 1})  # nothing listens there
    await say(db, bob, clock, "Bot error")
    (row,) = await channel_rows(db, bob.user_id, C.EMAIL)
    assert row.attempts == 0 and not row.delivered  # the caller only wrote rows, sent nothing

    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = await deliver_due(db, clock, settings=dead)
        (row,) = await channel_rows(db, bob.user_id, C.EMAIL)
        assert row.attempts == attempt and not row.delivered
        if attempt < MAX_ATTEMPTS:
            assert report.retrying == 1
            assert row.failure_reason.startswith(
                f"Attempt {attempt} failed: Mail server 127.0.0.1:1 unreachable"
            )
            clock.advance(row.next_attempt_at - clock.now())
    assert report.failed == 1
    assert row.next_attempt_at is None
    assert row.failure_reason.startswith(f"Gave up after {MAX_ATTEMPTS} attempts")
    # the in-app copy was there all along
    (inbox,) = await channel_rows(db, bob.user_id, C.IN_APP)
    assert inbox.delivered


async def test_permanent_failures_are_not_retried(
    db: Database, settings: Settings, chat_api: tuple[ChatApi, str]
) -> None:
    clock = FrozenClock()
    api, base = chat_api
    bob = await add_user(db, "bob@example.com", plan="pro")
    await everywhere(db, bob, base, discord_enabled=False)
    await say(db, bob, clock, "Bot error")
    broken = settings.model_copy(update={"smtp_host": None, "telegram_bot_token": None})
    report = await deliver_due(db, clock, settings=broken)
    assert report.failed == 2
    (mail,) = await channel_rows(db, bob.user_id, C.EMAIL)
    (tg,) = await channel_rows(db, bob.user_id, C.TELEGRAM)
    assert mail.failure_reason == "Email is not configured: set smtp_host (BLOCKBOTX_SMTP_HOST)."
    assert tg.failure_reason.startswith("Telegram is not configured")
    assert mail.next_attempt_at is None and tg.next_attempt_at is None

    # a 400 from Telegram (chat not found) is permanent too
    await say(db, bob, clock, "Second")
    api.fail_next = [400]
    clock.advance(minutes=1)
    report = await deliver_due(db, clock, settings=settings)
    assert report.failed == 1 and report.delivered == 1  # email went, Telegram refused
    tg_rows = await channel_rows(db, bob.user_id, C.TELEGRAM)
    assert tg_rows[-1].failure_reason == "Telegram answered HTTP 400: Service Unavailable"


async def test_scheduled_in_app_is_released_by_the_worker(db: Database, settings: Settings) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        await svc.update_preferences(s, bob, {"email_enabled": False})
    await say(db, bob, clock, "Weekly report", scheduled_for=clock.now() + timedelta(days=1))
    async with db.session() as s:
        assert await svc.list_notifications(s, bob) == []
    clock.advance(days=1)
    assert (await deliver_due(db, clock, settings=settings)).delivered == 1
    async with db.session() as s:
        (shown,) = await svc.list_notifications(s, bob)
    assert shown.title == "Weekly report" and shown.delivered_at == clock.now()
