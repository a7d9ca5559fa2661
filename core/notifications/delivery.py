"""The delivery worker: sends due outbox rows and records every attempt in the rows themselves.

A pass (``deliver_due``) claims due rows with ``FOR UPDATE SKIP LOCKED`` and pushes their
``next_attempt_at`` out by a lease, commits, sends without holding any lock or transaction, then
records the outcome: ``delivered``/``delivered_at`` on success; on a temporary failure
``attempts`` + 1, ``failure_reason`` and ``next_attempt_at`` after an exponential backoff
(30 s, 1 min, 2 min, … capped at 1 h) until ``MAX_ATTEMPTS``; on a permanent failure (or after
the last attempt) ``next_attempt_at`` becomes null and the reason stays. Rows are never
deleted, so nothing is lost while a channel is down. A worker killed mid-send leaves its rows to
be picked up again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import select, update

from core.clock import SYSTEM_CLOCK, Clock
from core.config import Settings, get_settings
from core.db.engine import Database
from core.db.models.notifications import (
    Notification,
    NotificationChannel,
    NotificationPreference,
    NotificationPriority,
)
from core.db.models.users import User
from core.notifications import live
from core.notifications.preferences import Preferences, user_zone
from core.notifications.schedule import in_quiet_hours, quiet_hours_end
from core.notifications.transports import (
    DeliveryFailed,
    Outgoing,
    send_discord,
    send_email,
    send_telegram,
)
from core.security.vault import VaultError, get_vault

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(minutes=5)
Channel = NotificationChannel


def backoff(attempt: int) -> timedelta:
    """Wait after the ``attempt``-th failed try (1-based)."""
    return min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_CAP)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0
    messages: int = 0
    """Messages actually sent (a digest of many rows is one message)."""


@dataclass(frozen=True, slots=True)
class _Due:
    id: str
    user_id: str
    channel: NotificationChannel
    priority: NotificationPriority
    title: str
    message: str
    digest: bool
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _Recipient:
    email: str
    timezone: str | None
    prefs: Preferences


async def _claim(db: Database, now: datetime, limit: int) -> list[_Due]:
    due = (
        select(Notification.id)
        .where(Notification.delivered.is_(False), Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Notification)
        .where(Notification.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + LEASE)
        .returning(
            Notification.id,
            Notification.user_id,
            Notification.channel,
            Notification.priority,
            Notification.title,
            Notification.message,
            Notification.digest,
            Notification.attempts,
            Notification.created_at,
        )
        .execution_options(synchronize_session=False)
    )
    async with db.sessions.begin() as session:
        return [_Due(*r) for r in (await session.execute(stmt)).all()]


async def _recipients(db: Database, user_ids: set[str]) -> dict[str, _Recipient]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(User.id, User.email, User.timezone, NotificationPreference)
                .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
                .where(User.id.in_(user_ids))
            )
        ).all()
    return {uid: _Recipient(email, tz, Preferences.of(pref)) for uid, email, tz, pref in rows}


def _outgoing(rows: list[_Due]) -> Outgoing:
    if len(rows) == 1 and not rows[0].digest:
        return Outgoing(subject=f"BlockbotX: {rows[0].title}", body=rows[0].message)
    lines = []
    for r in sorted(rows, key=lambda r: r.created_at):
        lines.append(f"• [{r.priority}] {r.title}\n  {r.message}")
    noun = "notification" if len(rows) == 1 else "notifications"
    return Outgoing(subject=f"BlockbotX digest: {len(rows)} {noun}", body="\n\n".join(lines))


async def _send(
    channel: NotificationChannel,
    who: _Recipient,
    user_id: str,
    out: Outgoing,
    settings: Settings,
    http: aiohttp.ClientSession,
) -> None:
    p = who.prefs
    if channel is Channel.EMAIL:
        if not p.email_enabled:
            raise DeliveryFailed("Email was switched off before delivery.", permanent=True)
        await send_email(settings, who.email, out)
    elif channel is Channel.TELEGRAM:
        if not (p.telegram_enabled and p.telegram_chat_id):
            raise DeliveryFailed("Telegram was switched off before delivery.", permanent=True)
        await send_telegram(settings, http, p.telegram_chat_id, out)
    elif channel is Channel.DISCORD:
        if not (p.discord_enabled and p.discord_webhook_url):
            raise DeliveryFailed("Discord was switched off before delivery.", permanent=True)
        try:
            url = get_vault().decrypt(
                p.discord_webhook_url,
                table="notification_preferences",
                owner_id=user_id,
                field="discord_webhook_url",
            )
        except VaultError:
            raise DeliveryFailed(
                "The Discord webhook URL can't be decrypted; set it again.", permanent=True
            ) from None
        await send_discord(http, url, out)
    else:
        raise DeliveryFailed(f"No sender for channel {channel}.", permanent=True)


async def _attempt(send: Any, timeout: float) -> DeliveryFailed | None:
    try:
        await asyncio.wait_for(send, timeout)
    except DeliveryFailed as exc:
        return exc
    except TimeoutError:
        return DeliveryFailed("Timed out while sending.", permanent=False)
    except Exception as exc:  # a bug in one channel must not stop the others
        log.exception("notification delivery crashed")
        return DeliveryFailed(f"Unexpected error ({type(exc).__name__}).", permanent=False)
    return None


async def deliver_due(
    db: Database,
    clock: Clock = SYSTEM_CLOCK,
    *,
    settings: Settings | None = None,
    limit: int = 500,
) -> DeliveryReport:
    """One delivery pass over the outbox; safe to run from several processes at once."""
    settings = settings or get_settings()
    now = clock.now()
    claimed = await _claim(db, now, limit)
    if not claimed:
        return DeliveryReport()
    who = await _recipients(db, {r.user_id for r in claimed})

    in_app: list[_Due] = []
    deferred: dict[str, datetime] = {}
    batches: dict[tuple[str, NotificationChannel, str], list[_Due]] = defaultdict(list)
    for row in claimed:
        if row.user_id not in who:
            continue  # the user was deleted meanwhile; their rows went with them
        if row.channel is Channel.IN_APP:
            in_app.append(row)
            continue
        prefs, tz = who[row.user_id].prefs, user_zone(who[row.user_id].timezone)
        if row.priority is not NotificationPriority.CRITICAL and in_quiet_hours(now, prefs, tz):
            deferred[row.id] = quiet_hours_end(now, prefs, tz)
            continue
        batches[(row.user_id, row.channel, "digest" if row.digest else row.id)].append(row)

    keys = list(batches)
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=settings.notification_timeout)
    ) as http:
        outcomes = await asyncio.gather(
            *(
                _attempt(
                    _send(ch, who[uid], uid, _outgoing(batches[(uid, ch, k)]), settings, http),
                    settings.notification_timeout * 2,
                )
                for uid, ch, k in keys
            )
        )

    delivered = retrying = failed = 0
    async with db.sessions.begin() as session:
        for row_id, at in deferred.items():
            await session.execute(
                update(Notification).where(Notification.id == row_id).values(next_attempt_at=at)
            )
        if in_app:
            await session.execute(
                update(Notification)
                .where(Notification.id.in_([r.id for r in in_app]))
                .values(delivered=True, delivered_at=now, next_attempt_at=None)
            )
            rows = (
                await session.scalars(
                    select(Notification).where(Notification.id.in_([r.id for r in in_app]))
                )
            ).all()
            await live.publish(session, list(rows))
            delivered += len(in_app)
        for key, error in zip(keys, outcomes, strict=True):
            for row in batches[key]:
                attempts = row.attempts + 1
                values: dict[str, Any] = {"attempts": attempts}
                if error is None:
                    values |= {"delivered": True, "delivered_at": now, "next_attempt_at": None}
                    values["failure_reason"] = None
                    delivered += 1
                elif error.permanent or attempts >= MAX_ATTEMPTS:
                    reason = error.reason
                    if not error.permanent:
                        reason = f"Gave up after {attempts} attempts: {reason}"
                    values |= {"failure_reason": reason, "next_attempt_at": None}
                    failed += 1
                else:
                    wait = backoff(attempts)
                    if error.retry_after:
                        wait = max(wait, timedelta(seconds=error.retry_after))
                    values |= {
                        "failure_reason": f"Attempt {attempts} failed: {error.reason}",
                        "next_attempt_at": now + wait,
                    }
                    retrying += 1
                await session.execute(
                    update(Notification).where(Notification.id == row.id).values(**values)
                )
    report = DeliveryReport(
        delivered=delivered,
        retrying=retrying,
        failed=failed,
        deferred=len(deferred),
        messages=sum(1 for e in outcomes if e is None),
    )
    if failed or retrying:
        log.warning("notification delivery: %s", report)
    return report


async def run_delivery_loop(
    db: Database,
    clock: Clock = SYSTEM_CLOCK,
    *,
    interval: float = 15.0,
    stop: asyncio.Event | None = None,
    settings: Settings | None = None,
) -> None:
    """Deliver every ``interval`` seconds until ``stop`` is set (for the engine process)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await deliver_due(db, clock, settings=settings)
        except Exception:  # the database being away must not end the loop
            log.exception("notification delivery pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
