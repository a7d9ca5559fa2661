"""The plans and their limits: one table of data, read by every check.

``None`` as a limit means unlimited. Prices are USD per billing cycle. A cycle is 30 days
(monthly) or 365 days (yearly); the yearly price is ten months'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from core.db.models.notifications import NotificationChannel
from core.errors import InvalidInput


class PlanName(StrEnum):
    FREE = "free"
    BASIC = "basic"
    PRO = "pro"
    ENTERPRISE = "enterprise"


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    YEARLY = "yearly"


CYCLE_LENGTH = {BillingCycle.MONTHLY: timedelta(days=30), BillingCycle.YEARLY: timedelta(days=365)}

_C = NotificationChannel
_BASE_CHANNELS = frozenset({_C.IN_APP, _C.EMAIL, _C.PUSH, _C.SMS})
"""Push and SMS are not plan features: no provider exists, so they never deliver on any plan."""


@dataclass(frozen=True, slots=True)
class Plan:
    name: PlanName
    title: str
    monthly_price: Decimal
    yearly_price: Decimal
    bots: int | None
    """Bots a user may have (manual-trading bots not counted)."""
    active_bots: int | None
    """Bots running at once."""
    live_trading: bool
    """Orders on a real exchange (manual or by a bot); paper trading is always allowed."""
    backtest_candles: int | None
    """Most candles in one backtest."""
    channels: frozenset[NotificationChannel]
    """Notification channels that can be switched on."""
    sell_strategies: bool
    """Publish marketplace strategies with a price (free ones need no plan)."""
    rank: int

    def price(self, cycle: BillingCycle) -> Decimal:
        return self.monthly_price if cycle is BillingCycle.MONTHLY else self.yearly_price

    @property
    def is_paid(self) -> bool:
        return self.monthly_price > 0


PLANS: dict[PlanName, Plan] = {
    p.name: p
    for p in (
        Plan(PlanName.FREE, "Free", Decimal("0"), Decimal("0"),
             bots=3, active_bots=1, live_trading=False, backtest_candles=5_000,
             channels=_BASE_CHANNELS, sell_strategies=False, rank=0),
        Plan(PlanName.BASIC, "Basic", Decimal("19.00"), Decimal("190.00"),
             bots=10, active_bots=3, live_trading=True, backtest_candles=50_000,
             channels=_BASE_CHANNELS | {_C.TELEGRAM}, sell_strategies=False, rank=1),
        Plan(PlanName.PRO, "Pro", Decimal("49.00"), Decimal("490.00"),
             bots=50, active_bots=10, live_trading=True, backtest_candles=500_000,
             channels=_BASE_CHANNELS | {_C.TELEGRAM, _C.DISCORD}, sell_strategies=True, rank=2),
        Plan(PlanName.ENTERPRISE, "Enterprise", Decimal("199.00"), Decimal("1990.00"),
             bots=None, active_bots=None, live_trading=True, backtest_candles=None,
             channels=frozenset(_C), sell_strategies=True, rank=3),
    )
}  # fmt: skip


def plan_named(name: str) -> Plan:
    try:
        return PLANS[PlanName(str(name).strip().lower())]
    except ValueError:
        raise InvalidInput(
            f"Unknown plan {name!r}: choose one of {', '.join(PLANS)}.", field="plan"
        ) from None


def cycle_named(name: str) -> BillingCycle:
    try:
        return BillingCycle(str(name).strip().lower())
    except ValueError:
        raise InvalidInput(
            "The billing cycle is monthly or yearly.", field="billing_cycle"
        ) from None


def cheapest_plan_allowing(allows: Callable[[Plan], bool]) -> Plan | None:
    """The lowest plan for which ``allows`` holds (None if no plan does)."""
    return next((p for p in sorted(PLANS.values(), key=lambda p: p.rank) if allows(p)), None)


def within(limit: int | None, value: int) -> bool:
    return limit is None or value <= limit
