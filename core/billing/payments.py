"""Taking a payment in steps that each leave a complete record.

1. ``open_payment`` writes a ``pending`` payments row (committed before any money moves; its id
   is the Stripe idempotency key);
2. ``charge_payment`` charges the card on file (nothing to charge for a zero amount); a failure
   marks the row ``failed`` with the reason, sends PAYMENT_FAILED, and raises ``PaymentFailed``;
3. the caller applies what was bought and calls ``complete_payment`` in the same transaction
   (row ``completed``, PAYMENT_SUCCESS); if applying fails, ``refund_payment`` gives the money
   back and marks the row ``refunded``.

A user's Stripe customer id lives on their (single) subscriptions row; a user without one gets
a Free row holding it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing.money import Charge, PaymentFailed, PaymentStatus, money_text, plain_metadata
from core.billing.plans import BillingCycle, PlanName
from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.billing import Payment, Subscription
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.users import User
from core.errors import Conflict, NotFound
from core.notifications import notify

if TYPE_CHECKING:
    from core.billing.gateway import StripeGateway

CURRENCY = "USD"
FREE_UNTIL = datetime(9999, 12, 31, tzinfo=UTC)
"""``subscriptions.expires_at`` is required; the Free plan never expires."""


@dataclass(frozen=True)
class Billing:
    """What paying needs besides the database: the gateway (None: payments not configured)."""

    gateway: StripeGateway | None = None  # core.billing.gateway (imports stripe)
    clock: Clock = SYSTEM_CLOCK
    unavailable: str | None = None
    """Why there is no gateway, when it isn't simply that no Stripe key is configured."""

    def require_gateway(self) -> StripeGateway:
        if self.gateway is None:
            raise Conflict(
                self.unavailable
                or "Payments aren't set up on this BlockbotX (no Stripe key is configured); "
                "an administrator can grant you a plan."
            )
        return self.gateway


async def billing_lock(session: AsyncSession, user_id: str) -> None:
    """Serialize one user's billing changes (a transaction-level lock: fine behind PgBouncer)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('billing:' || :u))"), {"u": user_id}
    )


async def subscription_row(
    session: AsyncSession, user_id: str, *, for_update: bool = False
) -> Subscription | None:
    stmt = select(Subscription).where(Subscription.user_id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.order_by(Subscription.started_at.desc()).limit(1))


def free_row(user_id: str, now: datetime) -> Subscription:
    return Subscription(
        user_id=user_id,
        plan=PlanName.FREE.value,
        status="active",
        billing_cycle=BillingCycle.MONTHLY.value,
        amount=Decimal(0),
        started_at=now,
        expires_at=FREE_UNTIL,
        is_complimentary=False,
    )


async def ensure_customer(db: Database, billing: Billing, user_id: str) -> str:
    """The user's Stripe customer id, created at Stripe on first need."""
    gateway = billing.require_gateway()
    async with db.sessions.begin() as session:
        row = await subscription_row(session, user_id)
        if row is not None and row.stripe_customer_id:
            return row.stripe_customer_id
        email = await session.scalar(select(User.email).where(User.id == user_id))
    if email is None:
        raise NotFound(f"No user {user_id!r}.")
    customer = await gateway.create_customer(email=email, user_id=user_id)
    async with db.sessions.begin() as session:
        await billing_lock(session, user_id)
        row = await subscription_row(session, user_id, for_update=True)
        if row is None:
            row = free_row(user_id, billing.clock.now())
            session.add(row)
        if not row.stripe_customer_id:
            row.stripe_customer_id = customer
        return row.stripe_customer_id


async def open_payment(
    session: AsyncSession,
    *,
    user_id: str,
    amount: Decimal,
    type: str,
    metadata: dict[str, Any],
    now: datetime,
) -> Payment:
    row = Payment(
        user_id=user_id,
        amount=amount,
        currency=CURRENCY,
        type=type,
        status=PaymentStatus.PENDING,
        metadata_=metadata,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def charge_payment(
    db: Database,
    billing: Billing,
    payment: Payment,
    *,
    customer_id: str | None,
    description: str,
) -> Charge | None:
    """Charge a pending payment (None: a zero amount, nothing to charge)."""
    if payment.amount == 0:
        return None
    try:
        if customer_id is None:
            raise PaymentFailed("There is no payment account for you yet; try again.")
        charge = await billing.require_gateway().charge(
            customer_id=customer_id,
            amount=payment.amount,
            currency=payment.currency,
            description=description,
            idempotency_key=payment.id,
            metadata=plain_metadata({"payment_id": payment.id, "user_id": payment.user_id}),
        )
    except (PaymentFailed, Conflict) as exc:
        async with db.sessions.begin() as session:
            row = await session.get(Payment, payment.id, with_for_update=True)
            assert row is not None
            row.status = PaymentStatus.FAILED
            row.metadata_ = {**(row.metadata_ or {}), "failure": str(exc)}
            await notify(
                session,
                user_id=payment.user_id,
                type=NotificationType.PAYMENT_FAILED,
                title="Payment failed",
                message=f"{money_text(payment.amount)} for {description}: {exc}",
                priority=NotificationPriority.HIGH,
                metadata={"payment_id": payment.id},
                clock=billing.clock,
            )
        raise
    # Charged: keep the PaymentIntent id at once, so a crash before the purchase is applied
    # leaves a pending row that says money was taken (and can be refunded).
    async with db.sessions.begin() as session:
        row = await session.get(Payment, payment.id, with_for_update=True)
        assert row is not None
        row.stripe_payment_id = charge.id
    return charge


async def complete_payment(
    session: AsyncSession,
    payment_id: str,
    charge: Charge | None,
    *,
    description: str,
    clock: Clock,
) -> Payment:
    row = await session.get(Payment, payment_id, with_for_update=True)
    assert row is not None
    row.status = PaymentStatus.COMPLETED
    row.completed_at = clock.now()
    if charge is not None:
        row.stripe_payment_id = charge.id
        await notify(
            session,
            user_id=row.user_id,
            type=NotificationType.PAYMENT_SUCCESS,
            title="Payment received",
            message=f"{money_text(row.amount)} for {description}. Thank you!",
            metadata={"payment_id": row.id},
            clock=clock,
        )
    await session.flush()
    return row


async def refund_payment(db: Database, billing: Billing, payment_id: str, *, reason: str) -> None:
    """Give a completed (or charged but not yet completed) payment back and mark it refunded."""
    async with db.sessions.begin() as session:
        row = await session.get(Payment, payment_id)
        if row is None:
            raise NotFound(f"No payment {payment_id!r}.")
        intent = row.stripe_payment_id
    if intent is not None:
        await billing.require_gateway().refund(
            payment_intent_id=intent, idempotency_key=f"refund-{payment_id}"
        )
    async with db.sessions.begin() as session:
        row = await session.get(Payment, payment_id, with_for_update=True)
        assert row is not None
        row.status = PaymentStatus.REFUNDED
        row.metadata_ = {**(row.metadata_ or {}), "refund_reason": reason}
