"""Plans and subscriptions: the plan in force, its limits and their checks, subscribing,
changing plan, cancelling, renewing, expiring, complimentary grants by an admin.

Each user has at most one ``subscriptions`` row, changed in place; every change appends a
``subscription_history`` row (the state after the change and why). The plan in force is the
row's plan while its status is active or cancelled and it has not expired; otherwise Free.

Paid changes charge the card on file through ``core.billing`` in steps that each leave a record
(pending payment → charge → apply + complete, or failed / refunded). A change of plan credits
the unused part of the current period (pro rata, to the cent) against the new plan's price, and
referral credit pays what it can; what is left is charged. A new period starts at the change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing.money import PaymentFailed, cents, money_text
from core.billing.payments import (
    FREE_UNTIL,
    Billing,
    billing_lock,
    charge_payment,
    complete_payment,
    ensure_customer,
    open_payment,
    refund_payment,
    subscription_row,
)
from core.billing.plans import (
    CYCLE_LENGTH,
    PLANS,
    BillingCycle,
    Plan,
    PlanName,
    cheapest_plan_allowing,
    cycle_named,
    plan_named,
    within,
)
from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.billing import Payment, Subscription, SubscriptionHistory
from core.db.models.bots import Bot
from core.db.models.notifications import (
    NotificationChannel,
    NotificationPreference,
    NotificationPriority,
    NotificationType,
)
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.notifications import notify
from core.services import referrals
from core.services.actor import Actor, require_admin
from core.services.audit import audit

ACTIVE, CANCELLED, EXPIRED = "active", "cancelled", "expired"
PLAN_PAYMENT = referrals.PLAN_PAYMENT
MANUAL_BOT = "manual"
GRANT_DAYS_MAX = 3650
REASON_MAX = 500
CHANNEL_SWITCH = {
    NotificationChannel.EMAIL: "email_enabled",
    NotificationChannel.IN_APP: "in_app_enabled",
    NotificationChannel.TELEGRAM: "telegram_enabled",
    NotificationChannel.DISCORD: "discord_enabled",
    NotificationChannel.PUSH: "push_enabled",
    NotificationChannel.SMS: "sms_enabled",
}


class Limit(StrEnum):
    BOTS = "bots"
    ACTIVE_BOTS = "active_bots"
    LIVE_TRADING = "live_trading"
    BACKTEST_CANDLES = "backtest_candles"
    NOTIFICATION_CHANNEL = "notification_channel"
    SELL_STRATEGIES = "sell_strategies"


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: str
    plan: str
    status: str
    billing_cycle: str
    amount: Decimal
    started_at: datetime
    expires_at: datetime | None  # None: Free never expires
    cancelled_at: datetime | None
    is_complimentary: bool
    grant_reason: str | None
    renews: bool  # charged again at expiry
    has_payment_account: bool


@dataclass(frozen=True, slots=True)
class Usage:
    bots: int
    active_bots: int
    live_bots: int


@dataclass(frozen=True, slots=True)
class PlanStatus:
    plan: Plan
    subscription: SubscriptionView | None
    usage: Usage
    referral_credit: Decimal


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    plan: str
    status: str
    billing_cycle: str
    amount: Decimal
    change_reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentView:
    id: str
    amount: Decimal
    currency: str
    type: str
    status: str
    description: str
    failure: str | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Quote:
    """What a plan change costs, worked out before paying."""

    kind: str  # subscribe | change | renew | resume
    plan: Plan
    cycle: BillingCycle
    list_price: Decimal
    unused_credit: Decimal  # the current period's unused part
    referral_credit: Decimal
    amount: Decimal  # charged now
    fingerprint: tuple[Any, ...]  # the subscription state the quote was made for

    @property
    def description(self) -> str:
        return f"{self.plan.title} ({self.cycle.value})"


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What a lower plan switched off."""

    paused_bots: tuple[str, ...]
    channels_off: tuple[str, ...]


