"""Amounts and payment outcomes, without the Stripe library (it is imported only to pay)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from core.errors import InvalidInput, ServiceError

CENT = Decimal("0.01")


class PaymentFailed(ServiceError):
    """The payment did not go through (declined, no card, Stripe unreachable); nothing changed
    except the failed payment's record."""


class PaymentStatus:
    """``payments.status``."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Charge:
    id: str  # the PaymentIntent id (payments.stripe_payment_id)
    amount: Decimal
    currency: str


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def to_cents(amount: Decimal) -> int:
    """Stripe counts in the currency's minor unit; amounts here are whole cents by construction."""
    minor = amount * 100
    if minor != minor.to_integral_value() or minor < 0:
        raise InvalidInput(f"{amount} is not an amount in whole cents.", field="amount")
    return int(minor)


def money_text(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def plain_metadata(values: dict[str, Any]) -> dict[str, str]:
    """Stripe metadata holds strings only."""
    return {k: str(v) for k, v in values.items() if v is not None}
