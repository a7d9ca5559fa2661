"""What the marketplace, plan and referral screens share: the billing context and formats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from textual.app import App

from core.billing.payments import Billing
from tui.screens.base import app_clock


@asynccontextmanager
async def billing_for(app: App[Any]) -> AsyncIterator[Billing]:
    """``app.billing`` when the app has one (tests: a Stripe stand-in); otherwise Stripe as
    configured (or no gateway), opened for this one action and closed after it."""
    given = getattr(app, "billing", None)
    if given is not None:
        yield given
        return
    from core.billing.configured import configured_billing  # stripe: only when paying

    billing = configured_billing(app_clock(app))
    try:
        yield billing
    finally:
        if billing.gateway is not None:
            await billing.gateway.close()


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def usd(amount: Decimal | None) -> str:
    """A price: "free" for nothing."""
    if amount is None:
        return "—"
    return "free" if amount == 0 else money(amount)


def count(limit: int | None) -> str:
    return "unlimited" if limit is None else f"{limit:,}"