def _sub_view(row: Subscription) -> SubscriptionView:
    return SubscriptionView(
        id=row.id,
        plan=row.plan,
        status=row.status,
        billing_cycle=row.billing_cycle,
        amount=row.amount,
        started_at=row.started_at,
        expires_at=None if row.expires_at >= FREE_UNTIL else row.expires_at,
        cancelled_at=row.cancelled_at,
        is_complimentary=row.is_complimentary,
        grant_reason=row.grant_reason,
        renews=row.status == ACTIVE and not row.is_complimentary and row.plan != PlanName.FREE,
        has_payment_account=row.stripe_customer_id is not None,
    )


# --- the plan in force and its limits ------------------------------------------------------


def plan_of(row: Subscription | None, now: datetime) -> Plan:
    if row is None or row.status not in (ACTIVE, CANCELLED) or row.expires_at <= now:
        return PLANS[PlanName.FREE]
    return plan_named(row.plan)


async def current_plan(session: AsyncSession, user_id: str, *, clock: Clock = SYSTEM_CLOCK) -> Plan:
    return plan_of(await subscription_row(session, user_id), clock.now())


async def usage(session: AsyncSession, user_id: str) -> Usage:
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Bot.status == "active"),
                func.count().filter(Bot.status == "active", Bot.paper_trading.is_(False)),
            ).where(Bot.user_id == user_id, Bot.type != MANUAL_BOT)
        )
    ).one()
    return Usage(int(row[0]), int(row[1]), int(row[2]))


def _count(n: int | None, what: str) -> str:
    return f"unlimited {what}s" if n is None else f"{n:,} {what}{'' if n == 1 else 's'}"


