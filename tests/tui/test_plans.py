"""Pilot: the Plan & billing screen — subscribing by keyboard through the Stripe stand-in
(cycle, price to confirm, paid), then cancelling; a declined card leaves the plan as it was."""

from __future__ import annotations

from sqlalchemy import select
from textual.widgets import Static

from core.billing.gateway import StripeGateway
from core.billing.payments import Billing
from core.db.engine import Database
from core.db.models.billing import Payment, Subscription
from tests.billing.conftest import fake_stripe  # noqa: F401 - the Stripe stand-in fixture
from tests.billing.fake_stripe import API_KEY, DECLINED_CARD, FakeStripe
from tests.billing.support import add_card
from tests.service_users import add_user
from tests.tui.screen_helpers import WIDE, ScreenApp, settle
from tui.modals.choice import ChoiceModal
from tui.modals.confirm import ConfirmModal
from tui.screens.plans import PlansScreen
from tui.widgets.table import KeyedTable


def summary(app: ScreenApp) -> str:
    return str(app.screen.query_one("#plan-summary", Static).render())


async def open_plans(db: Database, fake: FakeStripe, email: str, card: str):  # type: ignore[no-untyped-def]
    user = await add_user(db, email)
    app = ScreenApp(db.url, user, PlansScreen)
    app.billing = Billing(StripeGateway(API_KEY, api_base=fake.url), app.clock)  # type: ignore[attr-defined]
    await add_card(db, app.billing, fake, user, card)  # type: ignore[attr-defined]
    return user, app


async def test_subscribe_then_cancel_by_keyboard(db: Database, fake_stripe: FakeStripe) -> None:  # noqa: F811
    user, app = await open_plans(db, fake_stripe, "ann@example.com", "pm_card_visa")
    try:
        async with app.run_test(size=WIDE) as pilot:
            await settle(pilot)
            assert summary(app).startswith("Free plan")
            table = app.screen.query_one("#plan-table", KeyedTable)
            assert [k.value for k in table.rows] == ["free", "basic", "pro", "enterprise"]
            await pilot.press("j")  # from Free (the plan in force) to Basic
            await pilot.press("u")
            await settle(pilot)
            assert isinstance(app.screen, ChoiceModal)
            await pilot.press("enter")  # monthly
            await settle(pilot)
            confirm = app.screen
            assert isinstance(confirm, ConfirmModal)
            assert "You pay $19.00 now" in str(confirm.query_one(".dialog-text", Static).render())
            await pilot.press("y")
            await settle(pilot)
            assert summary(app).startswith("Basic plan · monthly · $19.00 · renews 2026-01-31")
            payments = app.screen.query_one("#payment-table", KeyedTable)
            assert payments.row_count == 1
            await pilot.press("c")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await settle(pilot)
            assert "cancelled · ends 2026-01-31" in summary(app)
    finally:
        await app.billing.gateway.close()  # type: ignore[attr-defined]
    async with db.session() as s:
        sub = await s.scalar(select(Subscription).where(Subscription.user_id == user.user_id))
        assert sub is not None and (sub.plan, sub.status) == ("basic", "cancelled")
    assert [c["amount"] for c in fake_stripe.charges()] == [1900]


async def test_a_declined_card_keeps_the_free_plan(db: Database, fake_stripe: FakeStripe) -> None:  # noqa: F811
    user, app = await open_plans(db, fake_stripe, "bob@example.com", DECLINED_CARD)
    try:
        async with app.run_test(size=WIDE) as pilot:
            await settle(pilot)
            await pilot.press("j", "j", "u")  # Pro
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("y")
            await settle(pilot)
            assert isinstance(app.screen, PlansScreen)
            assert summary(app).startswith("Free plan")
            payments = app.screen.query_one("#payment-table", KeyedTable)
            assert payments.row_count == 1  # the failed attempt is on record
    finally:
        await app.billing.gateway.close()  # type: ignore[attr-defined]
    async with db.session() as s:
        (payment,) = await s.scalars(select(Payment).where(Payment.user_id == user.user_id))
        assert payment.status == "failed"
