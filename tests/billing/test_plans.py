"""Plans: limits at their boundaries, paying through the Stripe stand-in (success, decline),
plan changes with proration, cancel / expire / renew, complimentary grants, isolation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.billing.gateway import StripeGateway
from core.billing.money import PaymentFailed
from core.billing.payments import Billing
from core.db.engine import Database
from core.db.models.admin import AuditLog
from core.db.models.billing import Payment, Subscription, SubscriptionHistory
from core.db.models.bots import Bot
from core.db.models.notifications import NotificationPreference
from core.errors import Conflict, Forbidden, InvalidInput
from core.services import notifications as notification_service
from core.services import plans
from core.services.actor import Role
from tests.billing.fake_stripe import DECLINED_CARD, FakeStripe
from tests.billing.support import add_bots, add_card, received
from tests.service_users import add_user


async def plan_name(db: Database, actor, clock) -> str:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return (await plans.current_plan(s, actor.user_id, clock=clock)).name.value


async def payments(db: Database, user_id: str) -> list[Payment]:
    async with db.session() as s:
        return list(
            await s.scalars(
                select(Payment).where(Payment.user_id == user_id).order_by(Payment.created_at)
            )
        )


async def history(db: Database, user_id: str) -> list[str]:
    async with db.session() as s:
        rows = await s.scalars(
            select(SubscriptionHistory.change_reason)
            .join(Subscription, Subscription.id == SubscriptionHistory.subscription_id)
            .where(Subscription.user_id == user_id)
            .order_by(SubscriptionHistory.created_at, SubscriptionHistory.id)
        )
        return [r or "" for r in rows]


async def statuses(db: Database, user_id: str) -> dict[str, str]:
    async with db.session() as s:
        rows = await s.execute(select(Bot.name, Bot.status).where(Bot.user_id == user_id))
        return dict(rows.all())


# --- limits at the boundary ----------------------------------------------------------------


async def test_bot_limits_at_the_boundary(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    alice = await add_user(db, "alice@example.com")
    await add_bots(db, alice, 2)
    async with db.session() as s:
        await plans.check_limit(s, alice.user_id, "bots")  # 2 of 3: one more is fine
        await plans.check_limit(s, alice.user_id, "active_bots")  # 0 of 1 running
    await add_bots(db, alice, 1, start=True, clock=clock)
    async with db.session() as s:
        with pytest.raises(Forbidden) as bots:
            await plans.check_limit(s, alice.user_id, "bots")
        with pytest.raises(Forbidden) as running:
            await plans.check_limit(s, alice.user_id, plans.Limit.ACTIVE_BOTS)
    assert str(bots.value) == (
        "Your Free plan allows 3 bots and you have 3. The Basic plan allows 10 bots; "
        "upgrade under Plan & billing."
    )
    assert "Free plan allows 1 running bot" in str(running.value)
    assert "Basic plan allows 3 running bots" in str(running.value)

    # The bots service enforces the same limits, and a refusal changes nothing.
    from core.services.bots import BotSpec, create_bot, start_bot

    async def count() -> int:
        async with db.session() as s:
            return len((await s.scalars(select(Bot.id).where(Bot.user_id == alice.user_id))).all())

    with pytest.raises(Forbidden, match="allows 3 bots"):
        async with db.sessions.begin() as s:
            await create_bot(s, alice, BotSpec(name="Fourth", type="dca"), clock=clock)
    assert await count() == 3
    async with db.session() as s:
        idle = await s.scalar(
            select(Bot.id).where(Bot.user_id == alice.user_id, Bot.status == "inactive").limit(1)
        )
    with pytest.raises(Forbidden, match="allows 1 running bot"):
        async with db.sessions.begin() as s:
            await start_bot(s, alice, idle, clock=clock)
    with pytest.raises(Forbidden, match="Live trading is not part of the Free plan"):
        async with db.sessions.begin() as s:
            await plans.check_limit(s, alice.user_id, plans.Limit.LIVE_TRADING)


async def test_backtest_size_live_trading_and_selling_at_the_boundary(db: Database) -> None:
    free = await add_user(db, "free@example.com")
    basic = await add_user(db, "basic@example.com", plan="basic")
    top = await add_user(db, "top@example.com", plan="enterprise")
    async with db.session() as s:
        await plans.check_limit(s, free.user_id, "backtest_candles", value=5_000)
        with pytest.raises(Forbidden, match=r"5,001 candles is over the Free plan's 5,000\. "
                           r"The Basic plan allows 50,000 candles"):  # fmt: skip
            await plans.check_limit(s, free.user_id, "backtest_candles", value=5_001)
        await plans.check_limit(s, basic.user_id, "backtest_candles", value=50_000)
        with pytest.raises(Forbidden, match="The Pro plan allows 500,000 candles"):
            await plans.check_limit(s, basic.user_id, "backtest_candles", value=50_001)
        await plans.check_limit(s, top.user_id, "backtest_candles", value=10**9)
        with pytest.raises(Forbidden, match=r"Live trading is not part of the Free plan.*Basic"):
            await plans.check_limit(s, free.user_id, "live_trading")
        await plans.check_limit(s, basic.user_id, "live_trading")
        with pytest.raises(Forbidden, match=r"Selling strategies.*Basic plan.*The Pro plan"):
            await plans.check_limit(s, basic.user_id, "sell_strategies")
        with pytest.raises(InvalidInput, match="Unknown limit"):
            await plans.check_limit(s, free.user_id, "rockets")
        with pytest.raises(InvalidInput, match="how many candles"):
            await plans.check_limit(s, free.user_id, "backtest_candles")


async def test_switching_on_a_channel_needs_a_plan_with_it(db: Database) -> None:
    free = await add_user(db, "free@example.com")
    basic = await add_user(db, "basic@example.com", plan="basic")
    hook = "https://discord.com/api/webhooks/1/token"
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden, match=r"Telegram notifications are not part of the Free "
                           r"plan\. The Basic plan allows"):  # fmt: skip
            await notification_service.update_preferences(
                s, free, {"telegram_enabled": True, "telegram_chat_id": "12345"}
            )
        await notification_service.update_preferences(
            s, basic, {"telegram_enabled": True, "telegram_chat_id": "12345"}
        )
        with pytest.raises(Forbidden, match=r"Discord.*Basic plan\. The Pro plan"):
            await notification_service.update_preferences(
                s, basic, {"discord_enabled": True, "discord_webhook_url": hook}
            )
        # Settings that don't switch a channel on need no plan.
        await notification_service.update_preferences(s, free, {"email_trades": False})
    async with db.session() as s:
        assert (await notification_service.get_preferences(s, free)).telegram_enabled is False


# --- paying --------------------------------------------------------------------------------


async def test_subscribing_charges_the_card_and_records_everything(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    alice = await add_user(db, "alice@example.com")
    await add_card(db, billing, fake_stripe, alice)
    view = await plans.choose_plan(db, alice, "basic", "monthly", billing=billing)
    assert (view.plan, view.status, view.amount) == ("basic", "active", Decimal("19.00"))
    assert view.expires_at == clock.now() + timedelta(days=30) and view.renews
    (intent,) = fake_stripe.charges()
    assert (intent["amount"], intent["currency"]) == (1900, "usd")
    (payment,) = await payments(db, alice.user_id)
    assert (payment.status, payment.type, payment.amount) == ("completed", "subscription", 19)
    assert payment.stripe_payment_id == intent["id"] and payment.completed_at == clock.now()
    # The payment row's id is the idempotency key: a retry can't charge twice.
    posts = [r for r in fake_stripe.requests if r[1] == "/v1/payment_intents"]
    assert posts[0][2]["metadata"]["payment_id"] == payment.id
    assert await plan_name(db, alice, clock) == "basic"
    assert await history(db, alice.user_id) == ["subscribed to Basic (monthly)"]
    types = await received(db, alice.user_id)
    assert "SUBSCRIPTION_CREATED" in types and "PAYMENT_SUCCESS" in types
    with pytest.raises(Conflict, match="already on the Basic plan"):
        await plans.choose_plan(db, alice, "basic", "monthly", billing=billing)


async def test_a_declined_card_changes_nothing_but_the_failed_payment(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    bob = await add_user(db, "bob@example.com")
    await add_card(db, billing, fake_stripe, bob, DECLINED_CARD)
    with pytest.raises(PaymentFailed, match=r"Your card was declined\."):
        await plans.choose_plan(db, bob, "pro", "yearly", billing=billing)
    (payment,) = await payments(db, bob.user_id)
    assert payment.status == "failed" and payment.stripe_payment_id is None
    assert payment.metadata_["failure"] == "Your card was declined."
    assert await plan_name(db, bob, clock) == "free"
    assert await history(db, bob.user_id) == []
    assert await received(db, bob.user_id) == ["PAYMENT_FAILED"]
    assert fake_stripe.charges() == []


async def test_no_card_and_no_stripe_are_clear_refusals(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    carol = await add_user(db, "carol@example.com")
    with pytest.raises(PaymentFailed, match="no card on file"):
        await plans.choose_plan(db, carol, "basic", billing=billing)
    with pytest.raises(Conflict, match="no Stripe key"):
        await plans.choose_plan(db, carol, "basic", billing=Billing(None, clock))
    with pytest.raises(InvalidInput, match="cancel your plan"):
        await plans.choose_plan(db, carol, "free", billing=billing)
    with pytest.raises(InvalidInput, match="Unknown plan"):
        await plans.choose_plan(db, carol, "platinum", billing=billing)
    with pytest.raises(InvalidInput, match="monthly or yearly"):
        await plans.choose_plan(db, carol, "basic", "weekly", billing=billing)
    assert await plan_name(db, carol, clock) == "free"


async def test_a_wrong_stripe_key_is_reported_without_charging(
    db: Database, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    dave = await add_user(db, "dave@example.com")
    gateway = StripeGateway("sk_test_wrong", api_base=fake_stripe.url)
    try:
        with pytest.raises(PaymentFailed, match="Stripe refused the API key"):
            await plans.choose_plan(db, dave, "basic", billing=Billing(gateway, clock))
    finally:
        await gateway.close()


async def test_upgrade_credits_the_unused_period_and_downgrade_pauses_bots(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    erin = await add_user(db, "erin@example.com")
    await add_card(db, billing, fake_stripe, erin)
    await plans.choose_plan(db, erin, "basic", billing=billing)
    clock.advance(days=15)  # half of the monthly period left: 9.50 of 19.00 unused
    async with db.session() as s:
        quote = await plans.quote_plan(s, erin, "pro", clock=clock)
    assert (quote.kind, quote.unused_credit, quote.amount) == (
        "change", Decimal("9.50"), Decimal("39.50"),
    )  # fmt: skip
    view = await plans.choose_plan(db, erin, "pro", billing=billing)
    assert view.plan == "pro" and view.expires_at == clock.now() + timedelta(days=30)
    assert [c["amount"] for c in fake_stripe.charges()] == [1900, 3950]
    assert "SUBSCRIPTION_UPGRADED" in await received(db, erin.user_id)

    await add_bots(db, erin, 5, start=True, clock=clock)
    clock.advance(minutes=1)
    async with db.sessions.begin() as s:
        await s.execute(
            NotificationPreference.__table__.insert().values(
                id="prefs-erin", user_id=erin.user_id, discord_enabled=True,
                discord_webhook_url="sealed",
            )
        )  # fmt: skip
    view = await plans.choose_plan(db, erin, "basic", billing=billing)  # a downgrade
    # 30 days of Pro unused (49.00) pays for Basic (19.00) entirely; the rest is forfeited.
    assert [c["amount"] for c in fake_stripe.charges()] == [1900, 3950]
    assert (await payments(db, erin.user_id))[-1].amount == 0
    assert await statuses(db, erin.user_id) == {
        "Bot 1": "active", "Bot 2": "active", "Bot 3": "active",
        "Bot 4": "paused", "Bot 5": "paused",
    }  # fmt: skip
    async with db.session() as s:
        prefs = await s.scalar(
            select(NotificationPreference).where(NotificationPreference.user_id == erin.user_id)
        )
        assert prefs is not None and prefs.discord_enabled is False
    assert await history(db, erin.user_id) == [
        "subscribed to Basic (monthly)",
        "upgraded from basic to Pro (monthly)",
        "changed from pro to Basic (monthly)",
    ]


async def test_cancel_keeps_the_plan_until_expiry_then_free_limits_apply(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    fay = await add_user(db, "fay@example.com")
    await add_card(db, billing, fake_stripe, fay)
    await plans.choose_plan(db, fay, "basic", billing=billing)
    await add_bots(db, fay, 3, start=True, clock=clock)
    clock.advance(minutes=1)
    async with db.sessions.begin() as s:
        view = await plans.cancel(s, fay, clock=clock)
    assert view.status == "cancelled" and not view.renews
    async with db.sessions.begin() as s:
        with pytest.raises(Conflict, match="already cancelled"):
            await plans.cancel(s, fay, clock=clock)
    clock.advance(days=29, minutes=-1)
    assert await plan_name(db, fay, clock) == "basic"  # still in force
    assert await plans.run_billing(db, billing) == plans.BillingRun(0, 0, 0)
    clock.advance(days=1)
    assert await plan_name(db, fay, clock) == "free"
    assert await plans.run_billing(db, billing) == plans.BillingRun(0, 1, 0)
    assert await statuses(db, fay.user_id) == {"Bot 1": "active", "Bot 2": "paused",
                                               "Bot 3": "paused"}  # fmt: skip
    assert await history(db, fay.user_id) == [
        "subscribed to Basic (monthly)", "cancelled by the user", "the period ended",
    ]  # fmt: skip
    types = await received(db, fay.user_id)
    assert types.count("SUBSCRIPTION_CANCELLED") == 2 and "BOT_STOPPED" in types
    assert len(fake_stripe.charges()) == 1  # a cancelled plan is never charged again
    async with db.sessions.begin() as s:
        with pytest.raises(Conflict, match="Free plan; there is nothing to cancel"):
            await plans.cancel(s, fay, clock=clock)


async def test_renewal_at_expiry_and_when_the_card_declines(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    gus = await add_user(db, "gus@example.com")
    hal = await add_user(db, "hal@example.com")
    await add_card(db, billing, fake_stripe, gus)
    hal_customer = await add_card(db, billing, fake_stripe, hal)
    await plans.choose_plan(db, gus, "pro", billing=billing)
    await plans.choose_plan(db, hal, "basic", billing=billing)
    fake_stripe.cards[hal_customer] = [DECLINED_CARD]
    start = clock.now()
    clock.advance(days=30)
    assert await plans.run_billing(db, billing) == plans.BillingRun(1, 1, 1)
    async with db.session() as s:
        gus_status = await plans.plan_status(s, gus, clock=clock)
    assert gus_status.subscription is not None
    assert gus_status.subscription.expires_at == start + timedelta(days=60)
    assert await plan_name(db, hal, clock) == "free"
    assert "SUBSCRIPTION_RENEWED" in await received(db, gus.user_id)
    assert {"PAYMENT_FAILED", "SUBSCRIPTION_CANCELLED"} <= set(await received(db, hal.user_id))
    assert await history(db, hal.user_id) == [
        "subscribed to Basic (monthly)", "the renewal payment failed",
    ]  # fmt: skip
    # Renewing by hand adds a period after the current one.
    view = await plans.renew(db, gus, billing=billing)
    assert view.expires_at == start + timedelta(days=90)


async def test_resuming_a_cancelled_plan_costs_nothing(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    ivy = await add_user(db, "ivy@example.com")
    await add_card(db, billing, fake_stripe, ivy)
    await plans.choose_plan(db, ivy, "basic", billing=billing)
    clock.advance(minutes=1)
    async with db.sessions.begin() as s:
        await plans.cancel(s, ivy, clock=clock)
    clock.advance(minutes=1)
    view = await plans.choose_plan(db, ivy, "basic", billing=billing)
    assert view.status == "active" and view.renews
    assert len(fake_stripe.charges()) == 1
    assert (await history(db, ivy.user_id))[-1] == "resumed"


async def test_an_admin_grants_a_complimentary_plan_with_a_reason(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    admin = await add_user(db, "admin@example.com", role=Role.ADMIN)
    jo = await add_user(db, "jo@example.com")
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden):
            await plans.grant_complimentary(s, jo, jo.user_id, "pro", days=30, reason="me")
        with pytest.raises(InvalidInput, match="reason"):
            await plans.grant_complimentary(s, admin, jo.user_id, "pro", days=30, reason=" ")
        with pytest.raises(InvalidInput, match="Days"):
            await plans.grant_complimentary(s, admin, jo.user_id, "pro", days=0, reason="x")
    async with db.sessions.begin() as s:
        view = await plans.grant_complimentary(
            s, admin, jo.user_id, "pro", days=90, reason="beta tester", clock=clock
        )
    assert view.is_complimentary and not view.renews and view.grant_reason == "beta tester"
    assert view.expires_at == clock.now() + timedelta(days=90)
    assert await plan_name(db, jo, clock) == "pro"
    assert await history(db, jo.user_id) == ["complimentary for 90 days: beta tester"]
    async with db.session() as s:
        (entry,) = await s.scalars(select(AuditLog).where(AuditLog.action == "plan_granted"))
    assert entry.user_id == admin.user_id and entry.details == {
        "target": jo.user_id, "plan": "pro", "days": 90, "reason": "beta tester",
    }  # fmt: skip
    assert "SUBSCRIPTION_CREATED" in await received(db, jo.user_id)


async def test_nobody_sees_another_users_subscription_or_payments(
    db: Database, billing: Billing, fake_stripe: FakeStripe
) -> None:
    kim = await add_user(db, "kim@example.com")
    lee = await add_user(db, "lee@example.com")
    await add_card(db, billing, fake_stripe, kim)
    await plans.choose_plan(db, kim, "pro", billing=billing)
    async with db.session() as s:
        lee_status = await plans.plan_status(s, lee, clock=billing.clock)
        assert lee_status.plan.name.value == "free" and lee_status.subscription is None
        assert await plans.list_payments(s, lee) == []
        assert await plans.subscription_history(s, lee) == []
        assert len(await plans.list_payments(s, kim)) == 1
        assert len(await plans.subscription_history(s, kim)) == 1
    async with db.sessions.begin() as s:
        with pytest.raises(Conflict, match="Free plan"):
            await plans.cancel(s, lee, clock=billing.clock)  # only ever one's own plan
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Subscription).where(
            Subscription.status == "active", Subscription.plan == "pro")) == 1  # fmt: skip
