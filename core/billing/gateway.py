"""Payments through Stripe's official library (``stripe``), asynchronously over aiohttp.

A charge is a PaymentIntent confirmed at once, off session, on the customer's card on file (their
default payment method, else their first card). Cards are added and changed in Stripe's hosted
billing portal, whose link ``portal_url`` returns: card numbers never pass through BlockbotX.
Every charge carries an idempotency key (our ``payments.id``), so the library's retries after a
network error never charge twice.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import stripe

from core.billing.money import Charge, PaymentFailed, to_cents

log = logging.getLogger(__name__)


def _reason(exc: stripe.StripeError) -> str:
    if isinstance(exc, stripe.CardError):
        return exc.user_message or "Your card was declined."
    if isinstance(exc, stripe.APIConnectionError):
        return "Stripe could not be reached; try again in a moment."
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return "Payments are not set up correctly (Stripe refused the API key); contact support."
    if isinstance(exc, stripe.RateLimitError):
        return "Stripe is busy; try again in a moment."
    return exc.user_message or "Stripe refused the payment."


class StripeGateway:
    """One Stripe client; ``api_base`` points it elsewhere (a test stand-in, a proxy)."""

    def __init__(self, api_key: str, *, api_base: str | None = None, timeout: float = 30) -> None:
        self._http = stripe.AIOHTTPClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=2,
        )

    async def close(self) -> None:
        await self._http.close_async()

    async def create_customer(self, *, email: str, user_id: str) -> str:
        try:
            customer = await self._client.v1.customers.create_async(
                params={"email": email, "metadata": {"user_id": user_id}},
                options={"idempotency_key": f"customer-{user_id}"},
            )
        except stripe.StripeError as exc:
            raise PaymentFailed(_reason(exc)) from None
        return customer.id

    async def portal_url(self, customer_id: str) -> str:
        """A link to Stripe's billing portal, where the customer adds or changes their card."""
        try:
            session = await self._client.v1.billing_portal.sessions.create_async(
                params={"customer": customer_id}
            )
        except stripe.StripeError as exc:
            raise PaymentFailed(_reason(exc)) from None
        return session.url

    async def _card(self, customer_id: str) -> str:
        customer = (await self._client.v1.customers.retrieve_async(customer_id)).to_dict()
        default = (customer.get("invoice_settings") or {}).get("default_payment_method")
        if default:
            return default if isinstance(default, str) else default["id"]
        cards = await self._client.v1.payment_methods.list_async(
            params={"customer": customer_id, "type": "card", "limit": 1}
        )
        if not cards.data:
            raise PaymentFailed(
                "There is no card on file: add one in the billing portal, then try again."
            )
        return cards.data[0].id

    async def charge(
        self,
        *,
        customer_id: str,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Charge:
        """Charge the card on file now; PaymentFailed (with a reason fit to show) otherwise."""
        try:
            card = await self._card(customer_id)
            intent = await self._client.v1.payment_intents.create_async(
                params={
                    "amount": to_cents(amount),
                    "currency": currency.lower(),
                    "customer": customer_id,
                    "payment_method": card,
                    "confirm": True,
                    "off_session": True,
                    "description": description,
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            log.info("stripe charge %s failed: %s", idempotency_key, type(exc).__name__)
            raise PaymentFailed(_reason(exc)) from None
        if intent.status != "succeeded":
            raise PaymentFailed(
                "Your bank asks you to confirm this payment; pay it from the billing portal."
                if intent.status == "requires_action"
                else f"The payment did not complete (Stripe says {intent.status})."
            )
        return Charge(intent.id, amount, currency)

    async def refund(self, *, payment_intent_id: str, idempotency_key: str) -> str:
        try:
            refund = await self._client.v1.refunds.create_async(
                params={"payment_intent": payment_intent_id},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise PaymentFailed(_reason(exc)) from None
        return refund.id