async def check_limit(
    session: AsyncSession,
    user_id: str,
    what: Limit | str,
    *,
    value: int | None = None,
    channel: NotificationChannel | str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Raise Forbidden, naming the plan that would allow it, if the user's plan doesn't allow
    one more bot / one more running bot / live trading / a backtest of ``value`` candles /
    switching on ``channel`` / selling strategies."""
    try:
        limit = Limit(what)
    except ValueError:
        raise InvalidInput(f"Unknown limit {what!r}.", field="what") from None
    plan = await current_plan(session, user_id, clock=clock)

    def refuse(message: str, allows: Callable[[Plan], bool], detail: Callable[[Plan], str]):
        better = cheapest_plan_allowing(lambda p: p.rank > plan.rank and allows(p))
        hint = (
            " No plan allows more."
            if better is None
            else f" The {better.title} plan allows {detail(better)}; upgrade under Plan & billing."
        )
        raise Forbidden(message + hint)

    if limit in (Limit.BOTS, Limit.ACTIVE_BOTS):
        used = await usage(session, user_id)
        n, cap, noun = (
            (used.bots, plan.bots, "bot")
            if limit is Limit.BOTS
            else (used.active_bots, plan.active_bots, "running bot")
        )
        if not within(cap, n + 1):
            field = "bots" if limit is Limit.BOTS else "active_bots"
            refuse(
                f"Your {plan.title} plan allows {_count(cap, noun)} and you have {n}.",
                lambda p: within(getattr(p, field), n + 1),
                lambda p: _count(getattr(p, field), noun),
            )
    elif limit is Limit.LIVE_TRADING:
        if not plan.live_trading:
            refuse(
                f"Live trading is not part of the {plan.title} plan (paper trading is).",
                lambda p: p.live_trading,
                lambda p: "live trading",
            )
    elif limit is Limit.BACKTEST_CANDLES:
        if value is None or value < 0:
            raise InvalidInput("Say how many candles the backtest has.", field="value")
        if not within(plan.backtest_candles, value):
            refuse(
                f"A backtest of {value:,} candles is over the {plan.title} plan's "
                f"{plan.backtest_candles:,}.",
                lambda p: within(p.backtest_candles, value),
                lambda p: _count(p.backtest_candles, "candle"),
            )
    elif limit is Limit.NOTIFICATION_CHANNEL:
        try:
            wanted = NotificationChannel(str(channel).upper())
        except ValueError:
            raise InvalidInput(f"Unknown channel {channel!r}.", field="channel") from None
        if wanted not in plan.channels:
            refuse(
                f"{wanted.value.title()} notifications are not part of the {plan.title} plan.",
                lambda p: wanted in p.channels,
                lambda p: f"{wanted.value.title()} notifications",
            )
    elif not plan.sell_strategies:
        refuse(
            f"Selling strategies is not part of the {plan.title} plan (free ones can be shared).",
            lambda p: p.sell_strategies,
            lambda p: "selling strategies",
        )


async def enforce_plan(
    session: AsyncSession, user_id: str, plan: Plan, *, clock: Clock = SYSTEM_CLOCK
) -> Enforcement:
    """Bring a user's bots and channels within ``plan``: running bots beyond its limit (the most
    recently started first) and live bots on a plan without live trading are paused; channels
    it doesn't include are switched off. One notification says what was done."""
    running = (
        await session.scalars(
            select(Bot)
            .where(Bot.user_id == user_id, Bot.type != MANUAL_BOT, Bot.status == "active")
            .order_by(Bot.started_at.asc().nulls_last(), Bot.created_at, Bot.id)
            .with_for_update()
        )
    ).all()
    keep = 0
    paused: list[Bot] = []
    for bot in running:
        allowed = (plan.live_trading or bot.paper_trading) and within(plan.active_bots, keep + 1)
        if allowed:
            keep += 1
        else:
            paused.append(bot)
    from core.services.bots import pause_bot  # bots imports the services that import plans

    owner = Actor(user_id=user_id)
    for bot in paused:  # through the bots service: its notification and live event go out too
        await pause_bot(session, owner, bot.id, clock=clock)
    prefs = await session.scalar(
        select(NotificationPreference)
        .where(NotificationPreference.user_id == user_id)
        .with_for_update()
    )
    off: list[str] = []
    if prefs is not None:
        for channel, switch in CHANNEL_SWITCH.items():
            if channel not in plan.channels and getattr(prefs, switch):
                setattr(prefs, switch, False)
                off.append(channel.value.title())
    if paused or off:
        parts = []
        if paused:
            parts.append("paused " + ", ".join(b.name for b in paused))
        if off:
            parts.append("switched off " + ", ".join(off) + " notifications")
        await notify(
            session,
            user_id=user_id,
            type=NotificationType.BOT_STOPPED,
            title=f"Your bots now follow the {plan.title} plan's limits",
            message=f"On the {plan.title} plan we {' and '.join(parts)}. "
            f"It allows {_count(plan.active_bots, 'running bot')}"
            f"{'' if plan.live_trading else ', paper trading only'}.",
            priority=NotificationPriority.HIGH,
            metadata={
                "paused_bots": [b.id for b in paused],
                "channels_off": off,
                **({"action": "paused"} if paused else {}),
            },
            clock=clock,
        )
    await session.flush()
    return Enforcement(tuple(b.name for b in paused), tuple(off))


# --- reads ---------------------------------------------------------------------------------


async def plan_status(
    session: AsyncSession, actor: Actor, *, clock: Clock = SYSTEM_CLOCK
) -> PlanStatus:
    row = await subscription_row(session, actor.user_id)
    return PlanStatus(
        plan=plan_of(row, clock.now()),
        subscription=_sub_view(row) if row is not None else None,
        usage=await usage(session, actor.user_id),
        referral_credit=await referrals.available_credit(session, actor.user_id),
    )


async def subscription_history(session: AsyncSession, actor: Actor) -> list[HistoryEntry]:
    rows = await session.scalars(
        select(SubscriptionHistory)
        .join(Subscription, Subscription.id == SubscriptionHistory.subscription_id)
        .where(Subscription.user_id == actor.user_id)
        .order_by(SubscriptionHistory.created_at.desc(), SubscriptionHistory.id.desc())
    )
    return [
        HistoryEntry(h.plan, h.status, h.billing_cycle, h.amount, h.change_reason, h.created_at)
        for h in rows
    ]


