"""The Stripe gateway as this installation is configured, without importing ``stripe`` until a
key is set: the library comes with the ``billing`` extra (``pip install 'blockbotx[billing]'``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.billing.payments import Billing
from core.clock import SYSTEM_CLOCK, Clock
from core.config import Settings, get_settings
from core.errors import Conflict

if TYPE_CHECKING:
    from core.billing.gateway import StripeGateway

STRIPE_MISSING = (
    "Payments need the Stripe library, which this installation lacks: "
    "install blockbotx[billing] (pip install 'blockbotx[billing]') and restart BlockbotX."
)


class StripeNotInstalled(Conflict):
    """A Stripe key is configured but the ``billing`` extra is not installed."""

    def __init__(self) -> None:
        super().__init__(STRIPE_MISSING)


def gateway_from_settings(settings: Settings | None = None) -> StripeGateway | None:
    """The configured gateway, or None when no Stripe key is set (paid actions are refused)."""
    settings = settings or get_settings()
    if settings.stripe_api_key is None:
        return None
    try:
        from core.billing.gateway import StripeGateway
    except ModuleNotFoundError as exc:
        if exc.name != "stripe":
            raise
        raise StripeNotInstalled() from None
    return StripeGateway(
        settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base
    )


def configured_billing(clock: Clock = SYSTEM_CLOCK, settings: Settings | None = None) -> Billing:
    """Billing as configured; without the Stripe library, paying is refused with what to install
    (free plans, grants and everything else keep working)."""
    try:
        return Billing(gateway_from_settings(settings), clock)
    except StripeNotInstalled as missing:
        return Billing(None, clock, unavailable=str(missing))
