"""Position maths in Decimal: staking/farm rewards from APY, constant-product impermanent loss.

Definitions (also in docs/defi.md); APY is a percentage (5.25 means 5.25 % a year):

- **Rewards from APY over time.** A balance B grows over Δt to B · (1 + APY/100)^(Δt / 1 year)
  (a year is 365 days), so the reward accrued is ``B · ((1 + APY/100)^(Δt/yr) − 1)``. Accruing
  on the balance including earlier rewards makes the result independent of how often it is
  updated: two half-year steps give exactly one year's reward.
- **Constant-product pools** (x · y = k, Uniswap v2 style). With USD prices P0, P1 the pool's
  price settles at y/x = P0/P1, so the position holds x = √(k·P1/P0) and y = √(k·P0/P1), worth
  2·√(k·P0·P1). Holding the deposit instead is worth x0·P0 + y0·P1. With r the change of the
  price of token0 in token1 since the deposit, r = (P0/P1) / (y0/x0):
  ``IL = 2·√r / (1 + r) − 1`` (≤ 0; −0.2 at r = 4), and the loss in USD is hold − pool value.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from core.errors import InvalidInput

PRECISION = 60
SCALE = Decimal("1e-30")  # the columns' NUMERIC(65, 30)
YEAR_SECONDS = Decimal(365 * 24 * 3600)
ONE = Decimal(1)
TWO = Decimal(2)
HUNDRED = Decimal(100)


def _ctx() -> Context:
    return Context(prec=PRECISION, rounding=ROUND_HALF_EVEN)


def precise() -> AbstractContextManager[Context]:
    """A Decimal context with room for NUMERIC(65, 30) operands: use it around money sums."""
    return localcontext(_ctx())


def stored(value: Decimal) -> Decimal:
    """Rounded to the columns' 30 decimal places."""
    return value.quantize(SCALE, rounding=ROUND_HALF_EVEN, context=_ctx())


def worth(*holdings: tuple[Decimal, Decimal]) -> Decimal:
    """Σ amount · price, exact to the columns' scale."""
    with precise():
        return stored(sum((a * p for a, p in holdings), Decimal(0)))


def years(span: timedelta) -> Decimal:
    """A time span in years of 365 days, exactly (microsecond resolution)."""
    micro = Decimal((span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds)
    with localcontext(_ctx()):
        return micro / Decimal(1_000_000) / YEAR_SECONDS


def years_between(start: datetime, end: datetime) -> Decimal:
    return max(years(end - start), Decimal(0))


def growth(apy_percent: Decimal, span_years: Decimal) -> Decimal:
    """(1 + APY/100)^t − 1."""
    if apy_percent < 0:
        raise InvalidInput("APY can't be negative.", field="apy")
    with localcontext(_ctx()):
        if span_years == 0 or apy_percent == 0:
            return Decimal(0)
        return (ONE + apy_percent / HUNDRED) ** span_years - ONE


def accrued_reward(balance: Decimal, apy_percent: Decimal, span_years: Decimal) -> Decimal:
    with localcontext(_ctx()):
        return balance * growth(apy_percent, span_years)


def impermanent_loss(price_ratio: Decimal) -> Decimal:
    """2·√r/(1+r) − 1 for a constant-product pool (0 when the ratio is unchanged)."""
    if price_ratio <= 0:
        raise InvalidInput("A price ratio must be positive.", field="price")
    with localcontext(_ctx()):
        return TWO * price_ratio.sqrt() / (ONE + price_ratio) - ONE


def pool_amounts(
    x0: Decimal, y0: Decimal, price0: Decimal, price1: Decimal
) -> tuple[Decimal, Decimal]:
    """The token amounts a constant-product position of (x0, y0) holds at USD prices p0, p1."""
    if min(x0, y0) <= 0 or min(price0, price1) <= 0:
        raise InvalidInput("Pool amounts and prices must be positive.", field="amount")
    with localcontext(_ctx()):
        k = x0 * y0
        return (k * price1 / price0).sqrt(), (k * price0 / price1).sqrt()


def price_ratio(x0: Decimal, y0: Decimal, price0: Decimal, price1: Decimal) -> Decimal:
    """How much token0's price in token1 moved since a deposit of (x0, y0): (P0/P1)/(y0/x0)."""
    with localcontext(_ctx()):
        return (price0 / price1) / (y0 / x0)