async def list_payments(
    session: AsyncSession, actor: Actor, *, limit: int = 100
) -> list[PaymentView]:
    rows = await session.scalars(
        select(Payment)
        .where(Payment.user_id == actor.user_id)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    return [
        PaymentView(
            p.id,
            p.amount,
            p.currency,
            p.type,
            p.status,
            str((p.metadata_ or {}).get("description", p.type)),
            (p.metadata_ or {}).get("failure"),
            p.created_at,
            p.completed_at,
        )
        for p in rows
    ]


# --- changes -------------------------------------------------------------------------------


def _history(row: Subscription, reason: str, now: datetime) -> SubscriptionHistory:
    return SubscriptionHistory(
        subscription_id=row.id,
        plan=row.plan,
        status=row.status,
        billing_cycle=row.billing_cycle,
        amount=row.amount,
        change_reason=reason,
        created_at=now,
    )


def _fingerprint(row: Subscription | None) -> tuple[Any, ...]:
    if row is None:
        return (None,)
    return (row.id, row.plan, row.status, row.billing_cycle, row.expires_at)


def _in_force(row: Subscription | None, now: datetime) -> Subscription | None:
    """The row if it holds a paid or granted plan now."""
    if row is None or row.plan == PlanName.FREE or plan_of(row, now).name is PlanName.FREE:
        return None
    return row


def _unused(row: Subscription, now: datetime) -> Decimal:
    """The unused part of the current period's price, pro rata by the second, to the cent."""
    if row.is_complimentary or row.amount == 0:
        return Decimal(0)
    length = CYCLE_LENGTH[BillingCycle(row.billing_cycle)]
    left = max(row.expires_at - now, timedelta(0))
    fraction = min(Decimal(int(left.total_seconds())) / int(length.total_seconds()), Decimal(1))
    return cents(row.amount * fraction)


async def _quote(
    session: AsyncSession, user_id: str, kind: str, plan: Plan, cycle: BillingCycle, now: datetime
) -> Quote:
    row = await subscription_row(session, user_id)
    current = _in_force(row, now)
    unused = Decimal(0)
    if kind == "renew":
        # Renewal picks up a period that has just run out too (the billing run renews at expiry).
        renewable = row is not None and row.plan != PlanName.FREE and row.status != EXPIRED
        current = row if renewable else None
        if current is None:
            raise Conflict("You have no paid plan to renew; choose a plan instead.")
        if current.is_complimentary:
            raise Conflict("Your plan was granted by an administrator; it can't be renewed.")
        plan, cycle = plan_named(current.plan), BillingCycle(current.billing_cycle)
    elif current is not None:
        same = current.plan == plan.name and current.billing_cycle == cycle
        if same and current.status == CANCELLED:
            kind = "resume"
        elif same:
            raise Conflict(f"You are already on the {plan.title} plan ({cycle.value}).")
        else:
            kind = "change"
            unused = _unused(current, now)
    price = Decimal(0) if kind == "resume" else plan.price(cycle)
    due = max(price - unused, Decimal(0))
    credit = min(await referrals.available_credit(session, user_id), due)
    return Quote(
        kind, plan, cycle, price, min(unused, price), credit, due - credit, _fingerprint(row)
    )


async def quote_plan(
    session: AsyncSession,
    actor: Actor,
    plan: str,
    billing_cycle: str = "monthly",
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> Quote:
    """What choosing ``plan`` would cost now (for the confirm dialog); changes nothing."""
    target = plan_named(plan)
    if target.name is PlanName.FREE:
        raise InvalidInput(
            "To go back to Free, cancel your plan: it stays until the end of the period.",
            field="plan",
        )
    return await _quote(
        session, actor.user_id, "subscribe", target, cycle_named(billing_cycle), clock.now()
    )


async def _pay_and_apply(
    db: Database,
    billing: Billing,
    user_id: str,
    quote_for: Callable[[AsyncSession, datetime], Awaitable[Quote]],
    apply: Callable[[AsyncSession, Subscription | None, Quote, datetime], Awaitable[str]],
) -> SubscriptionView:
    """Quote, take the payment, then apply the change if the subscription is as quoted (else
    refund). ``apply`` changes the row and returns the history reason."""
    clock = billing.clock
    async with db.sessions.begin() as session:
        quote = await quote_for(session, clock.now())
    customer = await ensure_customer(db, billing, user_id) if quote.amount > 0 else None
    async with db.sessions.begin() as session:
        await billing_lock(session, user_id)
        quote = await quote_for(session, clock.now())
        if quote.amount > 0 and customer is None:
            raise Conflict("The price changed while you were choosing; try again.")
        payment = await open_payment(
            session,
            user_id=user_id,
            amount=quote.amount,
            type=PLAN_PAYMENT,
            metadata={
                "description": quote.description,
                "kind": quote.kind,
                "plan": quote.plan.name.value,
                "billing_cycle": quote.cycle.value,
                "list_price": str(quote.list_price),
                "unused_credit": str(quote.unused_credit),
                "referral_credit": str(quote.referral_credit),
            },
            now=clock.now(),
        )
    charge = await charge_payment(
        db, billing, payment, customer_id=customer, description=quote.description
    )
    try:
        async with db.sessions.begin() as session:
            await billing_lock(session, user_id)
            row = await subscription_row(session, user_id, for_update=True)
            if _fingerprint(row) != quote.fingerprint:
                raise Conflict("Your plan changed while paying; the payment was given back.")
            now = clock.now()
            reason = await apply(session, row, quote, now)
            row = await subscription_row(session, user_id)
            assert row is not None
            session.add(_history(row, reason, now))
            await complete_payment(
                session, payment.id, charge, description=quote.description, clock=clock
            )
            await referrals.activate_referrals(session, referred_id=user_id, clock=clock)
            return _sub_view(row)
    except Conflict:
        await refund_payment(db, billing, payment.id, reason="plan changed while paying")
        raise


async def _start_period(
    session: AsyncSession, row: Subscription | None, quote: Quote, now: datetime, user_id: str
) -> Subscription:
    if row is None:
        row = Subscription(user_id=user_id, started_at=now)
        session.add(row)
    row.plan = quote.plan.name.value
    row.billing_cycle = quote.cycle.value
    row.amount = quote.list_price
    row.status = ACTIVE
    row.started_at = now
    row.expires_at = now + CYCLE_LENGTH[quote.cycle]
    row.cancelled_at = None
    row.is_complimentary = False
    row.granted_by = row.grant_reason = None
    await session.flush()
    return row


async def choose_plan(
    db: Database,
    actor: Actor,
    plan: str,
    billing_cycle: str = "monthly",
    *,
    billing: Billing,
) -> SubscriptionView:
    """Subscribe, upgrade, downgrade or switch cycle — or resume a cancelled plan — paying what
    ``quote_plan`` says. A lower plan's limits apply at once (bots beyond them are paused)."""
    target = plan_named(plan)
    cycle = cycle_named(billing_cycle)
    if target.name is PlanName.FREE:
        raise InvalidInput(
            "To go back to Free, cancel your plan: it stays until the end of the period.",
            field="plan",
        )

    async def quote_for(session: AsyncSession, now: datetime) -> Quote:
        return await _quote(session, actor.user_id, "subscribe", target, cycle, now)

    async def apply(s: AsyncSession, row: Subscription | None, q: Quote, now: datetime) -> str:
        before = plan_of(row, now)
        if q.kind == "resume":
            assert row is not None
            row.status, row.cancelled_at = ACTIVE, None
            await _notify(s, actor.user_id, NotificationType.SUBSCRIPTION_RENEWED,
                          f"Your {q.plan.title} plan will renew",
                          f"You resumed it; it renews on {_day(row.expires_at)}.", billing.clock)  # fmt: skip
            return "resumed"
        row = await _start_period(s, row, q, now, actor.user_id)
        paid = f" You paid {money_text(q.amount)}." if q.amount else ""
        if q.kind == "subscribe":
            await _notify(s, actor.user_id, NotificationType.SUBSCRIPTION_CREATED,
                          f"Welcome to {q.plan.title}",
                          f"Your {q.description} plan runs until {_day(row.expires_at)}.{paid}",
                          billing.clock)  # fmt: skip
            return f"subscribed to {q.description}"
        await _notify(s, actor.user_id, NotificationType.SUBSCRIPTION_UPGRADED,
                      f"Plan changed to {q.plan.title}",
                      f"From {before.title} to {q.description}, until {_day(row.expires_at)}. "
                      f"{money_text(q.unused_credit)} of your last period was credited.{paid}",
                      billing.clock)  # fmt: skip
        if q.plan.rank < before.rank:
            await enforce_plan(s, actor.user_id, q.plan, clock=billing.clock)
        verb = "upgraded" if q.plan.rank > before.rank else "changed"
        return f"{verb} from {before.name.value} to {q.description}"

    return await _pay_and_apply(db, billing, actor.user_id, quote_for, apply)


async def renew(db: Database, actor: Actor, *, billing: Billing) -> SubscriptionView:
    """Pay for one more period now; it starts when the current one ends."""
    return await _renew(db, actor.user_id, billing, "renewed")


async def _renew(db: Database, user_id: str, billing: Billing, reason: str) -> SubscriptionView:
    async def quote_for(session: AsyncSession, now: datetime) -> Quote:
        return await _quote(session, user_id, "renew", PLANS[PlanName.FREE],
                            BillingCycle.MONTHLY, now)  # fmt: skip

    async def apply(s: AsyncSession, row: Subscription | None, q: Quote, now: datetime) -> str:
        assert row is not None
        row.expires_at = max(row.expires_at, now) + CYCLE_LENGTH[q.cycle]
        row.status, row.cancelled_at, row.amount = ACTIVE, None, q.list_price
        paid = f" You paid {money_text(q.amount)}." if q.amount else ""
        await _notify(s, user_id, NotificationType.SUBSCRIPTION_RENEWED,
                      f"Your {q.plan.title} plan is renewed",
                      f"It now runs until {_day(row.expires_at)}.{paid}", billing.clock)  # fmt: skip
        return reason

    return await _pay_and_apply(db, billing, user_id, quote_for, apply)


async def cancel(
    session: AsyncSession, actor: Actor, *, clock: Clock = SYSTEM_CLOCK
) -> SubscriptionView:
    """Stop renewing: the plan stays in force until it expires, then the user is on Free."""
    await billing_lock(session, actor.user_id)
    now = clock.now()
    row = _in_force(await subscription_row(session, actor.user_id, for_update=True), now)
    if row is None:
        raise Conflict("You are on the Free plan; there is nothing to cancel.")
    if row.status == CANCELLED:
        raise Conflict(f"Your plan is already cancelled; it ends on {_day(row.expires_at)}.")
    row.status, row.cancelled_at = CANCELLED, now
    session.add(_history(row, "cancelled by the user", now))
    title = plan_named(row.plan).title
    await _notify(session, actor.user_id, NotificationType.SUBSCRIPTION_CANCELLED,
                  f"Your {title} plan is cancelled",
                  f"It stays in force until {_day(row.expires_at)}, then you are on Free.",
                  clock)  # fmt: skip
    await session.flush()
    return _sub_view(row)


async def _expire(session: AsyncSession, row: Subscription, reason: str, clock: Clock) -> None:
    title = plan_named(row.plan).title
    row.status = EXPIRED
    session.add(_history(row, reason, clock.now()))
    await _notify(session, row.user_id, NotificationType.SUBSCRIPTION_CANCELLED,
                  f"Your {title} plan has ended", f"You are on the Free plan now ({reason}).",
                  clock, NotificationPriority.HIGH)  # fmt: skip
    await enforce_plan(session, row.user_id, PLANS[PlanName.FREE], clock=clock)


@dataclass(frozen=True, slots=True)
class BillingRun:
    renewed: int
    expired: int
    failed: int


async def run_billing(db: Database, billing: Billing, *, batch: int = 100) -> BillingRun:
    """Settle every subscription that has reached its expiry: renew those that renew (charging
    the card on file), expire the rest and those whose renewal payment fails. The engine runs
    this periodically; concurrent runs skip each other's rows."""
    renewed = expired = failed = 0
    now = billing.clock.now()
    async with db.sessions.begin() as session:
        due = (
            await session.execute(
                select(Subscription.id, Subscription.user_id)
                .where(
                    Subscription.status.in_((ACTIVE, CANCELLED)),
                    Subscription.expires_at <= now,
                    Subscription.plan != PlanName.FREE.value,
                )
                .order_by(Subscription.expires_at)
                .limit(batch)
            )
        ).all()
    for sub_id, user_id in due:
        async with db.sessions.begin() as session:
            row = await session.scalar(
                select(Subscription)
                .where(Subscription.id == sub_id)
                .with_for_update(skip_locked=True)
            )
            if row is None or row.status == EXPIRED or row.expires_at > now:
                continue
            renews = _sub_view(row).renews
            if not renews:
                await _expire(session, row, "the period ended", billing.clock)
                expired += 1
                continue
        try:
            await _renew(db, user_id, billing, "renewed automatically")
            renewed += 1
        except (PaymentFailed, Conflict):
            failed += 1
            async with db.sessions.begin() as session:
                row = await session.get(Subscription, sub_id, with_for_update=True)
                if row is not None and row.status != EXPIRED and row.expires_at <= now:
                    await _expire(session, row, "the renewal payment failed", billing.clock)
                    expired += 1
    return BillingRun(renewed, expired, failed)


async def grant_complimentary(
    session: AsyncSession,
    actor: Actor,
    user_id: str,
    plan: str,
    *,
    days: int,
    reason: str,
    clock: Clock = SYSTEM_CLOCK,
) -> SubscriptionView:
    """An administrator gives a user a plan for ``days`` days, free of charge (audited). It
    replaces the user's current plan and does not renew."""
    actor = await require_admin(session, actor)
    target = plan_named(plan)
    if target.name is PlanName.FREE:
        raise InvalidInput("Grant a paid plan (basic, pro or enterprise).", field="plan")
    if not isinstance(days, int) or not 1 <= days <= GRANT_DAYS_MAX:
        raise InvalidInput(f"Days must be between 1 and {GRANT_DAYS_MAX}.", field="days")
    why = (reason or "").strip()
    if not why or len(why) > REASON_MAX:
        raise InvalidInput(
            f"Give a reason of at most {REASON_MAX} characters (kept in the audit log).",
            field="reason",
        )
    await billing_lock(session, user_id)
    from core.db.models.users import User

    if await session.get(User, user_id) is None:
        raise NotFound(f"No user {user_id!r}.")
    now = clock.now()
    row = await subscription_row(session, user_id, for_update=True)
    before = plan_of(row, now)
    if row is None:
        row = Subscription(user_id=user_id)
        session.add(row)
    row.plan, row.billing_cycle, row.amount = (
        target.name.value,
        BillingCycle.MONTHLY.value,
        Decimal(0),
    )
    row.status, row.started_at, row.expires_at = ACTIVE, now, now + timedelta(days=days)
    row.cancelled_at = None
    row.is_complimentary, row.granted_by, row.grant_reason = True, actor.user_id, why
    await session.flush()
    session.add(_history(row, f"complimentary for {days} days: {why}", now))
    await audit(
        session,
        user_id=actor.user_id,
        action="plan_granted",
        at=now,
        ip_address=actor.ip_address,
        details={"target": user_id, "plan": target.name.value, "days": days, "reason": why},
    )
    await _notify(session, user_id, NotificationType.SUBSCRIPTION_CREATED,
                  f"You were given the {target.title} plan",
                  f"Complimentary until {_day(row.expires_at)}: {why}", clock)  # fmt: skip
    if target.rank < before.rank:
        await enforce_plan(session, user_id, target, clock=clock)
    await session.flush()
    return _sub_view(row)


async def billing_portal_url(db: Database, actor: Actor, *, billing: Billing) -> str:
    """A link to Stripe's billing portal to add or change the card on file."""
    customer = await ensure_customer(db, billing, actor.user_id)
    return await billing.require_gateway().portal_url(customer)


# --- helpers -------------------------------------------------------------------------------


def _day(moment: datetime) -> str:
    return moment.strftime("%d %b %Y")


async def _notify(
    session: AsyncSession,
    user_id: str,
    type: NotificationType,
    title: str,
    message: str,
    clock: Clock,
    priority: NotificationPriority = NotificationPriority.NORMAL,
) -> None:
    await notify(
        session,
        user_id=user_id,
        type=type,
        title=title,
        message=message,
        priority=priority,
        clock=clock,
    )
