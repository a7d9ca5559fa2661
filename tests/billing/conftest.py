"""Billing fixtures: a local Stripe stand-in, a gateway pointed at it, a frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.billing.gateway import StripeGateway
from core.billing.payments import Billing
from core.clock import FrozenClock
from tests.billing.fake_stripe import API_KEY, FakeStripe, running_fake_stripe


@pytest.fixture
async def fake_stripe() -> AsyncIterator[FakeStripe]:
    async with running_fake_stripe() as fake:
        yield fake


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def billing(fake_stripe: FakeStripe, clock: FrozenClock) -> AsyncIterator[Billing]:
    gateway = StripeGateway(API_KEY, api_base=fake_stripe.url)
    yield Billing(gateway, clock)
    await gateway.close()
