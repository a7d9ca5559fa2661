"""Referral codes, linking at registration (once), activation on the first trade, the reward
and its credit on the referrer's own plan charge, and who sees what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.billing.money import PaymentFailed
from core.billing.payments import Billing
from core.db.engine import Database
from core.db.models.referrals import Referral
from core.db.models.trading import Trade
from core.db.models.users import User
from core.errors import Conflict, InvalidInput
from core.security.device import Device
from core.security.passwords import Hasher
from core.services import accounts, plans, referrals
from core.services.authconfig import AuthConfig
from tests.billing.fake_stripe import FakeStripe
from tests.billing.support import add_card, received
from tests.service_users import add_user

DEVICE = Device(ip_address="127.0.0.1", user_agent="pytest", name="pytest")
PASSWORD = "correct horse battery staple 42"


async def code_of(db: Database, actor) -> str:  # type: ignore[no-untyped-def]
    async with db.sessions.begin() as s:
        return await referrals.my_code(s, actor)


async def trade(db: Database, user_id: str) -> None:
    async with db.sessions.begin() as s:
        s.add(Trade(user_id=user_id, symbol="BTC/USDT", side="BUY", price=Decimal(65000),
                    quantity=Decimal("0.01"), executed_price=Decimal(65000)))  # fmt: skip


async def test_every_user_gets_one_stable_code_on_demand(db: Database) -> None:
    ann = await add_user(db, "ann@example.com")
    ben = await add_user(db, "ben@example.com")
    first = await code_of(db, ann)
    assert first == await code_of(db, ann)
    assert len(first) == 8 and set(first) <= set(referrals.CODE_ALPHABET)
    assert first != await code_of(db, ben)
    with pytest.raises(InvalidInput, match="not a referral code"):
        referrals.normalize_code("NOPE")
    assert referrals.normalize_code(f"  {first.lower()} ") == first


async def test_registering_with_a_code_links_once(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    auth = AuthConfig(clock=clock, hasher=Hasher(time_cost=1, memory_cost=8, parallelism=1))
    await add_user(db, "first@example.com")  # so the registrations below are ordinary users
    ann = await add_user(db, "ann@example.com")
    code = await code_of(db, ann)
    with pytest.raises(InvalidInput, match="No account has the referral code"):
        await accounts.register(db, email="x@example.com", password=PASSWORD, device=DEVICE,
                                referral_code="ABCDEFGH", auth=auth)  # fmt: skip
    async with db.session() as s:  # nothing was made
        assert await s.scalar(select(User.id).where(User.email == "x@example.com")) is None
    joined = await accounts.register(db, email="cid@example.com", password=PASSWORD,
                                     device=DEVICE, referral_code=code.lower(), auth=auth)  # fmt: skip
    again = await accounts.register(db, email="dot@example.com", password=PASSWORD,
                                    device=DEVICE, referral_code=code, auth=auth)  # fmt: skip
    async with db.sessions.begin() as s:
        rows = list(await s.scalars(select(Referral).order_by(Referral.code)))
        assert [(r.referrer_id, r.code, r.status) for r in rows] == [
            (ann.user_id, f"{code}-0001", "pending"), (ann.user_id, f"{code}-0002", "pending"),
        ]  # fmt: skip
        assert [r.referred_id for r in rows] == [joined.account.id, again.account.id]
        # A new account has its own code from the start.
        user = await s.get(User, joined.account.id)
        assert user is not None and user.referral_code and user.referral_code != code
        with pytest.raises(Conflict, match="already referred"):
            await referrals.link_referral(s, joined.account.id, code)
        with pytest.raises(InvalidInput, match="own referral code"):
            await referrals.link_referral(s, joined.account.id, user.referral_code)
    assert await received(db, ann.user_id) == ["REFERRAL_JOINED", "REFERRAL_JOINED"]
    async with db.session() as s:
        assert await referrals.link_referral(s, ann.user_id, "  ") is None


async def test_activation_on_first_trade_then_reward_and_credit(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    ann = await add_user(db, "ann@example.com")
    cid = await add_user(db, "cid@example.com")
    async with db.sessions.begin() as s:
        await referrals.link_referral(s, cid.user_id, await referrals.my_code(s, ann), clock=clock)
    async with db.sessions.begin() as s:
        assert await referrals.activate_referrals(s, clock=clock) == 0  # no trade yet
    await trade(db, cid.user_id)
    async with db.sessions.begin() as s:
        assert await referrals.activate_referrals(s, clock=clock) == 1
        assert await referrals.activate_referrals(s, clock=clock) == 0  # once
        (row,) = await s.scalars(select(Referral))
        assert row.status == "active" and row.reward_amount == 0
    # Cid pays for Basic: Ann earns 20% of it as credit.
    await add_card(db, billing, fake_stripe, cid)
    await plans.choose_plan(db, cid, "basic", billing=billing)
    async with db.sessions.begin() as s:
        summary = await referrals.referral_summary(s, ann, clock=clock)
    (view,) = summary.referrals
    assert (view.status, view.reward_amount, view.rewarded_at) == ("rewarded",
            Decimal("3.80"), clock.now())  # fmt: skip
    assert view.referred == "c•••@example.com"
    assert (summary.rewarded, summary.earned, summary.credit) == (1, Decimal("3.80"),
                                                                Decimal("3.80"))  # fmt: skip
    assert sorted(await received(db, ann.user_id)) == [  # all at one frozen instant
        "REFERRAL_ACTIVATED", "REFERRAL_JOINED", "REWARD_EARNED",
    ]  # fmt: skip
    # The credit pays part of Ann's own plan, once.
    await add_card(db, billing, fake_stripe, ann)
    await plans.choose_plan(db, ann, "basic", billing=billing)
    assert [c["amount"] for c in fake_stripe.charges()] == [1900, 1520]
    async with db.session() as s:
        assert await referrals.available_credit(s, ann.user_id) == 0
    clock.advance(days=30)
    await plans.run_billing(db, billing)
    assert [c["amount"] for c in fake_stripe.charges()][-2:] == [1900, 1900]


async def test_a_failed_payment_does_not_spend_the_credit(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock
) -> None:  # type: ignore[no-untyped-def]
    ann = await add_user(db, "ann@example.com")
    cid = await add_user(db, "cid@example.com")
    async with db.sessions.begin() as s:
        await referrals.link_referral(s, cid.user_id, await referrals.my_code(s, ann))
        row = await s.scalar(select(Referral))
        assert row is not None
        row.status, row.reward_amount = "rewarded", Decimal("5.00")
    await add_card(db, billing, fake_stripe, ann, "pm_card_chargeDeclined")
    with pytest.raises(PaymentFailed, match="declined"):
        await plans.choose_plan(db, ann, "basic", billing=billing)
    async with db.session() as s:
        assert await referrals.available_credit(s, ann.user_id) == Decimal("5.00")


async def test_nobody_sees_another_users_referrals(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    ann = await add_user(db, "ann@example.com")
    eve = await add_user(db, "eve@example.com")
    cid = await add_user(db, "cid@example.com")
    async with db.sessions.begin() as s:
        await referrals.link_referral(s, cid.user_id, await referrals.my_code(s, ann))
    async with db.sessions.begin() as s:
        assert await referrals.list_referrals(s, eve) == []
        summary = await referrals.referral_summary(s, eve, clock=clock)
        assert summary.referrals == () and summary.credit == 0
        assert summary.code != await referrals.my_code(s, ann)
        assert len(await referrals.list_referrals(s, ann)) == 1
