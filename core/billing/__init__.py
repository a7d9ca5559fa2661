"""Billing: the plans and their limits (data), and the payment gateway (Stripe)."""

from core.billing.gateway import Charge, PaymentFailed, StripeGateway, gateway_from_settings
from core.billing.plans import PLANS, Plan, PlanName, cheapest_plan_allowing, plan_named

__all__ = [
    "PLANS",
    "Charge",
    "PaymentFailed",
    "Plan",
    "PlanName",
    "StripeGateway",
    "cheapest_plan_allowing",
    "gateway_from_settings",
    "plan_named",
]
