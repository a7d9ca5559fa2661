"""Helpers shared by the commerce tests: bots, a card on file, notifications received."""

from __future__ import annotations

from sqlalchemy import select

from core.billing.payments import Billing, ensure_customer
from core.clock import SYSTEM_CLOCK, Clock, FrozenClock
from core.db.engine import Database
from core.db.models.notifications import Notification, NotificationChannel
from core.services.actor import Actor
from tests.billing.fake_stripe import FakeStripe


async def add_card(
    db: Database, billing: Billing, fake: FakeStripe, actor: Actor, card: str = "pm_card_visa"
) -> str:
    customer = await ensure_customer(db, billing, actor.user_id)
    fake.attach_card(customer, card)
    return customer


async def add_bots(
    db: Database,
    actor: Actor,
    count: int,
    *,
    start: bool = False,
    prefix: str = "Bot",
    clock: Clock = SYSTEM_CLOCK,
) -> list[str]:
    from core.services.bots import BotSpec, create_bot, start_bot

    ids = []
    async with db.sessions.begin() as s:
        for i in range(count):
            spec = BotSpec(name=f"{prefix} {i + 1}", type="dca")
            bot = await create_bot(s, actor, spec, clock=clock)
            if start:
                await start_bot(s, actor, bot.id, clock=clock)
            if isinstance(clock, FrozenClock):
                clock.advance(seconds=1)  # distinct start times: "the last started" is defined
            ids.append(bot.id)
    return ids


async def received(db: Database, user_id: str) -> list[str]:
    """The types of the user's in-app notifications, oldest first."""
    async with db.session() as s:
        rows = await s.scalars(
            select(Notification.type)
            .where(
                Notification.user_id == user_id, Notification.channel == NotificationChannel.IN_APP
            )
            .order_by(Notification.created_at, Notification.id)
        )
        return [str(t) for t in rows]
